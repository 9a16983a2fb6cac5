"""The book's commands: declare and amend, and the read commands (what is held where, where
an item is, its chain of custody, findings, declaration diffs). Thin: every figure comes
from ``cwledger.book.answers``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from cwledger.book import answers
from cwledger.book import progress as book_progress
from cwledger.book.answers import Grouping
from cwledger.book.records import DeclarationRecord
from cwledger.cli.common import (
    JsonFlag,
    LedgerDir,
    err,
    open_ledger,
    out,
    print_json,
    progress,
    shown,
)
from cwledger.errors import MalformedInput
from cwledger.ledger.confidential import part_budget
from cwledger.ledger.ledger import Ledger, utc_now
from cwledger.ledger.projections import rebuild as rebuild_book
from cwledger.tables import facilities_table, milestones_table, status_table, whereabouts_table
from cwledger.time import parse_moment, queryable
from cwledger.words import plural

__all__ = [
    "moment_option",
    "declare",
    "amend",
    "diff_command",
    "holdings",
    "where",
    "item",
    "findings_command",
    "rebuild",
    "status_command",
    "milestones_command",
]

AtOption = Annotated[
    str | None,
    typer.Option(
        "--at", help="A date (end of that day, UTC) or an RFC 3339 UTC time; default: now."
    ),
]
AsParty = Annotated[str, typer.Option("--as", help="Sign as this party (the declarant).")]
TimeOption = Annotated[
    str | None, typer.Option("--time", help="Event time, RFC 3339 UTC (default: now).")
]


def moment_option(at: str | None) -> int | None:
    """The --at option as microseconds (None for now); a usage error when malformed."""
    if at is None:
        return None
    try:
        return queryable(parse_moment(at), at)
    except MalformedInput as e:
        raise typer.BadParameter(str(e), param_hint="--at") from None


def _kg(grams: int) -> str:
    return f"{grams / 1000:,.3f}"


# -- declaring ----------------------------------------------------------------------------


def _submit(
    ledger: Ledger,
    file: Path,
    party: str,
    version: int,
    legal_basis: str,
    due: str,
    time: str | None,
) -> None:
    # Start-up time: openpyxl, only here.
    from cwledger.intake import declaration_parts, read_declaration
    from cwledger.intake.parts import BODY_BUDGET, declaration_event_type

    decl = read_declaration(file, version=version, legal_basis=legal_basis, due=due, party=party)
    counted = f"{len(decl.items)} items, {len(decl.sites)} sites, {len(decl.chemicals)} chemicals"
    kind = declaration_event_type(decl)
    when = time or utc_now()
    budget = part_budget(ledger.authority(), party, BODY_BUDGET)
    events = [
        {"type": kind, "id": f"declaration-v{version}-part{b['part']}", "time": when, "body": b}
        for b in declaration_parts(decl, budget)
    ]
    envelopes = ledger.sign(events, party)
    # Only the signed bytes go on: the sheet's models and the parts' dicts would otherwise
    # stay in memory beside the book's own copy while the log appends (a 100,000-row sheet).
    del decl, events
    receipts = ledger.append(envelopes)
    first, last = receipts[0].index, receipts[-1].index
    err.print(
        f"declaration version {version}: {counted} in {plural(len(receipts), 'part')},"
        f" entries {first}..{last}"
    )


def declare(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX, one row per item or lot.")],
    party: AsParty,
    legal_basis: Annotated[str, typer.Option(help="The decision that requires it.")],
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
    time: TimeOption = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Submit the first version of a declaration from a sheet (all rows good, or nothing)."""
    _submit(open_ledger(ledger_dir), file, party, 1, legal_basis, due, time)


def amend(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: the whole new version.")],
    party: AsParty,
    legal_basis: Annotated[str | None, typer.Option(help="Default: the amended version's.")] = None,
    due: Annotated[str | None, typer.Option(help="Default: the amended version's.")] = None,
    time: TimeOption = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Submit an amended declaration: the whole next version, which amends the latest."""
    ledger = open_ledger(ledger_dir)
    with ledger.store.read() as r:
        versions = r.book.records(DeclarationRecord)
    if not versions:
        raise answers.NotInBook("no declaration to amend: submit one with `cwledger declare`")
    latest = max(versions, key=lambda rec: rec.declaration.version).declaration
    _submit(
        ledger,
        file,
        party,
        latest.version + 1,
        legal_basis or latest.legal_basis,
        due or latest.due,
        time,
    )


def _val(value: object) -> str:
    """A field's value in a diff: numbers and text as they are, anything else as JSON."""
    if value is None:
        return "(none)"
    if isinstance(value, (str, int, float)):
        return shown(f"{value:,}" if isinstance(value, float) else value)
    return shown(json.dumps(value, sort_keys=True))


def diff_command(
    v1: Annotated[int, typer.Argument(help="Older version.")],
    v2: Annotated[int, typer.Argument(help="Newer version.")],
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Every site and item added, removed or changed between two declaration versions."""
    with Ledger.open(ledger_dir).store.read() as r:
        d = answers.declaration_diff(r.book, v1, v2)
    if as_json:
        print_json(d.model_dump(mode="json"))
        return
    table = Table("change", "id", "field", "old", "new", title=f"declaration v{v1} -> v{v2}")
    for what in ("sites", "items"):
        for i in getattr(d, f"{what}_added"):
            table.add_row(f"{what[:-1]} added", shown(i), "", "", "")
        for i in getattr(d, f"{what}_removed"):
            table.add_row(f"{what[:-1]} removed", shown(i), "", "", "")
        for c in getattr(d, f"{what}_changed"):
            for f in c.fields:
                old, new = c.old.get(f), c.new.get(f)
                table.add_row(f"{what[:-1]} changed", shown(c.id), shown(f), _val(old), _val(new))
    if d.header_changed:
        table.add_row("header changed", "", shown(", ".join(d.header_changed)), "", "")
    out.print(table if table.row_count else f"versions {v1} and {v2} list the same sites and items")


# -- where is it ----------------------------------------------------------------------------


def holdings(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    at: AtOption = None,
    by: Annotated[
        str,
        typer.Option(help="Group by site, chemical, category, priority or item (needs --site)."),
    ] = "site",
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """What the book holds, now or at any past moment, by site, chemical, category or priority."""
    if by not in ("site", "chemical", "category", "priority", "item"):
        raise typer.BadParameter(f"{by!r}: one of site, chemical, category, priority, item")
    grouping: Grouping = by  # type: ignore[assignment]
    when = moment_option(at)
    try:
        with Ledger.open(ledger_dir).store.read() as r:
            lines = answers.holdings(r.book, at=when, site=site, by=grouping)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    if as_json:
        print_json([line.to_json() for line in lines])
        return
    title = shown(f"holdings at {at or 'now'}" + (f", site {site}" if site else ""))
    table = Table(by, "kg", "items", title=title)
    for line in lines:
        table.add_row(shown(line.key), _kg(line.grams), str(line.items))
    total_g, total_n = sum(x.grams for x in lines), sum(x.items for x in lines)
    table.add_row("[bold]total[/]", f"[bold]{_kg(total_g)}[/]", f"[bold]{total_n}[/]")
    out.print(table)


def where(
    item: Annotated[str, typer.Argument(help="Item id.")],
    at: AtOption = None,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Where an item was at a moment: site, state and mass held."""
    when = moment_option(at)
    with Ledger.open(ledger_dir).store.read() as r:
        answers.item_record(r.book, item)
        p = r.book.position(item, when)
    if p is None:
        raise answers.NotInBook(f"item {item} was not yet in the book at {at}")
    if as_json:
        print_json(answers.position_document(item, at, p))
        return
    place = f"at {p.site}" if p.site else "in transit"
    out.print(shown(f"{item}: {p.state.value} {place}, {_kg(p.held_g)} kg (since entry {p.entry})"))


def item(
    item_id: Annotated[str, typer.Argument(metavar="ID", help="Item id.")],
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """An item's chain of custody: every entry about it, in log order."""
    ledger = Ledger.open(ledger_dir)
    with ledger.store.read() as r:
        rec = answers.item_record(r.book, item_id)
        chain = answers.chain_of_custody(r, item_id, ledger.operator_keys())
    if as_json:
        print_json(answers.item_document(rec, chain))
        return
    title = shown(f"{item_id}: {rec.chemical or rec.item.munition_type} — {rec.where()}")
    table = Table("entry", "time", "type", "author", "what", title=title)
    for c in chain:
        table.add_row(str(c.index), shown(c.time), shown(c.type), shown(c.author), shown(c.summary))
    out.print(table)


def findings_command(
    status: Annotated[
        str | None, typer.Option(help="Only open, resolved or closed_unresolvable.")
    ] = None,
    at: AtOption = None,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """The findings: numbered discrepancies, raised by hand or by the book's rules, with
    the day each was opened (and closed) and the sites it concerns; with --at, as they
    stood at that moment."""
    when = moment_option(at)
    with Ledger.open(ledger_dir).store.read() as r:
        found = answers.findings(r.book, status, when)
        docs = [answers.finding_document(f, answers.finding_sites(r.book, f)) for f in found]
    if as_json:
        print_json(docs)
        return
    table = Table(
        "no.",
        "status",
        Column("opened", no_wrap=True, min_width=10),
        "sites",
        "finding",
        title=f"{len(found)} finding{'' if len(found) == 1 else 's'}" + (f" at {at}" if at else ""),
    )
    for d in docs:
        status_cell = d["status"].replace("_", " ") + (f" {d['closed']}" if d["closed"] else "")
        table.add_row(
            str(d["number"]),
            shown(status_cell),
            d["opened"],
            shown(", ".join(d["sites"])),
            shown(f"{d['title']} [{d['rule']}]", lines=True),
        )
    out.print(table)


def rebuild(ledger_dir: LedgerDir = Path(".")) -> None:
    """Drop the book's tables and replay the whole log into them (sealed bodies opened with
    the operator's encryption keys in the keystore)."""
    ledger = Ledger.open(ledger_dir)
    with ledger.store.read() as r:
        size = r.size()
    with progress() as bar:
        task = bar.add_task("replaying", total=size)
        changes = rebuild_book(ledger.store, lambda n: bar.advance(task, n), ledger.operator_keys())
    err.print(
        f"rebuilt the book from {size} entries: {changes.records} records,"
        f" {changes.movements} holdings changes"
    )


# -- progress and milestones ------------------------------------------------------------------


def status_command(
    at: AtOption = None,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Declared, removed and destroyed, and where what is not yet destroyed is (in country,
    in transit, at a destruction venue) with the unaccounted difference of the weighings,
    by category and priority, at a moment."""
    when = moment_option(at)
    with Ledger.open(ledger_dir).store.read() as r:
        doc = answers.status_document(book_progress.load_facts(r.book), when)
    if as_json:
        print_json(doc)
        return
    title = f"status at {doc['at'] or 'now'} (declaration version {doc['declaration_version']})"
    out.print(status_table(doc, shown(title)))
    out.print(whereabouts_table(doc, "where what is not yet destroyed is"))
    out.print("removed % counts what was destroyed in the country, as the 2014 reports did")
    if doc["facilities"]["declared"]:
        out.print(facilities_table(doc["facilities"], "production facilities"))


def milestones_command(
    at: AtOption = None,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Each compliance milestone: met (when, by which events; "recorded late" when an entry
    it rests on was logged well after its event time), met late (days), overdue (days as of
    the moment asked; what still remains), at risk (due within 30 days) or due."""
    when = moment_option(at)
    ledger = Ledger.open(ledger_dir)
    with ledger.store.read() as r:
        judged = answers.judged_milestones(r, when, late_after=ledger.late_after)
    docs = [m.to_json() for m in judged]
    if as_json:
        print_json(docs)
        return
    out.print(milestones_table(docs, shown(f"milestones at {at or 'now'}")))
