"""Attribute sampling plans for item inspections (METHODS 1.1).

A stratum holds ``N`` items (containers, munitions, isotanks); hiding the goal quantity
takes ``M`` falsified items; the inspector verifies ``n`` items drawn without replacement.
The exact non-detection probability is hypergeometric,

    beta = C(N-M, n) / C(N, n) = prod_{i<n} (N-M-i)/(N-i) = prod_{j<M} (N-n-j)/(N-j),

and the IAEA approximation ``beta ~ (1 - n/N)^M`` gives ``n = ceil(N (1 - beta^(1/M)))``.
The exact sample size is the smallest ``n`` whose exact beta is at or below the target,
decided in integer arithmetic with the target taken as the decimal it was written as
(``beta = 0.1`` is exactly 1/10, and so is ``1 - detect`` for ``detect = 0.9``), so ties
such as ``M = 1, N = 1000, beta = 0.1 -> n = 900`` come out right. A plan sizes every
stratum for the detection probability asked (diversion concentrated in that stratum) and
prints the 1 - beta each size actually achieves.

An imperfect test detects a falsified item that was selected with probability ``q``;
its exact non-detection is ``E[(1-q)^J]`` with ``J`` hypergeometric (the number of
falsified items in the sample), its approximation ``(1 - q n/N)^M``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.stats import hypergeom

__all__ = [
    "non_detection",
    "imperfect_non_detection",
    "exact_sample_size",
    "iaea_sample_size",
    "goal_items",
    "imperfect_sample_size",
    "Stratum",
    "StratumPlan",
    "Plan",
    "plan",
]

# A ceiling that a rounding error of a few ulps must not push up by one
# (1.1 / 0.1 = 11.000000000000002 asks for 11 items, not 12).
_CEIL_TOLERANCE = 1e-12


def _ceil(x: float) -> int:
    nearest = round(x)
    if abs(x - nearest) <= _CEIL_TOLERANCE * max(1.0, abs(x)):
        return int(nearest)
    return math.ceil(x)


def _count(name: str, value: int, minimum: int = 0) -> int:
    try:
        v = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, not {v}")
    return v


def _population(N: int, M: int) -> tuple[int, int]:
    N = _count("N", N, 1)
    M = _count("M", M, 0)
    if M > N:
        raise ValueError(f"M ({M} falsified items) cannot exceed N ({N} items)")
    return N, M


def _sample(N: int, n: int) -> int:
    n = _count("n", n, 0)
    if n > N:
        raise ValueError(f"n ({n} verified items) cannot exceed N ({N} items)")
    return n


def _probability(name: str, value: float) -> float:
    v = float(value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, not {value!r}")
    return v


def _unit_interval(name: str, value: float) -> float:
    v = float(value)
    if not 0.0 < v <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], not {value!r}")
    return v


def _exact_ratio(N: int, M: int, n: int) -> tuple[int, int]:
    """The exact beta as a numerator and denominator, with the fewer factors."""
    if n > N - M:
        return 0, 1
    if n <= M:
        return math.comb(N - M, n), math.comb(N, n)
    return math.comb(N - n, M), math.comb(N, M)


def non_detection(N: int, M: int, n: int) -> float:
    """Exact probability that ``n`` items drawn from ``N`` miss all ``M`` falsified ones.

    The hypergeometric ``C(N-M, n) / C(N, n)``, as a product of ``min(n, M)`` ratios
    (each below 1, so it cannot overflow; a tiny beta underflows towards 0.0).
    """
    N, M = _population(N, M)
    n = _sample(N, n)
    if n > N - M:
        return 0.0
    if n <= M:
        terms = (N - M - np.arange(n)) / (N - np.arange(n, dtype=np.float64))
    else:
        terms = (N - n - np.arange(M)) / (N - np.arange(M, dtype=np.float64))
    return float(np.prod(terms))


def _decimal(p: float) -> Fraction:
    """A probability as the decimal it was written as (0.1 is 1/10, 1 - 0.9 is 1/10)."""
    return Fraction(repr(float(p)))


def _exact_at_most(N: int, M: int, n: int, beta: Fraction) -> bool:
    num, den = _exact_ratio(N, M, n)
    return num * beta.denominator <= beta.numerator * den


def _log_beta(N: int, M: int, n: int) -> float:
    if n > N - M:
        return -math.inf
    lg = math.lgamma
    return lg(N - M + 1) - lg(N - M - n + 1) + lg(N - n + 1) - lg(N + 1)


def _smallest(lo: int, hi: int, ok: Callable[[int], bool]) -> int:
    """The smallest n in [lo, hi] with ok(n), for ok monotone (False...False True...True)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def exact_sample_size(N: int, M: int, beta: float) -> int:
    """The smallest ``n`` whose exact hypergeometric non-detection is at most ``beta``."""
    N, M = _population(N, M)
    _count("M", M, 1)
    return _exact_size(N, M, _decimal(_probability("beta", beta)))


def _exact_size(N: int, M: int, target: Fraction) -> int:
    log_target = math.log(float(target))
    # Locate by log-gamma, then settle the last step or two in exact integer arithmetic.
    n = _smallest(0, N - M + 1, lambda k: _log_beta(N, M, k) <= log_target)
    while n <= N - M and not _exact_at_most(N, M, n, target):
        n += 1
    while n > 0 and _exact_at_most(N, M, n - 1, target):
        n -= 1
    return n


def iaea_sample_size(N: int, M: int, beta: float) -> int:
    """The IAEA approximation ``ceil(N (1 - beta^(1/M)))``."""
    N, M = _population(N, M)
    _count("M", M, 1)
    beta = _probability("beta", beta)
    return _ceil(N * -math.expm1(math.log(beta) / M))


def goal_items(Q_goal: float, x_bar: float, f: float = 1.0) -> int:
    """Items to falsify to hide ``Q_goal``: ``ceil(Q_goal / (f x_bar))``.

    ``x_bar`` is the mean item quantity (same unit as ``Q_goal``); ``f`` the fraction taken
    from each falsified item (1: gross defect; below 1: partial defect).
    """
    if not (math.isfinite(Q_goal) and Q_goal > 0):
        raise ValueError(f"Q_goal must be a positive quantity, not {Q_goal!r}")
    if not (math.isfinite(x_bar) and x_bar > 0):
        raise ValueError(f"x_bar (mean item quantity) must be positive, not {x_bar!r}")
    f = _unit_interval("f (defect fraction)", f)
    return max(1, _ceil(Q_goal / (f * x_bar)))


def imperfect_non_detection(N: int, M: int, n: int, q: float) -> float:
    """Exact non-detection when the test finds a selected falsified item with probability q.

    ``E[(1-q)^J]`` with ``J ~ Hypergeometric(N, M, n)``; ``q = 1`` is ``non_detection``.
    """
    N, M = _population(N, M)
    n = _sample(N, n)
    q = _unit_interval("q (test detection probability)", q)
    if q == 1.0:
        return non_detection(N, M, n)
    j = np.arange(0, min(n, M) + 1)
    pmf = hypergeom.pmf(j, N, M, n)
    return float(min(1.0, np.sum(pmf * np.power(1.0 - q, j))))


def imperfect_sample_size(N: int, M: int, beta: float, q: float) -> int:
    """The approximation ``ceil((N/q) (1 - beta^(1/M)))`` for a test of detection probability q.

    Raises ValueError when even verifying all ``N`` items cannot reach ``beta``
    (approximately when ``(1-q)^M > beta``).
    """
    N, M = _population(N, M)
    _count("M", M, 1)
    beta = _probability("beta", beta)
    q = _unit_interval("q (test detection probability)", q)
    n = _ceil(N / q * -math.expm1(math.log(beta) / M))
    if n > N:
        raise ValueError(
            f"beta {beta} is out of reach with q = {q}: even verifying all N = {N} items "
            f"leaves beta ~ (1-q)^M = {(1 - q) ** M:.3g}"
        )
    return n


def _exact_imperfect_size(N: int, M: int, target: Fraction, q: float) -> int:
    if q == 1.0:
        return _exact_size(N, M, target)
    beta = float(target)
    if imperfect_non_detection(N, M, N, q) > beta:
        raise ValueError(
            f"beta {beta} is out of reach with q = {q}: verifying all N = {N} items leaves "
            f"beta = (1-q)^M = {(1 - q) ** M:.3g}"
        )
    return _smallest(0, N, lambda k: imperfect_non_detection(N, M, k, q) <= beta)


@dataclass(frozen=True)
class Stratum:
    """A group of similar items: ``items`` N, ``mean_mass`` x_bar, and what to detect.

    Give either ``missing`` (M, the falsified items to detect) or ``goal`` (the quantity to
    detect, in the unit of ``mean_mass``; M = ceil(goal / (f x_bar))). ``f`` is the fraction
    taken per falsified item (1: gross defect), ``q`` the probability that the test finds a
    falsified item it verifies (1: a perfect test).
    """

    name: str
    items: int
    mean_mass: float
    missing: int | None = None
    goal: float | None = None
    f: float = 1.0
    q: float = 1.0

    def falsified(self) -> int:
        """M: the items that must be falsified to hide the goal (or the ``missing`` given)."""
        where = f"stratum {self.name!r}: "
        try:
            if (self.missing is None) == (self.goal is None):
                raise ValueError("give exactly one of missing (M) and goal (quantity)")
            N = _count("N (items)", self.items, 1)
            if self.missing is not None:
                # Items counted, not weighed (munitions, equipment) have no mass: a plan
                # by items needs none.
                if not (math.isfinite(self.mean_mass) and self.mean_mass >= 0):
                    raise ValueError(f"mean_mass must be 0 or more, not {self.mean_mass!r}")
                M = _count("M (missing)", self.missing, 1)
            else:
                assert self.goal is not None
                if not (math.isfinite(self.mean_mass) and self.mean_mass > 0):
                    raise ValueError(
                        f"mean_mass must be positive to size a goal quantity,"
                        f" not {self.mean_mass!r}"
                    )
                M = goal_items(self.goal, self.mean_mass, self.f)
            if M > N:
                raise ValueError(f"M ({M} falsified items) cannot exceed N ({N} items)")
            _unit_interval("q (test detection probability)", self.q)
        except ValueError as e:
            raise ValueError(where + str(e)) from None
        return M


@dataclass(frozen=True)
class StratumPlan:
    """One stratum's sample sizes and the detection probability each actually achieves."""

    name: str
    items: int
    mean_mass: float
    missing: int
    q: float
    n_exact: int
    n_iaea: int
    detect_exact: float
    detect_iaea: float

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "name": self.name,
            "N": self.items,
            "mean_mass": self.mean_mass,
            "M": self.missing,
            "q": self.q,
            "n_exact": self.n_exact,
            "n_iaea": self.n_iaea,
            "detect_exact": self.detect_exact,
            "detect_iaea": self.detect_iaea,
        }


@dataclass(frozen=True)
class Plan:
    """A stratified attribute-sampling plan for detection probability ``detect`` per stratum."""

    detect: float
    strata: tuple[StratumPlan, ...]

    @property
    def beta(self) -> float:
        """The non-detection probability asked for (1 - detect, as decimals: 0.9 -> 0.1)."""
        return float(1 - _decimal(self.detect))

    @property
    def n_exact(self) -> int:
        """Items to verify in all, by the exact sizes."""
        return sum(s.n_exact for s in self.strata)

    @property
    def n_iaea(self) -> int:
        """Items to verify in all, by the IAEA approximation."""
        return sum(s.n_iaea for s in self.strata)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "detect": self.detect,
            "beta": self.beta,
            "n_exact": self.n_exact,
            "n_iaea": self.n_iaea,
            "strata": [s.to_json() for s in self.strata],
        }


def plan(strata: Sequence[Stratum], detect: float) -> Plan:
    """Size each stratum so that a diversion concentrated in it is detected with ``detect``.

    Every stratum gets the exact size and the IAEA size (with an imperfect test, the METHODS
    approximation ``(N/q)(1 - beta^(1/M))``), each with the exact 1 - beta it achieves.
    """
    detect = _probability("detect (1 - beta)", detect)
    target = 1 - _decimal(detect)
    beta = float(target)
    if not strata:
        raise ValueError("strata: a plan needs at least one stratum")
    names = [s.name for s in strata]
    if len(set(names)) != len(names):
        raise ValueError(f"strata: names must be unique, got {names}")
    rows = []
    for s in strata:
        M = s.falsified()
        try:
            n_exact = _exact_imperfect_size(s.items, M, target, s.q)
            n_iaea = min(s.items, imperfect_sample_size(s.items, M, beta, s.q))
        except ValueError as e:
            raise ValueError(f"stratum {s.name!r}: {e}") from None
        rows.append(
            StratumPlan(
                name=s.name,
                items=s.items,
                mean_mass=s.mean_mass,
                missing=M,
                q=s.q,
                n_exact=n_exact,
                n_iaea=n_iaea,
                detect_exact=1.0 - imperfect_non_detection(s.items, M, n_exact, s.q),
                detect_iaea=1.0 - imperfect_non_detection(s.items, M, n_iaea, s.q),
            )
        )
    return Plan(detect=detect, strata=tuple(rows))
