"""Independent estimates and findings (status rules and history)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cwledger.model import (
    Estimate,
    Finding,
    FindingStatus,
    IllegalTransition,
    StatusChange,
    apply_status,
)

OPEN, RESOLVED, CLOSED = list(FindingStatus)


def estimate(**kw: Any) -> Estimate:
    """A total-mass estimate with defaults."""
    base = {"party": "obs", "value": 1000.0, "u": 100.0, "unit": "t", "method": "open sources"}
    return Estimate.model_validate({**base, "scope": "total", **kw})


def test_estimate_scopes() -> None:
    assert estimate().category is None
    assert estimate(scope="category", category=1).category == 1
    assert estimate(scope="sites", unit="sites", value=23.0).unit == "sites"
    e = estimate(scope="category", category=2, unit="kg")
    assert Estimate.model_validate_json(e.model_dump_json()) == e


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"scope": "category"}, "scope 'category' needs a category"),
        ({"category": 2}, "category 2 given but scope is 'total'"),
        ({"scope": "sites"}, "unit must be 'sites', not 't'"),
        ({"unit": "sites"}, "scope 'total' is a mass: unit must be 't' or 'kg'"),
    ],
)
def test_estimate_scope_rules_say_what_is_wrong(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as e:
        estimate(**kw)
    assert "estimate by obs" in str(e.value) and message in str(e.value)


@pytest.mark.parametrize(("field", "value"), [("u", -1.0), ("value", -5.0), ("unit", "lb")])
def test_estimate_field_refusals_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        estimate(**{field: value})


def finding(**kw: Any) -> Finding:
    """Finding 4, open, with one evidence event."""
    base = {"number": 4, "title": "Item not found", "opened_by": "ev-1", "evidence": ["ev-1"]}
    return Finding.model_validate({**base, **kw})


def test_resolve_then_reopen_then_close_records_history() -> None:
    f = apply_status(finding(), RESOLVED, "ev-2")
    f = apply_status(f, OPEN, "ev-3")
    f = apply_status(f, CLOSED, "ev-4")
    assert f.status is CLOSED
    assert f.history == [
        StatusChange(event="ev-2", status=RESOLVED),
        StatusChange(event="ev-3", status=OPEN),
        StatusChange(event="ev-4", status=CLOSED),
    ]
    assert Finding.model_validate_json(f.model_dump_json()) == f


def test_same_status_again_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="finding 4 is open: cannot become open again"):
        apply_status(finding(), OPEN, "ev-2")


def test_closed_or_resolved_may_only_be_reopened() -> None:
    resolved = apply_status(finding(), RESOLVED, "ev-2")
    with pytest.raises(
        IllegalTransition,
        match=r"finding 4 is resolved: cannot become closed_unresolvable \(reopen it first\)",
    ):
        apply_status(resolved, CLOSED, "ev-3")


def test_status_must_match_history() -> None:
    with pytest.raises(ValidationError, match="finding 4: status is resolved but its history"):
        finding(status="resolved")
    with pytest.raises(ValidationError, match="opened_by"):
        finding(opened_by="ev 1")


@given(st.lists(st.sampled_from(FindingStatus), max_size=10))
def test_any_sequence_keeps_status_equal_to_last_history_entry(
    wanted: list[FindingStatus],
) -> None:
    f = finding()
    for n, status in enumerate(wanted):
        try:
            f = apply_status(f, status, f"ev-{n + 10}")
        except IllegalTransition:
            continue
    assert f.status is (f.history[-1].status if f.history else OPEN)
    assert all(a.status != b.status for a, b in zip(f.history, f.history[1:], strict=False))
