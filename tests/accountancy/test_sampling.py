"""Attribute sampling: exact hypergeometric sizes, the IAEA approximation, stratified plans."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.accountancy.sampling import (
    Stratum,
    exact_sample_size,
    goal_items,
    iaea_sample_size,
    imperfect_non_detection,
    imperfect_sample_size,
    non_detection,
    plan,
)

BETAS = st.integers(1, 99).map(lambda k: k / 100)


def exact_beta(N: int, M: int, n: int) -> Fraction:
    return Fraction(math.comb(N - M, n), math.comb(N, n))


@pytest.mark.parametrize(
    ("N", "M", "beta", "exact", "iaea"),
    [
        (1000, 10, 0.10, 205, 206),
        (100, 3, 0.05, 63, 64),
        (1000, 10, 0.05, 258, 259),
        (1000, 50, 0.10, 44, 46),
    ],
)
def test_sample_sizes_of_methods_1_1(N: int, M: int, beta: float, exact: int, iaea: int) -> None:
    assert exact_sample_size(N, M, beta) == exact
    assert iaea_sample_size(N, M, beta) == iaea
    assert exact_beta(N, M, exact) <= Fraction(str(beta)) < exact_beta(N, M, exact - 1)


@pytest.mark.parametrize("N", [1, 7, 100, 1000, 12345])
@pytest.mark.parametrize("beta", [0.01, 0.05, 0.1, 0.2, 0.5, 0.9])
def test_one_falsified_item_needs_n_equal_to_n_times_one_minus_beta(N: int, beta: float) -> None:
    # beta = (N - n)/N exactly, so the smallest n is ceil(N (1 - beta)), ties included.
    expected = math.ceil(N * (1 - Fraction(str(beta))))
    assert exact_sample_size(N, 1, beta) == expected
    assert iaea_sample_size(N, 1, beta) == expected
    assert non_detection(N, 1, expected) == (N - expected) / N


@pytest.mark.parametrize(("N", "M"), [(10, 3), (50, 1), (50, 50), (200, 7), (200, 150), (1, 1)])
def test_non_detection_is_the_hypergeometric_ratio(N: int, M: int) -> None:
    for n in range(N + 1):
        want = float(exact_beta(N, M, n)) if n <= N - M else 0.0
        assert non_detection(N, M, n) == pytest.approx(want, rel=1e-12, abs=0)


def test_non_detection_edges() -> None:
    assert non_detection(100, 0, 50) == 1.0
    assert non_detection(100, 5, 0) == 1.0
    assert non_detection(100, 5, 96) == 0.0
    assert non_detection(10**7, 3, 10**6) == pytest.approx(0.9**3, rel=1e-6)
    assert 0.0 <= non_detection(10**6, 10**5, 10**5) < 1e-300


def test_large_populations_are_fast_and_consistent() -> None:
    n = exact_sample_size(10**7, 3, 0.05)
    assert n in range(iaea_sample_size(10**7, 3, 0.05) - 3, iaea_sample_size(10**7, 3, 0.05) + 1)
    assert non_detection(10**7, 3, n) <= 0.05 < non_detection(10**7, 3, n - 1)


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 20000), st.data(), BETAS)
def test_exact_size_is_at_most_iaea_and_within_its_review_range(
    N: int, data: st.DataObject, beta: float
) -> None:
    # The review range {n_IAEA - 3..n_IAEA} holds for beta >= 0.01 and M <= N/2; outside
    # (M = N, beta = 0.01; M = N/2, beta = 0.001) the gap grows.
    M = data.draw(st.integers(1, N // 2))
    exact, iaea = exact_sample_size(N, M, beta), iaea_sample_size(N, M, beta)
    assert iaea - 3 <= exact <= iaea
    target = Fraction(str(beta))
    assert exact_beta(N, M, exact) <= target
    assert exact == 0 or exact_beta(N, M, exact - 1) > target


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_beta_is_monotone_decreasing_in_n(N: int, data: st.DataObject) -> None:
    M = data.draw(st.integers(1, N))
    betas = [non_detection(N, M, n) for n in range(N + 1)]
    assert betas[0] == 1.0
    for n in range(1, N + 1):
        if n <= N - M:
            assert betas[n] < betas[n - 1]
        else:
            assert betas[n] == 0.0


def test_goal_items() -> None:
    assert goal_items(10.0, 1.0) == 10
    assert goal_items(10.0, 1.0, 0.5) == 20
    assert goal_items(1.1, 0.1) == 11  # 1.1/0.1 = 11.000000000000002 in floats
    assert goal_items(10.5, 1.0) == 11
    assert goal_items(0.2, 1.0) == 1


@pytest.mark.parametrize(
    ("args", "name"),
    [((0.0, 1.0), "Q_goal"), ((1.0, -1.0), "x_bar"), ((1.0, 1.0, 0.0), "f"), ((1, 1, 1.5), "f")],
)
def test_goal_items_refusals_name_the_input(args: tuple[float, ...], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        goal_items(*args)


def test_imperfect_test_matches_the_hypergeometric_expectation() -> None:
    N, M, n, q = 40, 4, 12, 0.7
    want = sum(
        Fraction(math.comb(M, j) * math.comb(N - M, n - j), math.comb(N, n)) * Fraction(3, 10) ** j
        for j in range(M + 1)
    )
    assert imperfect_non_detection(N, M, n, q) == pytest.approx(float(want), rel=1e-9)
    assert imperfect_non_detection(N, M, n, 1.0) == non_detection(N, M, n)
    assert imperfect_non_detection(N, M, N, q) == pytest.approx(0.3**M)


def test_imperfect_sample_size() -> None:
    n_perfect = iaea_sample_size(1000, 10, 0.1)
    assert imperfect_sample_size(1000, 10, 0.1, 1.0) == n_perfect
    assert imperfect_sample_size(1000, 10, 0.1, 0.8) == math.ceil(1000 / 0.8 * 0.205672) == 258
    with pytest.raises(ValueError, match="out of reach with q = 0.1"):
        imperfect_sample_size(100, 2, 0.1, 0.1)  # (1 - q)^M = 0.81 > 0.1


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: exact_sample_size(10, 11, 0.1), "M .11 falsified items. cannot exceed N"),
        (lambda: exact_sample_size(0, 0, 0.1), "N must be >= 1"),
        (lambda: exact_sample_size(10, 0, 0.1), "M must be >= 1"),
        (lambda: exact_sample_size(10, 2, 0.0), "beta must be strictly between 0 and 1"),
        (lambda: iaea_sample_size(10, 2, 1.0), "beta must be strictly between 0 and 1"),
        (lambda: iaea_sample_size(10, 2.5, 0.1), "M must be a whole number"),  # type: ignore[arg-type]
        (lambda: non_detection(10, 2, 11), "n .11 verified items. cannot exceed N"),
        (lambda: non_detection(10, -1, 1), "M must be >= 0"),
        (lambda: imperfect_non_detection(10, 2, 5, 0.0), "q"),
    ],
)
def test_impossible_inputs_are_refused_by_name(call: Callable[[], object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call()


def test_plan_per_stratum_exact_and_iaea_with_the_achieved_detection() -> None:
    p = plan(
        [
            Stratum("isotanks", items=1000, mean_mass=1.0, missing=10),
            Stratum("drums", items=100, mean_mass=0.2, goal=0.6),
            Stratum("partial", items=500, mean_mass=1.0, goal=20.0, f=0.5, q=0.9),
        ],
        detect=0.9,
    )
    assert p.beta == 0.1 and p.detect == 0.9
    tanks, drums, partial = p.strata
    assert (tanks.missing, tanks.n_exact, tanks.n_iaea) == (10, 205, 206)
    assert tanks.detect_exact == pytest.approx(1 - non_detection(1000, 10, 205))
    assert drums.missing == 3
    assert drums.n_exact == exact_sample_size(100, 3, 0.1)
    assert drums.n_iaea == iaea_sample_size(100, 3, 0.1)
    assert partial.missing == 40
    assert partial.n_exact <= partial.n_iaea == imperfect_sample_size(500, 40, 0.1, 0.9)
    for s in p.strata:
        assert 0.9 <= s.detect_exact <= s.detect_iaea
        assert s.n_exact <= s.n_iaea
    assert p.n_exact == sum(s.n_exact for s in p.strata)
    doc = p.to_json()
    assert doc["strata"][0] == {
        "name": "isotanks",
        "N": 1000,
        "mean_mass": 1.0,
        "M": 10,
        "q": 1.0,
        "n_exact": 205,
        "n_iaea": 206,
        "detect_exact": tanks.detect_exact,
        "detect_iaea": tanks.detect_iaea,
    }


def test_plan_treats_detect_as_a_decimal() -> None:
    # 1 - 0.9 is 0.09999999999999998 in floats; the plan still asks beta = 1/10 exactly.
    (one,) = plan([Stratum("a", items=1000, mean_mass=1.0, missing=1)], 0.9).strata
    assert (one.n_exact, one.n_iaea) == (900, 900)


@pytest.mark.parametrize(
    ("strata", "detect", "message"),
    [
        ([Stratum("a", 10, 1.0, missing=11)], 0.9, "stratum 'a': M .11 falsified items"),
        ([Stratum("a", 10, 1.0, goal=20.0)], 0.9, "stratum 'a': M .20 falsified items"),
        ([Stratum("a", 0, 1.0, missing=1)], 0.9, "stratum 'a': N .items. must be >= 1"),
        ([Stratum("a", 10, 1.0)], 0.9, "exactly one of missing"),
        ([Stratum("a", 10, 1.0, missing=1, goal=1.0)], 0.9, "exactly one of missing"),
        ([Stratum("a", 10, -1.0, missing=1)], 0.9, "mean_mass must be 0 or more"),
        ([Stratum("a", 10, 0.0, goal=1.0)], 0.9, "mean_mass must be positive to size a goal"),
        ([Stratum("a", 10, 1.0, missing=1, q=0.1)], 0.9, "stratum 'a': beta .* out of reach"),
        ([Stratum("a", 10, 1.0, missing=1)], 1.0, "detect"),
        ([Stratum("a", 10, 1.0, missing=1)] * 2, 0.9, "names must be unique"),
        ([], 0.9, "at least one stratum"),
    ],
)
def test_plan_refusals_name_the_input(strata: list[Stratum], detect: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan(strata, detect)
