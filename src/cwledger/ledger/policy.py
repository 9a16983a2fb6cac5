"""Who may write what: event types, their body schema and their author roles.

Governance events are written by the registrars that the genesis names (or, for a
party's own keys, by the party itself). The domain event types are listed with the
roles that author them; their bodies are the pydantic types of ``cwledger.model.bodies``.
A site is declared by the declaring state, or by the inspectorate for a venue outside
the country (a vessel, a destruction facility abroad).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from cwledger.model.bodies import BODIES
from cwledger.model.events import (
    GENESIS,
    KEY_REVOKED,
    KEY_ROTATED,
    PARTY_REGISTERED,
    GenesisBody,
    KeyRevokedBody,
    KeyRotatedBody,
    PartyRegisteredBody,
    Role,
)

__all__ = ["EventType", "EVENT_TYPES", "GOVERNANCE_TYPES", "event_type"]


@dataclass(frozen=True)
class EventType:
    """An event type: its name, the roles that author it, and its body schema (if typed)."""

    name: str
    authors: frozenset[Role]
    body: type[BaseModel] | None = None
    governance: bool = False


def _t(name: str, *roles: Role) -> EventType:
    return EventType(name, frozenset(roles), BODIES[name])


def _g(name: str, body: type[BaseModel]) -> EventType:
    # Authors of governance events are decided by the genesis (registrars) and the
    # party concerned, not by role: see Authority.check.
    return EventType(name, frozenset(), body, governance=True)


_ALL: list[EventType] = [
    _g(GENESIS, GenesisBody),
    _g(PARTY_REGISTERED, PartyRegisteredBody),
    _g(KEY_ROTATED, KeyRotatedBody),
    _g(KEY_REVOKED, KeyRevokedBody),
    # What is it, where is it: the declaring state declares; whoever has custody moves.
    _t("site.declared", "declarant", "inspectorate"),
    _t("declaration.submitted", "declarant"),
    _t("declaration.amended", "declarant"),
    _t("transfer.shipped", "declarant", "inspectorate"),
    _t("transfer.received", "declarant", "inspectorate"),
    _t("destruction.batch", "declarant", "inspectorate"),
    # How do we track it down: the inspectorate observes, tags, seals, samples.
    _t("item.tagged", "inspectorate"),
    _t("seal.applied", "inspectorate"),
    _t("seal.checked", "inspectorate"),
    _t("seal.removed", "inspectorate"),
    _t("inventory.taken", "inspectorate"),
    _t("inspection.opened", "inspectorate"),
    _t("inspection.closed", "inspectorate"),
    _t("sample.taken", "inspectorate"),
    _t("sample.result", "inspectorate"),
    _t("destruction.verified", "inspectorate"),
    _t("finding.raised", "inspectorate"),
    _t("finding.resolved", "inspectorate"),
    # The record of the process: documents filed by either side; milestones fixed by the
    # inspectorate as the decisions set them.
    _t("document.filed", "declarant", "inspectorate"),
    _t("milestone.set", "inspectorate"),
    # Verifiable random selection of items to verify: the inspectorate commits, then reveals.
    _t("selection.committed", "inspectorate"),
    _t("selection.revealed", "inspectorate"),
    # Accountancy reference data: measurement methods and alarm thresholds, fixed in advance.
    _t("method.registered", "inspectorate"),
    _t("thresholds.fixed", "inspectorate"),
    # Can we account for it: anyone but the operator may record an estimate.
    _t("estimate.recorded", "declarant", "inspectorate", "observer"),
    _t("estimates.correlated", "declarant", "inspectorate", "observer"),
]

EVENT_TYPES: dict[str, EventType] = {t.name: t for t in _ALL}
GOVERNANCE_TYPES: frozenset[str] = frozenset(t.name for t in _ALL if t.governance)


def event_type(name: str) -> EventType | None:
    """The registered event type of that name, or None."""
    return EVENT_TYPES.get(name)
