"""What every `cwledger` command shares: the consoles, the common options, and opening a
ledger for a command that appends (its witnesses asked to cosign when it ends)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cwledger.ledger.ledger import Ledger
from cwledger.ledger.witnessing import Asked, collect_cosignatures
from cwledger.model.events import ROLES, Role
from cwledger.tables import shown
from cwledger.tlog.cosignature import CosignatureVerifier

__all__ = [
    "out",
    "err",
    "LedgerDir",
    "JsonFlag",
    "parse_role",
    "progress",
    "print_json",
    "shown",
    "write_file",
    "PinnedLogKey",
    "PinnedWitnesses",
    "PinnedQuorum",
    "collect_and_say",
    "open_ledger",
    "ask_witnesses",
]

out = Console(soft_wrap=True)
err = Console(stderr=True)

LedgerDir = Annotated[
    Path,
    typer.Option(
        "--ledger",
        envvar="CWLEDGER_LEDGER",
        help="Ledger directory (default: $CWLEDGER_LEDGER, else the current directory).",
        show_default=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def pinned_log_key(default: str) -> Any:
    """The `--log-key` option: the log's verifier key the user pins; `default` says what
    is trusted without it."""
    return typer.Option(
        "--log-key",
        help=f"The log's verifier key (C2SP vkey), pinned ({default}).",
        show_default=False,
    )


def pinned_witnesses(default: str) -> Any:
    """The `--witness` option (repeatable): a witness's cosignature verifier key the user
    pins; `default` says which witnesses count without it."""
    return typer.Option(
        "--witness",
        help=f"A witness's cosignature verifier key, pinned (repeatable; {default}).",
        show_default=False,
    )


def pinned_quorum(default: str) -> Any:
    """The `--quorum` option: how many witnesses must have cosigned; `default` says how
    many without it."""
    return typer.Option(
        "--quorum",
        min=0,
        help=f"How many witnesses must have cosigned ({default}).",
        show_default=False,
    )


PinnedLogKey = Annotated[str | None, pinned_log_key("default: the one the ledger's genesis names")]
PinnedWitnesses = Annotated[
    list[str] | None, pinned_witnesses("default: the ledger's own witness policy")
]
PinnedQuorum = Annotated[
    int | None, pinned_quorum("default: the policy's; with --witness, all of them")
]


def parse_role(value: str) -> Role:
    """The role named `value`; a usage error otherwise."""
    for r in ROLES:
        if value == r:
            return r
    raise typer.BadParameter(f"{value!r} is not a role; one of {', '.join(ROLES)}")


def progress(auto_refresh: bool = True) -> Progress:
    """A transient progress bar on stderr."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        auto_refresh=auto_refresh,
    )


def print_json(value: Any) -> None:
    """Print a JSON document on stdout."""
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path`; a clear error (exit 1) if it cannot be written."""
    try:
        path.write_bytes(data)
    except OSError as e:
        err.print(
            f"[bold red]error[/] (cannot-write): {shown(path)}: {shown(e.strerror or e)}",
            highlight=False,
        )
        raise typer.Exit(1) from None


def collect_and_say(ledger: Ledger) -> list[Asked]:
    """Collect cosignatures of the newest checkpoint (if the ledger has witnesses) and say
    what each witness did, on stderr."""
    asked = collect_cosignatures(ledger)
    for a in asked:
        name = CosignatureVerifier.from_vkey(a.witness).name if a.witness else "?"
        if a.cosigned:
            err.print(shown(f"witness {name}: cosigned size {a.size}"))
        else:
            err.print(shown(f"[yellow]witness {name} did not cosign size {a.size}[/]: {a.failure}"))
    return asked


_APPENDED: list[Ledger] = []  # ledgers this command appended to


def open_ledger(path: Path) -> Ledger:
    """Open the ledger for a command that may append: when the command ends, having
    appended, the witnesses are asked to cosign the newest checkpoint (as the server does
    after each batch; `ask_witnesses`) and what each did is said on stderr."""
    ledger = Ledger.open(path)

    def appended() -> None:
        if ledger not in _APPENDED:
            _APPENDED.append(ledger)

    ledger.after_append = appended
    return ledger


def ask_witnesses() -> None:
    """At the end of a command (the root context's close): collect cosignatures for every
    ledger it appended to."""
    while _APPENDED:
        collect_and_say(_APPENDED.pop())
