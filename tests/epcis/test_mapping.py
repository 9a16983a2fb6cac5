"""Our events to EPCIS 2.0 and back: exact round trips, valid documents, foreign documents."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from cwledger.book.registry import EVENT_TYPES
from cwledger.epcis import document_hashes, validate_document
from cwledger.epcis.hash import document_events
from cwledger.epcis.mapping import EXPORTED, from_epcis, to_epcis
from cwledger.epcis.vocab import CONTEXT_URL
from cwledger.model.events import Event

from ._shared import EPCIS, EXAMPLES, example_id, load
from .chain import chain

CREATED = "2024-05-01T12:00:00Z"
SHARED_SCHEMA = Draft7Validator(
    load(EPCIS / "EPCIS-JSON-Schema.json"), format_checker=Draft7Validator.FORMAT_CHECKER
)


def _exported(events: list[tuple[int, Event]]) -> list[dict[str, Any]]:
    return [e.model_dump() for _, e in events if e.type in EXPORTED]


def _through_json(doc: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(doc))
    return loaded


def _check_document(doc: dict[str, Any]) -> None:
    """Valid against the shared schema, and every eventID is the event's CBV hash."""
    assert [e.message for e in SHARED_SCHEMA.iter_errors(doc)] == []
    assert validate_document(doc) == []
    assert document_hashes(doc) == [e["eventID"] for e in document_events(doc)]


def test_a_chain_of_custody_comes_back_exactly() -> None:
    events = chain(start=40)
    doc = _through_json(to_epcis(events, created=CREATED))
    _check_document(doc)
    result = from_epcis(doc)
    assert result.refused == []
    assert result.events == _exported(events)


def test_only_the_chain_of_custody_is_exported() -> None:
    doc = to_epcis(chain(), created=CREATED)
    types = {e["cwl:eventType"] for e in document_events(doc)}
    assert types <= EXPORTED
    assert "estimate.recorded" not in json.dumps(doc) and "finding.raised" not in json.dumps(doc)


def test_the_export_is_deterministic_and_always_writes_the_same_context() -> None:
    first = to_epcis(chain(), created=CREATED)
    assert to_epcis(chain(), created=CREATED) == first
    assert first["@context"] == [CONTEXT_URL, {"cwl": "https://id.example.org/cwl/voc/"}]
    other = to_epcis(chain(), base="https://cwl.example.net/ledger/", created=CREATED)
    assert other["@context"] == [CONTEXT_URL, {"cwl": "https://cwl.example.net/ledger/voc/"}]
    _check_document(other)
    assert from_epcis(other).events == _exported(chain())


def test_what_the_standard_fields_say() -> None:
    doc = to_epcis(chain(), created=CREATED)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in document_events(doc):
        by_type.setdefault(e["cwl:eventType"], []).append(e)
    shipped = by_type["transfer.shipped"][0]
    assert (shipped["bizStep"], shipped["disposition"]) == ("shipping", "in_transit")
    assert shipped["quantityList"] == [
        {"epcClass": "https://id.example.org/cwl/lot/L-1", "quantity": 12470.0, "uom": "KGM"}
    ]
    reports = shipped["sensorElementList"][0]["sensorReport"]
    assert [(r["type"], r["value"], r["uom"]) for r in reports] == [
        ("Mass", 998.0, "KGM"),
        ("Mass", 12470.0, "KGM"),
    ]
    assert "cwl:lineOrder" in shipped  # the lot L-1 sits between the containers C-1 and C-3
    received = by_type["transfer.received"][0]
    assert received["sensorElementList"][0]["sensorReport"][0]["value"] == 996.5
    batch = by_type["destruction.batch"][0]
    assert batch["type"] == "TransformationEvent" and batch["bizStep"] == "destroying"
    assert batch["transformationID"] == "https://id.example.org/cwl/batch/B-1"
    assert batch["outputQuantityList"][0]["uom"] == "KGM"
    applied = by_type["seal.applied"][0]
    assert (applied["type"], applied["action"], applied["bizStep"]) == (
        "AssociationEvent",
        "ADD",
        "installing",
    )
    assert by_type["seal.removed"][0]["action"] == "DELETE"
    checks = [e["disposition"] for e in by_type["seal.checked"]]
    assert checks == ["conformant", "non_conformant", "container_open"]
    assert by_type["sample.taken"][0]["bizStep"] == "sampling"
    assert by_type["inventory.taken"][0]["bizStep"] == "stock_taking"
    commissioned = by_type["declaration.submitted"]
    assert {e["bizStep"] for e in commissioned} == {"commissioning"}
    assert commissioned[0]["ilmd"]["cwl:cwcCategory"] == 1
    assert commissioned[0]["ilmd"]["cwl:cwcSchedule"] == "1.B.9"
    vocabularies = doc["epcisHeader"]["epcisMasterData"]["vocabularyList"]
    assert vocabularies[0]["type"] == "urn:epcglobal:epcis:vtype:BusinessLocation"


def test_an_amendment_declares_the_errors_of_the_version_it_amends() -> None:
    doc = to_epcis(chain(), created=CREATED)
    commissioned = [e for e in document_events(doc) if e["bizStep"] == "commissioning"]
    v1 = {
        e["epcList"][0] if "epcList" in e else e["quantityList"][0]["epcClass"]: e
        for e in commissioned[:4]
    }
    v2 = {
        e["epcList"][0] if "epcList" in e else e["quantityList"][0]["epcClass"]: e
        for e in commissioned[4:]
    }
    base = "https://id.example.org/cwl/"
    changed = v1[base + "item/C-1"]["errorDeclaration"]
    assert changed["reason"] == "incorrect_data"
    assert changed["correctiveEventIDs"] == [v2[base + "item/C-1"]["eventID"]]
    assert v1[base + "item/M-1"]["errorDeclaration"]["reason"] == "did_not_occur"
    assert "errorDeclaration" not in v1[base + "item/C-3"]
    assert "errorDeclaration" not in v1[base + "lot/L-1"]


def test_a_changed_event_is_refused_and_the_rest_imported() -> None:
    doc = _through_json(to_epcis(chain(), created=CREATED))
    events = doc["epcisBody"]["eventList"]
    at = next(i for i, e in enumerate(events) if e["cwl:eventType"] == "transfer.received")
    events[at]["sensorElementList"][0]["sensorReport"][0]["value"] = 999.0
    result = from_epcis(doc)
    assert [p.location for p in result.refused] == [f"epcisBody.eventList[{at}]"]
    assert "CBV hash" in result.refused[0].message
    assert len(result.events) == len(_exported(chain())) - 1


def test_a_declaration_without_its_header_is_refused() -> None:
    doc = _through_json(to_epcis(chain()[:2], created=CREATED))
    del doc["epcisHeader"]["epcisMasterData"]["vocabularyList"][1]
    result = from_epcis(doc)
    assert result.events == []
    assert {p.location for p in result.refused} == {
        "epcisBody.eventList[0]",
        "epcisBody.eventList[3]",
    }
    assert all("no header" in p.message for p in result.refused)


def test_a_declaration_missing_an_item_is_refused() -> None:
    doc = _through_json(to_epcis(chain()[:1], created=CREATED))
    del doc["epcisBody"]["eventList"][1]
    result = from_epcis(doc)
    assert result.events == []
    assert "has no commissioning event" in result.refused[0].message


def test_a_part_window_of_the_log_exports_too() -> None:
    events = [(i, e) for i, e in chain() if e.type in ("seal.checked", "seal.removed")]
    doc = _through_json(to_epcis(events, created=CREATED))
    _check_document(doc)
    assert from_epcis(doc).events == _exported(events)


def test_an_invalid_body_is_not_exported() -> None:
    bad = Event(
        type="seal.checked",
        id="E-1",
        time="2014-01-01T00:00:00Z",
        author="insp",
        body={"seal": "S"},
    )
    with pytest.raises(ValueError, match="E-1"):
        to_epcis([(0, bad)], created=CREATED)


# --- varied chains -----------------------------------------------------------------------------

ids = st.from_regex(r"\A[A-Z]{1,3}-[0-9]{1,4}\Z")
texts = st.from_regex(r"\A[A-Za-z][A-Za-z0-9 ]{0,20}[a-z0-9]\Z")
kgs = st.floats(min_value=0, max_value=1e7, allow_nan=False) | st.integers(0, 10**6)


@st.composite
def masses(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"kg": draw(kgs), "method": draw(texts)}
    for key in ("u_random_kg", "u_systematic_kg"):
        if draw(st.booleans()):
            out[key] = draw(st.floats(min_value=0, max_value=1e4, allow_nan=False))
    return out


@st.composite
def times(draw: st.DrawFn, n: int) -> list[str]:
    start = draw(st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2080, 1, 1)))
    # at least a second apart: each stays later than the one before at any precision
    gaps = draw(st.lists(st.integers(10**6, 10**10), min_size=n, max_size=n))
    out = []
    for gap in gaps:
        start += timedelta(microseconds=gap)
        fraction = draw(st.sampled_from(["", "ms", "us"]))
        spec = {"": "seconds", "ms": "milliseconds", "us": "microseconds"}[fraction]
        out.append(start.replace(tzinfo=UTC).isoformat(timespec=spec).replace("+00:00", "Z"))
    return out


@st.composite
def chains(draw: st.DrawFn) -> list[tuple[int, Event]]:
    """A declaration, a seal, a transfer with measured masses, an inventory and a destruction."""
    names = draw(st.lists(ids, min_size=8, max_size=12, unique=True))
    sites, item_ids = names[:3], names[3:]
    items = []
    for ident in item_ids:
        kind = draw(st.sampled_from(["container", "munition", "bulk_lot"]))
        item = {"id": ident, "kind": kind, "declared": draw(masses()), "site": sites[0]}
        item |= {"munition_type": draw(texts)} if kind == "munition" else {"chemical": draw(texts)}
        items.append(item)
    site_list = [
        {
            "id": s,
            "name": draw(texts),
            "kind": "storage",
            "coordinates": {"lat": draw(st.floats(-90, 90)), "lon": draw(st.floats(-180, 180))},
            "party": "dec",
        }
        for s in sites
    ]

    def lines(key: str) -> list[dict[str, Any]]:
        chosen = draw(st.lists(st.sampled_from(item_ids), min_size=1, unique=True))
        return [
            {"item": i, **({key: draw(masses())} if draw(st.booleans()) else {})} for i in chosen
        ]

    def consumed() -> list[dict[str, Any]]:
        chosen = draw(st.lists(st.sampled_from(item_ids), min_size=1, unique=True))
        return [
            {"item": i, **({"kg": draw(st.floats(0.001, 1e6))} if draw(st.booleans()) else {})}
            for i in chosen
        ]

    when = draw(times(7))
    closes = {"kind": "item", "id": draw(st.sampled_from(item_ids))}
    bodies: list[tuple[str, str, dict[str, Any]]] = [
        (
            "declaration.submitted",
            "dec",
            {
                "version": 1,
                "part": 1,
                "parts": 1,
                "legal_basis": draw(texts),
                "due": "2014-06-30",
                "sites": site_list,
                "items": items,
            },
        ),
        ("seal.applied", "insp", {"seal": draw(ids), "type": "tag", "closes": closes}),
        (
            "transfer.shipped",
            "dec",
            {
                "transfer": draw(ids),
                "origin": sites[0],
                "destination": sites[1],
                "due": when[5],
                "items": lines("measured"),
            },
        ),
        (
            "transfer.received",
            "dec",
            {"transfer": draw(ids), "site": sites[1], "items": lines("measured")},
        ),
        (
            "inventory.taken",
            "insp",
            {"site": sites[1], "complete": draw(st.booleans()), "items": lines("measured")},
        ),
        (
            "destruction.batch",
            "dec",
            {
                "batch": draw(ids),
                "method": draw(texts),
                "venue": sites[2],
                "start": when[0],
                "end": when[6],
                "items": consumed(),
                "products": [
                    {"item": "P-" + draw(ids), "label": draw(texts), "mass": draw(masses())}
                ],
            },
        ),
        ("destruction.verified", "insp", {"batch": draw(ids), "confirmed": draw(st.booleans())}),
    ]
    event_ids = draw(st.lists(ids, min_size=len(bodies), max_size=len(bodies), unique=True))
    index = draw(st.integers(0, 10**6))
    out = []
    for n, (kind, author, body) in enumerate(bodies):
        EVENT_TYPES[kind].body.model_validate(body)
        index += draw(st.integers(1, 1000))
        out.append(
            (index, Event(type=kind, id=event_ids[n], time=when[n], author=author, body=body))
        )
    return out


@settings(max_examples=40)
@given(chains())
def test_varied_chains_come_back_exactly(events: list[tuple[int, Event]]) -> None:
    doc = _through_json(to_epcis(events, created=CREATED))
    _check_document(doc)
    result = from_epcis(doc)
    assert result.refused == []
    assert result.events == _exported(events)


# --- foreign documents -------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=example_id)
@pytest.mark.parametrize("author", ["obs", None])
def test_every_official_example_imports_or_is_refused_with_a_reason(
    path: Path, author: str | None
) -> None:
    doc = load(path)
    result = from_epcis(doc, author=author)
    assert len(result.events) + len(result.refused) == len(document_events(doc))
    for problem in result.refused:
        assert problem.location.startswith("epcisBody.") and len(problem.message) > 20
    for event in result.events:
        Event.model_validate(event)
        EVENT_TYPES[event["type"]].body.model_validate(event["body"])
        assert event["author"] == author


def test_a_goods_receipt_becomes_a_transfer_receipt() -> None:
    result = from_epcis(load(EPCIS / "examples" / "Example_9.6.1-ObjectEvent.jsonld"), author="obs")
    (received,) = result.events
    assert received["type"] == "transfer.received"
    assert received["time"] == "2005-04-05T02:33:31.116Z"
    assert received["body"] == {
        "transfer": "urn:epcglobal:cbv:bt:0614141073467:1152",
        "site": "urn:epc:id:sgln:0012345.11111.0",
        "items": [{"item": "urn:epc:id:sgtin:0614141.107346.2018"}],
    }
    (shipping,) = result.refused
    assert shipping.location == "epcisBody.eventList[0]" and "due time" in shipping.message


def test_without_an_author_a_foreign_event_is_refused() -> None:
    result = from_epcis(load(EPCIS / "examples" / "EPCISQueryDocument.jsonld"))
    assert result.events == []
    assert result.refused[1].location == "epcisBody.queryResults.resultsBody.eventList[1]"
    assert "no author" in result.refused[1].message


def test_what_the_ledger_does_not_model_is_named() -> None:
    doc = load(EPCIS / "examples" / "Example_9.6.1-ObjectEvent.jsonld")
    doc["epcisBody"]["eventList"][1]["bizStep"] = "retail_selling"
    reasons = [p.message for p in from_epcis(doc, author="obs").refused]
    assert "ObjectEvent with bizStep 'retail_selling': the ledger records no sales" in reasons


def test_foreign_stock_taking_and_sampling() -> None:
    base = "https://id.example.org/cwl/"
    doc = {
        "@context": [CONTEXT_URL],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": CREATED,
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2020-01-01T10:00:00+02:00",
                    "eventTimeZoneOffset": "+02:00",
                    "action": "OBSERVE",
                    "bizStep": "stock_taking",
                    "epcList": ["urn:epc:id:grai:4012345.55555.1"],
                    "quantityList": [
                        {
                            "epcClass": "urn:epc:class:lgtin:4012345.012345.998877",
                            "quantity": 1.5,
                            "uom": "TNE",
                        }
                    ],
                    "bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"},
                },
                {
                    "type": "TransformationEvent",
                    "eventTime": "2020-01-02T10:00:00Z",
                    "eventTimeZoneOffset": "+00:00",
                    "bizStep": "sampling",
                    "inputEPCList": ["urn:epc:id:grai:4012345.55555.1"],
                    "outputEPCList": ["https://id.gs1.org/8003/04012345555554/1"],
                    "bizLocation": {"id": base + "site/S-1"},
                },
            ]
        },
    }
    assert validate_document(doc) == []
    result = from_epcis(doc, author="insp")
    (inventory,) = result.events
    assert inventory["type"] == "inventory.taken" and inventory["time"] == "2020-01-01T08:00:00Z"
    assert inventory["body"]["complete"] is False
    assert inventory["body"]["items"][1]["measured"] == {
        "kg": 1500.0,
        "method": "EPCIS quantity in TNE",
    }
    (sampling,) = result.refused
    assert "is not a ledger id" in sampling.message


@pytest.mark.parametrize(
    "doc",
    [
        None,
        "x",
        [],
        {},
        {"type": "EPCISDocument"},
        {
            "type": "EPCISDocument",
            "epcisBody": {"eventList": [1, None, {}, {"type": "ObjectEvent"}]},
        },
    ],
)
def test_malformed_documents_are_refused_not_raised(doc: Any) -> None:
    result = from_epcis(doc, author="obs")
    assert result.events == [] and result.refused


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))] or [path]
    return [path]


DOC = _through_json(to_epcis(chain(), created=CREATED))
LEAVES = [p for p in _leaves(DOC) if p]
junk = st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.just([]) | st.just({})


@settings(max_examples=150)
@given(st.lists(st.tuples(st.sampled_from(LEAVES), junk), min_size=1, max_size=3))
def test_a_damaged_export_never_crashes_the_import(
    damage: list[tuple[tuple[Any, ...], Any]],
) -> None:
    doc = copy.deepcopy(DOC)
    for path, value in damage:
        target = doc
        for key in path[:-1]:
            target = target[key] if isinstance(target, (dict, list)) else target
        if isinstance(target, dict) or (isinstance(target, list) and path[-1] < len(target)):
            target[path[-1]] = value
    result = from_epcis(doc)
    for event in result.events:
        EVENT_TYPES[event["type"]].body.model_validate(event["body"])
    assert len(result.events) + len(result.refused) >= 1


def test_our_events_come_back_from_a_query_document_too() -> None:
    doc = _through_json(to_epcis(chain(), created=CREATED))
    vocabularies = doc.pop("epcisHeader")["epcisMasterData"]["vocabularyList"]
    events = doc.pop("epcisBody")["eventList"]
    results = {"eventList": events, "vocabularyList": vocabularies}
    doc |= {"type": "EPCISQueryDocument"}
    doc["epcisBody"] = {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": results}}
    assert validate_document(doc) == []
    result = from_epcis(doc)
    assert result.refused == [] and result.events == _exported(chain())
