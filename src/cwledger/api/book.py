"""The book over HTTP: items and their chain of custody, sites, holdings at any moment,
findings, declarations and their diffs, milestones and status. Each answer comes from the
same functions as the CLI's ``--json`` (``cwledger.book.answers``, ``cwledger.book.progress``).

Each route says the highest class it serves by its snapshot (issue 16): `ProtectedReader`
(sites, items, masses) or `HighlyProtectedReader` (the findings). In a confidential ledger a
caller whose clearance is below is answered 403; an item's chain of custody, which mixes
classes, keeps only the fields the caller's clearance reads.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field, TypeAdapter

from cwledger.book import answers
from cwledger.book.answers import Grouping
from cwledger.book.records import DeclarationRecord, SiteRecord
from cwledger.errors import InvalidQuery
from cwledger.http.deps import HighlyProtectedReader, ProtectedReader, Snapshot, query_moment
from cwledger.http.documents import milestone_documents, status_document
from cwledger.http.problems import problem_responses
from cwledger.model import Declaration, DeclarationDiff
from cwledger.store import LogReader

__all__ = ["router"]

router = APIRouter(tags=["book"])

_READ = problem_responses(401, 403, 404, 422, 429)
At = Annotated[
    str | None,
    Query(description="A date (end of that day, UTC) or an RFC 3339 UTC time; default now."),
]


def _at(at: str | None) -> int | None:
    return None if at is None else query_moment(at, "at")


class CustodyDoc(BaseModel):
    """An entry of an item's chain of custody."""

    index: int
    time: str
    type: str
    author: str
    event_id: str
    summary: str


class ItemDoc(BaseModel):
    """An item: its declared attributes, where it is, and its chain of custody."""

    item: dict[str, Any]
    state: str
    site: str | None
    kg: float
    tag: str | None
    seals: list[str]
    custody: list[CustodyDoc]


class PositionDoc(BaseModel):
    """Where an item was at a moment."""

    item: str
    at: str
    site: str | None
    state: str
    kg: float
    since_entry: int


class HoldingDoc(BaseModel):
    """What a group (site, chemical, category, priority or item) holds."""

    key: str
    kg: float
    items: int


class SiteSummary(BaseModel):
    """A declared site."""

    site: dict[str, Any]
    in_country: bool
    declared_entry: int


class SiteDoc(SiteSummary):
    """A site, its holdings by item at the moment asked, and the entries that name it."""

    holdings: list[HoldingDoc]
    entries: list[int]


class FindingDoc(BaseModel):
    """A numbered finding."""

    number: int
    status: str
    title: str
    rule: str
    subjects: list[str]
    opened_entry: int
    opened: str = Field(description="The day it was opened (UTC).")
    closed: str | None = Field(description="The day it was closed, if it is not open.")
    sites: list[str] = Field(
        description="The sites it concerns: its subject sites, where its subject items were"
        " when it was opened, both ends of its subject transfers."
    )
    author: str
    model_config = {"extra": "allow"}


class TallyDoc(BaseModel):
    """Declared, removed and destroyed of one group, and where what is not yet destroyed is."""

    declared_t: float
    removed_t: float
    destroyed_t: float
    destroyed_in_country_t: float
    in_country_t: float = Field(description="Held at sites in the declaring state's territory.")
    in_transit_t: float = Field(
        description="Held on the move: in transit, aboard a vessel, at a port abroad."
    )
    at_venue_t: float = Field(description="Held at a destruction venue, not yet destroyed.")
    not_destroyed_t: float = Field(
        description="Not yet destroyed, wherever it is: in country + in transit + at venues."
    )
    unaccounted_t: float = Field(
        description="Declared less destroyed less not yet destroyed: the difference of the"
        " weighings from the declaration (never what remains)."
    )
    removed_pct: float
    destroyed_pct: float
    declared_items: int
    removed_items: int
    destroyed_items: int


class FacilitiesDoc(BaseModel):
    """The chemical weapons production facilities at a moment."""

    declared: int
    by_kind: dict[str, int]
    functionally_destroyed: int
    structures: int
    structures_by_type: dict[str, int]
    physically_destroyed: int
    verified_destroyed: int
    inaccessible: int
    structures_inaccessible: int
    summary: str


class StatusDoc(TallyDoc):
    """Progress at a moment, in total and by category and priority; the production
    facilities."""

    at: str | None
    declaration_version: int | None
    by_category: dict[str, TallyDoc]
    by_priority: dict[str, TallyDoc]
    facilities: FacilitiesDoc


class MilestoneDoc(BaseModel):
    """A milestone judged at a moment: met, met_late, overdue, at_risk or due."""

    id: str
    description: str
    instrument: str
    due: str | None
    status: Literal["met", "met_late", "overdue", "at_risk", "due"] = Field(
        description="met: by its due date; met_late: after it (days_late); overdue: still"
        " open after its due date (days_late as of the moment asked); at_risk: open, due"
        " within 30 days; due: open, due later or open-ended."
    )
    met_on: str | None
    evidence: list[str]
    days_late: int | None = Field(
        description="Days from the due date to the day it was met (met_late), or to the"
        " moment asked (overdue: `at`, or without it the end of the record)."
    )
    outstanding: dict[str, float] | None = Field(
        description="What remains of an open milestone at the moment asked: tonnes still"
        " held (not yet removed, or not yet destroyed), items, sites or findings."
    )
    late_entry: bool = Field(
        description="Met on the strength of an entry the log took more than the server's"
        " `late_entry_days` after the time it gives itself (back-dated, or filed long"
        " after the fact): met (recorded late)."
    )
    late_events: list[str] = Field(
        description="The event ids of those entries (empty unless `late_entry`)."
    )


class DeclarationVersion(BaseModel):
    """A complete declaration version, in brief: who completed it and its entries."""

    version: int
    amends: int | None
    completed_by: str
    entries: list[int]
    items: int
    sites: int


@router.get("/items/{item_id}", response_model=ItemDoc, responses=_READ)
async def item(item_id: str, r: ProtectedReader, request: Request) -> dict[str, Any]:
    """An item and its chain of custody, in log order."""
    # Each entry is summarised from the fields the caller's clearance reads.
    rec = answers.item_record(r.book, item_id)
    keys = request.app.state.ledger.operator_keys()
    chain = answers.chain_of_custody(r, item_id, keys, r.clearance)
    return answers.item_document(rec, chain)


@router.get("/items/{item_id}/position", response_model=PositionDoc, responses=_READ)
async def item_position(item_id: str, r: ProtectedReader, at: At = None) -> dict[str, Any]:
    """Where an item was at a moment (default now)."""
    answers.item_record(r.book, item_id)
    p = r.book.position(item_id, _at(at))
    if p is None:
        raise answers.NotInBook(f"item {item_id} was not yet in the book at {at}")
    return answers.position_document(item_id, at, p)


def _site_summary(rec: SiteRecord) -> dict[str, Any]:
    doc = answers.site_document(rec, [], [])
    return {k: doc[k] for k in ("site", "in_country", "declared_entry")}


@router.get("/sites", response_model=list[SiteSummary], responses=_READ)
async def sites(r: ProtectedReader) -> list[dict[str, Any]]:
    """Every declared site, by id."""
    return [_site_summary(rec) for rec in r.book.records(SiteRecord)]


@router.get("/sites/{site_id}", response_model=SiteDoc, responses=_READ)
async def site(site_id: str, r: ProtectedReader, at: At = None) -> dict[str, Any]:
    """A site, what it holds by item at a moment (default now), and the entries naming it."""
    rec = answers.site_record(r.book, site_id)
    held = answers.holdings(r.book, at=_at(at), site=site_id, by="item")
    return answers.site_document(rec, held, r.book.site_entries(site_id))


@router.get("/holdings", response_model=list[HoldingDoc], responses=_READ)
async def holdings(
    r: ProtectedReader,
    at: At = None,
    site: Annotated[str | None, Query(description="Only this site.")] = None,
    by: Annotated[
        Literal["site", "chemical", "category", "priority", "item"],
        Query(description="Grouping; `item` needs `site`."),
    ] = "site",
) -> Response:
    """What the book holds, now or at any past moment, grouped."""
    if by == "item" and site is None:
        raise InvalidQuery("query.by", "holdings by item need a site")
    return Response(holdings_json(r, _at(at), site, by), media_type="application/json")


_HOLDINGS = TypeAdapter(list[HoldingDoc])


def holdings_json(r: Snapshot, when: int | None, site: str | None, by: Grouping) -> bytes:
    """The holdings document (JSON, as its response model dumps it), remembered per log
    size: this route's and the hot route's (`cwledger.api.hot`).

    By group, an answer is remembered under the book's last holdings change up to `when`
    (`BookReader.last_change`, read with the log's size in one statement): every moment
    from one change to the next has the same holdings, so each of them is answered from
    the one computed. By site or chemical it is computed in one statement with its name
    (`BookReader.holdings_as_of`), by category or priority in a read transaction (the
    chemicals' table too). By item it is remembered under `when` (items move in their
    own table)."""

    def document(lines: list[answers.HoldingLine]) -> bytes:
        return _HOLDINGS.dump_json(_HOLDINGS.validate_python([x.to_json() for x in lines]))

    if by == "item":
        return r.answer(
            ("holdings", when, site, by),
            lambda: document(answers.holdings(r.book, at=when, site=site, by=by)),
        )

    def name(s: LogReader) -> tuple[Hashable, ...]:
        size, moment = s.book.last_change(when)
        return size, "holdings-since", moment, site, by

    def at_once() -> tuple[tuple[Hashable, ...], bytes]:
        size, moment, held = r.current(lambda s: s.book.holdings_as_of(when))
        body = document(answers.grouped(held, by, site))
        return (size, "holdings-since", moment, site, by), body

    def in_snapshot() -> tuple[tuple[Hashable, ...], bytes]:
        body = document(answers.holdings(r.book, at=when, site=site, by=by))
        return name(r), body

    if answers.needs_chemicals(by):
        return r.answer_named(name, in_snapshot)
    return r.answer_named(name, at_once)


@router.get("/findings", response_model=list[FindingDoc], responses=_READ)
async def findings(
    r: HighlyProtectedReader,
    status: Annotated[Literal["open", "resolved", "closed_unresolvable"] | None, Query()] = None,
    at: At = None,
) -> list[dict[str, Any]]:
    """The findings, by number, with the days they were opened and closed and the sites
    they concern (with `at`, as they stood at that moment)."""
    when = _at(at)
    return [
        answers.finding_document(f, answers.finding_sites(r.book, f))
        for f in answers.findings(r.book, status, when)
    ]


@router.get("/declarations", response_model=list[DeclarationVersion], responses=_READ)
def declarations(r: ProtectedReader) -> list[DeclarationVersion]:
    """The complete declaration versions, oldest first."""
    recs = sorted(r.book.records(DeclarationRecord), key=lambda d: d.declaration.version)
    return [
        DeclarationVersion(
            version=d.declaration.version,
            amends=d.declaration.amends,
            completed_by=d.completed_by,
            entries=d.entries,
            items=len(d.declaration.items),
            sites=len(d.declaration.sites),
        )
        for d in recs
    ]


@router.get("/declarations/{version}", response_model=Declaration, responses=_READ)
def declaration(version: Annotated[int, Path(ge=1)], r: ProtectedReader) -> Declaration:
    """A complete declaration version."""
    return answers.declaration(r.book, version)


@router.get("/declarations/{v1}/diff/{v2}", response_model=DeclarationDiff, responses=_READ)
def declaration_diff(
    v1: Annotated[int, Path(ge=1)], v2: Annotated[int, Path(ge=1)], r: ProtectedReader
) -> DeclarationDiff:
    """Every site and item added, removed or changed from version v1 to v2."""
    return answers.declaration_diff(r.book, v1, v2)


@router.get("/status", response_model=StatusDoc, responses=_READ)
def status(r: ProtectedReader, at: At = None) -> dict[str, Any]:
    """Declared, removed and destroyed, and where what is not yet destroyed is (in country,
    in transit, at a destruction venue) with the unaccounted difference, by category and
    priority, at a moment."""
    return status_document(r, _at(at))


@router.get("/milestones", response_model=list[MilestoneDoc], responses=_READ)
def milestones(r: ProtectedReader, at: At = None) -> list[dict[str, Any]]:
    """Each milestone judged at a moment: met, met late, overdue, at risk or due (without
    `at`, now, but overdue days never count past the end of the record)."""
    return milestone_documents(r, _at(at))
