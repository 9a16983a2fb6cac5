"""Material accountancy statistics: hand-computed sigma-MUF, SITMUF, Page, GEMUF, thresholds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from cwledger.accountancy.series import BalanceSeries
from cwledger.accountancy.statistics import (
    SingularCovariance,
    SitmufForward,
    analyse,
    flow_covariance,
    gemuf,
    inventory_covariance,
    layout,
    muf_and_covariance,
    page,
    page_false_alarm,
    page_pair,
    page_threshold,
    shared_method_covariance,
    sitmuf,
    sitmuf_forward,
)

DAYS = ["2014-01-01", "2014-01-11", "2014-01-21", "2014-01-31"]


def _t(day: str, hour: int = 0) -> str:
    return f"{day}T{hour:02d}:00:00Z"


def series(n: int, measurements: list[tuple[str, str, str, str, float]], **methods: Any) -> Any:
    """A series of n ten-day periods; measurements as (kind, point, method, time, value)."""
    return BalanceSeries.model_validate(
        {
            "unit": "kg",
            "periods": [{"start": _t(DAYS[i]), "end": _t(DAYS[i + 1])} for i in range(n)],
            "methods": {
                name: {"rsd_random": r, "rsd_systematic": s} for name, (r, s) in methods.items()
            },
            "measurements": [
                {"kind": k, "point": p, "method": m, "time": t, "value": v}
                for k, p, m, t, v in measurements
            ],
            "page_k": 0.5,
        }
    )


FEED = [
    ("input", "feed", "scale", _t(DAYS[0], 8), 100.0),
    ("input", "feed", "scale", _t(DAYS[0], 9), 50.0),
]
TANK = [
    ("inventory", "tank", "gauge", _t(DAYS[0]), 1000.0),
    ("inventory", "tank", "gauge", _t(DAYS[1]), 800.0),
]
SCALE, GAUGE = (0.01, 0.02), (0.001, 0.002)


# -- closed-form sigma-MUF ----------------------------------------------------------------


def test_flow_point_single_period() -> None:
    # r^2 (100^2 + 50^2) + s^2 (100 + 50)^2 = 1e-4 * 12,500 + 4e-4 * 22,500 = 1.25 + 9
    a = analyse(series(1, FEED, scale=SCALE))
    assert a.muf == pytest.approx([150.0])
    assert a.sigma_muf**2 == pytest.approx([10.25])
    np.testing.assert_allclose(flow_covariance([150.0], [12_500.0], 0.01, 0.02), [[10.25]])


def test_inventory_point_single_period_systematic_parts_cancel() -> None:
    # r^2 (C0^2 + C1^2) + s^2 (C0^2 + C1^2 - 2 C0 C1): 1.64 + 6.56 - 6.4 = 1.8
    a = analyse(series(1, TANK, gauge=GAUGE))
    assert a.muf == pytest.approx([200.0])  # PB - PE
    without_cancellation = 1e-6 * (1000**2 + 800**2) + 4e-6 * (1000**2 + 800**2)
    assert without_cancellation == pytest.approx(8.2)
    assert a.sigma_muf**2 == pytest.approx([8.2 - 2 * 1000 * 800 * 4e-6])
    assert a.sigma_muf**2 == pytest.approx([1.8])


def test_flow_and_inventory_points_add_and_report_their_contributions() -> None:
    a = analyse(series(1, FEED + TANK, scale=SCALE, gauge=GAUGE))
    assert a.muf == pytest.approx([1000 + 150 - 800])
    assert a.sigma_muf**2 == pytest.approx([10.25 + 1.8])
    assert a.contributions["feed"] == pytest.approx([10.25])
    assert a.contributions["tank"] == pytest.approx([1.8])
    assert not a.shared_methods


def test_two_periods_share_an_inventory() -> None:
    # C = 1000, 800, 900; T = 150, 70. Cov(MUF_1, MUF_2):
    # tank: -r^2 C_1^2 + s^2 (C_0 - C_1)(C_1 - C_2) = -0.64 + 4e-6 * 200 * -100 = -0.72
    # feed: s^2 T_1 T_2 = 4e-4 * 150 * 70 = 4.2
    ms = FEED + TANK + [("input", "feed", "scale", _t(DAYS[1], 8), 70.0)]
    ms.append(("inventory", "tank", "gauge", _t(DAYS[2]), 900.0))
    a = analyse(series(2, ms, scale=SCALE, gauge=GAUGE))
    assert a.muf == pytest.approx([350.0, -30.0])
    assert a.cumuf == pytest.approx([350.0, 320.0])
    assert a.covariance[0, 1] == pytest.approx(-0.72 + 4.2)
    assert a.covariance[1, 0] == a.covariance[0, 1]
    assert a.contributions["tank"][1] == pytest.approx(1e-6 * (800**2 + 900**2) + 4e-6 * 100**2)
    tank = inventory_covariance([1000.0, 800.0, 900.0], 0.001, 0.002)
    assert tank[0, 1] == pytest.approx(-0.72)
    assert tank[0, 0] == pytest.approx(1.8)


def test_points_of_one_method_share_their_systematic_error() -> None:
    # Received and shipped on the same scale: the systematic parts cancel in MUF.
    ms = [
        ("input", "received", "scale", _t(DAYS[0], 8), 100.0),
        ("output", "shipped", "scale", _t(DAYS[0], 9), 100.0),
    ]
    a = analyse(series(1, ms, scale=SCALE))
    assert a.sigma_muf**2 == pytest.approx([1e-4 * 20_000])
    assert a.shared_methods["scale"] == pytest.approx([-2 * 4e-4 * 100 * 100])
    total = sum(a.contributions.values()) + sum(a.shared_methods.values())
    assert total == pytest.approx(a.sigma_muf**2)
    pair = shared_method_covariance([[100.0], [-100.0]], 0.02)
    np.testing.assert_allclose(pair, [[-8.0]])


def _three_periods() -> Any:
    ms = [
        ("inventory", "tank", "gauge", _t(DAYS[k]), c)
        for k, c in enumerate([1000.0, 900.0, 1100.0, 1050.0])
    ]
    ms += [("inventory", "drum", "scale", _t(DAYS[k]), c) for k, c in enumerate([5.0, 7, 6, 9])]
    ms += [("input", "feed", "scale", _t(DAYS[i], 3), 40.0 + i) for i in range(3) for _ in "ab"]
    ms += [("output", "out", "meter", _t(DAYS[i], 5), 30.0 + 5 * i) for i in range(3)]
    return series(3, ms, scale=SCALE, gauge=GAUGE, meter=(0.03, 0.01))


def test_the_stacked_builder_equals_the_sum_of_point_covariances() -> None:
    s = _three_periods()
    a = analyse(s)
    lay = layout(s)
    muf, sigma = muf_and_covariance(lay, lay.values)
    assert muf == pytest.approx(a.muf)
    np.testing.assert_allclose(sigma, a.covariance, rtol=1e-12)
    stacked = np.stack([lay.values, 2 * lay.values])
    muf2, sigma2 = muf_and_covariance(lay, stacked)
    np.testing.assert_allclose(sigma2[1], 4 * a.covariance, rtol=1e-12)
    np.testing.assert_allclose(muf2[1], 2 * a.muf)
    total = sum(a.contributions.values()) + sum(a.shared_methods.values())
    assert total == pytest.approx(np.diagonal(a.covariance))


def test_analysis_json_has_the_documented_keys() -> None:
    a = analyse(_three_periods())
    doc = a.to_json()
    assert set(doc) == {
        "muf",
        "sigma_muf",
        "cumuf",
        "covariance",
        "sitmuf",
        "page",
        "contributions",
        "gemuf",
        "gemuf_p",
        "gemuf_dof",
        "shared_methods",  # drum and feed are both on the scale
    }
    assert set(doc["contributions"]) == {"tank", "drum", "feed", "out"}
    assert len(doc["covariance"]) == 3 and all(len(row) == 3 for row in doc["covariance"])
    assert set(analyse(series(1, FEED + TANK, scale=SCALE, gauge=GAUGE)).to_json()) == (
        set(doc) - {"shared_methods"}
    )


# -- SITMUF, Page, GEMUF -------------------------------------------------------------------


def test_sitmuf_of_a_diagonal_sigma_is_muf_over_sigma() -> None:
    muf = np.array([3.0, -1.0, 0.5, 2.0])
    var = np.array([4.0, 1.0, 0.25, 16.0])
    expected = muf / np.sqrt(var)
    assert sitmuf(muf, np.diag(var)) == pytest.approx(expected)
    assert sitmuf_forward(muf, np.diag(var)) == pytest.approx(expected)


def test_page_on_a_hand_computed_sequence() -> None:
    # k = 0.5: 0.5, 2.0, 0.5, 0.5, 3.0, then a reset to 0 and a climb back.
    z = [1.0, 2.0, -1.0, 0.5, 3.0, -4.0, 1.5]
    assert page(z, 0.5) == pytest.approx([0.5, 2.0, 0.5, 0.5, 3.0, 0.0, 1.0])
    assert page(np.array([z, z]), 0.5)[1] == pytest.approx(page(z, 0.5))
    assert page([-1.0, -2.0], 0.0) == pytest.approx([0.0, 0.0])


def _covariance(seed: int, n: int, rank: int, zero: list[int]) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(n, rank))
    sigma = B @ B.T + np.diag(rng.uniform(0.1, 2.0, n))
    muf = rng.normal(size=n) * 3
    for i in zero:
        sigma[i, :] = 0.0
        sigma[:, i] = 0.0
        muf[i] = 0.0
    return muf, sigma


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 25),
    rank=st.integers(0, 6),
    zero=st.lists(st.integers(0, 24), max_size=3),
)
def test_forward_sitmuf_equals_batch_cholesky(
    seed: int, n: int, rank: int, zero: list[int]
) -> None:
    muf, sigma = _covariance(seed, n, rank, [i for i in zero if i < n])
    batch = sitmuf(muf, sigma)
    np.testing.assert_allclose(sitmuf_forward(muf, sigma), batch, rtol=1e-9, atol=1e-9)
    # GEMUF is the sum of squared SITMUF, computed independently (cho_solve).
    assert gemuf(muf, sigma).statistic == pytest.approx(float(batch @ batch), rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 15), cut=st.integers(1, 14))
def test_sitmuf_is_never_revised(seed: int, n: int, cut: int) -> None:
    cut = min(cut, n - 1)
    rng = np.random.default_rng(seed)
    G = np.tril(rng.normal(size=(n, n))) + 3 * np.eye(n)
    muf = rng.normal(size=n)
    later, later_muf = G.copy(), muf.copy()
    later[cut:] = np.tril(rng.normal(size=(n, n)))[cut:] + 3 * np.eye(n)[cut:]
    later_muf[cut:] = rng.normal(size=n - cut)
    # Sigma = G G^T: the first `cut` periods agree, the later ones and their covariances not.
    sigma, later_sigma = G @ G.T, later @ later.T
    assert not np.allclose(sigma, later_sigma)
    np.testing.assert_allclose(sitmuf(later_muf, later_sigma)[:cut], sitmuf(muf, sigma)[:cut])
    fwd = SitmufForward()
    pushed = [fwd.push(sigma[i, : i + 1], float(muf[i])) for i in range(cut)]
    np.testing.assert_allclose(pushed, sitmuf(muf[:cut], sigma[:cut, :cut]))
    assert fwd.values.shape == (cut,)


def test_sitmuf_of_a_stack() -> None:
    pairs = [_covariance(seed, 6, 2, []) for seed in range(4)]
    muf = np.stack([m for m, _ in pairs])
    sigma = np.stack([s for _, s in pairs])
    np.testing.assert_allclose(sitmuf(muf, sigma)[2], sitmuf(*pairs[2]))


def test_gemuf_against_chi_square() -> None:
    muf, sigma = _covariance(5, 6, 2, [])
    g = gemuf(muf, sigma)
    assert g.statistic == pytest.approx(float(muf @ np.linalg.solve(sigma, muf)))
    assert g.dof == 6
    assert g.p_value == pytest.approx(sps.chi2.sf(g.statistic, 6))


def test_a_period_nothing_bears_on_carries_no_information() -> None:
    muf, sigma = _covariance(9, 5, 2, [1, 3])
    z = sitmuf(muf, sigma)
    assert z[1] == 0.0 and z[3] == 0.0
    keep = [0, 2, 4]
    np.testing.assert_allclose(z[keep], sitmuf(muf[keep], sigma[np.ix_(keep, keep)]))
    assert gemuf(muf, sigma).dof == 3
    muf[3] = 1.0
    with pytest.raises(SingularCovariance, match="period 3"):
        sitmuf(muf, sigma)
    with pytest.raises(SingularCovariance, match="period 3"):
        sitmuf_forward(muf, sigma)


def test_a_series_nothing_bears_on() -> None:
    assert gemuf(np.zeros(3), np.zeros((3, 3))) == (0.0, 0, 1.0)
    assert sitmuf(np.zeros(3), np.zeros((3, 3))) == pytest.approx(np.zeros(3))


def test_a_covariance_that_is_not_positive_definite_is_refused() -> None:
    sigma = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(SingularCovariance, match="period 1"):
        sitmuf([1.0, 1.0, 0.0], sigma)
    padded = np.zeros((4, 4))
    padded[1:, 1:] = sigma  # period 0 carries nothing: the error still names period 2
    with pytest.raises(SingularCovariance, match="period 2"):
        sitmuf([0.0, 1.0, 1.0, 0.0], padded)
    with pytest.raises(SingularCovariance):
        sitmuf(np.zeros((2, 3)), np.stack([sigma, np.eye(3)]))
    with pytest.raises(ValueError, match="period 0 needs 1 covariances"):
        SitmufForward().push([1.0, 0.0], 1.0)


# -- thresholds -----------------------------------------------------------------------------


def test_one_period_threshold_is_the_normal_quantile_less_k() -> None:
    # P(max(0, z - k) > h) = 1 - Phi(h + k)
    for k, alpha in [(0.5, 0.05), (0.0, 0.01), (1.0, 0.1)]:
        h = page_threshold(1, k, alpha)
        assert h == pytest.approx(sps.norm.ppf(1 - alpha) - k, abs=1e-6)
    assert page_false_alarm(3, 0.5, 0.0) == pytest.approx(1 - sps.norm.cdf(0.5) ** 3)
    assert page_threshold(2, 3.0, 0.5) == 0.0  # even h = 0 alarms less often


@pytest.mark.parametrize(("n", "k", "alpha"), [(20, 0.5, 0.1), (12, 0.25, 0.05), (40, 1.0, 0.02)])
def test_threshold_matches_a_seeded_simulation(n: int, k: float, alpha: float) -> None:
    h = page_threshold(n, k, alpha)
    assert page_false_alarm(n, k, h) == pytest.approx(alpha, abs=1e-7)
    z = np.random.default_rng(2014).standard_normal((100_000, n))
    share = float((page(z, k).max(axis=1) > h).mean())
    assert share == pytest.approx(alpha, abs=4 * np.sqrt(alpha * (1 - alpha) / 100_000))


def test_false_alarms_fall_as_h_rises_and_converge_in_the_nodes() -> None:
    rates = [page_false_alarm(50, 0.5, h) for h in (0.5, 1, 2, 4, 8)]
    assert rates == sorted(rates, reverse=True)
    assert page_false_alarm(200, 0.25, 9.0) == pytest.approx(
        page_false_alarm(200, 0.25, 9.0, nodes=400), abs=1e-9
    )


def test_page_pair_splits_alpha() -> None:
    abrupt, protracted = page_pair(30, 0.05)
    each = 1 - np.sqrt(0.95)
    assert (abrupt.name, protracted.name) == ("abrupt", "protracted")
    assert abrupt.h == pytest.approx(page_threshold(30, 1.0, each))
    assert protracted.h == pytest.approx(page_threshold(30, 0.25, each))
    z = np.random.default_rng(7).standard_normal((50_000, 30))
    either = (page(z, 1.0).max(axis=1) > abrupt.h) | (page(z, 0.25).max(axis=1) > protracted.h)
    assert float(either.mean()) <= 0.05 + 0.003
    a = analyse(_three_periods(), h=[0.1], tests=[abrupt, protracted])
    assert [x.name for x in a.alarms] == ["", "abrupt", "protracted"]
    assert a.alarms[0].statistic == pytest.approx(a.page)
    first = a.to_json()["alarms"][0]
    assert set(first) == {"name", "k", "h", "first_alarm", "page"}
    over = [i for i, p in enumerate(a.page) if p > 0.1]
    assert first["first_alarm"] == (over[0] if over else None)
