"""Errors raised by the pure domain types (part of the :mod:`cwledger.errors` tree)."""

from __future__ import annotations

from cwledger.errors import CwledgerError

__all__ = ["IllegalTransition"]


class IllegalTransition(CwledgerError):
    """A lifecycle step (of a seal, a finding, ...) that is not allowed from the current state."""

    code = "illegal-transition"
    status = 409
    problem = "illegal-transition"
    title = "Not allowed in the current state"

    def __init__(self, subject: str, current: str, action: str, hint: str = "") -> None:
        self.subject = subject
        self.current = current
        self.action = action
        tail = f" ({hint})" if hint else ""
        super().__init__(f"{subject} is {current}: cannot {action}{tail}")
