"""The body of each domain event type: what a declarant claims or an inspector observes.

One pydantic type per event type (``cwledger.book.registry`` names the body of each type).
Bodies say only what the event states; whether it agrees with the book is decided by
``cwledger.book``.
An event's envelope must stay under 64 KiB (the C2SP tlog-tiles entry limit), so a large
declaration is sent as numbered parts: part 1 carries the header (legal basis, due date,
chemicals table, sites) and every part may carry items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from cwledger.model._base import ObjectId, Sha256Hex, Strict, Text, Timestamp, empty_list
from cwledger.model.chemicals import Chemical, ChemicalLabel, CwcCategory, RemovalPriority
from cwledger.model.classes import HIGHLY_PROTECTED, PROTECTED, PUBLIC, RESTRICTED, Classified
from cwledger.model.declarations import DateString
from cwledger.model.estimates import Estimate
from cwledger.model.findings import FindingStatus
from cwledger.model.items import Item, ItemKind, SealCondition, SealTarget, SealType
from cwledger.model.quantities import Mass
from cwledger.model.sites import Site
from cwledger.time import from_rfc3339

__all__ = [
    "MAX_LINES",
    "SiteDeclared",
    "DeclarationSubmitted",
    "DeclarationAmended",
    "ItemTagged",
    "SealApplied",
    "SealChecked",
    "SealRemoved",
    "TransferLine",
    "TransferShipped",
    "TransferReceived",
    "InventoryLine",
    "InventoryTaken",
    "InspectionKind",
    "InspectionOpened",
    "InspectionClosed",
    "SampleTaken",
    "SampleResult",
    "DestructionLine",
    "DestructionProduct",
    "DestructionBatch",
    "DestructionVerified",
    "FacilityExtent",
    "FacilityDestroyed",
    "FacilityVerified",
    "EstimateRecorded",
    "EstimatesCorrelated",
    "FindingRaised",
    "FindingResolved",
    "DocumentFiled",
    "Selector",
    "Predicate",
    "MilestoneSet",
    "SelectionCommitted",
    "SelectionRevealed",
    "MethodRegistered",
    "ThresholdsFixed",
]

# Lines per event: a bound well inside the 64 KiB envelope limit for typical lines.
MAX_LINES = 200
Photos = Annotated[list[Sha256Hex], Field(max_length=64)]


def _unique(what: str, ids: Sequence[str]) -> None:
    dups = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dups:
        raise ValueError(f"{what} listed more than once: {', '.join(dups)}")


class SiteDeclared(Strict):
    """A site (material balance area) declared, or its access status changed."""

    # A site the inspectorate declares is a venue abroad or a vessel (the book counts only
    # the declarant's sites as in the country): public, as they were in 2014.
    site: Annotated[Site, Classified("protected", by={"inspectorate": "public"})]


class _DeclarationPart(Strict):
    version: Annotated[int, Field(ge=1), PUBLIC]
    part: Annotated[int, Field(ge=1), PUBLIC]
    parts: Annotated[int, Field(ge=1, le=10_000), PUBLIC]
    legal_basis: Annotated[Text | None, PUBLIC] = None
    due: Annotated[DateString | None, PUBLIC] = None
    chemicals: Annotated[list[Chemical], Field(max_length=MAX_LINES), RESTRICTED] = empty_list()
    sites: Annotated[list[Site], Field(max_length=MAX_LINES), PROTECTED] = empty_list()
    items: Annotated[list[Item], Field(max_length=MAX_LINES), PROTECTED] = empty_list()

    @model_validator(mode="after")
    def _header_in_part_one(self) -> _DeclarationPart:
        if self.part > self.parts:
            raise ValueError(f"part {self.part} of {self.parts}: no such part")
        if self.part == 1 and (self.legal_basis is None or self.due is None):
            raise ValueError("part 1 is the header: legal_basis and due are required")
        if self.part > 1 and (self.legal_basis or self.due or self.chemicals or self.sites):
            raise ValueError(
                f"part {self.part} is an item batch: legal_basis, due, chemicals and sites"
                " belong in part 1"
            )
        _unique("chemical", [c.label for c in self.chemicals])
        _unique("site", [s.id for s in self.sites])
        _unique("item", [i.id for i in self.items])
        return self


class DeclarationSubmitted(_DeclarationPart):
    """One part of a declaration's first version."""

    @model_validator(mode="after")
    def _first_version(self) -> DeclarationSubmitted:
        if self.version != 1:
            raise ValueError(
                f"a submission is version 1; version {self.version} is a declaration.amended"
            )
        return self


class DeclarationAmended(_DeclarationPart):
    """One part of an amended declaration: the whole new version, which amends the previous."""

    amends: Annotated[int, Field(ge=1), PUBLIC]

    @model_validator(mode="after")
    def _amends_previous(self) -> DeclarationAmended:
        if self.amends != self.version - 1:
            raise ValueError(f"version {self.version} amends version {self.version - 1}")
        return self


class ItemTagged(Strict):
    """The inspectorate fixed a tag to an item at a site."""

    item: Annotated[ObjectId, PROTECTED]
    tag: Annotated[ObjectId, PROTECTED]
    site: Annotated[ObjectId, PROTECTED]


class SealApplied(Strict):
    """A seal applied to an item or a site, with the photographs taken and the next check due."""

    seal: Annotated[ObjectId, PROTECTED]
    type: Annotated[SealType, Field(strict=False), RESTRICTED]
    closes: Annotated[SealTarget, PROTECTED]
    wire: Annotated[ObjectId | None, PROTECTED] = None
    photos: Annotated[Photos, PROTECTED] = empty_list()
    next_check_due: Annotated[Timestamp | None, RESTRICTED] = None


CheckMethod = Literal["visual", "identity_match", "electronic_log", "hq_comparison"]


class SealChecked(Strict):
    """A check of a seal: its condition, the method, the photographs and the next check due.

    ``at_headquarters`` marks the comparison of a removed seal at headquarters, the last
    step of its lifecycle.
    """

    seal: Annotated[ObjectId, PROTECTED]
    condition: Annotated[SealCondition, Field(strict=False), PROTECTED]
    method: Annotated[CheckMethod, RESTRICTED] = "visual"
    photos: Annotated[Photos, PROTECTED] = empty_list()
    next_check_due: Annotated[Timestamp | None, RESTRICTED] = None
    at_headquarters: Annotated[bool, RESTRICTED] = False


class SealRemoved(Strict):
    """A seal taken off (before destruction, sampling or re-packing)."""

    seal: Annotated[ObjectId, PROTECTED]
    reason: Annotated[Text, RESTRICTED]
    photos: Annotated[Photos, PROTECTED] = empty_list()


class TransferLine(Strict):
    """One item of a transfer with the mass measured at that end (none for a counted item)."""

    item: ObjectId
    measured: Mass | None = None


def _lines(lines: Sequence[TransferLine | InventoryLine | DestructionLine]) -> None:
    _unique("item", [line.item for line in lines])


class TransferShipped(Strict):
    """The shipper's record: items leaving ``origin`` for ``destination``, due by ``due``."""

    transfer: Annotated[ObjectId, RESTRICTED]
    origin: Annotated[ObjectId, PROTECTED]
    destination: Annotated[ObjectId, PROTECTED]
    due: Annotated[Timestamp, RESTRICTED]
    consignment: Annotated[Text | None, RESTRICTED] = None
    items: Annotated[list[TransferLine], Field(min_length=1, max_length=MAX_LINES), PROTECTED]

    @model_validator(mode="after")
    def _distinct(self) -> TransferShipped:
        if self.origin == self.destination:
            raise ValueError(f"origin and destination are the same site ({self.origin})")
        _lines(self.items)
        return self


class TransferReceived(Strict):
    """The receiver's record: the items that arrived at ``site`` and their measured masses."""

    transfer: Annotated[ObjectId, RESTRICTED]
    site: Annotated[ObjectId, PROTECTED]
    items: Annotated[list[TransferLine], Field(min_length=1, max_length=MAX_LINES), PROTECTED]

    @model_validator(mode="after")
    def _distinct(self) -> TransferReceived:
        _lines(self.items)
        return self


class InventoryLine(Strict):
    """An item found at a physical inventory, with its measured mass if it was weighed."""

    item: ObjectId
    measured: Mass | None = None


class InventoryTaken(Strict):
    """A physical inventory of a site: what was found. ``complete`` means every item was seen.

    After a complete inventory, an item the book holds at the site and the inventory does
    not list is an item not found.
    """

    site: Annotated[ObjectId, PROTECTED]
    inspection: Annotated[ObjectId | None, RESTRICTED] = None
    complete: Annotated[bool, RESTRICTED] = True
    items: Annotated[list[InventoryLine], Field(max_length=MAX_LINES), PROTECTED]

    @model_validator(mode="after")
    def _distinct(self) -> InventoryTaken:
        _lines(self.items)
        return self


InspectionKind = Literal["initial", "routine", "challenge", "inventory", "destruction"]


class InspectionOpened(Strict):
    """An inspection begins at a site."""

    inspection: Annotated[ObjectId, RESTRICTED]
    site: Annotated[ObjectId, PROTECTED]
    kind: Annotated[InspectionKind, RESTRICTED]
    notified: Annotated[Timestamp | None, RESTRICTED] = None


class InspectionClosed(Strict):
    """An inspection ends, with its summary."""

    inspection: Annotated[ObjectId, RESTRICTED]
    summary: Annotated[Text, HIGHLY_PROTECTED]


class SampleTaken(Strict):
    """A sample taken from an item, in the inspectors' presence."""

    sample: Annotated[ObjectId, RESTRICTED]
    item: Annotated[ObjectId, PROTECTED]
    site: Annotated[ObjectId, PROTECTED]
    inspection: Annotated[ObjectId | None, RESTRICTED] = None
    seals: Annotated[list[ObjectId], PROTECTED] = empty_list()


class SampleResult(Strict):
    """The analysis of a sample: whether the declared identity was confirmed, nothing else."""

    sample: Annotated[ObjectId, RESTRICTED]
    identity_confirmed: Annotated[bool, HIGHLY_PROTECTED]
    laboratory: Annotated[ObjectId, HIGHLY_PROTECTED]


class DestructionLine(Strict):
    """An item consumed by a destruction batch: ``kg`` of it, or all it holds if omitted."""

    item: ObjectId
    kg: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None


class DestructionProduct(Strict):
    """A product of destruction (reaction mass, effluent), tracked as a bulk lot of its own."""

    item: ObjectId
    label: ChemicalLabel
    mass: Mass


class DestructionBatch(Strict):
    """A destruction batch at a venue: method, the items and quantities consumed, start, end."""

    batch: Annotated[ObjectId, RESTRICTED]
    method: Annotated[Text, RESTRICTED]
    venue: Annotated[ObjectId, PROTECTED]
    start: Annotated[Timestamp, RESTRICTED]
    end: Annotated[Timestamp, RESTRICTED]
    items: Annotated[list[DestructionLine], Field(min_length=1, max_length=MAX_LINES), PROTECTED]
    products: Annotated[list[DestructionProduct], Field(max_length=MAX_LINES), PROTECTED] = (
        empty_list()
    )

    @model_validator(mode="after")
    def _ordered(self) -> DestructionBatch:
        if from_rfc3339(self.end) < from_rfc3339(self.start):
            raise ValueError(f"end {self.end} is before start {self.start}")
        _lines(self.items)
        _unique("product", [p.item for p in self.products])
        return self


class DestructionVerified(Strict):
    """The inspectorate confirms (or does not) that a destruction batch happened as recorded."""

    batch: Annotated[ObjectId, RESTRICTED]
    confirmed: Annotated[bool, RESTRICTED] = True
    remarks: Annotated[Text | None, HIGHLY_PROTECTED] = None


FacilityExtent = Literal["functional", "physical"]
"""How far a production facility is destroyed: its critical equipment made inoperable
(functional), or its structure destroyed (physical)."""


class FacilityDestroyed(Strict):
    """A chemical weapons production facility (a declared site of kind production or mobile
    filling unit) destroyed, functionally or physically."""

    facility: Annotated[ObjectId, PROTECTED]
    extent: Annotated[FacilityExtent, RESTRICTED]
    method: Annotated[Text, RESTRICTED]


class FacilityVerified(Strict):
    """The inspectorate confirms (or does not) a facility's destruction as recorded."""

    facility: Annotated[ObjectId, PROTECTED]
    extent: Annotated[FacilityExtent, RESTRICTED]
    confirmed: Annotated[bool, RESTRICTED] = True
    remarks: Annotated[Text | None, HIGHLY_PROTECTED] = None


class EstimateRecorded(Strict):
    """An independent estimate of the stockpile by any party."""

    estimate: Annotated[Estimate, PUBLIC]


class EstimatesCorrelated(Strict):
    """Two recorded estimates share sources: their correlation coefficient, and why."""

    estimates: Annotated[list[ObjectId], Field(min_length=2, max_length=2), PUBLIC]
    rho: Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False), PUBLIC]
    basis: Annotated[Text, PUBLIC]

    @model_validator(mode="after")
    def _two(self) -> EstimatesCorrelated:
        if self.estimates[0] == self.estimates[1]:
            raise ValueError("an estimate is not correlated with itself: name two estimates")
        return self


class FindingRaised(Strict):
    """A discrepancy opened by hand, with its evidence events and the objects it concerns."""

    title: Annotated[Text, HIGHLY_PROTECTED]
    evidence: Annotated[list[ObjectId], RESTRICTED] = empty_list()
    subjects: Annotated[list[ObjectId], PROTECTED] = empty_list()


class FindingResolved(Strict):
    """A finding resolved, closed as unresolvable, or reopened."""

    finding: Annotated[int, Field(ge=1), RESTRICTED]
    status: Annotated[FindingStatus, Field(strict=False), RESTRICTED]
    evidence: Annotated[list[ObjectId], RESTRICTED] = empty_list()
    remarks: Annotated[Text | None, HIGHLY_PROTECTED] = None


class DocumentFiled(Strict):
    """A document of the process filed in the ledger: an instrument (accession, decision,
    resolution), a report (the Director-General's, the declarant's), a plan."""

    document: Annotated[ObjectId, PUBLIC]
    kind: Annotated[ObjectId, PUBLIC]
    title: Annotated[Text, PUBLIC]
    issued_by: Annotated[Text, PUBLIC]
    reference: Annotated[Text | None, PUBLIC] = None
    sha256: Annotated[Sha256Hex | None, PUBLIC] = None


class Selector(Strict):
    """Which declared items a milestone is about (empty lists: any)."""

    category: list[CwcCategory] = empty_list()
    priority: list[RemovalPriority] = empty_list()
    item_kind: list[Annotated[ItemKind, Field(strict=False)]] = empty_list()
    equipment_type: list[Text] = empty_list()
    products: bool = False


class DocumentPredicate(Strict):
    """Met when a document of this kind is filed."""

    kind: Literal["document"]
    document_kind: ObjectId


class DeclarationPredicate(Strict):
    """Met when this declaration version is complete."""

    kind: Literal["declaration"]
    version: Annotated[int, Field(ge=1)]


class InspectionsBegunPredicate(Strict):
    """Met when the first inspection opens."""

    kind: Literal["inspections_begun"]


class InitialInspectionsPredicate(Strict):
    """Met when every site (not a facility within one) that the declaration in force at the
    due date lists, but those abandoned, has a closed initial inspection."""

    kind: Literal["initial_inspections"]


class RemovedPredicate(Strict):
    """Met when every selected declared item has left the country or been destroyed in it."""

    kind: Literal["removed"]
    select: Selector


class DestroyedPredicate(Strict):
    """Met when every selected item is destroyed."""

    kind: Literal["destroyed"]
    select: Selector


class AllOfPredicate(Strict):
    """Met when every listed milestone is met."""

    kind: Literal["all_of"]
    milestones: Annotated[list[ObjectId], Field(min_length=1)]


class FindingsClosedPredicate(Strict):
    """Met when every finding of a rule (by default those raised by hand) is closed."""

    kind: Literal["findings_closed"]
    rule: ObjectId = "raised"


class FacilitiesDestroyedPredicate(Strict):
    """Met when every production facility declared is verified destroyed (functionally,
    and physically where it has a structure to destroy)."""

    kind: Literal["facilities_destroyed"]


Predicate = Annotated[
    DocumentPredicate
    | DeclarationPredicate
    | InspectionsBegunPredicate
    | InitialInspectionsPredicate
    | RemovedPredicate
    | DestroyedPredicate
    | AllOfPredicate
    | FindingsClosedPredicate
    | FacilitiesDestroyedPredicate,
    Field(discriminator="kind"),
]


class MilestoneSet(Strict):
    """A compliance milestone: what an instrument requires by when, and how the ledger
    tells that it is met."""

    milestone: Annotated[ObjectId, PUBLIC]
    description: Annotated[Text, PUBLIC]
    instrument: Annotated[Text, PUBLIC]
    due: Annotated[DateString | None, PUBLIC] = None
    predicate: Annotated[Predicate, PUBLIC]
    note: Annotated[Text | None, PUBLIC] = None


Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Fraction01 = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


class MethodRegistered(Strict):
    """A measurement method as signed reference data: its relative random and systematic
    standard deviations, how long one calibration holds, and where the values come from."""

    method: Annotated[Text, PUBLIC]
    rsd_random: Annotated[Fraction01, PUBLIC]
    rsd_systematic: Annotated[Fraction01, PUBLIC]
    calibration: Annotated[Literal["period", "series"], PUBLIC] = "period"
    source: Annotated[Text, PUBLIC]


class PageTestSpec(Strict):
    """One (k, h) pair of Page's test on SITMUF."""

    name: ObjectId
    k: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    h: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class ThresholdsFixed(Strict):
    """Alarm thresholds fixed for a false-alarm probability before the data arrive."""

    series: Annotated[Text, PUBLIC]
    alpha: Annotated[float, Field(gt=0, lt=1), PUBLIC]
    periods: Annotated[int, Field(ge=1), PUBLIC]
    tests: Annotated[list[PageTestSpec], Field(min_length=1, max_length=8), PUBLIC]


class SelectionCommitted(Strict):
    """The inspectorate commits to a secret before a random selection of items at a site:
    ``commitment`` = SHA-256("cwledger/sel/v1" || secret); the randomness is the root of
    this log at ``randomness_size``, a size the log has not reached yet (METHODS 1.3)."""

    plan: Annotated[ObjectId, RESTRICTED]
    site: Annotated[ObjectId, PROTECTED]
    n: Annotated[int, Field(ge=1), RESTRICTED]
    commitment: Annotated[Hex64, PUBLIC]
    randomness_size: Annotated[int, Field(ge=1), PUBLIC]


class SelectionRevealed(Strict):
    """The secret revealed, and the items selected, which anyone can recompute."""

    plan: Annotated[ObjectId, RESTRICTED]
    secret: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32,128}$"), RESTRICTED]
    selected: Annotated[list[ObjectId], Field(min_length=1, max_length=MAX_LINES), PROTECTED]
