"""Progress of the elimination: declared, removed and destroyed at any moment, where what
is not yet destroyed is, and the compliance milestones judged against it.

Everything is computed from the book's records (``Facts``), as of a moment: a declaration
version counts from the moment its last part arrived; an item is *removed* when a
transfer takes it from a site in the declaring state's territory (a site the declarant
declared) to one outside it; it is *destroyed* by the destruction batches that consumed
it. Percentages are of the declared chemicals (Categories 1 and 2) by mass, and "removed"
counts what was destroyed in the country too, as the reports of 2014 counted it
("removed or destroyed in country"). Category 3 (unfilled munitions, equipment) is
counted in items.

What is not yet destroyed is what the book holds of the declared items at that moment (their
positions: the mass each holds after its last weighing and destruction), named by where it
is: in the country (a site the declarant declared), in transit (on the move, aboard a
vessel, at a port abroad), at a destruction venue (a site where batches are destroyed).
Declared less destroyed less what is held is the unaccounted difference (weighings that
disagree with the declaration): it is never "remaining".

A milestone rests on entries (the document, the last part of a declaration, every removal
or destruction it counts...). The book knows only the times the events give themselves;
when the log took each entry is the log's to say: `milestones` asks a `LateEntries`
(the caller's, reading the log) which of them were recorded late, and a milestone met by
any such entry says so (`late_entry`, "met (recorded late)").
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from cwledger.book.book import Position
from cwledger.book.facilities import facilities_destroyed
from cwledger.book.records import (
    BatchRecord,
    ChemicalsRecord,
    DeclarationRecord,
    DocumentRecord,
    FacilityRecord,
    FindingRecord,
    InspectionRecord,
    ItemRecord,
    ItemState,
    MilestoneRecord,
    Record,
    SiteRecord,
    TransferRecord,
    grams,
)
from cwledger.model import AccessStatus, Chemical, Item, ItemKind, SiteKind
from cwledger.model.bodies import (
    AllOfPredicate,
    DeclarationPredicate,
    DestroyedPredicate,
    DocumentPredicate,
    FacilitiesDestroyedPredicate,
    FindingsClosedPredicate,
    InitialInspectionsPredicate,
    InspectionsBegunPredicate,
    MilestoneSet,
    RemovedPredicate,
    Selector,
)
from cwledger.time import clock, date_text, day_of, months, parse_moment

R = TypeVar("R", bound=Record)


class RecordReader(Protocol):
    """Where progress reads the book's records (the store's ``BookReader`` is one)."""

    def get(self, cls: type[R], key: str) -> R | None:
        """One record of that class, or None."""
        ...

    def records(self, cls: type[R]) -> list[R]:
        """Every record of that class, by key."""
        ...

    def every_position(self) -> list[Position]:
        """Every position of every item, by item, then in time order."""
        ...


LateEntries = Callable[[Collection[str]], Collection[str]]
"""Given event ids, those of them whose entries the log recorded late."""

__all__ = [
    "RecordReader",
    "LateEntries",
    "Facts",
    "Tally",
    "Status",
    "MilestoneStatus",
    "load_facts",
    "status",
    "month_ends",
    "record_end",
    "status_series",
    "milestones",
    "AT_RISK_DAYS",
    "MILESTONE_STATES",
]

# A milestone not met within this many days of its due date is at risk.
AT_RISK_DAYS = 30
MILESTONE_STATES = ("met", "met_late", "overdue", "at_risk", "due")
"""met (by its due date), met late (days after it), overdue (open after its due date, days
as of the moment asked), at risk (open, due within AT_RISK_DAYS), due (open, due later or
open-ended)."""
_DAY = 86_400_000_000
_ALL_TIME = 2**62


@dataclass
class Facts:
    """The records progress and milestones are computed from, loaded once."""

    chemicals: dict[str, Chemical]
    versions: list[DeclarationRecord]
    removals: list[TransferRecord]
    batches: list[BatchRecord]
    products: list[ItemRecord]
    sites: list[SiteRecord]
    inspections: list[InspectionRecord]
    documents: list[DocumentRecord]
    findings: list[FindingRecord]
    milestones: list[MilestoneRecord]
    facilities: list[FacilityRecord] = field(default_factory=list)
    positions: dict[str, list[Position]] = field(default_factory=dict)
    """Each item's positions in time order (what it held where after each entry)."""
    places: dict[str, str] = field(default_factory=dict)
    """Each site by where it is: ``in_country`` (the declarant declared it), ``at_venue``
    (a destruction venue: declared as one, or batches were destroyed there), or
    ``in_transit`` (a vessel or a port abroad)."""

    def position_at(self, item: str, at: int) -> Position | None:
        """Where the item was and what it held at moment `at` (None before it was in the book)."""
        ps = self.positions.get(item, [])
        i = bisect_right(ps, at, key=lambda p: p.at)
        return ps[i - 1] if i else None

    def held_at(self, item: Item, at: int) -> int:
        """Grams the item held at moment `at`, wherever it was (0 once destroyed)."""
        return self.whereabouts(item, at)[1]

    def whereabouts(self, item: Item, at: int) -> tuple[str, int]:
        """Where a declared item was at moment `at` (``in_country``, ``in_transit`` or
        ``at_venue``) and the grams it held (its declared mass before it had a position)."""
        p = self.position_at(item.id, at)
        if p is None:
            return "in_country", grams(item.declared.kg)
        if p.state in (ItemState.DESTROYED, ItemState.WITHDRAWN):
            return "in_country" if p.site is None else self.places.get(p.site, "in_transit"), 0
        held = p.held_g
        if p.site is None or p.state is ItemState.IN_TRANSIT:
            return "in_transit", held
        return self.places.get(p.site, "in_transit"), held

    def declaration_at(self, at: int) -> DeclarationRecord | None:
        """The latest declaration version complete at `at`."""
        done = [v for v in self.versions if v.completed_at <= at]
        return max(done, key=lambda v: v.declaration.version) if done else None

    def category(self, item: Item) -> int | None:
        """An item's CWC category: its chemical's, or 3 for an unfilled munition or equipment."""
        if item.chemical is not None and item.chemical in self.chemicals:
            return self.chemicals[item.chemical].cwc_category
        if item.chemical is None and item.kind in (ItemKind.MUNITION, ItemKind.EQUIPMENT):
            return 3
        return None

    def priority(self, item: Item) -> str | None:
        """An item's removal priority (its chemical's), if it has one."""
        chem = self.chemicals.get(item.chemical or "")
        return None if chem is None else chem.removal_priority


def load_facts(book: RecordReader) -> Facts:
    """Read the records progress and milestones need."""
    table = book.get(ChemicalsRecord, "table")
    chemicals = {} if table is None else table.chemicals
    versions = book.records(DeclarationRecord)
    declared = {i.id for v in versions for i in v.declaration.items}
    products = [
        rec
        for rec in book.records(ItemRecord)
        if rec.item.id not in declared and rec.chemical not in chemicals
    ]
    sites = book.records(SiteRecord)
    batches = book.records(BatchRecord)
    venues = {b.venue for b in batches}
    places = {
        s.site.id: "in_country"
        if s.in_country
        else "at_venue"
        if s.site.id in venues or s.site.kind == SiteKind.DESTRUCTION
        else "in_transit"
        for s in sites
    }
    return Facts(
        chemicals=chemicals,
        versions=versions,
        removals=[t for t in book.records(TransferRecord) if t.abroad],
        batches=batches,
        products=products,
        sites=sites,
        inspections=book.records(InspectionRecord),
        documents=book.records(DocumentRecord),
        findings=book.records(FindingRecord),
        milestones=book.records(MilestoneRecord),
        facilities=book.records(FacilityRecord),
        positions=_by_item(book.every_position()),
        places=places,
    )


def _by_item(positions: list[Position]) -> dict[str, list[Position]]:
    out: dict[str, list[Position]] = defaultdict(list)
    for p in positions:
        out[p.item].append(p)
    for ps in out.values():
        ps.sort(key=lambda p: (p.at, p.entry))
    return dict(out)


# -- status ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Declared, removed and destroyed of one group, and where what is not yet destroyed
    is: grams and items."""

    declared_g: int = 0
    removed_g: int = 0
    destroyed_g: int = 0
    destroyed_in_country_g: int = 0
    declared_items: int = 0
    removed_items: int = 0
    destroyed_items: int = 0
    in_country_g: int = 0
    in_transit_g: int = 0
    at_venue_g: int = 0

    @property
    def not_destroyed_g(self) -> int:
        """What the book holds of the group, wherever it is: not yet destroyed."""
        return self.in_country_g + self.in_transit_g + self.at_venue_g

    def hold(self, where: str, g: int) -> None:
        """Count `g` grams held `where` (``in_country``, ``in_transit``, ``at_venue``)."""
        if where == "in_country":
            self.in_country_g += g
        elif where == "at_venue":
            self.at_venue_g += g
        else:
            self.in_transit_g += g

    @property
    def unaccounted_g(self) -> int:
        """Declared less destroyed less what is held: the weighings' difference from the
        declaration (positive: less was found than declared)."""
        return self.declared_g - self.destroyed_g - self.not_destroyed_g

    def pct(self, g: int) -> float:
        """`g` as a percentage of the declared mass (0 when nothing is declared)."""
        return round(100 * g / self.declared_g, 1) if self.declared_g else 0.0

    def to_json(self) -> dict[str, Any]:
        """Tonnes and items, with the percentages the reports used."""
        t = 1e6
        return {
            "declared_t": round(self.declared_g / t, 3),
            "removed_t": round(self.removed_g / t, 3),
            "destroyed_t": round(self.destroyed_g / t, 3),
            "destroyed_in_country_t": round(self.destroyed_in_country_g / t, 3),
            "in_country_t": round(self.in_country_g / t, 3),
            "in_transit_t": round(self.in_transit_g / t, 3),
            "at_venue_t": round(self.at_venue_g / t, 3),
            "not_destroyed_t": round(self.not_destroyed_g / t, 3),
            "unaccounted_t": round(self.unaccounted_g / t, 3),
            "removed_pct": self.pct(self.removed_g + self.destroyed_in_country_g),
            "destroyed_pct": self.pct(self.destroyed_g),
            "declared_items": self.declared_items,
            "removed_items": self.removed_items,
            "destroyed_items": self.destroyed_items,
        }


@dataclass
class Status:
    """Progress at a moment: the declared chemicals in total, by category and by priority."""

    at: int | None
    version: int | None
    total: Tally
    by_category: dict[str, Tally] = field(default_factory=dict)
    by_priority: dict[str, Tally] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The shape scripts rely on (``cwledger status --json``)."""
        return {
            "at": None if self.at is None else date_text(self.at),
            "declaration_version": self.version,
            **self.total.to_json(),
            "by_category": {k: v.to_json() for k, v in sorted(self.by_category.items())},
            "by_priority": {k: v.to_json() for k, v in sorted(self.by_priority.items())},
        }


def status(f: Facts, at: int | None = None) -> Status:
    """Declared, removed, destroyed, and where what is not yet destroyed is, at moment `at`
    (None: everything)."""
    t = _ALL_TIME if at is None else at
    decl = f.declaration_at(t)
    result = Status(at, None if decl is None else decl.declaration.version, Tally())
    if decl is None:
        return result
    groups: dict[str, list[Tally]] = {}
    for item in decl.declaration.items:
        category, priority = f.category(item), f.priority(item)
        if category is None:
            continue
        tallies = [result.by_category.setdefault(f"category {category}", Tally())]
        if priority is not None:
            tallies.append(result.by_priority.setdefault(f"priority {priority}", Tally()))
        if category != 3:
            tallies.append(result.total)
        groups[item.id] = tallies
        where, held = f.whereabouts(item, t)
        for tally in tallies:
            tally.declared_g += grams(item.declared.kg)
            tally.declared_items += 1
            tally.hold(where, held)
    for transfer in f.removals:
        if transfer.shipped_at > t:
            continue
        for line in transfer.lines:
            for tally in groups.get(line.item, []):
                tally.removed_g += line.shipped_g
                tally.removed_items += 1
    for batch in f.batches:
        if batch.at > t:
            continue
        for bl in batch.lines:
            for tally in groups.get(bl.item, []):
                tally.destroyed_g += bl.grams
                tally.destroyed_items += bl.complete
                if batch.in_country:
                    tally.destroyed_in_country_g += bl.grams
    return result


def month_ends(f: Facts, until: int | None = None) -> list[int]:
    """The last moment (µs) of every month from the first complete declaration to `until`
    (default: the month of the last removal or destruction); empty before a declaration."""
    if not f.versions:
        return []
    first = min(v.completed_at for v in f.versions)
    last = until
    if last is None:
        moves = [t.shipped_at for t in f.removals] + [b.at for b in f.batches]
        last = max([first, *moves])
    return [p.last for p in months(first, max(first, last))]


def status_series(f: Facts, moments: Iterable[int]) -> list[Status]:
    """Status at each moment: the burn-down of the stockpile, month by month."""
    return [status(f, t) for t in moments]


# -- milestones ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneStatus:
    """A milestone judged at a moment."""

    milestone: MilestoneSet
    status: str  # one of MILESTONE_STATES
    met_on: int | None
    evidence: list[str]
    days_late: int | None
    outstanding: dict[str, float] | None
    late_events: list[str] = field(default_factory=list)
    """The entries the judgment rests on that the log recorded late (event time well
    before the log time): a milestone met by them is "met (recorded late)"."""

    @property
    def late_entry(self) -> bool:
        """Whether the milestone is met on the strength of an entry recorded late."""
        return self.met_on is not None and bool(self.late_events)

    def to_json(self) -> dict[str, Any]:
        """The shape scripts rely on (``cwledger milestones --json``)."""
        m = self.milestone
        return {
            "id": m.milestone,
            "description": m.description,
            "instrument": m.instrument,
            "due": m.due,
            "status": self.status,
            "met_on": None if self.met_on is None else date_text(self.met_on),
            "evidence": self.evidence,
            "days_late": self.days_late,
            "outstanding": self.outstanding,
            "late_entry": self.late_entry,
            "late_events": self.late_events,
        }


@dataclass(frozen=True)
class _Outcome:
    met_on: int | None
    evidence: list[str]
    outstanding: dict[str, float] | None = None
    rests_on: frozenset[str] = frozenset()  # every event that made it met (default: evidence)

    @property
    def events(self) -> frozenset[str]:
        """The events the outcome rests on."""
        return self.rests_on or frozenset(self.evidence)


def _selected(f: Facts, select: Selector, t: int) -> list[Item]:
    if select.products:
        created = {p for b in f.batches if b.at <= t for p in b.products}
        return [p.item for p in f.products if p.item.id in created]
    decl = f.declaration_at(t)
    items = [] if decl is None else decl.declaration.items
    out = []
    for item in items:
        category = f.category(item)
        if select.category and category not in select.category:
            continue
        if select.priority and f.priority(item) not in select.priority:
            continue
        if select.item_kind and item.kind not in select.item_kind:
            continue
        if select.equipment_type and item.equipment_type not in select.equipment_type:
            continue
        if category is None:
            continue
        out.append(item)
    return out


def _done_times(f: Facts, removal: bool) -> dict[str, tuple[int, str]]:
    """For each item, when (and by which event) it was removed or destroyed in the country
    (`removal`), or completely destroyed anywhere."""
    done: dict[str, tuple[int, str]] = {}

    def mark(item: str, at: int, event: str) -> None:
        if item not in done or at < done[item][0]:
            done[item] = (at, event)

    if removal:
        for transfer in f.removals:
            for line in transfer.lines:
                mark(line.item, transfer.shipped_at, transfer.shipped_event)
    for batch in f.batches:
        if removal and not batch.in_country:
            continue
        for bl in batch.lines:
            if bl.complete:
                mark(bl.item, batch.at, batch.event)
    return done


def _material(f: Facts, select: Selector, t: int, removal: bool) -> _Outcome:
    items = _selected(f, select, t)
    done = _done_times(f, removal)
    left = [i for i in items if i.id not in done or done[i.id][0] > t]
    # What remains of them (not yet removed, or not yet destroyed): what they hold at `t`.
    outstanding = {
        "tonnes": round(sum(f.held_at(i, t) for i in left) / 1e6, 3),
        "items": len(left),
    }
    if not items or left:
        return _Outcome(None, [], outstanding)
    last = max((done[i.id] for i in items), key=lambda d: d[0])
    every = frozenset(done[i.id][1] for i in items)
    return _Outcome(last[0], [last[1]], outstanding, every)


def _initial_inspections(f: Facts, t: int, due: int | None) -> _Outcome:
    decl = f.declaration_at(min(t, due) if due is not None else t)
    declared = set() if decl is None else {s.id for s in decl.declaration.sites if s.parent is None}
    sites = [
        s
        for s in f.sites
        if s.site.id in declared and s.in_country and s.site.access != AccessStatus.ABANDONED
    ]
    first: dict[str, tuple[int, str]] = {}
    for ins in f.inspections:
        if ins.type != "initial" or ins.closed_at is None or ins.closed_at > t:
            continue
        assert ins.closed_event is not None
        if ins.site not in first or ins.closed_at < first[ins.site][0]:
            first[ins.site] = (ins.closed_at, ins.closed_event)
    left = [s.site.id for s in sites if s.site.id not in first]
    if not sites or left:
        return _Outcome(None, [], {"sites": len(left)})
    last = max((first[s.site.id] for s in sites), key=lambda d: d[0])
    return _Outcome(last[0], [last[1]], None, frozenset(first[s.site.id][1] for s in sites))


def _findings_closed(f: Facts, rule: str, t: int) -> _Outcome:
    found = [x for x in f.findings if x.rule == rule and x.opened_at <= t]
    still = [x for x in found if x.closed_at is None or x.closed_at > t]
    if not found or still:
        return _Outcome(None, [], {"findings": len(still)})
    last = max(found, key=lambda x: x.closed_at or 0)
    every = frozenset(x.finding.opened_by for x in found)
    return _Outcome(last.closed_at, [last.finding.opened_by], None, every)


def _outcome(f: Facts, m: MilestoneSet, t: int, seen: frozenset[str] = frozenset()) -> _Outcome:
    p = m.predicate
    if isinstance(p, DocumentPredicate):
        docs = sorted(
            (d for d in f.documents if d.type == p.document_kind and d.at <= t), key=lambda d: d.at
        )
        return _Outcome(docs[0].at, [docs[0].event]) if docs else _Outcome(None, [])
    if isinstance(p, DeclarationPredicate):
        for v in f.versions:
            if v.declaration.version == p.version and v.completed_at <= t:
                return _Outcome(v.completed_at, [v.completed_by])
        return _Outcome(None, [])
    if isinstance(p, InspectionsBegunPredicate):
        opened = sorted((i for i in f.inspections if i.opened_at <= t), key=lambda i: i.opened_at)
        return (
            _Outcome(opened[0].opened_at, [opened[0].opened_event])
            if opened
            else _Outcome(None, [])
        )
    if isinstance(p, InitialInspectionsPredicate):
        return _initial_inspections(f, t, None if m.due is None else parse_moment(m.due))
    if isinstance(p, RemovedPredicate):
        return _material(f, p.select, t, removal=True)
    if isinstance(p, DestroyedPredicate):
        return _material(f, p.select, t, removal=False)
    if isinstance(p, FindingsClosedPredicate):
        return _findings_closed(f, p.rule, t)
    if isinstance(p, FacilitiesDestroyedPredicate):
        met_on, evidence, left = facilities_destroyed(f.facilities, t)
        return _Outcome(met_on, evidence, None if met_on is not None else {"facilities": left})
    assert isinstance(p, AllOfPredicate)
    by_id = {r.milestone.milestone: r.milestone for r in f.milestones}
    parts = [
        _outcome(f, by_id[i], t, seen | {m.milestone})
        for i in p.milestones
        if i in by_id and i not in seen
    ]
    if any(o.met_on is None for o in parts) or not parts:
        return _Outcome(None, [])
    last = max(parts, key=lambda o: o.met_on or 0)
    return _Outcome(last.met_on, last.evidence, None, frozenset().union(*(o.events for o in parts)))


def _days_after(moment: int, due: int) -> int:
    """Whole calendar days from the due date to the day of `moment`."""
    return (day_of(moment) - day_of(due)).days


def _judge(m: MilestoneSet, o: _Outcome, as_of: int, late: Collection[str]) -> MilestoneStatus:
    # `due` is the last moment of the due date: met by then is met; open at the end of the
    # due date (the moment asked is that day's end by default) is overdue.
    due = None if m.due is None else parse_moment(m.due)
    days_late = None
    if o.met_on is not None and (due is None or o.met_on <= due):
        state = "met"
    elif due is None:
        state = "due"
    elif o.met_on is not None:
        state = "met_late"
        days_late = _days_after(o.met_on, due)
    elif as_of >= due:
        state = "overdue"
        days_late = _days_after(as_of, due)
    elif due - as_of <= AT_RISK_DAYS * _DAY:
        state = "at_risk"
    else:
        state = "due"
    outstanding = None if o.met_on is not None else o.outstanding
    late_events = sorted(o.events & set(late)) if o.met_on is not None else []
    return MilestoneStatus(m, state, o.met_on, o.evidence, days_late, outstanding, late_events)


def milestones(
    f: Facts,
    at: int | None = None,
    now: int | None = None,
    late: LateEntries | None = None,
) -> list[MilestoneStatus]:
    """Every milestone set in the ledger, judged at moment `at` (None: now), by id.

    An open milestone past its due date is overdue by the days from the due date to the
    moment asked: `at`; without it, the caller's `now`; without either, the end of the
    record (the last moment any record names), or the clock if that is earlier: a replay
    of 2013-2016 is not judged against today's date.

    `late` says which of the entries the milestones rest on the log recorded late (None:
    none is known to be); a milestone met by one of them carries it in `late_events`."""
    t = _ALL_TIME if at is None else at
    as_of = at if at is not None else now if now is not None else min(clock(), record_end(f))
    judged = [
        (rec.milestone, _outcome(f, rec.milestone, t))
        for rec in sorted(f.milestones, key=lambda r: r.milestone.milestone)
    ]
    met = frozenset().union(*(o.events for _, o in judged if o.met_on is not None))
    late_ids = frozenset(late(met)) if late is not None and met else frozenset()
    return [_judge(m, o, as_of, late_ids) for m, o in judged]


def record_end(f: Facts) -> int:
    """The last moment any of the records progress reads names (0 for an empty book)."""
    moments = [
        *(v.completed_at for v in f.versions),
        *(t.shipped_at for t in f.removals),
        *(line.received_at or 0 for t in f.removals for line in t.lines),
        *(b.at for b in f.batches),
        *(i.closed_at or i.opened_at for i in f.inspections),
        *(d.at for d in f.documents),
        *(x.closed_at or x.opened_at for x in f.findings),
        *(p[-1].at for p in f.positions.values() if p),
    ]
    return max(moments, default=0)
