"""Findings: numbered discrepancies with their evidence, status and history."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from cwledger.model._base import ObjectId, Strict, Text, empty_list
from cwledger.model.errors import IllegalTransition

__all__ = ["FindingStatus", "StatusChange", "Finding", "apply_status"]


class FindingStatus(StrEnum):
    """Where a finding stands."""

    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED_UNRESOLVABLE = "closed_unresolvable"


class StatusChange(Strict):
    """One entry of a finding's history: the event that set the status."""

    event: ObjectId
    status: Annotated[FindingStatus, Field(strict=False)]


class Finding(Strict):
    """A numbered discrepancy: opened by an event, backed by evidence events, with history.

    A finding opens ``open``; ``history`` lists every later status change, so ``status`` is
    the last entry's status (or ``open`` when there is none).
    """

    number: Annotated[int, Field(ge=1)]
    title: Text
    opened_by: ObjectId
    evidence: list[ObjectId] = empty_list()
    status: Annotated[FindingStatus, Field(strict=False)] = FindingStatus.OPEN
    history: list[StatusChange] = empty_list()

    @model_validator(mode="after")
    def _status_is_last(self) -> Finding:
        expected = self.history[-1].status if self.history else FindingStatus.OPEN
        if self.status is not expected:
            raise ValueError(
                f"finding {self.number}: status is {self.status.value}"
                f" but its history ends at {expected.value}"
            )
        return self


def apply_status(finding: Finding, new_status: FindingStatus, event_id: str) -> Finding:
    """``finding`` after ``event_id`` set its status to ``new_status``, recorded in history.

    An open finding may become resolved or closed_unresolvable; a resolved or
    closed_unresolvable one may only be reopened (to open). The same status again is refused.
    """
    new_status = FindingStatus(new_status)
    current = finding.status
    subject = f"finding {finding.number}"
    if new_status is current:
        raise IllegalTransition(subject, current.value, f"become {new_status.value} again")
    if current is not FindingStatus.OPEN and new_status is not FindingStatus.OPEN:
        hint = "reopen it first"
        raise IllegalTransition(subject, current.value, f"become {new_status.value}", hint)
    entry = StatusChange(event=event_id, status=new_status)
    return Finding.model_validate(
        {**finding.model_dump(), "status": new_status, "history": [*finding.history, entry]}
    )
