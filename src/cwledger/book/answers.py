"""Answers from the book: what is held where (now or at any moment), where an item is, its
chain of custody, the findings, the declaration versions. The CLI, the API and the pages
print these; none of them computes a figure of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cwledger.book import progress
from cwledger.book.facilities import facility_counts
from cwledger.book.records import (
    ChemicalsRecord,
    DeclarationRecord,
    FacilityRecord,
    FindingRecord,
    ItemRecord,
    SiteRecord,
    TransferRecord,
)
from cwledger.book.registry import EVENT_TYPES
from cwledger.errors import NotFound
from cwledger.ledger.admission import decode_entry
from cwledger.ledger.confidential import KeyLookup, whole_body
from cwledger.ledger.ledger import LATE_AFTER
from cwledger.model import Chemical, Declaration, DeclarationDiff, diff
from cwledger.model.classes import Class, visible
from cwledger.model.findings import FindingStatus
from cwledger.time import date_text

if TYPE_CHECKING:
    from cwledger.book.book import Position
    from cwledger.store import LogReader
    from cwledger.store.book import BookReader, Holding

__all__ = [
    "Grouping",
    "HoldingLine",
    "NotInBook",
    "holdings",
    "grouped",
    "needs_chemicals",
    "holdings_from_movements",
    "chemicals_table",
    "declaration",
    "declaration_diff",
    "findings",
    "finding_sites",
    "item_record",
    "site_record",
    "CustodyEntry",
    "summarise",
    "readable",
    "chain_of_custody",
    "item_document",
    "position_document",
    "finding_document",
    "site_document",
    "judged_milestones",
    "status_document",
]

Grouping = Literal["site", "chemical", "category", "priority", "item"]


class NotInBook(NotFound):
    """Asked for an object (item, site, version, finding) the book does not have."""

    code = "not-in-book"


@dataclass(frozen=True)
class HoldingLine:
    """One line of a holdings answer: a group (site, chemical, category...) and what it holds."""

    key: str
    grams: int
    items: int

    @property
    def tonnes(self) -> float:
        """The mass held in tonnes."""
        return self.grams / 1e6

    def to_json(self) -> dict[str, Any]:
        """As a JSON object (mass in kg, exact to the gram)."""
        return {"key": self.key, "kg": self.grams / 1000, "items": self.items}


def chemicals_table(q: BookReader) -> dict[str, Chemical]:
    """The chemicals of every declaration version; a later version's row wins."""
    rec = q.get(ChemicalsRecord, "table")
    return {} if rec is None else rec.chemicals


def _group_key(by: Grouping, site: str, chemical: str, table: dict[str, Chemical]) -> str:
    if by == "site":
        return site or "in transit"
    c = table.get(chemical)
    if by == "chemical":
        return chemical or "(unfilled munitions)"
    if c is None:
        return "product" if chemical else "category 3"
    if by == "category":
        return f"category {c.cwc_category}"
    return f"priority {c.removal_priority}"


def holdings(
    q: BookReader, *, at: int | None = None, site: str | None = None, by: Grouping = "site"
) -> list[HoldingLine]:
    """What the book holds at moment `at` (None: now), grouped `by`, optionally at one site.

    ``by="item"`` needs a site and lists its items.
    """
    if by == "item":
        if site is None:
            raise ValueError("holdings by item need a site")
        return [HoldingLine(p.item, p.held_g, 1) for p in q.items_at(site, at)]
    table = chemicals_table(q) if needs_chemicals(by) else {}
    return grouped(q.holdings(at), by, site, table)


def needs_chemicals(by: Grouping) -> bool:
    """Whether grouping `by` reads the chemicals' table (a record to read and parse): by
    category and by priority; by site and by chemical need only the holdings."""
    return by in ("category", "priority")


def grouped(
    held: Iterable[Holding],
    by: Grouping,
    site: str | None = None,
    table: dict[str, Chemical] | None = None,
) -> list[HoldingLine]:
    """The holdings of each (site, chemical) group summed `by` site, chemical, category or
    priority (these two from the chemicals' `table`), optionally at one site only."""
    table = table or {}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for h in held:
        if site is not None and h.site != site:
            continue
        t = totals[_group_key(by, h.site, h.chemical, table)]
        t[0] += h.grams
        t[1] += h.items
    return [HoldingLine(k, g, n) for k, (g, n) in sorted(totals.items()) if g or n]


def holdings_from_movements(
    movements: Iterable[Any], at: int | None = None
) -> dict[tuple[str, str], tuple[int, int]]:
    """The reference answer: sum the movements dated up to `at`, by (site, chemical).

    What the store's running totals must agree with (tests and benchmarks use it).
    """
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for m in movements:
        if at is None or m.at <= at:
            t = totals[(m.site, m.chemical)]
            t[0] += m.grams
            t[1] += m.items
    return {k: (g, n) for k, (g, n) in totals.items() if g or n}


def item_record(q: BookReader, item: str) -> ItemRecord:
    """The book's record of an item. Raises NotInBook."""
    rec = q.get(ItemRecord, item)
    if rec is None:
        facility = q.get(FacilityRecord, item)
        if facility is not None:
            raise NotInBook(
                f"{item} is a production facility, not an item ({facility.status}); its"
                " destruction is counted under facilities in `cwledger status`"
            )
        raise NotInBook(f"item {item} is not in the book")
    return rec


def site_record(q: BookReader, site: str) -> SiteRecord:
    """The book's record of a site. Raises NotInBook."""
    rec = q.get(SiteRecord, site)
    if rec is None:
        raise NotInBook(f"site {site} is not declared")
    return rec


def declaration(q: BookReader, version: int) -> Declaration:
    """A complete declaration version. Raises NotInBook."""
    rec = q.get(DeclarationRecord, str(version))
    if rec is None:
        versions = [r.declaration.version for r in q.records(DeclarationRecord)]
        known = ", ".join(map(str, sorted(versions))) or "none yet"
        raise NotInBook(f"declaration version {version} is not complete (complete: {known})")
    return rec.declaration


def declaration_diff(q: BookReader, v1: int, v2: int) -> DeclarationDiff:
    """Every site and item added, removed or changed from version v1 to v2."""
    return diff(declaration(q, v1), declaration(q, v2))


def findings(
    q: BookReader, status: str | None = None, at: int | None = None
) -> list[FindingRecord]:
    """The findings, by number (optionally only those of one status); with `at`, the
    findings opened by then, each with its status as it stood then (open until the moment
    it was closed)."""
    if at is None:
        return q.records(FindingRecord, status=status)
    out = []
    for f in q.records(FindingRecord):
        if f.opened_at > at:
            continue
        if f.closed_at is None or f.closed_at > at:
            f = f.model_copy(
                update={"finding": f.finding.model_copy(update={"status": FindingStatus.OPEN})}
            )
        if status is None or f.status == status:
            out.append(f)
    return out


def finding_sites(q: BookReader, f: FindingRecord) -> list[str]:
    """The sites a finding concerns: its subjects that are sites, where its subject items
    were when it was opened, the two ends of its subject transfers."""
    sites: list[str] = []
    for subject in f.subjects:
        if q.get(SiteRecord, subject) is not None:
            sites.append(subject)
        elif (transfer := q.get(TransferRecord, subject)) is not None:
            sites += [transfer.origin, transfer.destination]
        elif (p := q.position(subject, f.opened_at)) is not None and p.site is not None:
            sites.append(p.site)
    return list(dict.fromkeys(sites))


@dataclass(frozen=True)
class CustodyEntry:
    """One entry of an item's chain of custody."""

    index: int
    time: str
    type: str
    author: str
    event_id: str
    summary: str
    body: dict[str, Any] | None = None  # the whole body; None when sealed and not opened here

    def to_json(self) -> dict[str, Any]:
        """As a JSON object."""
        return {
            "index": self.index,
            "time": self.time,
            "type": self.type,
            "author": self.author,
            "event_id": self.event_id,
            "summary": self.summary,
        }


def summarise(event_type: str, body: dict[str, Any], item: str) -> str:
    """One line on what an event says about an item (its type's summary in the registry)."""
    etype = EVENT_TYPES.get(event_type)
    if etype is None or etype.summary is None:
        return event_type
    return etype.summary(body, item)


def readable(event_type: str, body: dict[str, Any], clearance: Class) -> dict[str, Any]:
    """The fields of an event's body a reader of `clearance` may read: the whole body when
    the clearance reaches the type's highest class, else its fields of a class the
    clearance reaches (each field's declared class: `cwledger.model.classes.visible`). An
    unregistered type's body is all or nothing."""
    etype = EVENT_TYPES.get(event_type)
    if etype is None:
        return body if clearance is Class.HIGHLY_PROTECTED else {}
    if clearance >= etype.confidentiality:
        return body
    return visible(etype.body, body, clearance)


def _summary(event_type: str, body: dict[str, Any], item: str, clearance: Class) -> str:
    """The summary of what a reader of `clearance` may read of a body (a summary that
    needs a field withheld from it says so instead)."""
    shown = readable(event_type, body, clearance)
    try:
        return summarise(event_type, shown, item)
    except KeyError:
        if shown == body:
            raise
        return f"{event_type} (its fields above {clearance} withheld)"


def chain_of_custody(
    reader: LogReader,
    item: str,
    keys: KeyLookup | None = None,
    clearance: Class = Class.HIGHLY_PROTECTED,
) -> list[CustodyEntry]:
    """Every entry of an item's chain of custody, in log order; a sealed body is opened with
    `keys` (the operator's), else summarised as sealed. Each body and summary holds only the
    fields a reader of `clearance` may read (issue 16: a destruction facility, cleared to
    `protected`, is not told a sample's result). Raises NotInBook."""
    item_record(reader.book, item)
    out = []
    for index in reader.book.custody(item):
        [stored] = reader.entries(index, index + 1)
        d = decode_entry(stored.envelope, check_canonical=False)
        e = d.event
        whole = whole_body(d, keys)
        if whole is None:
            body, summary = None, f"{e.type} (sealed)"
        else:
            body = readable(e.type, whole, clearance)
            summary = _summary(e.type, whole, item, clearance)
        out.append(CustodyEntry(index, e.time, e.type, e.author, e.id, summary, body))
    return out


# -- documents: the JSON shapes that `--json` prints and the API answers ----------------------


def item_document(rec: ItemRecord, chain: list[CustodyEntry]) -> dict[str, Any]:
    """An item, where it is, and its chain of custody."""
    return {
        "item": rec.item.model_dump(mode="json", exclude_none=True),
        "state": rec.state.value,
        "site": rec.site,
        "kg": rec.held_g / 1000,
        "tag": rec.tag,
        "seals": rec.seals,
        "custody": [c.to_json() for c in chain],
    }


def position_document(item: str, at: str | None, p: Position) -> dict[str, Any]:
    """Where an item was at a moment (`at` as asked; None for now)."""
    return {
        "item": item,
        "at": at or "now",
        "site": p.site,
        "state": p.state.value,
        "kg": p.held_g / 1000,
        "since_entry": p.entry,
    }


def finding_document(f: FindingRecord, sites: list[str] | None = None) -> dict[str, Any]:
    """A finding with the rule that raised it, what it concerns (and, when given, the sites
    it concerns), when and where it was opened, and when it was closed."""
    doc = {
        **f.finding.model_dump(mode="json"),
        "rule": f.rule,
        "subjects": f.subjects,
        "opened_entry": f.opened_entry,
        "opened": date_text(f.opened_at),
        "closed": None
        if f.closed_at is None or f.finding.status == FindingStatus.OPEN
        else date_text(f.closed_at),
        "author": f.author,
    }
    return doc if sites is None else doc | {"sites": sites}


def site_document(rec: SiteRecord, held: list[HoldingLine], entries: list[int]) -> dict[str, Any]:
    """A site, what it holds (by item), and the entries that name it."""
    return {
        "site": rec.site.model_dump(mode="json", exclude_none=True),
        "in_country": rec.in_country,
        "declared_entry": rec.entry,
        "holdings": [line.to_json() for line in held],
        "entries": entries,
    }


def judged_milestones(
    reader: LogReader,
    at: int | None = None,
    now: int | None = None,
    late_after: int = LATE_AFTER,
) -> list[progress.MilestoneStatus]:
    """Every milestone judged at `at` (None: now), each met on the strength of an entry the
    log took more than `late_after` µs after its event time saying so (`late_entry`)."""
    return progress.milestones(
        progress.load_facts(reader.book),
        at,
        now,
        late=lambda ids: reader.late_among(ids, late_after),
    )


def status_document(f: progress.Facts, at: int | None) -> dict[str, Any]:
    """``cwledger status --json``: the chemicals and munitions (``progress.status``), and the
    production facilities (declared, destroyed, verified, inaccessible) at the same moment."""
    return {
        **progress.status(f, at).to_json(),
        "facilities": facility_counts(f.facilities, at).to_json(),
    }
