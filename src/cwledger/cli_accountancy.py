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
from cwledger.book.records import ItemRecord
from cwledger.cli_common import JsonFlag, LedgerDir, app, err, out, print_json
from cwledger.ledger.ledger import Ledger

__all__ = ["balances", "inspect_plan", "estimates"]


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


inspect_app = typer.Typer(help="Inspection sampling plans.", no_args_is_help=True)
app.add_typer(inspect_app, name="inspect")


@inspect_app.command("plan")
def inspect_plan(
    site: Annotated[str, typer.Option(help="The site (material balance area) to inspect.")],
    detect: Annotated[float, typer.Option(help="Detection probability 1 - beta.")] = 0.95,
    missing_items: Annotated[
        int, typer.Option(help="Items that would have to be falsified (per stratum).")
    ] = 1,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """How many items to verify at a site, one stratum per chemical: the exact
    hypergeometric size and the IAEA approximation, each with the detection it achieves."""
    from cwledger.accountancy.sampling import Stratum, plan

    with Ledger.open(ledger_dir).store.read() as r:
        held = r.book.items_at(site)
        records = {p.item: r.book.get(ItemRecord, p.item) for p in held}
    strata: dict[str, list[int]] = {}
    for p in held:
        rec = records[p.item]
        label = (rec.chemical or rec.item.kind.value) if rec is not None else "unknown"
        strata.setdefault(label, []).append(p.held_g)
    if not strata:
        raise typer.BadParameter(f"the book holds nothing at {site}", param_hint="--site")
    try:
        result = plan(
            [
                Stratum(name, len(g), sum(g) / len(g) / 1000, missing=min(missing_items, len(g)))
                for name, g in sorted(strata.items())
            ],
            detect,
        )
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    doc = result.to_json()
    if as_json:
        print_json(doc)
        return
    table = Table(
        "stratum",
        "items",
        "n exact",
        "achieved",
        "n IAEA",
        "achieved",
        title=f"sampling plan at {site}: detect {detect:.0%}",
    )
    for s in doc["strata"]:
        table.add_row(
            s["name"],
            str(s["N"]),
            str(s["n_exact"]),
            f"{s['detect_exact']:.3f}",
            str(s["n_iaea"]),
            f"{s['detect_iaea']:.3f}",
        )
    out.print(table)


@app.command()
def estimates(ledger_dir: LedgerDir = Path("."), as_json: JsonFlag = False) -> None:
    """The declaration tested against the independent estimates: fused value, chi-square
    and Birge ratio, the one-sided test of under-declaration, the upper bound of what is
    undeclared."""
    import math

    from cwledger.accountancy.estimates import reconcile
    from cwledger.book.progress import load_facts, status
    from cwledger.book.records import EstimateRecord

    with Ledger.open(ledger_dir).store.read() as r:
        facts = load_facts(r.book)
        recorded = r.book.records(EstimateRecord)
    decl = facts.declaration_at(2**62)
    if decl is None:
        raise typer.BadParameter("no complete declaration to test")
    items = [i for i in decl.declaration.items if facts.category(i) in (1, 2)]
    u_random = math.sqrt(sum(i.declared.u_random_kg**2 for i in items))
    u_systematic = sum(i.declared.u_systematic_kg for i in items)
    declared_t = status(facts).total.declared_g / 1e6
    result = reconcile(
        declared_t,
        math.hypot(u_random, u_systematic) / 1000,
        [e.estimate for e in recorded],
        unit="t",
        scope="total",
    )
    doc = result.to_json()
    if as_json:
        print_json(doc)
        return
    t, f = doc["test"], doc["fusion"]
    out.print(
        f"declared {t['declared']:,.1f} t (u {t['declared_u']:,.1f}); estimates fused to"
        f" {f['value']:,.1f} t (u {f['sigma']:,.1f}) from {len(doc['used'])} estimate(s),"
        f" {len(doc['left_out'])} left out"
    )
    out.print(
        f"under-declaration test: z = {t['z']:+.2f}, one-sided p = {t['p_value']:.3f};"
        f" upper bound of what is undeclared ({t['level']:.0%}): {t['upper']:,.1f} t"
    )
    for left in doc["left_out"]:
        out.print(f"  left out: {left['party']} ({left['reason']})")
