"""`cwledger late-entries`: the entries the log took well after the time their events give
themselves (back-dated, or filed long after the fact)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cwledger.cli.common import JsonFlag, LedgerDir, err, out, print_json, shown
from cwledger.ledger.ledger import LATE_AFTER, Ledger
from cwledger.store import StoredEntry
from cwledger.time import DAY, rfc3339

__all__ = ["late_entries"]


def _doc(e: StoredEntry) -> dict[str, Any]:
    assert e.logged_at is not None  # only entries whose log time is known are late
    return {
        "index": e.index,
        "event_id": e.event_id,
        "type": e.event_type,
        "author": e.author,
        "time": e.event_time,
        "logged_at": rfc3339(e.logged_at),
        "days_late": round((e.logged_at - e.event_at) / DAY, 2),
    }


def late_entries(
    days: Annotated[
        float,
        typer.Option(
            min=0,
            help="An entry is late when its event time is more than this many days before"
            " the moment the log took it.",
        ),
    ] = LATE_AFTER / DAY,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Entries recorded late: their event time is well before the moment the log took them
    (the log's own clock, recorded with every entry; not part of the signed event).
    Entries appended before the log recorded its time are not known either way."""
    ledger = Ledger.open(ledger_dir)
    try:
        with ledger.store.read() as r:
            found = r.late_entries(round(days * DAY))
            unknown = r.unknown_log_times()
    finally:
        ledger.close()
    docs = [_doc(e) for e in found]
    if as_json:
        print_json(docs)
        return
    table = Table(
        "index",
        "time",
        "logged",
        "days late",
        "type",
        "author",
        "id",
        title=f"entries recorded more than {days:g} days after their event time",
        title_justify="left",
    )
    for d in docs:
        table.add_row(
            str(d["index"]),
            shown(d["time"]),
            d["logged_at"],
            f"{d['days_late']:g}",
            shown(d["type"]),
            shown(d["author"]),
            shown(d["event_id"]),
        )
    if docs:
        out.print(table)
    err.print(f"{len(docs)} late entr{'y' if len(docs) == 1 else 'ies'}", highlight=False)
    if unknown:
        err.print(
            f"{unknown} entr{'y was' if unknown == 1 else 'ies were'} appended before the log"
            " recorded its own time: not known either way",
            highlight=False,
        )
