"""Static publication and mirrors: `cwledger publish DIR` (the log as C2SP tlog-tiles
files) and `cwledger mirror URL DIR` (a complete, audited copy of any tlog-tiles log)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID

from cwledger.cli.common import (
    JsonFlag,
    LedgerDir,
    err,
    pinned_log_key,
    pinned_quorum,
    pinned_witnesses,
    print_json,
    progress,
    shown,
)
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.mirror import mirror as mirror_log
from cwledger.ledger.publish import publish as publish_log
from cwledger.words import plural

__all__ = ["publish", "mirror"]


def publish(
    directory: Annotated[Path, typer.Argument(help="Directory to write the files into.")],
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Write the log as C2SP tlog-tiles files (checkpoint, tile/<L>/<N>[.p/<W>],
    tile/entries/<N>[.p/<W>]) for any web server or object store to serve. Incremental:
    full tiles already there are kept, new ones added, the checkpoint written last."""
    ledger = Ledger.open(ledger_dir)
    try:
        with progress() as bar:
            task = bar.add_task("publishing", total=None)
            report = publish_log(
                ledger, directory, lambda d, t: bar.update(task, completed=d, total=t)
            )
    finally:
        ledger.close()
    if as_json:
        print_json(
            {
                "size": report.size,
                "root_hash": report.root_hash.hex(),
                "written": report.written,
                "kept": report.kept,
                "bytes_written": report.bytes_written,
            }
        )
        return
    err.print(
        f"[green]published[/] {plural(report.size, 'entry', 'entries')} into {directory}:"
        f" {plural(report.written, 'file')} written ({report.bytes_written} bytes),"
        f" {report.kept} already there; checkpoint last"
    )


SourceLogKey = Annotated[
    str | None,
    pinned_log_key(
        "it must be the one the genesis names; default: the genesis's key, trusted as fetched"
    ),
]
SourceWitnesses = Annotated[
    list[str] | None, pinned_witnesses("default: the policy the log's own governance names")
]
SourceQuorum = Annotated[int | None, pinned_quorum("default: with --witness, all of them")]


def mirror(
    url: Annotated[
        str,
        typer.Argument(
            help="tlog-tiles prefix: a published directory's URL, or a `cwledger serve` URL."
        ),
    ],
    directory: Annotated[Path, typer.Argument(help="Directory of the mirror ledger.")],
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL for the mirror (sqlite:///... or postgresql+psycopg://...);"
            " default: DIR/ledger.db.",
            show_default=False,
        ),
    ] = None,
    log_key: SourceLogKey = None,
    witness: SourceWitnesses = None,
    quorum: SourceQuorum = None,
    as_json: JsonFlag = False,
) -> None:
    """Make (or bring up to date) a complete, independent copy of a log: fetch and check
    every tile, entry and signature, store them, replay the book and audit it all. Refuses
    a source that is not consistent with what the mirror holds (a rewind or a fork), or
    whose checkpoint lacks the witness policy's quorum of cosignatures (naming who is
    missing). Keeps the checkpoint as the log signed it and its witnesses' cosignatures,
    and serves the same cosigned checkpoint."""
    with progress() as bar:
        tasks: dict[str, TaskID] = {}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        report = mirror_log(
            url,
            directory,
            database_url=db,
            log_key=log_key,
            witnesses=witness,
            quorum=quorum,
            progress=advance,
        )
    if not report.pinned:
        err.print(
            "[yellow]no log key pinned[/]: the checkpoint was verified with the key the"
            f" source's genesis names ({report.log_vkey}); pin it with --log-key"
        )
    policy = report.policy
    if not report.witnesses_pinned:
        named = (
            f"{policy.quorum} of {plural(len(policy.witnesses), 'witness', 'witnesses')}"
            if policy.witnesses
            else "no witnesses: the checkpoint rests on the log key alone"
        )
        err.print(
            shown(
                "no witness keys pinned: the cosignatures were checked against the witness"
                f" policy the mirrored log's own governance names ({named}); pin them with"
                " --witness and --quorum"
            ),
            style="yellow",
            highlight=False,
        )
    if not report.log_quorum_met:
        err.print(
            shown(
                f"the checkpoint for size {report.size} holds the pinned quorum but not the"
                " one its log's policy asks: the mirror keeps it and serves it once a later"
                " run brings the cosignatures missing"
            ),
            style="yellow",
            highlight=False,
        )
    book_said = "the book agrees"
    if report.book_unread is not None:
        book_said = (
            f"the book was NOT replayed: {report.audit.sealed} sealed entries could not be"
            f" opened here ({shown(report.book_unread)}); the mirror holds the log, not the book"
        )
    if as_json:
        print_json(
            {
                "source": report.source,
                "size": report.size,
                "root_hash": report.root_hash.hex(),
                "held_before": report.held_before,
                "fetched": report.fetched,
                "log_key": report.log_vkey,
                "pinned": report.pinned,
                "witnesses": list(policy.witnesses),
                "quorum": policy.quorum,
                "witnesses_pinned": report.witnesses_pinned,
                "cosigned_by": list(report.cosigned_by),
                "cosignatures_stored": report.cosignatures_stored,
                "served": report.log_quorum_met,
                "book_replayed": report.book_replayed,
                "sealed": report.audit.sealed,
            }
        )
        return
    err.print(
        f"[green]mirrored[/] {report.source}: {plural(report.size, 'entry', 'entries')}"
        f" ({report.fetched} new), checkpoint verified with"
        f" {'the pinned' if report.pinned else 'the genesis'} log key"
        + (
            f", cosigned by {shown(', '.join(report.cosigned_by))} (quorum {policy.quorum})"
            if policy.witnesses
            else ""
        )
        + "; verified: "
        f"{plural(report.audit.checkpoints, 'checkpoint')},"
        f" {plural(report.audit.tiles, 'tile')}; {book_said}"
    )
    sys.stdout.write(f"OK {report.size} {report.root_hash.hex()}\n")
