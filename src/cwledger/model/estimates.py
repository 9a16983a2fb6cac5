"""Independent estimates of the stockpile, by any party, with their uncertainty and scope."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from cwledger.model._base import PartyName, Strict, Text, empty_list
from cwledger.model.chemicals import ChemicalLabel, CwcCategory

__all__ = ["Estimate", "EstimateUnit", "EstimateScope", "UncertaintyBasis"]

EstimateUnit = Literal["t", "kg", "sites"]
EstimateScope = Literal["total", "category", "sites"]
UncertaintyBasis = Literal["stated", "assumed"]


class Estimate(Strict):
    """A party's estimate: value and standard uncertainty in ``unit``, method and scope.

    Scope ``total`` and ``category`` (with ``category`` 1, 2 or 3) are masses (``t`` or
    ``kg``); scope ``sites`` is a count of sites (unit ``sites``). An estimate a party gave
    without a figure ("considerably lower") has no value and no uncertainty, and says what
    it said in ``remark``.

    A mass estimate covers its scope less the declared chemicals it ``excludes`` (an
    estimate of "agents and precursors" does not count the isopropanol or the acids the
    declaration lists in the same category): it is compared with the declared total of
    exactly that scope. ``u_basis`` says whether the source stated the uncertainty or the
    analyst assumed it; ``source`` names where the figure comes from.
    """

    party: PartyName
    value: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None
    u: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None
    unit: EstimateUnit
    method: Text
    scope: EstimateScope
    category: CwcCategory | None = None
    remark: Text | None = None
    excludes: list[ChemicalLabel] = empty_list()
    u_basis: UncertaintyBasis = "stated"
    source: Text | None = None

    @model_validator(mode="after")
    def _scope_rules(self) -> Estimate:
        problems = []
        if self.value is None and (self.u is not None or self.remark is None):
            problems.append("an estimate without a value has no u, and needs a remark")
        if self.value is not None and self.u is None:
            problems.append("an estimate with a value needs its standard uncertainty u")
        if self.scope == "category" and self.category is None:
            problems.append("scope 'category' needs a category (1, 2 or 3)")
        if self.scope != "category" and self.category is not None:
            problems.append(f"category {self.category} given but scope is {self.scope!r}")
        if self.scope == "sites" and self.unit != "sites":
            problems.append(f"scope 'sites' counts sites: unit must be 'sites', not {self.unit!r}")
        if self.scope != "sites" and self.unit == "sites":
            problems.append(
                f"scope {self.scope!r} is a mass: unit must be 't' or 'kg', not 'sites'"
            )
        if self.scope == "sites" and self.excludes:
            problems.append("a count of sites excludes no chemicals")
        if problems:
            raise ValueError(f"estimate by {self.party}: " + "; ".join(problems))
        return self
