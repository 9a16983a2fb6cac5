"""Reconciling a declaration with independent estimates (METHODS 5).

The declaration D is the hypothesis under test, not one more estimate to average: the
independent estimates are fused into one value, their consistency is judged, and the
declaration is tested against the fused value.

- Inverse-variance weighting: ``x_hat = sum(w_i x_i)/sum(w_i)``, ``w_i = 1/sigma_i^2``,
  ``sigma_hat^2 = 1/sum(w_i)``. Consistency ``chi^2 = sum (x_i - x_hat)^2/sigma_i^2`` on
  ``n-1`` degrees of freedom, Birge ratio ``R_B = sqrt(chi^2/(n-1))``, PDG scale factor
  ``S = max(1, R_B)`` applied to ``sigma_hat``.
- Correlated estimates (shared sources): BLUE, ``x_hat = (1' V^-1 x)/(1' V^-1 1)``,
  ``sigma_hat^2 = 1/(1' V^-1 1)``, ``chi^2 = r' V^-1 r``. Weights may be negative when a
  correlation exceeds the ratio of the two uncertainties; that is BLUE, not a bug.
- Declaration test: ``z = (x_hat - D)/sqrt((S sigma_hat)^2 + sigma_D^2)``, one-sided (the
  incentive is to under-declare): ``p = P(Z >= z)``.
- Undeclared amount ``U = T - D >= 0``: with a flat prior on ``U >= 0`` its posterior is the
  normal ``N(x_hat - D, s^2)`` cut at zero; the upper bound at ``level`` is the posterior
  quantile ``d - s Phi^-1((1 - level) Phi(d/s))`` (always positive, never an empty
  interval), and ``P(U > Q_goal | data) = Phi((d - Q_goal)/s) / Phi(d/s)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_ndtr, ndtri_exp
from scipy.stats import chi2 as chi2_dist
from scipy.stats import norm

from cwledger.model.estimates import Estimate, EstimateScope, EstimateUnit

__all__ = [
    "Correlations",
    "Fusion",
    "DeclarationTest",
    "UsedEstimate",
    "LeftOut",
    "Reconciliation",
    "birge_ratio",
    "pdg_scale",
    "inverse_variance",
    "blue",
    "undeclared_upper_bound",
    "p_undeclared_exceeds",
    "declaration_test",
    "reconcile",
    "ScopeKey",
    "scopes",
    "scope_label",
]

# A full matrix aligned with the estimates, or {(i, j): rho} by index into the estimates.
Correlations = ArrayLike | Mapping[tuple[int, int], float]

_TO_TONNES: dict[str, float] = {"t": 1.0, "kg": 1e-3}


@dataclass(frozen=True)
class Fusion:
    """Estimates fused into one value, with their consistency."""

    method: Literal["inverse-variance", "BLUE"]
    value: float
    sigma: float
    weights: tuple[float, ...]
    chi2: float
    dof: int

    @property
    def birge(self) -> float | None:
        """Birge ratio sqrt(chi^2/(n-1)); None for a single estimate."""
        return birge_ratio(self.chi2, self.dof) if self.dof > 0 else None

    @property
    def scale(self) -> float:
        """PDG scale factor S = max(1, R_B) (1 for a single estimate)."""
        return pdg_scale(self.chi2, self.dof)

    @property
    def sigma_scaled(self) -> float:
        """S * sigma_hat."""
        return self.scale * self.sigma

    @property
    def chi2_p(self) -> float | None:
        """P(chi^2_(n-1) >= chi^2): small means the estimates disagree beyond their sigmas."""
        return float(chi2_dist.sf(self.chi2, self.dof)) if self.dof > 0 else None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "method": self.method,
            "value": self.value,
            "sigma": self.sigma,
            "weights": list(self.weights),
            "chi2": self.chi2,
            "dof": self.dof,
            "chi2_p": self.chi2_p,
            "birge_ratio": self.birge,
            "scale": self.scale,
            "sigma_scaled": self.sigma_scaled,
        }


def birge_ratio(chi2: float, dof: int) -> float:
    """R_B = sqrt(chi^2 / dof)."""
    if dof < 1:
        raise ValueError(f"dof must be >= 1 for a Birge ratio, not {dof}")
    if not (math.isfinite(chi2) and chi2 >= 0):
        raise ValueError(f"chi2 must be finite and >= 0, not {chi2!r}")
    return math.sqrt(chi2 / dof)


def pdg_scale(chi2: float, dof: int) -> float:
    """S = max(1, R_B); 1 when there is nothing to compare (dof 0)."""
    return max(1.0, birge_ratio(chi2, dof)) if dof > 0 else 1.0


def _vectors(values: Sequence[float], sigmas: Sequence[float]) -> tuple[NDArray[np.float64], ...]:
    x = np.asarray(values, dtype=np.float64)
    s = np.asarray(sigmas, dtype=np.float64)
    if x.ndim != 1 or s.shape != x.shape:
        raise ValueError(f"values and sigmas must be equal-length lists, not {x.shape}, {s.shape}")
    if x.size == 0:
        raise ValueError("values: at least one estimate is needed")
    if not np.all(np.isfinite(x)):
        raise ValueError("values must be finite")
    if not np.all(np.isfinite(s) & (s > 0)):
        raise ValueError(f"sigmas must be positive and finite, not {s.tolist()}")
    return x, s


def inverse_variance(values: Sequence[float], sigmas: Sequence[float]) -> Fusion:
    """Inverse-variance weighted mean of independent estimates."""
    x, s = _vectors(values, sigmas)
    w = 1.0 / s**2
    value = float(np.sum(w * x) / np.sum(w))
    chi2 = float(np.sum((x - value) ** 2 * w))
    return Fusion(
        method="inverse-variance",
        value=value,
        sigma=float(math.sqrt(1.0 / np.sum(w))),
        weights=tuple(float(v) for v in w / np.sum(w)),
        chi2=chi2,
        dof=x.size - 1,
    )


def _correlation_matrix(correlation: ArrayLike, n: int) -> NDArray[np.float64]:
    r = np.asarray(correlation, dtype=np.float64)
    if r.shape != (n, n):
        raise ValueError(f"correlation matrix must be {n} x {n}, not {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("correlation matrix must be finite")
    if not np.allclose(r, r.T, rtol=0, atol=1e-12):
        raise ValueError("correlation matrix must be symmetric")
    if not np.allclose(np.diag(r), 1.0, rtol=0, atol=1e-12):
        raise ValueError("correlation matrix must have 1 on the diagonal")
    if np.any(np.abs(r) > 1.0):
        raise ValueError("correlations must lie in [-1, 1]")
    return r


def blue(values: Sequence[float], sigmas: Sequence[float], correlation: ArrayLike) -> Fusion:
    """Best linear unbiased estimate of correlated estimates (Lyons, Gibaut & Clifford 1988)."""
    x, s = _vectors(values, sigmas)
    r = _correlation_matrix(correlation, x.size)
    v = r * np.outer(s, s)
    try:
        np.linalg.cholesky(v)
    except np.linalg.LinAlgError:
        raise ValueError(
            "correlation matrix is not positive definite (some estimates are fully or "
            "inconsistently correlated)"
        ) from None
    ones = np.ones_like(x)
    v_inv_1 = np.linalg.solve(v, ones)
    total = float(ones @ v_inv_1)
    weights = v_inv_1 / total
    value = float(weights @ x)
    resid = x - value
    chi2 = max(0.0, float(resid @ np.linalg.solve(v, resid)))
    return Fusion(
        method="BLUE",
        value=value,
        sigma=math.sqrt(1.0 / total),
        weights=tuple(float(w) for w in weights),
        chi2=chi2,
        dof=x.size - 1,
    )


def _level(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, not {level!r}")
    return level


def _spread(sigma: float) -> float:
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive and finite, not {sigma!r}")
    return sigma


def undeclared_upper_bound(difference: float, sigma: float, level: float = 0.95) -> float:
    """Upper bound at ``level`` on U >= 0 given ``x_hat - D = difference`` with spread ``sigma``.

    The ``level`` quantile of ``N(difference, sigma^2)`` cut at zero (flat prior on U >= 0).
    """
    s = _spread(sigma)
    log_tail = math.log1p(-_level(level)) + float(log_ndtr(difference / s))
    return max(0.0, difference - s * float(ndtri_exp(log_tail)))


def p_undeclared_exceeds(difference: float, sigma: float, goal: float) -> float:
    """P(U > goal | data) for U >= 0 with a flat prior: Phi((d - goal)/s) / Phi(d/s)."""
    s = _spread(sigma)
    if not (math.isfinite(goal) and goal >= 0):
        raise ValueError(f"goal must be finite and >= 0, not {goal!r}")
    log_p = float(log_ndtr((difference - goal) / s)) - float(log_ndtr(difference / s))
    return min(1.0, math.exp(log_p))


@dataclass(frozen=True)
class DeclarationTest:
    """The declaration tested against the fused estimate (one-sided: under-declaration)."""

    declared: float
    declared_u: float
    estimate: float
    estimate_u: float
    level: float
    goal: float | None

    @property
    def difference(self) -> float:
        """x_hat - D: how much more the estimates say there is than was declared."""
        return self.estimate - self.declared

    @property
    def sigma(self) -> float:
        """sqrt(sigma_hat^2 + sigma_D^2)."""
        return math.hypot(self.estimate_u, self.declared_u)

    @property
    def z(self) -> float:
        """(x_hat - D) / sigma."""
        return self.difference / self.sigma

    @property
    def p_value(self) -> float:
        """P(Z >= z) under a complete declaration: small means likely under-declared."""
        return float(norm.sf(self.z))

    @property
    def upper(self) -> float:
        """Upper bound at ``level`` on the undeclared amount U >= 0."""
        return undeclared_upper_bound(self.difference, self.sigma, self.level)

    @property
    def p_goal(self) -> float | None:
        """P(U > goal | data), when a goal quantity is given."""
        if self.goal is None:
            return None
        return p_undeclared_exceeds(self.difference, self.sigma, self.goal)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "declared": self.declared,
            "declared_u": self.declared_u,
            "estimate": self.estimate,
            "estimate_u": self.estimate_u,
            "difference": self.difference,
            "sigma": self.sigma,
            "z": self.z,
            "p_value": self.p_value,
            "level": self.level,
            "upper": self.upper,
            "goal": self.goal,
            "p_goal": self.p_goal,
        }


def _quantity(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be finite and >= 0, not {value!r}")
    return v


def declaration_test(
    x_hat: float,
    sigma_hat: float,
    declared: float,
    declared_u: float,
    *,
    level: float = 0.95,
    goal: float | None = None,
) -> DeclarationTest:
    """Test declaration ``declared +- declared_u`` against the fused ``x_hat +- sigma_hat``."""
    if not math.isfinite(x_hat):
        raise ValueError(f"x_hat must be finite, not {x_hat!r}")
    sigma_hat = _quantity("sigma_hat", sigma_hat)
    declared_u = _quantity("declared_u", declared_u)
    if sigma_hat == 0 and declared_u == 0:
        raise ValueError("sigma_hat and declared_u cannot both be 0")
    return DeclarationTest(
        declared=_quantity("declared", declared),
        declared_u=declared_u,
        estimate=x_hat,
        estimate_u=sigma_hat,
        level=_level(level),
        goal=None if goal is None else _quantity("goal", goal),
    )


@dataclass(frozen=True)
class UsedEstimate:
    """An estimate in the fusion, in the declaration's unit, with its weight, where its
    uncertainty comes from (stated by the source, or assumed) and its source."""

    index: int
    party: str
    method: str
    value: float
    u: float
    weight: float
    u_basis: str = "stated"
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "index": self.index,
            "party": self.party,
            "method": self.method,
            "value": self.value,
            "u": self.u,
            "u_basis": self.u_basis,
            "source": self.source,
            "weight": self.weight,
        }


@dataclass(frozen=True)
class LeftOut:
    """An estimate listed but not used, and why."""

    index: int
    party: str
    method: str
    reason: str
    source: str | None = None
    same_scope: bool = False  # of the comparison's scope (unquantified, u = 0), not another

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "index": self.index,
            "party": self.party,
            "method": self.method,
            "reason": self.reason,
            "source": self.source,
            "same_scope": self.same_scope,
        }


@dataclass(frozen=True)
class Reconciliation:
    """A declaration against the independent estimates: the fusion and the test."""

    declared: float
    declared_u: float
    unit: EstimateUnit
    scope: EstimateScope
    category: int | None
    excludes: tuple[str, ...]
    used: tuple[UsedEstimate, ...]
    left_out: tuple[LeftOut, ...]
    fusion: Fusion | None
    independent: Fusion | None
    test: DeclarationTest | None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (``fusion`` and ``test`` are null when no estimate was usable).

        ``independent`` is the inverse-variance fusion shown beside a BLUE one, to show what
        ignoring the correlations would have claimed.
        """
        return {
            "declared": self.declared,
            "declared_u": self.declared_u,
            "unit": self.unit,
            "scope": self.scope,
            "category": self.category,
            "excludes": list(self.excludes),
            "scope_label": scope_label((self.scope, self.category, self.excludes)),
            "assumed_u_only": bool(self.used) and all(e.u_basis == "assumed" for e in self.used),
            "used": [e.to_json() for e in self.used],
            "left_out": [e.to_json() for e in self.left_out],
            "fusion": None if self.fusion is None else self.fusion.to_json(),
            "independent": None if self.independent is None else self.independent.to_json(),
            "test": None if self.test is None else self.test.to_json(),
        }


ScopeKey = tuple[EstimateScope, int | None, tuple[str, ...]]
"""What an estimate covers: its scope, its category, the declared chemicals it leaves out."""


def _key(e: Estimate) -> ScopeKey:
    return (e.scope, e.category, tuple(sorted(e.excludes)))


def scopes(estimates: Sequence[Estimate]) -> list[ScopeKey]:
    """The distinct scopes of the estimates, in the order they first appear."""
    return list(dict.fromkeys(_key(e) for e in estimates))


def scope_label(key: ScopeKey) -> str:
    """A scope for people: ``category 1 less isopropanol``, ``total``, ``sites``."""
    scope, category, excludes = key
    text = f"category {category}" if scope == "category" else scope
    return text + (f" less {', '.join(excludes)}" if excludes else "")


def _why_not(e: Estimate, unit: EstimateUnit, key: ScopeKey) -> str:
    if _key(e) != key:
        return f"scope {scope_label(_key(e))}, the comparison's is {scope_label(key)}"
    if e.value is None or e.u is None:
        return f"unquantified: {e.remark}"
    if e.u == 0:
        return "u = 0: an estimate without an uncertainty cannot be weighted"
    if (e.unit == "sites") != (unit == "sites"):
        return f"unit {e.unit!r} cannot be converted to {unit!r}"
    return ""


def _convert(x: float, source: EstimateUnit, target: EstimateUnit) -> float:
    if source == target:
        return x
    return x * _TO_TONNES[source] / _TO_TONNES[target]


def _pairwise(correlations: Correlations, n: int) -> NDArray[np.float64]:
    if not isinstance(correlations, Mapping):
        return _correlation_matrix(correlations, n)
    r = np.eye(n)
    for (i, j), rho in correlations.items():
        if not (0 <= i < n and 0 <= j < n) or i == j:
            raise ValueError(f"correlations: ({i}, {j}) is not a pair of the {n} estimates")
        if correlations.get((j, i), rho) != rho:
            raise ValueError(f"correlations: ({i}, {j}) and ({j}, {i}) disagree")
        r[i, j] = r[j, i] = rho
    return _correlation_matrix(r, n)


def reconcile(
    declared: float,
    declared_u: float,
    estimates: Sequence[Estimate],
    correlations: Correlations | None = None,
    *,
    unit: EstimateUnit = "t",
    scope: EstimateScope = "total",
    category: int | None = None,
    excludes: Sequence[str] = (),
    level: float = 0.95,
    goal: float | None = None,
) -> Reconciliation:
    """Fuse the estimates of the declaration's scope and test the declaration against them.

    ``declared`` and ``declared_u`` are in ``unit``; estimates in ``t`` or ``kg`` are
    converted. Estimates of another scope (or category), unquantified ones and ones with
    ``u = 0`` are listed in ``left_out`` with the reason. ``excludes`` are the declared
    chemicals left out of ``declared``: only estimates that leave out the same are compared.
    ``correlations`` (a matrix aligned with ``estimates``, or ``{(i, j): rho}`` by index)
    selects BLUE over inverse-variance;
    entries of left-out estimates are ignored. The test uses the PDG-scaled sigma_hat.
    ``goal`` (in ``unit``) adds P(U > goal | data).
    """
    declared = _quantity("declared", declared)
    declared_u = _quantity("declared_u", declared_u)
    if (scope == "sites") != (unit == "sites"):
        raise ValueError(f"a declaration of scope {scope!r} cannot be in unit {unit!r}")
    if (scope == "category") != (category is not None):
        raise ValueError("category is given exactly when scope is 'category'")
    n = len(estimates)
    matrix = None if correlations is None else _pairwise(correlations, n)
    used: list[tuple[int, Estimate]] = []
    left_out: list[LeftOut] = []
    key: ScopeKey = (scope, category, tuple(sorted(excludes)))
    for i, e in enumerate(estimates):
        reason = _why_not(e, unit, key)
        if reason:
            left_out.append(LeftOut(i, e.party, e.method, reason, e.source, _key(e) == key))
        else:
            used.append((i, e))
    values = [_convert(e.value or 0.0, e.unit, unit) for _, e in used]
    sigmas = [_convert(e.u or 0.0, e.unit, unit) for _, e in used]
    fusion = independent = test = None
    if used:
        independent = inverse_variance(values, sigmas)
        fusion = independent
        if matrix is not None:
            idx = [i for i, _ in used]
            fusion = blue(values, sigmas, matrix[np.ix_(idx, idx)])
        test = declaration_test(
            fusion.value, fusion.sigma_scaled, declared, declared_u, level=level, goal=goal
        )
    return Reconciliation(
        declared=declared,
        declared_u=declared_u,
        unit=unit,
        scope=scope,
        category=category,
        excludes=key[2],
        used=tuple(
            UsedEstimate(i, e.party, e.method, x, u, w, e.u_basis, e.source)
            for (i, e), x, u, w in zip(
                used, values, sigmas, fusion.weights if fusion else (), strict=True
            )
        ),
        left_out=tuple(left_out),
        fusion=fusion,
        independent=independent if fusion is not independent else None,
        test=test,
    )
