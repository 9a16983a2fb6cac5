"""Chemicals: the public label as printed and its classification. Names only, nothing else."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from cwledger.model._base import Strict

__all__ = ["CwcCategory", "RemovalPriority", "Schedule", "Chemical", "ChemicalLabel"]

CwcCategory = Literal[1, 2, 3]
RemovalPriority = Literal["1", "2", "in-country"]
ChemicalLabel = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^\S(?:.*\S)?$")
]


class Schedule(Strict):
    """A CWC schedule entry: schedule number, part and entry number (e.g. 1, "A", 3)."""

    number: Literal[1, 2, 3]
    part: Literal["A", "B"]
    entry: Annotated[int, Field(ge=1)]

    def __str__(self) -> str:
        return f"Schedule {self.number}.{self.part}.{self.entry}"


class Chemical(Strict):
    """A row of the chemicals reference table: label, CWC category, schedule, removal priority."""

    label: ChemicalLabel
    cwc_category: CwcCategory
    schedule: Schedule | None = None
    removal_priority: RemovalPriority
