"""The one registry of event types: each type declared once, with everything it is.

An event type is its name, the pydantic type of its body, the roles that may author it,
the rule that applies it to the book, its label on pages and in reports, the one-line
summary of what it says about an item (for a chain of custody), its EPCIS 2.0 mapping (or
none), and what the holdings changes it makes are in a material balance (its flow). Its
confidentiality is its body's: each field declares its class (``cwledger.model.classes``),
and the type's class is the highest of them. Every other module reads this table: admission (the
body type), the authority (the authors), the book (the rule), the answers and the pages
(label, summary), the EPCIS export and import (the mapping). An event whose type is not
here is refused at admission; every type here has a rule (a test holds the table
complete).

Adding an event type: its body in ``cwledger.model.bodies``, its rule in the concern's
module of ``cwledger.book.rules``, one entry below, and their tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from cwledger.book import summaries
from cwledger.book.book import Book, Context
from cwledger.book.rules import (
    declarations,
    destruction,
    escrow,
    facilities,
    findings,
    inspections,
    reference,
    seals,
    transfers,
)
from cwledger.book.rules.common import raise_overdue
from cwledger.epcis import exporters, importers
from cwledger.errors import Problem
from cwledger.model import aggregates as a
from cwledger.model import bodies as b
from cwledger.model import escrow as e
from cwledger.model import events as g
from cwledger.model.classes import Class, highest
from cwledger.model.events import Role

__all__ = [
    "EpcisMapping",
    "EventType",
    "EVENT_TYPES",
    "GOVERNANCE_TYPES",
    "event_type",
    "apply_event",
]

B = TypeVar("B", bound=BaseModel)

Flow = Literal["receipts", "shipments", "destroyed", "other"]
"""What the holdings changes an event makes are in a material balance."""


@dataclass(frozen=True)
class EpcisMapping:
    """What an event type is in EPCIS 2.0 (MAPPING.md section 4).

    ``export`` turns one event into its EPCIS events; ``import_`` rebuilds the body from an
    exported EPCIS event, or is None when the body is rebuilt from the document's master
    data (declarations: a header element and one commissioning event per item).
    """

    export: exporters.Exporter
    import_: importers.Importer | None


@dataclass(frozen=True)
class EventType(Generic[B]):
    """One event type, declared once."""

    name: str
    body: type[B]
    rule: Callable[[Book, Context, B], None]
    authors: frozenset[Role]
    label: str
    summary: Callable[[dict[str, Any], str], str] | None = None
    epcis: EpcisMapping | None = None
    governance: bool = False
    flow: Flow = "other"

    @property
    def confidentiality(self) -> Class:
        """The highest class of the body's fields (``cwledger.model.classes``): an event
        of this type holds nothing above it."""
        return highest(self.body)

    def apply(self, book: Book, ctx: Context) -> list[Problem]:
        """Apply one event of this type to the book; returns the refusals (nothing changed)."""
        body = ctx.body
        if not isinstance(body, self.body):
            raise TypeError(f"{self.name}: body is {type(body).__name__}, not {self.body.__name__}")

        ctx.flow = self.flow

        def run(book: Book, ctx: Context) -> None:
            if not self.governance:
                # Any event's time may pass the due moment of an open transfer.
                raise_overdue(book, ctx)
            self.rule(book, ctx, body)

        return book.apply(ctx, run)


def _governance(book: Book, ctx: Context, body: BaseModel) -> None:  # noqa: ARG001
    """Governance changes no record of the book: the authority replays it from the log."""


def _domain(
    name: str,
    body: type[B],
    rule: Callable[[Book, Context, B], None],
    authors: Iterable[Role],
    label: str,
    summary: Callable[[dict[str, Any], str], str] | None = None,
    epcis: EpcisMapping | None = None,
    flow: Flow = "other",
) -> EventType[B]:
    return EventType(name, body, rule, frozenset(authors), label, summary, epcis, flow=flow)


def _gov(name: str, body: type[B], label: str) -> EventType[B]:
    # Authors of governance events are decided by the genesis (registrars) and the party
    # concerned, not by role: see Authority.check.
    return EventType(name, body, _governance, frozenset(), label, governance=True)


DECLARANT: tuple[Role, ...] = ("declarant",)
INSPECTORATE: tuple[Role, ...] = ("inspectorate",)
EITHER: tuple[Role, ...] = ("declarant", "inspectorate")
# Who moves and destroys: the declarant, the inspectorate, or the destruction facility that
# took the chemicals over (abroad, the venue records its own batches and the shipments it
# sends or receives; the inspectorate verifies them).
CUSTODIANS: tuple[Role, ...] = ("declarant", "inspectorate", "destruction_facility")
ANY_BUT_OPERATOR: tuple[Role, ...] = ("declarant", "inspectorate", "observer")
_EX, _IM = exporters, importers

_ALL: list[EventType[Any]] = [
    _gov(g.GENESIS, g.GenesisBody, "ledger founded"),
    _gov(g.PARTY_REGISTERED, g.PartyRegisteredBody, "party registered"),
    _gov(g.KEY_ROTATED, g.KeyRotatedBody, "key rotated"),
    _gov(g.KEY_REVOKED, g.KeyRevokedBody, "key revoked"),
    _gov(g.WITNESS_POLICY, g.WitnessPolicyBody, "witness policy set"),
    _gov(g.ENCRYPTION_KEY_SET, g.EncryptionKeySetBody, "encryption key set"),
    _gov(g.PAYLOAD_SHARED, g.PayloadSharedBody, "sealed payloads shared"),
    # What is it, where is it: the declaring state declares (a site abroad, a vessel or a
    # destruction facility, is declared by the inspectorate); whoever has custody moves.
    _domain("site.declared", b.SiteDeclared, declarations.site_declared, EITHER, "site declared"),
    _domain(
        "declaration.submitted",
        b.DeclarationSubmitted,
        declarations.declaration_part,
        DECLARANT,
        "declared",
        summaries.declared,
        EpcisMapping(_EX.declaration, None),
    ),
    _domain(
        "declaration.amended",
        b.DeclarationAmended,
        declarations.declaration_part,
        DECLARANT,
        "declaration amended",
        summaries.declared,
        EpcisMapping(_EX.declaration, None),
    ),
    _domain(
        "transfer.shipped",
        b.TransferShipped,
        transfers.transfer_shipped,
        CUSTODIANS,
        "shipped",
        summaries.shipped,
        EpcisMapping(_EX.shipped, _IM.shipped),
        "shipments",
    ),
    _domain(
        "transfer.received",
        b.TransferReceived,
        transfers.transfer_received,
        CUSTODIANS,
        "received",
        summaries.received,
        EpcisMapping(_EX.received, _IM.received),
        "receipts",
    ),
    _domain(
        "destruction.batch",
        b.DestructionBatch,
        destruction.destruction_batch,
        CUSTODIANS,
        "destruction",
        summaries.destruction,
        EpcisMapping(_EX.destroyed, _IM.destroyed),
        "destroyed",
    ),
    # Production facilities: destroyed (as either side records it), verified by the other.
    _domain(
        "facility.destroyed",
        b.FacilityDestroyed,
        facilities.facility_destroyed,
        EITHER,
        "facility destroyed",
    ),
    _domain(
        "facility.verified",
        b.FacilityVerified,
        facilities.facility_verified,
        INSPECTORATE,
        "facility destruction verified",
    ),
    # How do we track it down: the inspectorate observes, tags, seals, samples.
    _domain(
        "item.tagged",
        b.ItemTagged,
        seals.item_tagged,
        INSPECTORATE,
        "tagged",
        summaries.tagged,
        EpcisMapping(_EX.tagged, _IM.tagged),
    ),
    _domain(
        "seal.applied",
        b.SealApplied,
        seals.seal_applied,
        INSPECTORATE,
        "sealed",
        summaries.seal_applied,
        EpcisMapping(_EX.seal_applied, _IM.seal_applied),
    ),
    _domain(
        "seal.checked",
        b.SealChecked,
        seals.seal_checked,
        INSPECTORATE,
        "seal checked",
        summaries.seal_checked,
        EpcisMapping(_EX.seal_checked, _IM.seal_checked),
    ),
    _domain(
        "seal.removed",
        b.SealRemoved,
        seals.seal_removed,
        INSPECTORATE,
        "seal removed",
        summaries.seal_removed,
        EpcisMapping(_EX.seal_removed, _IM.seal_removed),
    ),
    _domain(
        "inventory.taken",
        b.InventoryTaken,
        inspections.inventory_taken,
        INSPECTORATE,
        "inventory",
        summaries.inventory,
        EpcisMapping(_EX.inventory, _IM.inventory),
    ),
    _domain(
        "inspection.opened",
        b.InspectionOpened,
        inspections.inspection_opened,
        INSPECTORATE,
        "inspection opened",
        epcis=EpcisMapping(_EX.inspection, _IM.opened),
    ),
    _domain(
        "inspection.closed",
        b.InspectionClosed,
        inspections.inspection_closed,
        INSPECTORATE,
        "inspection closed",
        epcis=EpcisMapping(_EX.inspection, _IM.closed),
    ),
    _domain(
        "sample.taken",
        b.SampleTaken,
        inspections.sample_taken,
        INSPECTORATE,
        "sampled",
        summaries.sample_taken,
        EpcisMapping(_EX.sample_taken, _IM.sample_taken),
    ),
    _domain(
        "sample.result",
        b.SampleResult,
        inspections.sample_result,
        INSPECTORATE,
        "sample result",
        summaries.sample_result,
        EpcisMapping(_EX.sample_result, _IM.sample_result),
    ),
    _domain(
        "destruction.verified",
        b.DestructionVerified,
        destruction.destruction_verified,
        INSPECTORATE,
        "destruction verified",
        summaries.verified,
        EpcisMapping(_EX.verified, _IM.verified),
    ),
    _domain(
        "finding.raised", b.FindingRaised, findings.finding_raised, INSPECTORATE, "finding raised"
    ),
    _domain(
        "finding.resolved",
        b.FindingResolved,
        findings.finding_resolved,
        INSPECTORATE,
        "finding resolved",
    ),
    # The record of the process: documents filed by either side; milestones fixed by the
    # inspectorate as the decisions set them.
    _domain("document.filed", b.DocumentFiled, reference.document_filed, EITHER, "document filed"),
    _domain(
        "milestone.set", b.MilestoneSet, reference.milestone_set, INSPECTORATE, "milestone set"
    ),
    # Verifiable random selection of items to verify: the inspectorate commits, then reveals.
    _domain(
        "selection.committed",
        b.SelectionCommitted,
        reference.selection_committed,
        INSPECTORATE,
        "selection committed",
    ),
    _domain(
        "selection.revealed",
        b.SelectionRevealed,
        reference.selection_revealed,
        INSPECTORATE,
        "selection revealed",
    ),
    # Accountancy reference data: measurement methods and alarm thresholds, fixed in advance.
    _domain(
        "method.registered",
        b.MethodRegistered,
        reference.method_registered,
        INSPECTORATE,
        "method registered",
    ),
    _domain(
        "thresholds.fixed",
        b.ThresholdsFixed,
        reference.thresholds_fixed,
        INSPECTORATE,
        "thresholds fixed",
    ),
    # Can we account for it: anyone but the operator may record an estimate.
    _domain(
        "estimate.recorded",
        b.EstimateRecorded,
        findings.estimate_recorded,
        ANY_BUT_OPERATOR,
        "estimate recorded",
    ),
    _domain(
        "estimates.correlated",
        b.EstimatesCorrelated,
        findings.estimates_correlated,
        ANY_BUT_OPERATOR,
        "estimates correlated",
    ),
    # The day-one escrow: the declarant commits to per-category Merkle-sum trees of its
    # items; destroyed totals are proven against them by either side; an item revealed to
    # the inspectorate is checked against them (the check carries the item: protected).
    _domain(
        "escrow.committed",
        e.EscrowCommitted,
        escrow.escrow_committed,
        DECLARANT,
        "escrow committed",
    ),
    _domain(
        "escrow.destroyed_proved",
        e.EscrowDestroyedProved,
        escrow.escrow_proved,
        EITHER,
        "destroyed total proven",
    ),
    _domain(
        "escrow.removed_proved",
        e.EscrowRemovedProved,
        escrow.escrow_proved,
        EITHER,
        "removed total proven",
    ),
    # Public aggregates: the inspectorate publishes the totals the proofs above give.
    _domain(
        "aggregate.published",
        a.AggregatePublished,
        escrow.aggregate_published,
        INSPECTORATE,
        "aggregate published",
    ),
    _domain(
        "escrow.item_checked",
        e.EscrowItemChecked,
        escrow.escrow_item_checked,
        INSPECTORATE,
        "escrowed item checked",
    ),
]

EVENT_TYPES: dict[str, EventType[Any]] = {t.name: t for t in _ALL}
GOVERNANCE_TYPES: frozenset[str] = frozenset(t.name for t in _ALL if t.governance)


def event_type(name: str) -> EventType[Any] | None:
    """The registered event type of that name, or None."""
    return EVENT_TYPES.get(name)


def apply_event(book: Book, ctx: Context) -> list[Problem]:
    """Apply one event to the book by its type's rule; returns the refusals.

    A type that is not registered is refused (admission refuses it first; this keeps a
    replay from ever skipping an event silently).
    """
    etype = EVENT_TYPES.get(ctx.event.type)
    if etype is None:
        return [Problem("payload.type", f"no rule for event type {ctx.event.type!r}")]
    return etype.apply(book, ctx)
