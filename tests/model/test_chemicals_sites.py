"""Chemicals reference rows and sites."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from pydantic import ValidationError

from cwledger.model import AccessStatus, Chemical, Schedule, Site, SiteKind

from .strategies import site, sites


def test_chemical_with_and_without_schedule() -> None:
    df = Chemical.model_validate(
        {
            "label": "DF",
            "cwc_category": 1,
            "schedule": {"number": 1, "part": "B", "entry": 9},
            "removal_priority": "1",
        }
    )
    assert df.schedule == Schedule(number=1, part="B", entry=9)
    assert str(df.schedule) == "Schedule 1.B.9"
    ipa = Chemical(label="isopropanol", cwc_category=2, removal_priority="in-country")
    assert ipa.schedule is None
    assert Chemical.model_validate_json(df.model_dump_json()) == df


@pytest.mark.parametrize(
    ("field", "value"),
    [("cwc_category", 4), ("removal_priority", "3"), ("label", " HD"), ("label", "")],
)
def test_chemical_refusals_name_the_field(field: str, value: object) -> None:
    row = {"label": "HD", "cwc_category": 1, "removal_priority": "1", field: value}
    with pytest.raises(ValidationError, match=field):
        Chemical.model_validate(row)


@pytest.mark.parametrize(
    ("field", "value"), [("number", 4), ("part", "C"), ("entry", 0), ("entry", "3")]
)
def test_schedule_refusals_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Schedule.model_validate({"number": 2, "part": "A", "entry": 3, field: value})


def test_site_enums_validate_from_strings() -> None:
    s = site(kind="mobile_filling_unit", access="abandoned", parent="S-0")
    assert s.kind is SiteKind.MOBILE_FILLING_UNIT
    assert s.access is AccessStatus.ABANDONED
    assert site().access is AccessStatus.ACCESSIBLE


@pytest.mark.parametrize(
    ("kw", "named"),
    [
        ({"kind": "bunker"}, "kind"),
        ({"access": "closed"}, "access"),
        ({"coordinates": {"lat": 91.0, "lon": 0.0}}, "lat"),
        ({"coordinates": {"lat": 0.0, "lon": -180.5}}, "lon"),
        ({"party": "Dec Party"}, "party"),
        ({"id": "S 1"}, "id"),
    ],
)
def test_site_refusals_name_the_field(kw: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        site(**kw)


def test_a_site_is_not_its_own_parent() -> None:
    with pytest.raises(ValidationError, match="site S-7 cannot be its own parent"):
        site("S-7", parent="S-7")


@given(sites)
def test_site_round_trips_through_json(s: Site) -> None:
    assert Site.model_validate_json(s.model_dump_json()) == s
