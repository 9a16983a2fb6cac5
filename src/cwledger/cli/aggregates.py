"""`cwledger aggregates`: public totals proven against the day-one escrow (issue 16
section 3).

`publish` computes, per category of the latest escrow version, the committed grams and
items and the removed and destroyed totals of every proof logged up to a moment, and
appends them as an `aggregate.published` event (the book refuses any number that does not
follow). `check` is the observer's: it recomputes every published aggregate from the
log's public entries only (the committed roots and the proofs, each checked against its
root), from a ledger directory or an offline bundle, and says which are proven.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cwledger.book.aggregates import (
    AggregateCheck,
)
from cwledger.cli.book import moment_option
from cwledger.cli.common import (
    JsonFlag,
    LedgerDir,
    PinnedLogKey,
    err,
    open_ledger,
    out,
    print_json,
    shown,
)
from cwledger.errors import MalformedInput
from cwledger.escrow.observer import observe_bundle, observe_log
from cwledger.escrow.progress import aggregate_event
from cwledger.ledger.ledger import Ledger, utc_now

__all__ = ["aggregates_app"]

aggregates_app = typer.Typer(
    help="Public aggregates proven against the day-one escrow: publish, check.",
    no_args_is_help=True,
)


def _kg(grams: int) -> str:
    return f"{grams / 1000:,.3f}"


@aggregates_app.command("publish")
def aggregates_publish(
    at: Annotated[str, typer.Option("--at", help="A date (end of that day, UTC) or a time.")],
    party: Annotated[str, typer.Option("--as", help="The inspectorate party, who signs.")],
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="Escrow version (default: the latest).")
    ] = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Publish the proven totals at a moment: per category, committed, removed, destroyed
    and remaining, each the sum of the proof entries it names."""
    moment = moment_option(at)
    assert moment is not None
    ledger = open_ledger(ledger_dir)
    with ledger.store.read() as r:
        event, body = aggregate_event(r.book, moment, utc_now(), version)
    receipt = ledger.append(ledger.sign([event], party))[0]
    for row in body.categories:
        err.print(
            f"category {row.category}: committed {_kg(row.committed_grams)} kg"
            f" ({row.committed_items}), removed {_kg(row.removed_grams)} kg"
            f" ({row.removed_items}), destroyed {_kg(row.destroyed_grams)} kg"
            f" ({row.destroyed_items}), remaining {_kg(row.remaining_grams)} kg"
        )
    err.print(
        f"aggregate of escrow version {body.version} at {body.at}"
        f" published at entry {receipt.index}"
    )


def _observe_ledger(path: Path) -> list[AggregateCheck]:
    ledger = Ledger.open(path)
    try:
        with ledger.store.read() as r:
            return observe_log(r)
    finally:
        ledger.close()


def _observe_bundle(path: Path, log_key: str | None) -> tuple[list[AggregateCheck], list[str]]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise MalformedInput(f"cannot read {path}: {e.strerror or e}") from None
    checks, checked = observe_bundle(data, log_vkey=log_key)
    return checks, checked.warnings


def _show(checks: list[AggregateCheck]) -> None:
    table = Table(
        "entry",
        "at",
        "category",
        "committed kg",
        "removed kg",
        "destroyed kg",
        "remaining kg",
        "proven",
        title="published aggregates, checked against the escrow roots and proofs in the log",
    )
    for c in checks:
        mark = "yes" if c.proven else "[red]NO[/]"
        for row in c.categories:
            table.add_row(
                str(c.entry),
                shown(c.at),
                str(row.category),
                _kg(row.committed_grams),
                _kg(row.removed_grams),
                _kg(row.destroyed_grams),
                _kg(row.remaining_grams),
                mark,
            )
    out.print(table)
    for c in checks:
        for where, why in c.problems:
            out.print(shown(f"entry {c.entry}: {where}: {why}"))


@aggregates_app.command("check")
def aggregates_check(
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="Check an offline bundle instead of a ledger directory."),
    ] = None,
    log_key: PinnedLogKey = None,
    as_json: JsonFlag = False,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Recompute every published aggregate from the log's public entries (the escrow
    roots and the proofs, each checked against its root) and say which are proven.
    Exit 1 if any is not."""
    warnings: list[str] = []
    if bundle is not None:
        checks, warnings = _observe_bundle(bundle, log_key)
    else:
        checks = _observe_ledger(ledger_dir)
    for w in warnings:
        err.print(f"[yellow]warning[/]: {shown(w)}", highlight=False)
    if as_json:
        print_json({"aggregates": [c.to_json() for c in checks]})
    elif not checks:
        err.print("no aggregate is published in this log")
    else:
        _show(checks)
    if any(not c.proven for c in checks):
        raise typer.Exit(1)
