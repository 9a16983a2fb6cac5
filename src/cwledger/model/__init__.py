"""Pure domain types of a stockpile elimination: sites, chemicals, items, seals, declarations.

No I/O and no event wiring: the book rules and projections build on these types.
"""

from __future__ import annotations

from cwledger.model.chemicals import Chemical, ChemicalLabel, CwcCategory, RemovalPriority, Schedule
from cwledger.model.declarations import Change, DateString, Declaration, DeclarationDiff, diff
from cwledger.model.errors import IllegalTransition
from cwledger.model.estimates import Estimate, EstimateScope, EstimateUnit
from cwledger.model.findings import Finding, FindingStatus, StatusChange, apply_status
from cwledger.model.items import (
    Item,
    ItemKind,
    Seal,
    SealAction,
    SealCondition,
    SealState,
    SealTarget,
    SealType,
    next_seal_state,
)
from cwledger.model.quantities import Mass, masses_agree
from cwledger.model.sites import AccessStatus, Coordinates, Site, SiteKind

__all__ = [
    "AccessStatus",
    "Change",
    "Chemical",
    "ChemicalLabel",
    "Coordinates",
    "CwcCategory",
    "DateString",
    "Declaration",
    "DeclarationDiff",
    "Estimate",
    "EstimateScope",
    "EstimateUnit",
    "Finding",
    "FindingStatus",
    "IllegalTransition",
    "Item",
    "ItemKind",
    "Mass",
    "RemovalPriority",
    "Schedule",
    "Seal",
    "SealAction",
    "SealCondition",
    "SealState",
    "SealTarget",
    "SealType",
    "Site",
    "SiteKind",
    "StatusChange",
    "apply_status",
    "diff",
    "masses_agree",
    "next_seal_state",
]
