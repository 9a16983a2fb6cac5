"""`cwledger bundle` and `cwledger check-bundle`: offline bundles (docs/bundle.md). Thin:
the bundle is `cwledger.ledger.bundle.build_bundle` over one snapshot of the log, and the
check is `check_bundle` over the file's bytes, with the keys the checker pins."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from cwledger.book import answers
from cwledger.cli.common import (
    JsonFlag,
    LedgerDir,
    err,
    out,
    pinned_log_key,
    pinned_quorum,
    pinned_witnesses,
    print_json,
    shown,
    write_file,
)
from cwledger.errors import LedgerNotFound, MalformedInput
from cwledger.ledger.bundle import (
    UNPINNED_LOG_KEY,
    BundleCheck,
    BundleInvalid,
    build_bundle,
    check_bundle,
    indices_in_period,
)
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.witnessing import policy_for
from cwledger.store import LogReader
from cwledger.time import Period, parse_date
from cwledger.words import plural

__all__ = ["bundle_command", "check_bundle_command", "period_bundle"]


def witness_policy(r: LogReader, size: int) -> tuple[list[str], int]:
    """The witnesses (verifier keys) and quorum in force for the checkpoint of `size`, as
    the ledger's governance names them (none and 0 until the ledger has witnesses): the
    policy its cosignatures were collected under, not one set after it."""
    policy = policy_for(r, size)
    return list(policy.keys), policy.quorum


def _bundle(ledger: Ledger, r: LogReader, indices: list[int]) -> bytes:
    cp = r.latest_checkpoint()
    if cp is None:
        raise LedgerNotFound(f"the ledger in {ledger.path} has no checkpoint")
    witnesses, quorum = witness_policy(r, cp.size)
    return build_bundle(
        r,
        ledger.tree(r, cp.size),
        cp,
        indices,
        checkpoint_note=cp.cosigned_note,
        witness_vkeys=witnesses,
        quorum=quorum,
    )


def period_bundle(ledger: Ledger, r: LogReader, period: Period) -> bytes:
    """The bundle of the entries dated in `period` (the report's), from the snapshot `r`
    reads. Raises MalformedInput when none is."""
    cp = r.latest_checkpoint()
    indices = indices_in_period(r, period.start, period.end, 0 if cp is None else cp.size)
    if not indices:
        raise MalformedInput(
            f"no checkpointed entry is dated {period.first_day} to {period.last_day}: "
            "no bundle to write"
        )
    return _bundle(ledger, r, indices)


def _entry_list(text: str) -> list[int]:
    try:
        out = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: expected entry indices separated by commas", param_hint="--entries"
        ) from None
    if not out or min(out) < 0:
        raise typer.BadParameter(f"{text!r}: expected indices >= 0", param_hint="--entries")
    return out


def bundle_command(
    out_file: Annotated[Path, typer.Option("--out", help="The bundle file to write.")],
    entries: Annotated[
        str | None, typer.Option("--entries", help="Entry indices, e.g. 5,17,40.")
    ] = None,
    item: Annotated[
        str | None, typer.Option("--item", help="Every entry of an item's chain of custody.")
    ] = None,
    first: Annotated[
        str | None, typer.Option("--from", help="Entries dated from this day, YYYY-MM-DD.")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="... to this day, YYYY-MM-DD (included).")
    ] = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """An offline bundle: the chosen entries, the governance entries that establish their
    authors' keys, each with its inclusion proof, and the cosigned checkpoint, in one JSON
    file that `check-bundle` (or any checker of docs/bundle.md) checks with no ledger and
    no network."""
    chosen = sum(x is not None for x in (entries, item, first or last))
    if chosen != 1 or (first is None) != (last is None):
        raise typer.BadParameter(
            "give one of --entries, --item, or --from with --to", param_hint="--entries"
        )
    ledger = Ledger.open(ledger_dir)
    try:
        with ledger.store.read() as r:
            if entries is not None:
                indices = _entry_list(entries)
            elif item is not None:
                indices = [c.index for c in answers.chain_of_custody(r, item)]
            else:
                start, end = parse_date(first or "").start, parse_date(last or "").end
                cp = r.latest_checkpoint()
                indices = indices_in_period(r, start, end, 0 if cp is None else cp.size)
                if not indices:
                    raise MalformedInput(f"no checkpointed entry is dated {first} to {last}")
            data = _bundle(ledger, r, indices)
    finally:
        ledger.close()
    write_file(out_file, data)
    err.print(
        f"bundle of {plural(len(indices), 'entry', 'entries')} ({len(data):,} bytes)",
        highlight=False,
    )
    sys.stdout.write(f"{out_file}\n")


def _show(result: BundleCheck) -> None:
    cp = result.checkpoint
    for w in result.warnings:
        err.print(f"[yellow]warning[/]: {shown(w)}", highlight=False)
    out.print(
        f"checkpoint {shown(cp.origin)} of {cp.size} entries, root {cp.root_hash.hex()}: "
        f"signed by the log key {shown(result.log_key)}; "
        f"{len(result.cosigned_by)} of {result.witnesses} witnesses cosigned "
        f"(quorum {result.quorum})",
        highlight=False,
    )
    table = Table(
        "entry",
        "type",
        "author",
        Column("time", no_wrap=True),
        Column("id", overflow="fold"),
        title="entries (checked)",
    )
    for e in result.entries:
        kind = f"{e.type} (keys)" if e.governance else e.type
        table.add_row(str(e.index), shown(kind), shown(e.author), shown(e.time), shown(e.id))
    out.print(table)


FileLogKey = Annotated[
    str | None,
    pinned_log_key("default: the file's own, which proves only that it agrees with itself"),
]
FileWitnesses = Annotated[list[str] | None, pinned_witnesses("default: the file's own policy")]
FileQuorum = Annotated[
    int | None, pinned_quorum("default: the file's; with --witness, all of them")
]


def check_bundle_command(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="The bundle file.")],
    log_key: FileLogKey = None,
    witness: FileWitnesses = None,
    quorum: FileQuorum = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a bundle offline: the checkpoint's signature and cosignatures against the keys
    pinned here (else the file's, which is said plainly), each entry's inclusion in it, and
    each envelope's signature by its author's key; then print what each entry is. Exit 1,
    naming the first failure, if anything does not check."""
    try:
        data = path.read_bytes()
    except OSError as e:
        err.print(
            f"[bold red]error[/] (cannot-read): {shown(path)}: {shown(e.strerror or e)}",
            highlight=False,
        )
        raise typer.Exit(1) from None
    try:
        result = check_bundle(data, log_vkey=log_key, witness_vkeys=witness, quorum=quorum)
    except BundleInvalid as e:
        if log_key is None:
            err.print(f"[yellow]warning[/]: {shown(UNPINNED_LOG_KEY)}", highlight=False)
        err.print(f"[bold red]error[/] ({e.code}): {shown(str(e))}", highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        print_json(
            {
                "ok": True,
                "origin": result.checkpoint.origin,
                "size": result.checkpoint.size,
                "root_hash": result.checkpoint.root_hash.hex(),
                "log_key": result.log_key,
                "cosigned_by": result.cosigned_by,
                "quorum": result.quorum,
                "warnings": result.warnings,
                "entries": [e.to_json() for e in result.entries],
            }
        )
        return
    _show(result)
