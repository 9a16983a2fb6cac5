#!/usr/bin/env python
"""Material accountancy: the Monte Carlo of Page's test on SITMUF, against batched Cholesky.

Two synthetic balanced series (6 points: 2 inputs and 2 outputs weighed 5 times a period,
2 tanks inventoried at every boundary; true MUF 0), simulated with ``simulate``:

- ``small``: 30 periods, 10,000 iterations (target: under 1 s);
- ``large``: 1,000 periods, 1,000 iterations (target: under 30 s, peak RSS under 2 GiB).

The physical limit, measured in the same run, is NumPy's batched Cholesky
(``np.linalg.cholesky`` on a stack) of the very covariance matrices the simulation
factors: the O(n^3) step no dense implementation of SITMUF can skip; with it, the
drawing of the same normal numbers (what dominates small series). Both are timed on
fresh chunks of the simulation's size (at most 4, scaled to all iterations).
``ratio_vs_cholesky`` = limit time / our time (1.0 = as fast as the factorisation
alone). It also times ``analyse`` on the large series and ``page_threshold``, and checks
that the simulated false-alarm share under H0 matches the target of the threshold.

The LAST line is one JSON object. Run ``python benchmarks/bench_accountancy.py`` or
``--quick`` (a tenth of the large series).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from itertools import pairwise
from typing import Any

import numpy as np

from cwledger.accountancy.series import BalanceSeries
from cwledger.accountancy.simulate import _observed, chunk_size, simulate
from cwledger.accountancy.statistics import analyse, layout, muf_and_covariance, page_threshold

perf = time.perf_counter
DAY = 86_400


def _iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def balanced_series(n: int, per_period: int = 5, seed: int = 1) -> BalanceSeries:
    """A series of n ten-day periods whose true MUF is 0 in every period."""
    rng = np.random.default_rng(seed)
    t0 = 1_388_534_400  # 2014-01-01
    bounds = [t0 + 10 * DAY * i for i in range(n + 1)]
    methods = {
        "scale": {"rsd_random": 0.01, "rsd_systematic": 0.002},
        "flowmeter": {"rsd_random": 0.02, "rsd_systematic": 0.005},
        "tank-gauge": {"rsd_random": 0.003, "rsd_systematic": 0.001},
        "dip": {"rsd_random": 0.005, "rsd_systematic": 0.002},
    }
    flows = [("feed-1", "input", "scale"), ("feed-2", "input", "flowmeter")]
    flows += [("out-1", "output", "scale"), ("out-2", "output", "flowmeter")]
    measurements: list[dict[str, Any]] = []
    net = np.zeros(n)
    for point, kind, method in flows:
        values = rng.uniform(50.0, 150.0, size=(n, per_period))
        net += values.sum(axis=1) * (1 if kind == "input" else -1)
        for i in range(n):
            for j in range(per_period):
                at = bounds[i] + (j + 1) * DAY
                value = float(values[i, j])
                measurements.append(
                    {
                        "kind": kind,
                        "point": point,
                        "method": method,
                        "time": _iso(at),
                        "value": value,
                    }
                )
    tank_b = rng.uniform(2_000.0, 3_000.0, size=n + 1)
    tank_a = np.empty(n + 1)
    tank_a[0] = 20_000.0 + abs(net).sum()
    for i in range(n):
        tank_a[i + 1] = tank_a[i] + (tank_b[i] - tank_b[i + 1]) + net[i]
    for point, method, c in (("tank-A", "tank-gauge", tank_a), ("tank-B", "dip", tank_b)):
        measurements += [
            {
                "kind": "inventory",
                "point": point,
                "method": method,
                "time": _iso(bounds[k]),
                "value": float(c[k]),
            }
            for k in range(n + 1)
        ]
    doc = {
        "unit": "kg",
        "periods": [{"start": _iso(a), "end": _iso(b)} for a, b in pairwise(bounds)],
        "methods": methods,
        "measurements": measurements,
        "page_k": 0.5,
    }
    return BalanceSeries.model_validate(doc)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _limits(series: BalanceSeries, iterations: int, seed: int) -> tuple[float, float]:
    """Seconds for (batched Cholesky, drawing the normals) of ``iterations`` simulations.

    Each is timed on fresh chunks of the size the simulation uses (at most 4 of them,
    scaled to all iterations): ``np.linalg.cholesky`` of the chunk's Sigma stack, and
    ``standard_normal`` of its S and R.
    """
    lay = layout(series)
    b = min(iterations, chunk_size(lay.n, lay.values.size))
    chunks = min(4, -(-iterations // b))
    rng = np.random.default_rng(seed)
    chol = draw = 0.0
    for _ in range(chunks):
        t = perf()
        S = rng.standard_normal((b, len(lay.methods)))
        R = rng.standard_normal((b, lay.values.size))
        draw += perf() - t
        _, sigma = muf_and_covariance(lay, _observed(lay, S, R))
        del R
        t = perf()
        np.linalg.cholesky(sigma)
        chol += perf() - t
        del sigma
    scale = iterations / (chunks * b)
    return chol * scale, draw * scale


def _case(name: str, n: int, iterations: int, repeat: int) -> dict[str, Any]:
    series = balanced_series(n)
    h = page_threshold(n, 0.5, 0.05)
    best, result = float("inf"), None
    for _ in range(repeat):
        t = perf()
        result = simulate(series, iterations, seed=2014, h_values=[h])
        best = min(best, perf() - t)
    assert result is not None
    chol, draw = _limits(series, iterations, seed=7)
    share = float(result.alarm_share[0])
    print(
        f"{name}: {n} periods x {iterations} iterations in {best:.3f} s "
        f"({iterations / best:,.0f} it/s); batched Cholesky alone {chol:.3f} s "
        f"(ratio {chol / best:.2f}), with drawing the normals {chol + draw:.3f} s "
        f"(ratio {(chol + draw) / best:.2f}); false alarms {share:.4f} for a target of "
        f"0.05 (h = {h:.3f}); peak RSS so far {_peak_mib():.0f} MiB"
    )
    return {
        f"{name}_periods": n,
        f"{name}_iterations": iterations,
        f"{name}_seconds": round(best, 4),
        f"{name}_iterations_per_second": round(iterations / best, 1),
        f"{name}_cholesky_limit_seconds": round(chol, 4),
        f"{name}_ratio_vs_cholesky": round(chol / best, 3),
        f"{name}_ratio_vs_cholesky_and_draws": round((chol + draw) / best, 3),
        f"{name}_false_alarm_share": share,
        f"{name}_peak_mib": round(_peak_mib(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="a tenth of the large series")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average at start: {load:.2f}; {os.cpu_count()} CPUs")
    out: dict[str, Any] = {"quick": args.quick, "load_start": round(load, 2)}
    out |= _case("small", 30, 10_000, repeat=3)
    large_n = 100 if args.quick else 1_000
    out |= _case("large", large_n, 1_000, repeat=1)
    series = balanced_series(large_n)
    t = perf()
    analyse(series, h=[page_threshold(large_n, 0.5, 0.05)])
    out["analyse_large_seconds"] = round(perf() - t, 4)
    t = perf()
    page_threshold(1_000, 0.25, 0.01)
    out["page_threshold_seconds"] = round(perf() - t, 4)
    print(
        f"analyse ({large_n} periods): {out['analyse_large_seconds']:.3f} s; "
        f"page_threshold(1000, 0.25, 0.01): {out['page_threshold_seconds']:.3f} s"
    )
    out["peak_mib"] = round(_peak_mib(), 1)
    out["load_end"] = round(os.getloadavg()[0], 2)
    print(f"peak RSS {out['peak_mib']:.0f} MiB")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
