"""The CBV 2.0 event hash: every JSON-LD vector of the reference implementation, and properties."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cwledger.epcis import document_hashes, event_hash, event_prehash
from cwledger.epcis.gs1keys import canonical_gs1_key, check_digit
from cwledger.epcis.hash import canonical_time, canonical_value, document_events, hash_id

from ._shared import HASH_VECTORS, load

FILES = ("event_hash_vectors_jsonld.json", "event_hash_gs1_examples.json")
FILES += ("event_hash_equivalence.json",)

# The reference implementation keeps the prefixes of every document it reads in one
# module-level dict, for the rest of the process. These two GS1 examples were hashed after
# documents that bind "example"; their expected pre-hash expands "example:x" although their
# own @context does not bind "example". We reproduce them by supplying that binding.
LEAKED = {
    "association_event_all_possible_fields": {"example": "http://ns.example.com/epcis/"},
    "object_event_all_possible_fields": {"example": "http://ns.example.com/epcis/"},
}


def _ignore_fields(doc: dict[str, Any]) -> list[str]:
    """The non-standard ``ignoreFields`` option of the reference implementation, if any."""
    results = doc["epcisBody"].get("queryResults", {})
    return list(
        doc.get("repository-x:ignoreFields") or results.get("repository-x:ignoreFields") or []
    )


def _cases() -> list[Any]:
    cases = []
    for name in FILES:
        for vector in load(HASH_VECTORS / name)["vectors"]:
            if "document" not in vector:  # an XML document: out of scope (JSON-LD only)
                continue
            for exp in vector["expected"]:
                case = (vector["name"], vector["document"], exp)
                cases.append(
                    pytest.param(*case, id=f"{name[11:-5]}:{vector['name']}:{exp['event_index']}")
                )
    return cases


CASES = _cases()


def test_every_json_ld_vector_is_collected() -> None:
    assert len(CASES) == 43 + 23 + 2  # events per file, as the vectors README counts them


@pytest.mark.parametrize(("name", "doc", "expected"), CASES)
def test_vector_prehash_and_hash(name: str, doc: dict[str, Any], expected: dict[str, Any]) -> None:
    context = doc["@context"] + [LEAKED[name]] if name in LEAKED else doc["@context"]
    event = document_events(doc)[expected["event_index"]]
    prehash = event_prehash(event, context, ignore_fields=_ignore_fields(doc))
    assert prehash == expected["prehash"]
    assert event_hash(event, context, ignore_fields=_ignore_fields(doc)) == expected["hash"]
    assert hash_id(expected["prehash"]) == expected["hash"]


@pytest.mark.parametrize("name", sorted(LEAKED))
def test_leaked_vectors_differ_only_by_the_unbound_prefix(name: str) -> None:
    vector = next(v for v in load(HASH_VECTORS / FILES[1])["vectors"] if v["name"] == name)
    doc = vector["document"]
    ours = event_prehash(document_events(doc)[0], doc["@context"])
    expected = vector["expected"][0]["prehash"]
    assert ours != expected
    assert ours == expected.replace(
        "component=http://ns.example.com/epcis/x", "component=example:x"
    )


def test_ignore_fields_is_an_opt_in_outside_the_standard() -> None:
    vector = next(
        v for v in load(HASH_VECTORS / FILES[0])["vectors"] if "IgnoreFields" in v["name"]
    )
    doc = vector["document"]
    standard = event_prehash(document_events(doc)[0], doc["@context"])
    assert "{https://repository-x.example.com/}hash=" in standard
    assert standard != vector["expected"][0]["prehash"]


def test_document_hashes_in_document_order() -> None:
    for vector in load(HASH_VECTORS / FILES[0])["vectors"]:
        doc = vector["document"]
        if not _ignore_fields(doc):
            assert document_hashes(doc) == [e["hash"] for e in vector["expected"]], vector["name"]


# --- the value rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),
        ("2023-02-02T11:04:03.1425Z", "2023-02-02T11:04:03.143Z"),  # half up (MAPPING.md)
        ("2023-02-02T11:04:03.1424999Z", "2023-02-02T11:04:03.142Z"),
        ("2023-12-31T23:59:59.9996+00:00", "2024-01-01T00:00:00.000Z"),
        ("2005-04-03T20:33:31.116000-06:00", "2005-04-04T02:33:31.116Z"),
        ("2020-01-01T00:00:00", "2020-01-01T00:00:00.000Z"),  # no zone: taken as UTC
        ("yesterday", "yesterday"),
        ("2020-02-30T00:00:00Z", "2020-02-30T00:00:00Z"),  # no such day: left as is
    ],
)
def test_canonical_time(text: str, canonical: str) -> None:
    assert canonical_time(text) == canonical


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1.0", "1"),
        ("200.50", "200.5"),
        ("0.1", "0.1"),
        ("urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("urn:epcglobal:cbv:disp:in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"),
        ("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"),
        (
            "https://example.com/gtin/09780345418913/21/765tz?abc=1",
            "https://id.gs1.org/01/09780345418913/21/765tz",
        ),
        ("https://id.example.org/cwl/item/C-1", "https://id.example.org/cwl/item/C-1"),
        ("geo:47.506694,11.104301", "geo:47.506694,11.104301"),
        ("NaN", "NaN"),
    ],
)
def test_canonical_value(text: str, canonical: str) -> None:
    assert canonical_value(text) == canonical


def test_check_digit_and_private_uris() -> None:
    assert check_digit("1061414107346") == "4"
    assert check_digit("04012345000000111") == "2"  # SSCC 040123450000001112
    assert canonical_gs1_key("https://id.example.org/cwl/lot/0123456789") is None
    assert canonical_gs1_key("urn:epc:id:sgtin:0614141.10734.2017") is None  # 12 digits
    assert canonical_gs1_key("urn:epc:id:giai:4012345." + "A" * 24) is None  # over 30


# --- properties ------------------------------------------------------------------------------

BASE = "https://id.example.org/cwl/"
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"cwl": BASE + "voc/"}]
ids = st.from_regex(r"\A[A-Z]{1,3}-[0-9]{1,4}\Z")
moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))


def _z(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """An ObjectEvent of ours with instances, lots, transactions and extensions."""
    epcs = draw(
        st.lists(ids.map(lambda i: BASE + "item/" + i), min_size=2, max_size=6, unique=True)
    )
    lots = draw(st.lists(ids.map(lambda i: BASE + "lot/" + i), max_size=3, unique=True))
    kg = st.floats(min_value=0, max_value=1e7, allow_nan=False)
    return {
        "type": "ObjectEvent",
        "eventTime": _z(draw(moments)),
        "eventTimeZoneOffset": "+00:00",
        "epcList": epcs,
        "quantityList": [{"epcClass": lot, "quantity": draw(kg), "uom": "KGM"} for lot in lots],
        "action": draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"])),
        "bizStep": draw(st.sampled_from(["shipping", "receiving", "inspecting", "stock_taking"])),
        "disposition": draw(st.sampled_from(["in_transit", "in_progress", "conformant"])),
        "readPoint": {"id": BASE + "site/" + draw(ids)},
        "bizTransactionList": [
            {"type": BASE + "voc/BTT-transfer", "bizTransaction": BASE + "transfer/" + draw(ids)},
            {"type": "desadv", "bizTransaction": BASE + "transfer/" + draw(ids)},
        ],
        "sensorElementList": [
            {"sensorReport": [{"type": "Mass", "value": draw(kg), "uom": "KGM"}]}
        ],
        "cwl:note": draw(st.text(max_size=20)),
        "cwl:route": {"source": draw(ids), "type": "road", "destination": draw(ids)},
        "cwl:photos": draw(st.lists(st.from_regex(r"\A[0-9a-f]{64}\Z"), max_size=3)),
    }


def _shuffled(value: Any, rnd: random.Random) -> Any:
    """The same JSON with every object's keys and every unordered list in another order."""
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        return {k: _shuffled(value[k], rnd) for k in keys}
    if isinstance(value, list):
        items = [_shuffled(v, rnd) for v in value]
        rnd.shuffle(items)
        return items
    return value


@given(events(), st.randoms(use_true_random=False))
def test_hash_ignores_key_order_and_list_order(event: dict[str, Any], rnd: random.Random) -> None:
    shuffled = _shuffled(event, rnd)
    assert event_hash(shuffled, CONTEXT) == event_hash(event, CONTEXT)


@given(events(), ids, moments)
def test_hash_ignores_event_id_record_time_and_error_declaration(
    event: dict[str, Any], other: str, when: datetime
) -> None:
    changed = copy.deepcopy(event) | {"eventID": f"urn:uuid:{other}", "recordTime": _z(when)}
    changed["errorDeclaration"] = {"declarationTime": _z(when), "reason": "incorrect_data"}
    assert event_hash(changed, CONTEXT) == event_hash(event, CONTEXT)


@given(events(), st.integers(min_value=1, max_value=10**9))
def test_hash_depends_on_event_time(event: dict[str, Any], millis: int) -> None:
    moment = datetime.fromisoformat(event["eventTime"])
    later = event | {"eventTime": _z(moment + timedelta(milliseconds=millis))}
    assert event_hash(later, CONTEXT) != event_hash(event, CONTEXT)


@given(events(), st.integers(min_value=-12 * 60, max_value=14 * 60))
def test_hash_depends_on_the_instant_not_its_time_zone(event: dict[str, Any], minutes: int) -> None:
    moment = datetime.fromisoformat(event["eventTime"])
    local = moment.astimezone(timezone(timedelta(minutes=minutes)))
    other = event | {"eventTime": local.isoformat(timespec="milliseconds")}
    assert event_hash(other, CONTEXT) == event_hash(event, CONTEXT)


@given(events(), st.from_regex(r"\A[a-z]{1,10}\Z"))
def test_hash_covers_extensions(event: dict[str, Any], note: str) -> None:
    changed = event | {"cwl:note": f"{event['cwl:note']}|{note}"}
    assert event_hash(changed, CONTEXT) != event_hash(event, CONTEXT)
