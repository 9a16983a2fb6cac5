"""Monte Carlo of a balance series under the error model: how often Page's test alarms.

The measured values of the series are taken as the true values (so the true MUF is the
series' own MUF: build a balanced series to simulate H0, or plant a loss to see the
detection probability). Each iteration draws the systematic error S of every method
(``N(0, d_s^2)``, shared by all its measurements: one calibration period per series) and
the random error R of every measurement (``N(0, d_r^2)``), observes
``true * (1 + S + R)``, and recomputes MUF, Sigma (from that iteration's observed
values, as an analysis would), SITMUF and Page's statistic (METHODS.md 2.1-2.3).

Everything is vectorised over the iterations, in chunks sized so that the stack of
covariance matrices and their Cholesky factors stays within a few hundred MiB. S comes
from one random stream and R from another (both spawned from ``seed``), drawn in
iteration order, so the result depends on (series, iterations, seed), not on the chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cwledger.accountancy.series import BalanceSeries
from cwledger.accountancy.statistics import (
    Array,
    Layout,
    layout,
    muf_and_covariance,
    page,
    sitmuf,
)

__all__ = ["Draws", "SimulationResult", "chunk_size", "draws", "simulate"]

CHUNK_BYTES = 384 * 2**20


@dataclass(frozen=True, eq=False)
class Draws:
    """One chunk of iterations: observed MUF and SITMUF, shape ``(iterations, n)``."""

    muf: Array
    sitmuf: Array


def chunk_size(n: int, measurements: int, budget: int = CHUNK_BYTES) -> int:
    """Iterations per chunk: Sigma, its Cholesky factor and a copy (``3 n^2``) plus the
    observed values and per-point totals, in float64, within ``budget`` bytes."""
    per_iteration = 8 * (3 * n * n + 4 * measurements + 16 * n)
    return max(1, budget // per_iteration)


class _Moments:
    """Running mean and sum of squared deviations per period (Chan et al. merge)."""

    def __init__(self, n: int) -> None:
        self.count = 0
        self.mean = np.zeros(n)
        self.m2 = np.zeros(n)

    def add(self, x: Array) -> None:
        b = x.shape[0]
        mean = x.mean(axis=0)
        m2 = ((x - mean) ** 2).sum(axis=0)
        total = self.count + b
        delta = mean - self.mean
        self.mean = self.mean + delta * (b / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * b / total)
        self.count = total

    @property
    def std(self) -> Array:
        dof = max(self.count - 1, 1)
        return np.sqrt(self.m2 / dof)


def _observed(lay: Layout, S: Array, R: Array) -> Array:
    """``true * (1 + S + R)``: S ``(b, nm)`` and R ``(b, M)`` are standard normal draws."""
    x = R * lay.r[lay.method_of]
    x += (S * lay.s)[:, lay.method_of]
    x += 1.0
    x *= lay.values
    return x


def draws(
    series: BalanceSeries, iterations: int, seed: int, *, chunk: int | None = None
) -> Iterator[Draws]:
    """The simulated MUF and SITMUF, chunk by chunk (``chunk`` iterations at most; by
    default :func:`chunk_size`). The values do not depend on the chunk size."""
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    lay = layout(series)
    stream_s, stream_r = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    S = stream_s.standard_normal((iterations, len(lay.methods)))
    size = chunk or chunk_size(lay.n, lay.values.size)
    for start in range(0, iterations, size):
        b = min(size, iterations - start)
        R = stream_r.standard_normal((b, lay.values.size))
        muf, sigma = muf_and_covariance(lay, _observed(lay, S[start : start + b], R))
        del R
        z = sitmuf(muf, sigma)
        del sigma
        yield Draws(muf, z)


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Alarm shares of Page's test (k, each h) and the MUF and SITMUF moments per period."""

    iterations: int
    seed: int
    k: float
    h_values: tuple[float, ...]
    alarm_share: Array  # per h: share of iterations with Page > h at some period
    muf_mean: Array
    muf_std: Array
    sitmuf_mean: Array
    sitmuf_std: Array

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "iterations": self.iterations,
            "seed": self.seed,
            "k": self.k,
            "h": list(self.h_values),
            "alarm_share": [float(v) for v in self.alarm_share],
            "muf_mean": [float(v) for v in self.muf_mean],
            "muf_std": [float(v) for v in self.muf_std],
            "sitmuf_mean": [float(v) for v in self.sitmuf_mean],
            "sitmuf_std": [float(v) for v in self.sitmuf_std],
        }


def simulate(
    series: BalanceSeries,
    iterations: int,
    seed: int,
    h_values: Sequence[float],
    k: float | None = None,
    *,
    chunk: int | None = None,
) -> SimulationResult:
    """Simulate ``iterations`` observations of the series (see the module docstring).

    Reports, for each h, the share of iterations whose Page statistic on SITMUF (with
    ``k``, by default the series' ``page_k``) exceeds h at any period, and the mean and
    standard deviation (ddof 1) of MUF and SITMUF per period.
    """
    k = series.page_k if k is None else k
    h = np.asarray(h_values, dtype=np.float64)
    alarms = np.zeros(h.size, dtype=np.int64)
    muf_moments, z_moments = _Moments(series.n), _Moments(series.n)
    for d in draws(series, iterations, seed, chunk=chunk):
        peak = page(d.sitmuf, k).max(axis=-1)
        alarms += (peak[:, None] > h[None, :]).sum(axis=0)
        muf_moments.add(d.muf)
        z_moments.add(d.sitmuf)
    return SimulationResult(
        iterations=iterations,
        seed=seed,
        k=k,
        h_values=tuple(float(v) for v in h),
        alarm_share=alarms / iterations,
        muf_mean=muf_moments.mean,
        muf_std=muf_moments.std,
        sitmuf_mean=z_moments.mean,
        sitmuf_std=z_moments.std,
    )
