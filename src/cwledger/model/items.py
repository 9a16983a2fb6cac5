"""Items (containers, munitions, bulk lots) and the seals that close them, with seal lifecycle."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from cwledger.model._base import Held, ObjectId, Strict, Text
from cwledger.model.chemicals import ChemicalLabel
from cwledger.model.errors import IllegalTransition
from cwledger.model.quantities import Mass

__all__ = [
    "ItemKind",
    "Item",
    "SealType",
    "SealCondition",
    "SealState",
    "SealAction",
    "SealTarget",
    "Seal",
    "next_seal_state",
]


class ItemKind(StrEnum):
    """The unit that is tracked."""

    CONTAINER = "container"
    MUNITION = "munition"
    BULK_LOT = "bulk_lot"
    EQUIPMENT = "equipment"


class Item(Held):
    """A tracked item: what it holds, how much was declared, and where it is.

    A container or bulk lot holds a chemical; a munition is unfilled (by type) unless it
    names a chemical; equipment (production, mixing and filling equipment, structures of a
    production facility) holds none and is counted, not weighed, in Category 3.
    """

    id: ObjectId
    kind: Annotated[ItemKind, Field(strict=False)]
    tag: ObjectId | None = None
    chemical: ChemicalLabel | None = None
    declared: Mass
    site: ObjectId
    munition_type: Text | None = None
    equipment_type: Text | None = None

    @model_validator(mode="after")
    def _kind_rules(self) -> Item:
        problems = []
        if self.kind is ItemKind.MUNITION and self.munition_type is None:
            problems.append(f"item {self.id} is a munition: munition_type is required")
        if self.kind is not ItemKind.MUNITION and self.munition_type is not None:
            problems.append(
                f"item {self.id} is a {self.kind.value}: only a munition has a munition_type"
            )
        if self.kind is ItemKind.EQUIPMENT and self.equipment_type is None:
            problems.append(f"item {self.id} is equipment: equipment_type is required")
        if self.kind is not ItemKind.EQUIPMENT and self.equipment_type is not None:
            problems.append(
                f"item {self.id} is a {self.kind.value}: only equipment has an equipment_type"
            )
        if self.kind is ItemKind.EQUIPMENT and self.chemical is not None:
            problems.append(f"item {self.id} is equipment: it holds no chemical")
        filled = self.kind in (ItemKind.CONTAINER, ItemKind.BULK_LOT)
        if filled and self.chemical is None:
            problems.append(f"item {self.id} is a {self.kind.value}: chemical is required")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class SealType(StrEnum):
    """The kind of seal (METHODS.md section 4)."""

    METAL_CAP = "metal_cap"
    FIBRE_OPTIC = "fibre_optic"
    ULTRASONIC = "ultrasonic"
    ELECTRONIC = "electronic"
    TAPE = "tape"
    TAG = "tag"


class SealCondition(StrEnum):
    """What a check found."""

    INTACT = "intact"
    TAMPERED = "tampered"
    BROKEN = "broken"
    MISSING = "missing"
    INDETERMINATE = "indeterminate"


class SealState(StrEnum):
    """Where a seal is in its lifecycle."""

    REGISTERED = "registered"
    APPLIED = "applied"
    REMOVED = "removed"
    VERIFIED = "verified"


class SealAction(StrEnum):
    """A step of the seal lifecycle; ``check`` leaves an applied seal applied."""

    APPLY = "apply"
    CHECK = "check"
    REMOVE = "remove"
    VERIFY = "verify"


_SEAL_STEPS: dict[SealState, dict[SealAction, SealState]] = {
    SealState.REGISTERED: {SealAction.APPLY: SealState.APPLIED},
    SealState.APPLIED: {SealAction.CHECK: SealState.APPLIED, SealAction.REMOVE: SealState.REMOVED},
    SealState.REMOVED: {SealAction.VERIFY: SealState.VERIFIED},
    SealState.VERIFIED: {},
}


def next_seal_state(current: SealState, action: SealAction, *, seal_id: str) -> SealState:
    """The state after ``action``; raises IllegalTransition naming the seal, state and action.

    registered -apply-> applied -check-> applied -remove-> removed -verify-> verified (final).
    """
    current, action = SealState(current), SealAction(action)
    steps = _SEAL_STEPS[current]
    if action not in steps:
        allowed = ", ".join(a.value for a in steps) or "nothing, it is final"
        hint = f"allowed: {allowed}"
        raise IllegalTransition(f"seal {seal_id}", current.value, action.value, hint)
    return steps[action]


class SealTarget(Strict):
    """What a seal closes: an item or a site, by id."""

    kind: Literal["item", "site"]
    id: ObjectId


class Seal(Held):
    """A seal: its id, type, what it closes and its lifecycle state."""

    id: ObjectId
    type: Annotated[SealType, Field(strict=False)]
    closes: SealTarget
    state: Annotated[SealState, Field(strict=False)] = SealState.REGISTERED

    def after(self, action: SealAction) -> Seal:
        """This seal after ``action`` (see :func:`next_seal_state`)."""
        new = next_seal_state(self.state, action, seal_id=self.id)
        return self.model_copy(update={"state": new})
