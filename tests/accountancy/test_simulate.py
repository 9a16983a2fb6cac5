"""The Monte Carlo of a balance series: reproducible, calibrated under H0, detecting losses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from cwledger.accountancy.series import BalanceSeries
from cwledger.accountancy.simulate import chunk_size, draws, simulate
from cwledger.accountancy.statistics import analyse, page_threshold

T0 = datetime(2014, 1, 1, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def balanced(n: int, loss: float = 0.0, seed: int = 3, systematic: float = 0.002) -> Any:
    """n weekly periods: a feed weighed 3 times, a product twice (shared scale), a tank and
    a drum inventoried at every boundary. The true MUF is ``loss`` in every period (the
    tank holds that much less than the flows say)."""
    rng = np.random.default_rng(seed)
    bounds = [T0 + timedelta(days=7 * i) for i in range(n + 1)]
    ms: list[dict[str, Any]] = []

    def add(kind: str, point: str, method: str, at: datetime, value: float) -> None:
        ms.append(
            {"kind": kind, "point": point, "method": method, "time": _iso(at), "value": value}
        )

    net = np.zeros(n)
    for i in range(n):
        for j, v in enumerate(rng.uniform(80, 120, 3)):
            add("input", "feed", "scale", bounds[i] + timedelta(days=j + 1), float(v))
            net[i] += v
        for j, v in enumerate(rng.uniform(100, 140, 2)):
            add("output", "product", "scale", bounds[i] + timedelta(days=j + 4), float(v))
            net[i] -= v
    drum = rng.uniform(40, 60, n + 1)
    tank = np.empty(n + 1)
    tank[0] = 2_000.0
    for i in range(n):
        tank[i + 1] = tank[i] + drum[i] - drum[i + 1] + net[i] - loss
    for k in range(n + 1):
        add("inventory", "tank", "gauge", bounds[k], float(tank[k]))
        add("inventory", "drum", "scale", bounds[k], float(drum[k]))
    return BalanceSeries.model_validate(
        {
            "unit": "kg",
            "periods": [{"start": _iso(bounds[i]), "end": _iso(bounds[i + 1])} for i in range(n)],
            "methods": {
                "scale": {"rsd_random": 0.01, "rsd_systematic": systematic},
                "gauge": {"rsd_random": 0.003, "rsd_systematic": systematic / 2},
            },
            "measurements": ms,
            "page_k": 0.5,
        }
    )


def test_the_builder_balances() -> None:
    assert analyse(balanced(5)).muf == pytest.approx(np.zeros(5), abs=1e-9)
    assert analyse(balanced(5, loss=2.5)).muf == pytest.approx(np.full(5, 2.5))


def test_reproducible_by_seed_and_independent_of_chunks() -> None:
    s = balanced(6)
    a = simulate(s, 500, seed=11, h_values=[1.0, 3.0])
    assert a.to_json() == simulate(s, 500, seed=11, h_values=[1.0, 3.0]).to_json()
    b = simulate(s, 500, seed=12, h_values=[1.0, 3.0])
    assert not np.array_equal(a.muf_mean, b.muf_mean)
    c = simulate(s, 500, seed=11, h_values=[1.0, 3.0], chunk=37)
    np.testing.assert_array_equal(c.alarm_share, a.alarm_share)
    np.testing.assert_allclose(c.muf_mean, a.muf_mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(c.sitmuf_std, a.sitmuf_std, rtol=1e-9)
    first = np.concatenate([d.sitmuf for d in draws(s, 100, seed=11, chunk=30)])
    np.testing.assert_allclose(first, next(draws(s, 100, seed=11)).sitmuf, rtol=1e-12)


def test_under_the_null_sitmuf_is_standard_normal_and_uncorrelated() -> None:
    s = balanced(8)
    z = np.concatenate([d.sitmuf for d in draws(s, 20_000, seed=2014, chunk=5_000)])
    assert z.shape == (20_000, 8)
    assert np.abs(z.mean(axis=0)).max() < 0.04  # standard error 0.007
    assert np.abs(z.var(axis=0, ddof=1) - 1).max() < 0.06  # standard error 0.01
    corr = np.corrcoef(z, rowvar=False)
    assert np.abs(corr - np.eye(8)).max() < 0.04  # standard error 0.007


def test_simulated_muf_matches_the_analysis() -> None:
    s = balanced(5, loss=3.0)
    a = analyse(s)
    r = simulate(s, 20_000, seed=5, h_values=[])
    np.testing.assert_allclose(r.muf_mean, a.muf, atol=4 * a.sigma_muf.max() / np.sqrt(20_000))
    np.testing.assert_allclose(r.muf_std, a.sigma_muf, rtol=0.03)
    assert r.alarm_share.shape == (0,)


def test_alarms_rise_with_a_protracted_loss() -> None:
    n, k = 12, 0.25
    h = page_threshold(n, k, 0.05)
    sigma = float(analyse(balanced(n)).sigma_muf.mean())
    shares = [
        float(
            simulate(balanced(n, loss=f * sigma), 3_000, seed=1, h_values=[h], k=k).alarm_share[0]
        )
        for f in (0.0, 0.05, 0.1, 0.2, 0.4)
    ]
    # about 0.05, 0.12, 0.25, 0.65, 1.0: the inventories telescope, so a loss repeated
    # period after period stands out long before it reaches one sigma-MUF per period.
    assert all(a < b for a, b in pairwise(shares)), shares
    assert shares[0] == pytest.approx(0.05, abs=0.015)
    assert shares[-1] > 0.95


def test_result_json() -> None:
    r = simulate(balanced(3), 200, seed=1, h_values=[2.0, 4.0], k=1.0)
    doc = r.to_json()
    assert set(doc) == {
        "iterations",
        "seed",
        "k",
        "h",
        "alarm_share",
        "muf_mean",
        "muf_std",
        "sitmuf_mean",
        "sitmuf_std",
    }
    assert doc["k"] == 1.0 and doc["h"] == [2.0, 4.0] and len(doc["muf_mean"]) == 3
    assert doc["alarm_share"][0] >= doc["alarm_share"][1]
    assert simulate(balanced(3), 10, seed=1, h_values=[1.0]).k == 0.5  # the series' page_k
    with pytest.raises(ValueError, match="iterations"):
        simulate(balanced(3), 0, seed=1, h_values=[1.0])


def test_chunks_fit_the_memory_budget() -> None:
    assert chunk_size(1_000, 22_000) * 8 * 3 * 1_000**2 <= 384 * 2**20
    assert chunk_size(30, 700) >= 5_000
    assert chunk_size(100_000, 10) == 1
