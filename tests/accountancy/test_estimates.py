"""Reconciling a declaration with independent estimates: fusion, consistency, the test."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.accountancy.estimates import (
    birge_ratio,
    blue,
    declaration_test,
    inverse_variance,
    p_undeclared_exceeds,
    pdg_scale,
    reconcile,
    undeclared_upper_bound,
)
from cwledger.model import Estimate

Z95 = 1.6448536269514722  # Phi^-1(0.95)
Z975 = 1.959963984540054  # Phi^-1(0.975)


def estimate(**kw: Any) -> Estimate:
    """A total-mass estimate in tonnes, with defaults."""
    base = {"party": "obs", "value": 1000.0, "u": 100.0, "unit": "t", "method": "open sources"}
    return Estimate.model_validate({**base, "scope": "total", **kw})


def test_inverse_variance_two_estimates_by_hand() -> None:
    # w = 1/100^2, 1/200^2 -> weights 0.8, 0.2; x_hat = 0.8*1000 + 0.2*700 = 940;
    # sigma_hat^2 = 1/(1e-4 + 2.5e-5) = 8000; chi^2 = 60^2/1e4 + 240^2/4e4 = 1.8.
    f = inverse_variance([1000.0, 700.0], [100.0, 200.0])
    assert f.method == "inverse-variance"
    assert f.value == pytest.approx(940.0)
    assert f.sigma == pytest.approx(math.sqrt(8000.0))
    assert f.weights == pytest.approx((0.8, 0.2))
    assert f.chi2 == pytest.approx(1.8) and f.dof == 1
    assert f.birge == pytest.approx(math.sqrt(1.8))
    assert f.scale == pytest.approx(math.sqrt(1.8))
    assert f.sigma_scaled == pytest.approx(120.0)  # sqrt(8000 * 1.8)
    assert f.chi2_p == pytest.approx(math.erfc(math.sqrt(1.8 / 2)))  # chi^2_1 tail


def test_birge_ratio_cases() -> None:
    consistent = inverse_variance([100.0, 101.0], [10.0, 10.0])
    assert consistent.chi2 == pytest.approx(0.005)
    assert consistent.birge == pytest.approx(math.sqrt(0.005))
    assert consistent.scale == 1.0
    assert consistent.sigma_scaled == consistent.sigma
    single = inverse_variance([1000.0], [100.0])
    assert (single.value, single.sigma, single.dof, single.chi2) == (1000.0, 100.0, 0, 0.0)
    assert (single.birge, single.scale, single.chi2_p) == (None, 1.0, None)
    assert birge_ratio(8.0, 2) == 2.0
    assert pdg_scale(8.0, 2) == 2.0
    assert pdg_scale(0.5, 2) == 1.0
    assert pdg_scale(0.0, 0) == 1.0
    three = inverse_variance([10.0, 12.0, 20.0], [1.0, 1.0, 1.0])
    assert three.value == pytest.approx(14.0)
    assert three.birge == pytest.approx(math.sqrt((16 + 4 + 36) / 2))
    with pytest.raises(ValueError, match="dof"):
        birge_ratio(1.0, 0)


values_and_sigmas = st.integers(1, 6).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0, 1e4), min_size=n, max_size=n),
        st.lists(st.floats(1.0, 1e3), min_size=n, max_size=n),
    )
)


@settings(max_examples=100, deadline=None)
@given(values_and_sigmas)
def test_blue_equals_inverse_variance_without_correlation(
    vs: tuple[list[float], list[float]],
) -> None:
    x, s = vs
    iv, b = inverse_variance(x, s), blue(x, s, np.eye(len(x)))
    assert b.method == "BLUE"
    assert b.value == pytest.approx(iv.value, rel=1e-9, abs=1e-9)
    assert b.sigma == pytest.approx(iv.sigma, rel=1e-9)
    assert b.weights == pytest.approx(iv.weights, rel=1e-9, abs=1e-12)
    assert b.chi2 == pytest.approx(iv.chi2, rel=1e-6, abs=1e-6)


def test_blue_with_correlation_by_hand() -> None:
    # Two estimates: w1 = (s2^2 - r s1 s2)/(s1^2 + s2^2 - 2 r s1 s2),
    # sigma^2 = s1^2 s2^2 (1 - r^2)/(s1^2 + s2^2 - 2 r s1 s2).
    half = blue([1000.0, 700.0], [100.0, 200.0], [[1.0, 0.5], [0.5, 1.0]])
    assert half.weights == pytest.approx((1.0, 0.0), abs=1e-12)  # r = s1/s2: w2 = 0
    assert half.value == pytest.approx(1000.0)
    assert half.sigma == pytest.approx(100.0)
    assert half.chi2 == pytest.approx(3.0)
    strong = blue([1000.0, 700.0], [100.0, 200.0], [[1.0, 0.8], [0.8, 1.0]])
    assert strong.weights == pytest.approx((4 / 3, -1 / 3))  # a negative weight is BLUE
    assert strong.value == pytest.approx(1100.0)
    assert strong.sigma == pytest.approx(math.sqrt(8000.0))
    assert strong.chi2 == pytest.approx(5.0)
    # Positive correlation of equal-sigma estimates: same mean, larger sigma than if independent.
    eq = blue([900.0, 1100.0], [100.0, 100.0], [[1.0, 0.6], [0.6, 1.0]])
    assert eq.value == pytest.approx(1000.0)
    assert eq.sigma == pytest.approx(100.0 * math.sqrt(1.6 / 2))
    assert eq.sigma > inverse_variance([900.0, 1100.0], [100.0, 100.0]).sigma


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1.0, 1.0], [1.0, 1.0]], "not positive definite"),
        ([[1.0, 0.5], [0.4, 1.0]], "symmetric"),
        ([[0.9, 0.0], [0.0, 1.0]], "diagonal"),
        ([[1.0, 1.5], [1.5, 1.0]], r"\[-1, 1\]"),
        ([[1.0]], "must be 2 x 2"),
    ],
)
def test_blue_refuses_bad_correlation_matrices(matrix: list[list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        blue([1.0, 2.0], [1.0, 2.0], matrix)


def test_fusion_refuses_bad_inputs() -> None:
    with pytest.raises(ValueError, match="sigmas must be positive"):
        inverse_variance([1.0, 2.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="equal-length"):
        inverse_variance([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least one"):
        inverse_variance([], [])


def test_declaration_test_p_value_for_known_z() -> None:
    at_95 = declaration_test(1000.0 + Z95 * 100.0, 100.0, 1000.0, 0.0)
    assert at_95.z == pytest.approx(Z95)
    assert at_95.p_value == pytest.approx(0.05)
    even = declaration_test(1000.0, 60.0, 1000.0, 80.0)
    assert even.sigma == pytest.approx(100.0)
    assert (even.z, even.p_value) == (0.0, 0.5)
    over = declaration_test(900.0, 60.0, 1000.0, 80.0)  # declared more than estimated
    assert over.z == pytest.approx(-1.0)
    assert over.p_value == pytest.approx(0.8413447460685429)


def test_upper_bound_of_the_undeclared_amount() -> None:
    # d = 0: the posterior is a half-normal; its 95% point is Phi^-1(0.975).
    assert undeclared_upper_bound(0.0, 1.0) == pytest.approx(Z975)
    assert undeclared_upper_bound(0.0, 50.0, level=0.9) == pytest.approx(50.0 * Z95)
    # Far above zero the cut does not matter: d + 1.645 s.
    assert undeclared_upper_bound(1000.0, 100.0) == pytest.approx(1000.0 + Z95 * 100.0)
    # Far below zero: an exponential tail of rate |d|/s^2, bound s^2 ln(20)/|d|, still > 0.
    assert undeclared_upper_bound(-1000.0, 1.0) == pytest.approx(math.log(20) / 1000, rel=1e-4)
    assert p_undeclared_exceeds(0.0, 1.0, 1.0) == pytest.approx(2 * 0.15865525393145707)
    assert p_undeclared_exceeds(5.0, 1.0, 0.0) == 1.0


@settings(max_examples=100, deadline=None)
@given(st.floats(-20, 20), st.floats(0.1, 10), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_upper_bound_is_the_posterior_quantile(d: float, s: float, level: float) -> None:
    upper = undeclared_upper_bound(d, s, level)
    assert upper > 0
    assert p_undeclared_exceeds(d, s, upper) == pytest.approx(1 - level, rel=1e-6)
    assert undeclared_upper_bound(d + 1.0, s, level) > upper


def test_reconcile_two_estimates_against_a_declaration() -> None:
    r = reconcile(
        800.0,
        0.0,
        [estimate(party="a"), estimate(party="b", value=700_000.0, u=200_000.0, unit="kg")],
        goal=100.0,
    )
    assert [(e.party, e.value, e.u) for e in r.used] == [("a", 1000.0, 100.0), ("b", 700.0, 200.0)]
    assert [e.weight for e in r.used] == pytest.approx([0.8, 0.2])
    assert r.fusion is not None and r.fusion.value == pytest.approx(940.0)
    assert r.independent is None  # no correlations: the fusion is the independent one
    assert r.test is not None
    assert r.test.estimate_u == pytest.approx(120.0)  # the PDG-scaled sigma
    assert r.test.z == pytest.approx(140.0 / 120.0)
    assert r.test.upper == pytest.approx(undeclared_upper_bound(140.0, 120.0))
    assert r.test.p_goal == pytest.approx(p_undeclared_exceeds(140.0, 120.0, 100.0))
    doc = json.loads(json.dumps(r.to_json(), allow_nan=False))
    assert doc["fusion"]["birge_ratio"] == pytest.approx(math.sqrt(1.8))
    assert doc["test"]["z"] == pytest.approx(140.0 / 120.0)
    assert doc["left_out"] == []


def test_reconcile_lists_what_it_leaves_out_and_why() -> None:
    estimates = [
        estimate(party="a"),
        estimate(party="b", value=None, u=None, remark="considerably lower"),
        estimate(party="c", scope="category", category=1, value=600.0, u=50.0),
        estimate(party="d", scope="sites", unit="sites", value=23.0, u=2.0),
        estimate(party="e", value=950.0, u=0.0),
    ]
    r = reconcile(1000.0, 10.0, estimates)
    assert [e.party for e in r.used] == ["a"]
    reasons = {e.party: (e.index, e.reason) for e in r.left_out}
    assert reasons == {
        "b": (1, "unquantified: considerably lower"),
        "c": (2, "scope category 1, the comparison's is total"),
        "d": (3, "scope sites, the comparison's is total"),
        "e": (4, "u = 0: an estimate without an uncertainty cannot be weighted"),
    }
    category = reconcile(650_000.0, 0.0, estimates, unit="kg", scope="category", category=1)
    assert [(e.party, e.value, e.u) for e in category.used] == [("c", 600_000.0, 50_000.0)]
    sites = reconcile(20.0, 0.0, estimates, unit="sites", scope="sites")
    assert [e.party for e in sites.used] == ["d"]


def test_reconcile_without_usable_estimates_still_reports() -> None:
    r = reconcile(1000.0, 10.0, [estimate(value=None, u=None, remark="no figure")])
    assert (r.fusion, r.test, r.used) == (None, None, ())
    doc = json.loads(json.dumps(r.to_json(), allow_nan=False))
    assert doc["fusion"] is None and doc["left_out"][0]["reason"] == "unquantified: no figure"


def test_reconcile_with_correlations_uses_blue_and_shows_the_independent_fusion() -> None:
    estimates = [
        estimate(party="a"),
        estimate(party="x", value=None, u=None, remark="no figure"),
        estimate(party="b", value=700.0, u=200.0),
    ]
    matrix = [[1.0, 0.3, 0.8], [0.3, 1.0, 0.0], [0.8, 0.0, 1.0]]
    by_matrix = reconcile(800.0, 0.0, estimates, matrix)
    by_pairs = reconcile(800.0, 0.0, estimates, {(0, 2): 0.8, (2, 0): 0.8})
    for r in (by_matrix, by_pairs):
        assert r.fusion is not None and r.fusion.method == "BLUE"
        assert r.fusion.value == pytest.approx(1100.0)
        assert [e.weight for e in r.used] == pytest.approx([4 / 3, -1 / 3])
        assert r.independent is not None and r.independent.value == pytest.approx(940.0)
    assert by_matrix.to_json() == by_pairs.to_json()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"correlations": {(0, 1): 0.5, (1, 0): 0.4}}, "disagree"),
        ({"correlations": {(0, 5): 0.5}}, r"\(0, 5\) is not a pair"),
        ({"correlations": {(1, 1): 0.5}}, r"\(1, 1\) is not a pair"),
        ({"correlations": [[1.0]]}, "must be 2 x 2"),
        ({"unit": "t", "scope": "sites"}, "scope 'sites' cannot be in unit 't'"),
        ({"scope": "category"}, "category is given exactly when"),
        ({"level": 1.0}, "level"),
        ({"goal": -1.0}, "goal"),
    ],
)
def test_reconcile_refusals(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        reconcile(1000.0, 10.0, [estimate(), estimate(party="b")], **kw)


def test_declaration_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="declared must be finite and >= 0"):
        reconcile(-1.0, 0.0, [estimate()])
    with pytest.raises(ValueError, match="declared_u"):
        reconcile(1.0, float("nan"), [estimate()])
    with pytest.raises(ValueError, match="cannot both be 0"):
        declaration_test(1.0, 0.0, 1.0, 0.0)


def test_an_estimate_is_compared_only_with_the_declared_total_of_its_scope() -> None:
    """An estimate of Category 1 less isopropanol is left out of a comparison of the whole
    of Category 1 (and of the total), and used against the declared total of its scope;
    its uncertainty basis and source travel with it."""
    narrow = estimate(
        party="us",
        scope="category",
        category=1,
        excludes=["isopropanol"],
        u_basis="assumed",
        source="5: ~1,000 metric tons",
    )
    whole = reconcile(1000.0, 3.0, [narrow], scope="category", category=1)
    assert whole.used == () and whole.test is None
    assert "less isopropanol" in whole.left_out[0].reason
    matched = reconcile(
        878.0, 2.0, [narrow], scope="category", category=1, excludes=["isopropanol"]
    )
    [used] = matched.used
    assert (used.u_basis, used.source) == ("assumed", "5: ~1,000 metric tons")
    doc = matched.to_json()
    assert doc["scope_label"] == "category 1 less isopropanol" and doc["assumed_u_only"]
    assert matched.test is not None and matched.test.difference == pytest.approx(122.0)
