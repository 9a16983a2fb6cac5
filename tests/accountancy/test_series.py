"""The balance series document: round trips, and every refusal with its location."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.accountancy.series import (
    BalanceSeries,
    boundaries,
    load_series,
    parse_series,
    series_to_json,
    slots,
)
from cwledger.errors import EventRejected, MalformedInput

Doc = dict[str, Any]


def _m(kind: str, point: str, method: str, time: str, value: float) -> Doc:
    return {"kind": kind, "point": point, "method": method, "time": time, "value": value}


def small_doc() -> Doc:
    """Two ten-day periods: a feed weighed twice, a product once, a tank at 3 boundaries."""
    return {
        "unit": "kg",
        "periods": [
            {"start": "2014-01-01T00:00:00Z", "end": "2014-01-11T00:00:00Z"},
            {"start": "2014-01-11T00:00:00Z", "end": "2014-01-21T00:00:00Z"},
        ],
        "methods": {
            "scale": {"rsd_random": 0.01, "rsd_systematic": 0.005},
            "gauge": {"rsd_random": 0.002, "rsd_systematic": 0.001},
        },
        "measurements": [
            _m("inventory", "tank", "gauge", "2014-01-01T00:00:00Z", 1000.0),
            _m("input", "feed", "scale", "2014-01-02T08:00:00Z", 120.3),
            _m("input", "feed", "scale", "2014-01-15T08:00:00Z", 80.0),
            _m("output", "product", "scale", "2014-01-20T23:59:59Z", 50.0),
            _m("inventory", "tank", "gauge", "2014-01-11T00:00:00Z", 1120.0),
            _m("inventory", "tank", "gauge", "2014-01-21T00:00:00Z", 1150.0),
        ],
        "page_k": 0.5,
    }


def test_a_valid_document_loads_with_its_slots(tmp_path: Path) -> None:
    path = tmp_path / "series.json"
    path.write_text(json.dumps(small_doc()))
    series = load_series(path)
    assert series.n == 2 and series.unit == "kg"
    assert slots(series) == [0, 0, 1, 1, 1, 2]  # inventories: boundaries; flows: periods
    assert len(boundaries(series)) == 3


# -- round trips ------------------------------------------------------------------------

T0 = datetime(2014, 1, 1, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def series_docs(draw: st.DrawFn) -> Doc:
    """Valid documents: contiguous periods, points of every kind, one method per point."""
    n = draw(st.integers(1, 6))
    days = draw(st.lists(st.integers(1, 40), min_size=n, max_size=n))
    bounds = [T0]
    for d in days:
        bounds.append(bounds[-1] + timedelta(days=d))
    rsd = st.floats(0, 0.2, allow_nan=False)
    methods = {
        f"m-{i}": {"rsd_random": draw(rsd), "rsd_systematic": draw(rsd)}
        for i in range(draw(st.integers(1, 3)))
    }
    value = st.floats(0, 1e9, allow_nan=False, allow_infinity=False)
    measurements: list[Doc] = []
    kinds = draw(
        st.lists(st.sampled_from(["input", "output", "inventory"]), min_size=1, max_size=4)
    )
    for p, kind in enumerate(kinds):
        method = draw(st.sampled_from(sorted(methods)))
        point = f"point {p} ({kind})"
        if kind == "inventory":
            measurements += [_m(kind, point, method, _iso(b), draw(value)) for b in bounds]
            continue
        for _ in range(draw(st.integers(1, 5))):
            i = draw(st.integers(0, n - 1))
            span = int((bounds[i + 1] - bounds[i]).total_seconds())
            at = bounds[i] + timedelta(seconds=draw(st.integers(0, span - 1)))
            measurements.append(_m(kind, point, method, _iso(at), draw(value)))
    order = draw(st.permutations(range(len(measurements))))
    return {
        "unit": draw(st.sampled_from(["kg", "t", "L"])),
        "periods": [{"start": _iso(a), "end": _iso(b)} for a, b in pairwise(bounds)],
        "methods": methods,
        "measurements": [measurements[j] for j in order],
        "page_k": draw(st.floats(0, 3, allow_nan=False)),
    }


@settings(max_examples=60, deadline=None)
@given(series_docs())
def test_round_trip(doc: Doc) -> None:
    series = BalanceSeries.model_validate_json(json.dumps(doc))
    text = series_to_json(series)
    again = BalanceSeries.model_validate_json(text)
    assert again == series
    assert json.loads(text) == json.loads(json.dumps(doc))  # nothing added or rounded
    assert BalanceSeries.model_validate(json.loads(text)) == series
    assert series_to_json(again, indent=2) == series_to_json(series, indent=2)


# -- refusals -----------------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        *head, last = path.split(".")
        node: Any = doc
        for part in head:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _drop(path: str) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        *head, last = path.split(".")
        node: Any = doc
        for part in head:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[int(last) if isinstance(node, list) else last]

    return apply


def _append(measurement: Doc) -> Callable[[Doc], None]:
    return lambda doc: doc["measurements"].append(measurement)


REFUSALS: list[tuple[str, Callable[[Doc], None], str, str]] = [
    (
        "gap",
        _set("periods.1.start", "2014-01-12T00:00:00Z"),
        "periods.1.start",
        "leaving a gap after period 0",
    ),
    (
        "overlap",
        _set("periods.1.start", "2014-01-10T00:00:00Z"),
        "periods.1.start",
        "overlapping period 0",
    ),
    ("empty period", _set("periods.0.end", "2014-01-01T00:00:00Z"), "periods.0.end", "not after"),
    ("no periods", _set("periods", []), "periods", "at least 1 item"),
    ("no measurements", _set("measurements", []), "measurements", "at least 1 item"),
    (
        "inventory mid-period",
        _set("measurements.4.time", "2014-01-11T00:00:01Z"),
        "measurements.4.time",
        "not a period boundary",
    ),
    (
        "flow before the series",
        _set("measurements.1.time", "2013-12-31T23:59:59Z"),
        "measurements.1.time",
        "outside the series",
    ),
    (
        "flow at the last end (half-open)",
        _set("measurements.3.time", "2014-01-21T00:00:00Z"),
        "measurements.3.time",
        "outside the series",
    ),
    (
        "unknown method",
        _set("measurements.1.method", "eyeball"),
        "measurements.1.method",
        "unknown",
    ),
    ("unknown kind", _set("measurements.1.kind", "transfer"), "measurements.1.kind", "'input'"),
    ("NaN value", _set("measurements.1.value", float("nan")), "measurements.1.value", "finite"),
    (
        "infinite value",
        _set("measurements.4.value", float("inf")),
        "measurements.4.value",
        "finite",
    ),
    (
        "negative value",
        _set("measurements.2.value", -1.0),
        "measurements.2.value",
        "greater than or equal to 0",
    ),
    (
        "infinite rsd",
        _set("methods.scale.rsd_random", float("inf")),
        "methods.scale.rsd_random",
        "finite",
    ),
    ("NaN page_k", _set("page_k", float("nan")), "page_k", "finite"),
    ("missing page_k", _drop("page_k"), "page_k", "required"),
    ("string value", _set("measurements.1.value", "120.3"), "measurements.1.value", "number"),
    ("local time", _set("measurements.1.time", "2014-01-02T08:00:00"), "measurements.1.time", "Z"),
    ("unknown field", _set("measurements.0.colour", "red"), "measurements.0.colour", "Extra"),
    (
        "missing inventory",
        _drop("measurements.5"),
        "measurements",
        "'tank' has no inventory at boundary 2 (2014-01-21T00:00:00Z)",
    ),
    (
        "two inventories at one boundary",
        _append(_m("inventory", "tank", "gauge", "2014-01-11T00:00:00Z", 1.0)),
        "measurements.6.time",
        "already has an inventory at boundary 1 (measurements.4)",
    ),
    (
        "a point of two kinds",
        _append(_m("output", "feed", "scale", "2014-01-03T00:00:00Z", 1.0)),
        "measurements.6.kind",
        "'feed' is an input point (measurements.1)",
    ),
    (
        "a point with two methods",
        _append(_m("input", "feed", "gauge", "2014-01-03T00:00:00Z", 1.0)),
        "measurements.6.method",
        "one method",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "location", "fragment"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_every_refusal_is_located(
    mutate: Callable[[Doc], None], location: str, fragment: str
) -> None:
    doc = copy.deepcopy(small_doc())
    mutate(doc)
    with pytest.raises(EventRejected) as caught:
        parse_series(json.dumps(doc))
    found = [(p.location, p.message) for p in caught.value.problems]
    assert any(loc == location and fragment in msg for loc, msg in found), found


def test_every_problem_is_reported_at_once() -> None:
    doc = small_doc()
    doc["measurements"][1]["method"] = "eyeball"
    doc["measurements"][4]["time"] = "2014-01-05T00:00:00Z"
    doc["measurements"][3]["time"] = "2015-01-01T00:00:00Z"
    with pytest.raises(EventRejected) as caught:
        parse_series(json.dumps(doc))
    locations = [p.location for p in caught.value.problems]
    assert locations == [
        "measurements.1.method",
        "measurements.3.time",
        "measurements.4.time",
        "measurements",  # tank: boundary 1 now missing
    ]
    assert "refused" in caught.value.diagnostics()


def test_field_errors_all_come_together() -> None:
    doc = small_doc()
    doc["measurements"][0]["value"] = float("nan")
    doc["measurements"][2]["kind"] = "gift"
    doc["unit"] = ""
    with pytest.raises(EventRejected) as caught:
        parse_series(json.dumps(doc))
    assert [p.location for p in caught.value.problems] == [
        "unit",
        "measurements.0.value",
        "measurements.2.kind",
    ]


def test_not_json_and_unreadable_files_are_malformed_input(tmp_path: Path) -> None:
    with pytest.raises(MalformedInput, match="series: Invalid JSON"):
        parse_series(b'{"unit": "kg",')
    with pytest.raises(MalformedInput, match="cannot read"):
        load_series(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    with pytest.raises(MalformedInput, match="bad.json"):
        load_series(bad)


def test_boundaries_compare_instants_not_text() -> None:
    doc = small_doc()
    doc["measurements"][4]["time"] = "2014-01-11T00:00:00.000Z"
    doc["periods"][0]["end"] = "2014-01-11T00:00:00.000000Z"
    series = parse_series(json.dumps(doc))
    assert slots(series)[4] == 1
