"""`cwledger late-entries`: the entries the log took well after the time their events give
themselves (back-dated, or filed long after the fact), by the log's own clock and by its
witnesses' cosignatures (`cwledger.ledger.late`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cwledger.cli.common import JsonFlag, LedgerDir, err, out, print_json, shown
from cwledger.ledger.late import WITNESSED, LateEntry
from cwledger.ledger.late import late_entries as find_late
from cwledger.ledger.ledger import LATE_AFTER, Ledger
from cwledger.time import DAY, rfc3339

__all__ = ["late_entries"]


def _doc(late: LateEntry) -> dict[str, Any]:
    e = late.entry
    return {
        "index": e.index,
        "event_id": e.event_id,
        "type": e.event_type,
        "author": e.author,
        "time": e.event_time,
        "bound": late.bound,
        "taken_after": rfc3339(late.taken_after),
        "days_late": round(late.late_by / DAY, 2),
        "logged_at": None if e.logged_at is None else rfc3339(e.logged_at),
    }


def late_entries(
    days: Annotated[
        float,
        typer.Option(
            min=0,
            help="An entry is late when its event time is more than this many days before"
            " the moment the log took it, or before a witness saw a tree without it.",
        ),
    ] = LATE_AFTER / DAY,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Entries recorded late: their event time is well before the moment the log took them.
    Two bounds, each row says which: "log clock" (the log's own clock, recorded with every
    entry; not part of the signed event) and "witnessed" (the earliest cosignature of a
    checkpoint without the entry: a witness's clock, whatever the operator's says). An entry
    late by both is listed twice. Entries appended before the log recorded its time are
    not known by its clock."""
    ledger = Ledger.open(ledger_dir)
    try:
        with ledger.store.read() as r:
            found = find_late(r, round(days * DAY))
            unknown = r.unknown_log_times()
    finally:
        ledger.close()
    docs = [_doc(x) for x in found]
    if as_json:
        print_json(docs)
        return
    table = Table(
        "index",
        "time",
        "bound",
        "taken after",
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
            d["bound"],
            d["taken_after"],
            f"{d['days_late']:g}",
            shown(d["type"]),
            shown(d["author"]),
            shown(d["event_id"]),
        )
    if docs:
        out.print(table)
    entries = len({x.entry.index for x in found})
    witnessed = len({x.entry.index for x in found if x.bound == WITNESSED})
    err.print(
        f"{entries} late entr{'y' if entries == 1 else 'ies'}"
        + (f", {witnessed} of them witnessed" if witnessed else ""),
        highlight=False,
    )
    if unknown:
        err.print(
            f"{unknown} entr{'y was' if unknown == 1 else 'ies were'} appended before the log"
            " recorded its own time: not known by its clock",
            highlight=False,
        )
