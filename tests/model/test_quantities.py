"""Mass and the agreement of two masses within k combined standard uncertainties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cwledger.model import Mass, masses_agree

from .strategies import mass, masses


def test_combined_uncertainty_is_root_sum_of_squares() -> None:
    assert mass(u_random_kg=3.0, u_systematic_kg=4.0).combined_u_kg == 5.0


def test_agreement_uses_k_times_combined_uncertainty_of_both() -> None:
    a = mass(1000.0, u_random_kg=3.0, u_systematic_kg=0.0)
    b = mass(1010.0, u_random_kg=4.0, u_systematic_kg=0.0)  # |d| = 10, sqrt(9 + 16) = 5
    assert masses_agree(a, b)  # 10 <= 2 * 5
    assert not masses_agree(a, b, k=1.9)
    assert masses_agree(a, mass(1010.0, u_random_kg=4.0, u_systematic_kg=0.0), k=2.0)


def test_exact_masses_agree_only_when_equal() -> None:
    exact = mass(5.0, u_random_kg=0.0, u_systematic_kg=0.0)
    assert masses_agree(exact, exact)
    assert not masses_agree(exact, mass(5.001, u_random_kg=0.0, u_systematic_kg=0.0))


@pytest.mark.parametrize("k", [0.0, -1.0, math.nan, math.inf])
def test_k_must_be_positive_and_finite(k: float) -> None:
    with pytest.raises(ValueError, match="k must be"):
        masses_agree(mass(), mass(), k=k)


@pytest.mark.parametrize("field", ["kg", "u_random_kg", "u_systematic_kg"])
def test_negative_values_are_refused_by_name(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        mass(**{field: -0.1})


def test_nan_and_strings_are_refused() -> None:
    with pytest.raises(ValidationError, match="kg"):
        mass(math.nan)
    with pytest.raises(ValidationError, match="kg"):
        Mass.model_validate({"kg": "12", "method": "w"})


@given(masses, masses, st.floats(min_value=0.1, max_value=5))
def test_agreement_is_symmetric(a: Mass, b: Mass, k: float) -> None:
    assert masses_agree(a, b, k) == masses_agree(b, a, k)


@given(masses)
def test_a_mass_agrees_with_itself_and_round_trips(m: Mass) -> None:
    assert masses_agree(m, m)
    assert Mass.model_validate_json(m.model_dump_json()) == m
