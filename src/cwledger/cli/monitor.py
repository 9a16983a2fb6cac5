"""`cwledger monitor`: watch a tlog-tiles log from outside, and raise the alarm on a split view.

The checks are :func:`cwledger.tlog.monitor.check_log`'s; this shell reads the source over
HTTP (or ``file://``) with the standard library, and keeps the last checkpoint it verified
in its state directory (``DIR/checkpoint``, the note as served: written to a temporary
file, synced, renamed over the old one, and the directory synced) only once every check
passed. Exit status: 0 when the log is consistent with what was seen, 2 on an alarm (a
rewind, a fork, a checkpoint without the quorum, tiles that do not hash to the signed root,
a bad signature), 1 on any other error (the source unreachable, a bad key, a bad state).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from cwledger.cli.common import err, pinned_quorum, pinned_witnesses, shown
from cwledger.errors import MalformedInput, NotFound, Unavailable
from cwledger.ledger.fetch import fetch
from cwledger.ledger.keystore import write_durably
from cwledger.tlog.monitor import MonitorAlarm, Policy, Verified, check_log, open_checkpoint

__all__ = ["ALARM_EXIT", "HttpSource", "load_state", "monitor", "save_evidence", "save_state"]

ALARM_EXIT = 2
STATE_FILE = "checkpoint"
MAX_RESOURCE = 256 * (2 + 0xFFFF) + 1024
"""The largest resource a tlog-tiles log serves: an entry bundle of 256 entries of the
largest size a uint16 length allows (a tile is 8 KiB, a checkpoint less)."""


class HttpSource:
    """Reads a log's tlog-tiles resources under `base` (``http(s)://`` or ``file://``)."""

    def __init__(self, base: str, timeout: float = 30.0) -> None:
        if not base.startswith(("http://", "https://", "file://")):
            raise MalformedInput(f"source URL: expected http://, https:// or file://, got {base!r}")
        self.base = base.rstrip("/") + "/"
        self.timeout = timeout

    def __call__(self, path: str) -> bytes:
        url = self.base + path
        body = fetch(url, MAX_RESOURCE, self.timeout)
        if body is None:
            raise NotFound(f"{url}: not served")
        return body


def load_state(state: Path, log_key: str) -> Verified | None:
    """The checkpoint the monitor verified last, re-checked with the log key; None at first.

    Raises MalformedInput when the state holds a checkpoint that the key does not verify
    (another log's state, or another key given).
    """
    try:
        note = (state / STATE_FILE).read_bytes()
    except FileNotFoundError:
        return None
    try:
        return open_checkpoint(note, Policy(log_key))
    except MonitorAlarm as e:
        raise MalformedInput(
            f"the state in {state} holds a checkpoint this log key does not verify "
            f"(another log's state, or another key?): {e}"
        ) from e


def _write_durably(file: Path, data: bytes) -> None:
    """Write `file` whole or not at all (its directory made if need be)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    write_durably(file, data)


def save_state(state: Path, verified: Verified) -> None:
    """Keep `verified` as the last checkpoint, durably."""
    _write_durably(state / STATE_FILE, verified.note)


def save_evidence(state: Path, alarm: MonitorAlarm) -> Path | None:
    """Keep the log-signed checkpoint an alarm is about in `state/evidence/` (with the one
    in `state/checkpoint`, the proof of a split view); its path, or None if there is none."""
    if alarm.served is None:
        return None
    file = state / "evidence" / f"{alarm.kind}-{alarm.served.checkpoint.size}.checkpoint"
    _write_durably(file, alarm.served.note)
    return file


def _once(source: HttpSource, state: Path, policy: Policy) -> None:
    last = load_state(state, policy.log_key)
    new = check_log(source, policy, last)
    save_state(state, new)
    cp = new.checkpoint
    grew = "" if last is None else f", from size {last.checkpoint.size}"
    cosigned = f"; cosigned by {', '.join(new.cosigned_by)}" if new.cosigned_by else ""
    err.print(shown(f"consistent: {cp.origin} at size {cp.size}{grew}{cosigned}"), highlight=False)
    sys.stdout.write(f"OK {cp.size} {cp.root_hash.hex()}\n")
    sys.stdout.flush()


MonitorWitnesses = Annotated[list[str] | None, pinned_witnesses("default: none")]
MonitorQuorum = Annotated[int | None, pinned_quorum("default: every --witness")]


def monitor(
    url: Annotated[
        str,
        typer.Argument(
            help="The log's tlog-tiles prefix: a server's http://HOST:PORT/log, or the URL "
            "of a published directory.",
            show_default=False,
        ),
    ],
    state: Annotated[
        Path,
        typer.Option(
            "--state", help="Directory keeping the last checkpoint verified.", show_default=False
        ),
    ],
    log_key: Annotated[
        str, typer.Option("--log-key", help="The log's verifier key (vkey).", show_default=False)
    ],
    witness: MonitorWitnesses = None,
    quorum: MonitorQuorum = None,
    watch: Annotated[
        float | None,
        typer.Option(
            help="Check again every SECONDS until an alarm (errors reaching the source are "
            "reported and retried).",
            min=0.1,
        ),
    ] = None,
) -> None:
    """Check that the log is an extension of what this monitor saw before: its signature,
    the witnesses' quorum, no rewind, no fork, every new entry and tile hashing to the
    signed root. Exit 2 with an ALARM naming what happened."""
    pinned = tuple(witness or ())
    policy = Policy(log_key, pinned, len(pinned) if quorum is None else quorum)
    source = HttpSource(url)
    while True:
        try:
            _once(source, state, policy)
        except MonitorAlarm as e:
            err.print(f"[bold red]{shown(str(e))}[/]", highlight=False, soft_wrap=True)
            if (kept := save_evidence(state, e)) is not None:
                err.print(
                    shown(
                        f"the checkpoint at fault is kept in {kept}; the one verified before, "
                        f"in {state / STATE_FILE}"
                    ),
                    highlight=False,
                    soft_wrap=True,
                )
            raise typer.Exit(ALARM_EXIT) from e
        except (Unavailable, NotFound) as e:
            if watch is None:
                raise
            err.print(shown(f"error ({e.code}): {e}; retrying"), highlight=False)
        if watch is None:
            return
        time.sleep(watch)
