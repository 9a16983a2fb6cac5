"""Quantities with measurement uncertainty: a mass in kg with its random and systematic parts."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field

from cwledger.model._base import Held, Text

__all__ = ["Mass", "masses_agree"]

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Mass(Held):
    """A mass in kg with its standard uncertainty (random and systematic parts) and method."""

    kg: NonNegative
    u_random_kg: NonNegative = 0.0
    u_systematic_kg: NonNegative = 0.0
    method: Text

    @property
    def combined_u_kg(self) -> float:
        """Combined standard uncertainty: ``sqrt(u_random**2 + u_systematic**2)``."""
        return math.hypot(self.u_random_kg, self.u_systematic_kg)


def masses_agree(a: Mass, b: Mass, k: float = 2.0) -> bool:
    """Whether ``|a - b| <= k * sqrt(u_a**2 + u_b**2)`` (``u`` the combined uncertainties).

    The two measurements are taken as independent (no covariance between their systematic
    parts); ``k = 2`` is about a 95 % interval for normal errors. ``k`` must be positive.
    """
    if not k > 0 or math.isinf(k):
        raise ValueError(f"k must be a positive finite number, got {k!r}")
    return abs(a.kg - b.kg) <= k * math.hypot(a.combined_u_kg, b.combined_u_kg)
