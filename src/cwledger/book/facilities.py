"""The chemical weapons production facilities at a moment: how many declared, destroyed
functionally and physically, verified destroyed, inaccessible ("24 of 27 verified
destroyed"). Kept apart from ``progress`` (the chemicals and munitions): a facility is
not an item and holds no mass."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cwledger.book.records import FacilityRecord

__all__ = ["FacilityCounts", "facility_counts", "facilities_destroyed"]

_ALL_TIME = 2**62


@dataclass(frozen=True)
class FacilityCounts:
    """The facilities declared at a moment and how far their destruction had gone."""

    at: int | None
    declared: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    functionally_destroyed: int = 0
    structures: int = 0
    structures_by_type: dict[str, int] = field(default_factory=dict)
    physically_destroyed: int = 0
    verified_destroyed: int = 0
    inaccessible: int = 0
    structures_inaccessible: int = 0

    @property
    def summary(self) -> str:
        """The one line the reports give: "24 of 27 verified destroyed"."""
        return f"{self.verified_destroyed} of {self.declared} verified destroyed"

    def to_json(self) -> dict[str, Any]:
        """The facilities block of the status document."""
        return {
            "declared": self.declared,
            "by_kind": dict(sorted(self.by_kind.items())),
            "functionally_destroyed": self.functionally_destroyed,
            "structures": self.structures,
            "structures_by_type": dict(sorted(self.structures_by_type.items())),
            "physically_destroyed": self.physically_destroyed,
            "verified_destroyed": self.verified_destroyed,
            "inaccessible": self.inaccessible,
            "structures_inaccessible": self.structures_inaccessible,
            "summary": self.summary,
        }


def facility_counts(records: Iterable[FacilityRecord], at: int | None = None) -> FacilityCounts:
    """The facilities declared by moment `at` (None: everything) and their state then."""
    t = _ALL_TIME if at is None else at
    known = [r for r in records if r.declared_at <= t]
    by_kind: dict[str, int] = {}
    by_type: dict[str, int] = {}
    for r in known:
        by_kind[r.facility_kind] = by_kind.get(r.facility_kind, 0) + 1
        if r.structure is not None:
            by_type[r.structure] = by_type.get(r.structure, 0) + 1
    with_structure = [r for r in known if r.structure is not None]
    return FacilityCounts(
        at=at,
        declared=len(known),
        by_kind=by_kind,
        functionally_destroyed=sum(r.destroyed_at("functional", t) for r in known),
        structures=len(with_structure),
        structures_by_type=by_type,
        physically_destroyed=sum(r.destroyed_at("physical", t) for r in with_structure),
        verified_destroyed=sum(r.verified_destroyed_at(t) for r in known),
        inaccessible=sum(r.inaccessible_at(t) for r in known),
        structures_inaccessible=sum(
            r.inaccessible_at(t) and not r.destroyed_at("physical", t) for r in with_structure
        ),
    )


def facilities_destroyed(
    records: Iterable[FacilityRecord], at: int
) -> tuple[int | None, list[str], int]:
    """Whether every facility declared by `at` was verified destroyed by then: the moment
    the last was (None if not all), the events of its verification, and how many are left."""
    known = [r for r in records if r.declared_at <= at]
    left = [r for r in known if not r.verified_destroyed_at(at)]
    if not known or left:
        return None, [], len(left)
    steps = [s for r in known for s in (r.functional, r.physical) if s is not None]
    last = max(steps, key=lambda s: s.verified_at or 0)
    return last.verified_at, [last.verified_event or last.event], 0
