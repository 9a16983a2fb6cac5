"""Can we account for it: `cwledger balances`, `accountancy`, `inspect`, `estimates`.

Thin: every figure comes from ``cwledger.accountancy``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cwledger.accountancy.balances import differences, monthly_periods, route_series, site_balances
from cwledger.cli_common import JsonFlag, LedgerDir, app, err, out, print_json
from cwledger.ledger.ledger import Ledger

__all__ = ["balances"]


@app.command()
def balances(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    export_series: Annotated[
        Path | None,
        typer.Option(help="Write a route's shipper/receiver differences as a balance series."),
    ] = None,
    route: Annotated[
        str | None, typer.Option(help="The route to export, ORIGIN:DESTINATION.")
    ] = None,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Material balances per site and calendar month: BI, receipts, shipments, destroyed,
    other, EI (book and physical) and MUF; with --export-series, a route as a balance series."""
    with Ledger.open(ledger_dir).store.read() as r:
        diffs = differences(r)
        moments = [d.received_at for d in diffs] or [0]
        changes = r.book.changes_by_event(site)
        first = min([c[1] for c in changes] + moments)
        last = max([c[1] for c in changes] + moments)
        periods = monthly_periods(first, last)
        rows = site_balances(r, periods, site)
    if export_series is not None:
        if route is None or ":" not in route:
            raise typer.BadParameter("give the route as ORIGIN:DESTINATION", param_hint="--route")
        origin, destination = route.split(":", 1)
        doc = route_series(diffs, origin, destination, periods)
        text = json.dumps(doc, indent=1) + "\n"
        if str(export_series) == "-":
            sys.stdout.write(text)
        else:
            export_series.write_text(text)
        err.print(f"wrote {len(doc['measurements'])} weighings over {len(periods)} periods")
        return
    docs = [b.to_json() for b in rows if any(b.to_json()[k] for k in _MOVES)]
    if as_json:
        print_json(docs)
        return
    table = Table(
        "site",
        "month",
        "BI kg",
        "receipts",
        "shipments",
        "destroyed",
        "other",
        "EI book",
        "EI physical",
        "MUF kg",
        title="material balances",
    )
    for d in docs:
        table.add_row(
            d["site"],
            d["start"][:7],
            *(
                _kg(d[k])
                for k in (
                    "beginning_kg",
                    "receipts_kg",
                    "shipments_kg",
                    "destroyed_kg",
                    "other_kg",
                    "ending_book_kg",
                    "ending_physical_kg",
                    "muf_kg",
                )
            ),
        )
    out.print(table)


_MOVES = ("beginning_kg", "receipts_kg", "shipments_kg", "destroyed_kg", "other_kg")


def _kg(value: Any) -> str:
    return "" if value is None else f"{value:,.1f}"
