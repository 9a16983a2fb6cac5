"""What the book holds about each object: the state that the rules read and update.

Every record is derived from the log alone (``cwledger rebuild`` makes them again). Each
record kind names a ``status`` and a ``place`` that the store indexes, so the rules can ask
"which items does the book hold at this site?" and "which transfers are still open?".
Quantities held are integer grams: sums are exact and do not depend on the order of
addition, so a replay gives the same holdings to the gram.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from cwledger.model import (
    Chemical,
    Declaration,
    Estimate,
    Finding,
    Item,
    Mass,
    Seal,
    SealCondition,
    Site,
)
from cwledger.model._base import Lean
from cwledger.model.bodies import MethodRegistered, MilestoneSet, ThresholdsFixed

__all__ = [
    "ItemState",
    "Record",
    "SiteRecord",
    "ItemRecord",
    "SealRecord",
    "SealCheck",
    "TransferRecord",
    "TransferLineRecord",
    "InspectionRecord",
    "SampleRecord",
    "BatchRecord",
    "FacilityRecord",
    "FacilityStep",
    "AccessPeriod",
    "FACILITY_KINDS",
    "InventoryRecord",
    "DeclarationRecord",
    "ChemicalsRecord",
    "DraftRecord",
    "FindingRecord",
    "EstimateRecord",
    "DocumentRecord",
    "MilestoneRecord",
    "SelectionRecord",
    "CountRecord",
    "CorrelationRecord",
    "MethodRecord",
    "ThresholdsRecord",
    "BatchLine",
    "CounterRecord",
    "EscrowTreeRecord",
    "ProvedRef",
    "AggregateRecord",
    "RECORD_KINDS",
    "grams",
    "HELD",
    "SHIPPABLE",
    "IN_TRANSIT",
]

# Where an item in transit is held: the holdings of no site.
IN_TRANSIT = ""


def grams(kg: float) -> int:
    """A mass in kg as whole grams (the book's unit of account)."""
    return round(kg * 1000)


class ItemState(StrEnum):
    """Where an item is in its one lifecycle.

    declared -> tagged -> sealed -> in_transit -> received ... -> destroyed (terminal);
    ``produced`` is a destruction product (reaction mass) and ``withdrawn`` an item that an
    amended declaration no longer lists.
    """

    DECLARED = "declared"
    TAGGED = "tagged"
    SEALED = "sealed"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    PRODUCED = "produced"
    DESTROYED = "destroyed"
    WITHDRAWN = "withdrawn"


# States in which an item is held at a site (and counts in that site's holdings).
HELD = frozenset(
    {ItemState.DECLARED, ItemState.TAGGED, ItemState.SEALED, ItemState.RECEIVED, ItemState.PRODUCED}
)
# States from which an item may leave its site.
SHIPPABLE = frozenset({ItemState.SEALED, ItemState.RECEIVED, ItemState.PRODUCED})


class Record(Lean):
    """Base of the book's records: a kind, a key, and the status and place the store indexes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[str]

    @property
    def key(self) -> str:
        """The record's key within its kind."""
        raise NotImplementedError

    @property
    def status(self) -> str | None:
        """An indexed status (None when the kind has none)."""
        return None

    @property
    def place(self) -> str | None:
        """An indexed site (None when the kind has none)."""
        return None

    @property
    def due_at(self) -> int | None:
        """An indexed deadline in microseconds (None when the kind has none); the rules ask
        for the records still "open" whose deadline has passed."""
        return None


class SiteRecord(Record):
    """A declared site, the entry that last declared it, and the role of its declarer: a
    site the declarant declared is in its territory; one the inspectorate declared (a
    vessel, a venue abroad) is not."""

    kind: ClassVar[str] = "site"
    site: Site
    entry: int
    role: str = "declarant"

    @property
    def in_country(self) -> bool:
        """Whether the site is in the declaring state's territory."""
        return self.role == "declarant"

    @property
    def key(self) -> str:
        return self.site.id


class ItemRecord(Record):
    """An item as the book has it: declared attributes, state, site and grams held."""

    kind: ClassVar[str] = "item"
    item: Item
    state: ItemState
    site: str | None
    held_g: Annotated[int, Field(ge=0)]
    tag: str | None = None
    seals: list[str] = []
    transfer: str | None = None
    chemical: str
    last_at: int
    last_entry: int
    arrived_at: int | None = None  # its last receipt at a site (None: never moved)

    @property
    def key(self) -> str:
        return self.item.id

    @property
    def status(self) -> str:
        return self.state.value

    @property
    def place(self) -> str | None:
        return self.site

    def where(self) -> str:
        """Where the book has it and in what state, as error messages quote it: "at S-1
        (sealed, entry 2)", "in transit on transfer TR-1 (entry 5)"."""
        if self.state is ItemState.IN_TRANSIT:
            return f"in transit on transfer {self.transfer} (entry {self.last_entry})"
        at = f"at {self.site} " if self.site else ""
        return f"{at}({self.state.value}, entry {self.last_entry})"


class SealCheck(BaseModel):
    """One check of a seal."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    entry: int
    condition: SealCondition
    photos: list[str] = []
    at: int | None = None  # the time of the check event


class SealRecord(Record):
    """A seal, its lifecycle state, its last check, how many checks, and the next due.

    Only the last check is kept: a seal checked every week for years would otherwise make
    its record, read at every check and every shipment, grow without bound.
    """

    kind: ClassVar[str] = "seal"
    seal: Seal
    applied_entry: int
    last_check: SealCheck | None = None  # the history of checks is in the log
    checks: int = 0
    next_check_due: int | None = None
    photos: list[str] = []

    @property
    def key(self) -> str:
        return self.seal.id

    @property
    def status(self) -> str:
        return self.seal.state.value


class TransferLineRecord(BaseModel):
    """One item of a transfer: the shipper's and the receiver's measurements."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    item: str
    chemical: str
    shipped_g: int
    shipped: Mass | None = None
    received: Mass | None = None
    received_entry: int | None = None
    received_at: int | None = None


class TransferRecord(Record):
    """A transfer from one site to another, open until every item is received."""

    kind: ClassVar[str] = "transfer"
    transfer: str
    origin: str
    destination: str
    shipped_entry: int
    shipped_event: str
    shipped_at: int
    due: int
    lines: list[TransferLineRecord]
    abroad: bool = False  # from the declaring state's territory to outside it: a removal
    overdue_finding: int | None = None

    @property
    def key(self) -> str:
        return self.transfer

    @property
    def status(self) -> str:
        """received (every item), overdue (a finding says so), or open."""
        if all(line.received_entry is not None for line in self.lines):
            return "received"
        return "open" if self.overdue_finding is None else "overdue"

    @property
    def due_at(self) -> int:
        return self.due


class InspectionRecord(Record):
    """An inspection: where, what kind, opened and (once) closed."""

    kind: ClassVar[str] = "inspection"
    inspection: str
    site: str
    type: str
    opened_entry: int
    opened_event: str
    opened_at: int
    closed_entry: int | None = None
    closed_event: str | None = None
    closed_at: int | None = None

    @property
    def key(self) -> str:
        return self.inspection

    @property
    def status(self) -> str:
        return "open" if self.closed_entry is None else "closed"

    @property
    def place(self) -> str:
        return self.site


class SampleRecord(Record):
    """A sample and, once analysed, whether the declared identity was confirmed."""

    kind: ClassVar[str] = "sample"
    sample: str
    item: str
    site: str
    taken_entry: int
    identity_confirmed: bool | None = None

    @property
    def key(self) -> str:
        return self.sample


class BatchLine(BaseModel):
    """What a destruction batch consumed of one item, and whether that finished it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    item: str
    chemical: str
    grams: int
    complete: bool


class BatchRecord(Record):
    """A destruction batch: venue, what it consumed per item, products, verification."""

    kind: ClassVar[str] = "batch"
    batch: str
    venue: str
    entry: int
    event: str
    at: int
    in_country: bool
    lines: list[BatchLine]
    products: list[str] = []
    verified_entry: int | None = None
    recorded_by: str = ""  # the party that recorded it (never the one that verifies it)

    @property
    def key(self) -> str:
        return self.batch


# A chemical weapons production facility (CWC Article II(8)): a site declared for producing
# or for filling chemical weapons (the Oct 2013 count of 18 counted producing only).
FACILITY_KINDS = frozenset({"production", "mobile_filling_unit"})


class FacilityStep(BaseModel):
    """One step of a facility's destruction: recorded when, by whom; verified when, by whom."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at: int
    entry: int
    event: str
    by: str
    method: str
    verified_at: int | None = None
    verified_entry: int | None = None
    verified_event: str | None = None
    verified_by: str | None = None


class AccessPeriod(BaseModel):
    """A span of time [since, until) in which a facility was declared inaccessible."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    since: int
    until: int | None = None


class FacilityRecord(Record):
    """A chemical weapons production facility: declared (as of when), what of it must be
    destroyed physically (its structure, if any), its functional and physical destruction
    and their verification, and when it was inaccessible. Not an item: it holds nothing."""

    kind: ClassVar[str] = "facility"
    facility: str
    facility_kind: str
    declared_at: int
    declared_entry: int
    structure: str | None = None
    functional: FacilityStep | None = None
    physical: FacilityStep | None = None
    inaccessible: list[AccessPeriod] = []

    @property
    def key(self) -> str:
        return self.facility

    @property
    def place(self) -> str | None:
        return self.facility

    @property
    def status(self) -> str | None:
        return self.status_at(2**62)

    def inaccessible_at(self, at: int) -> bool:
        """Whether the facility was declared inaccessible at `at`."""
        return any(p.since <= at and (p.until is None or at < p.until) for p in self.inaccessible)

    def destroyed_at(self, extent: str, at: int, *, verified: bool = False) -> bool:
        """Whether its destruction of that extent was recorded (or verified) by `at`."""
        step = self.functional if extent == "functional" else self.physical
        if step is None:
            return False
        when = step.verified_at if verified else step.at
        return when is not None and when <= at

    def verified_destroyed_at(self, at: int) -> bool:
        """Whether every destruction it needs (physical too, if it has a structure) was
        verified by `at`."""
        physical = self.structure is None or self.destroyed_at("physical", at, verified=True)
        return physical and self.destroyed_at("functional", at, verified=True)

    def status_at(self, at: int) -> str:
        """declared, functionally destroyed, physically destroyed, verified destroyed."""
        if self.verified_destroyed_at(at):
            return "verified destroyed"
        if self.destroyed_at("physical", at):
            return "physically destroyed"
        if self.destroyed_at("functional", at):
            return "functionally destroyed"
        return "declared"


class InventoryRecord(Record):
    """A physical inventory taken at a site (the inspectorate's measured ending inventory)."""

    kind: ClassVar[str] = "inventory"
    event: str
    entry: int
    site: str
    measured: dict[str, Mass | None]
    at: int = 0
    complete: bool = True

    @property
    def key(self) -> str:
        return self.event

    @property
    def place(self) -> str:
        return self.site


class DeclarationRecord(Record):
    """A complete declaration version, with the entries of its parts."""

    kind: ClassVar[str] = "declaration"
    declaration: Declaration
    entries: list[int]
    completed_at: int
    completed_by: str

    @property
    def key(self) -> str:
        return str(self.declaration.version)


class ChemicalsRecord(Record):
    """The chemicals table: every label any declaration version listed (the latest row wins)."""

    kind: ClassVar[str] = "chemicals"
    chemicals: dict[str, Chemical]

    @property
    def key(self) -> str:
        return "table"


class DraftRecord(Record):
    """A declaration version whose parts are still arriving (the book does not count it)."""

    kind: ClassVar[str] = "draft"
    version: int
    parts: int
    header: Declaration
    received: dict[int, int]  # part -> entry
    latest_at: int

    @property
    def key(self) -> str:
        return str(self.version)


class FindingRecord(Record):
    """A numbered finding with the rule that raised it and the objects it concerns."""

    kind: ClassVar[str] = "finding"
    finding: Finding
    rule: str
    subjects: list[str] = []
    opened_entry: int
    opened_at: int
    author: str
    closed_at: int | None = None

    @property
    def key(self) -> str:
        return f"{self.finding.number:08d}"

    @property
    def status(self) -> str:
        return self.finding.status.value


class EstimateRecord(Record):
    """An independent estimate as recorded."""

    kind: ClassVar[str] = "estimate"
    event: str
    entry: int
    author: str
    estimate: Estimate

    @property
    def key(self) -> str:
        return self.event


class DocumentRecord(Record):
    """A document filed in the ledger."""

    kind: ClassVar[str] = "document"
    document: str
    type: str
    title: str
    event: str
    entry: int
    at: int

    @property
    def key(self) -> str:
        return self.document

    @property
    def status(self) -> str:
        return self.type


class MilestoneRecord(Record):
    """A milestone as last set, with the entry that set it."""

    kind: ClassVar[str] = "milestone"
    milestone: MilestoneSet
    entry: int

    @property
    def key(self) -> str:
        return self.milestone.milestone


class SelectionRecord(Record):
    """A random selection: its commitment, its randomness, and once revealed, the draw."""

    kind: ClassVar[str] = "selection"
    plan: str
    site: str
    n: int
    commitment: str
    randomness_size: int
    committed_entry: int
    committed_at: int
    secret: str | None = None
    selected: list[str] = []
    revealed_entry: int | None = None

    @property
    def key(self) -> str:
        return self.plan

    @property
    def status(self) -> str:
        return "committed" if self.secret is None else "revealed"


class CorrelationRecord(Record):
    """The correlation of two recorded estimates (by their event ids, sorted)."""

    kind: ClassVar[str] = "correlation"
    estimates: tuple[str, str]
    rho: float
    basis: str
    entry: int

    @property
    def key(self) -> str:
        return "|".join(self.estimates)


class CountRecord(Record):
    """A site's physical inventory for a calendar month: the last complete one taken in it,
    in grams when every item was weighed, and in items."""

    kind: ClassVar[str] = "count"
    site: str
    month: str
    at: int
    event: str
    grams: int | None
    items: int
    method: str = ""
    rsd_random: float = 0.0
    rsd_systematic: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.site}|{self.month}"

    @property
    def place(self) -> str:
        return self.site


class MethodRecord(Record):
    """A registered measurement method (the last registration of that name holds)."""

    kind: ClassVar[str] = "method"
    method: MethodRegistered
    entry: int

    @property
    def key(self) -> str:
        return self.method.method


class ThresholdsRecord(Record):
    """Alarm thresholds fixed for a series, with when they were fixed."""

    kind: ClassVar[str] = "thresholds"
    thresholds: ThresholdsFixed
    entry: int
    at: int

    @property
    def key(self) -> str:
        return self.thresholds.series


class CounterRecord(Record):
    """A named counter (the last finding number, the latest declaration version)."""

    kind: ClassVar[str] = "counter"
    name: str
    value: int

    @property
    def key(self) -> str:
        return self.name


class ProvedRef(BaseModel):
    """One ``escrow.*_proved`` entry against a tree: what it proves, its entry, its moment
    (µs) and its own count and grams (an aggregate names such entries)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    what: Literal["destroyed", "removed"]
    entry: int
    at: int
    count: int
    grams: int


class EscrowTreeRecord(Record):
    """A committed escrow tree (one version, one category), the leaves proven destroyed
    and removed in it so far (their indices, sorted, and their grams), and the proof
    entries that proved them."""

    kind: ClassVar[str] = "escrow"
    version: int
    category: int
    root: str
    grams: int
    leaves: int
    entry: int
    at: int
    author: str
    destroyed: list[int] = []
    destroyed_g: int = 0
    destroyed_at: int | None = None  # the latest moment a destroyed proof speaks for
    removed: list[int] = []
    removed_g: int = 0
    removed_at: int | None = None
    proofs: list[ProvedRef] = []

    @property
    def key(self) -> str:
        return f"{self.version:06d}|{self.category}"


class AggregateRecord(Record):
    """A published aggregate (``aggregate.published``): its entry, moment, author and body
    as logged (public, each number proven by the book at admission)."""

    kind: ClassVar[str] = "aggregate"
    entry: int
    at: int
    time: str
    author: str
    body: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.entry:012d}"


RECORD_KINDS: dict[str, type[Record]] = {
    cls.kind: cls
    for cls in (
        SiteRecord,
        ItemRecord,
        SealRecord,
        TransferRecord,
        InspectionRecord,
        SampleRecord,
        BatchRecord,
        FacilityRecord,
        InventoryRecord,
        DeclarationRecord,
        ChemicalsRecord,
        DraftRecord,
        FindingRecord,
        EstimateRecord,
        DocumentRecord,
        MilestoneRecord,
        SelectionRecord,
        CountRecord,
        CorrelationRecord,
        MethodRecord,
        ThresholdsRecord,
        CounterRecord,
        EscrowTreeRecord,
        AggregateRecord,
    )
}
