"""Hostile input over HTTP (issue 13): whatever JSON is thrown at admission, and whatever
time at the read endpoints, the answer is a 4xx problem (or the HTML error page), never a
500, and nothing is written."""

from __future__ import annotations

import base64
import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwledger.errors import EventRejected
from cwledger.ledger.envelope import PAYLOAD_TYPE, Envelope
from cwledger.ledger.ledger import Ledger
from tests.api.conftest import PARTIES, Api, make_api
from tests.conftest import FOUNDING, ORIGIN, row_counts
from tests.ledger.test_hostile_input import HOSTILE_PAYLOADS

READS = ["/api/v1/status", "/api/v1/milestones", "/api/v1/holdings", "/", "/map"]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The API and the pages (public, so that no session is needed) over a new ledger."""
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    yield make_api(led, PARTIES, public_pages=True)
    led.close()


def _envelope(payload: bytes, keyid: str = "deadbeef") -> dict[str, Any]:
    return {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(b"\0" * 64).decode()}],
    }


def _assert_refused(resp: Any) -> None:
    assert 400 <= resp.status_code < 500, resp.text[:300]
    assert "Traceback" not in resp.text


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS.values(), ids=HOSTILE_PAYLOADS.keys())
def test_hostile_payloads_are_refused_over_http(api: Api, payload: bytes) -> None:
    # Garbage that earlier tests in this process left in cycles would otherwise be
    # collected at the JSON parser's recursion limit, where no finaliser can run (each
    # an "exception ignored", which pytest then fails to print at that depth).
    gc.collect()
    before = row_counts(api.ledger)
    for path, doc in (
        ("/api/v1/events", _envelope(payload)),
        ("/api/v1/events/batch", {"envelopes": [_envelope(payload)]}),
    ):
        resp = api.client.post(path, json=doc, headers=api.auth("insp"))
        _assert_refused(resp)
    assert row_counts(api.ledger) == before


@pytest.mark.parametrize("at", ["9999-12-31", "9999-12-31T23:59:59Z", "1969-12-31"])
@pytest.mark.parametrize("path", READS)
def test_a_time_at_the_end_of_the_calendar_is_refused(api: Api, path: str, at: str) -> None:
    resp = api.client.get(path, params={"at": at}, headers=api.auth("insp"))
    assert resp.status_code == 422, resp.text[:300]
    if path.startswith("/api/"):
        assert resp.json()["type"] == "/problems/validation"
    else:
        assert resp.headers["content-type"].startswith("text/html")


# -- properties ------------------------------------------------------------------------------

_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_TEXT = st.text(st.one_of(st.characters(), _SURROGATES), max_size=20)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**53, max_value=10**400),
    st.floats(allow_nan=False),
    _TEXT,
    st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2016-W01-1T10:00:00Z"]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=20,
)


@st.composite
def _payloads(draw: st.DrawFn) -> bytes:
    """Arbitrary JSON text: generated values (escaped surrogates, huge numbers), an event
    with an arbitrary field, or deep nesting around one."""
    kind = draw(st.sampled_from(["value", "event", "deep"]))
    if kind == "deep":
        n = draw(st.integers(min_value=1, max_value=20_000))
        return b'{"body":' + b"[" * n + b"]" * n + b"}"
    value: Any = draw(_JSON)
    if kind == "event":
        field = draw(st.sampled_from(["type", "id", "time", "author", "body"]))
        base = {
            "type": "estimate.recorded",
            "id": "ev-1",
            "time": "2014-01-01T10:00:00Z",
            "author": "insp",
            "body": {},
        }
        value = {**base, field: value}
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


_settings = settings(max_examples=60, suppress_health_check=list(HealthCheck))


@_settings
@given(payload=_payloads())
def test_no_json_gets_a_500_or_writes_anything(api: Api, payload: bytes) -> None:
    before = row_counts(api.ledger)
    keyid = api.ledger.keystore.signer("insp").key_id.hex()
    resp = api.client.post(
        "/api/v1/events", json=_envelope(payload, keyid), headers=api.auth("insp")
    )
    _assert_refused(resp)
    with pytest.raises(EventRejected):
        api.ledger.append([Envelope(PAYLOAD_TYPE, payload, keyid, b"\0" * 64).to_bytes()])
    assert row_counts(api.ledger) == before


@_settings
@given(body=_payloads())
def test_no_request_body_gets_a_500(api: Api, body: bytes) -> None:
    before = row_counts(api.ledger)
    headers = {**api.auth("insp"), "content-type": "application/json"}
    for path in ("/api/v1/events", "/api/v1/events/batch"):
        _assert_refused(api.client.post(path, content=body, headers=headers))
    assert row_counts(api.ledger) == before


_ODD_TIMES = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(["9999-12-31", "0001-01-01", "2016-W01-1T10:00:00Z", "1" + "0" * 5000]),
)


@_settings
@given(at=_ODD_TIMES, path=st.sampled_from([*READS, "/api/v1/events"]))
def test_no_time_gets_a_500_at_the_read_endpoints(api: Api, at: str, path: str) -> None:
    before = row_counts(api.ledger)
    name = "since" if path == "/api/v1/events" else "at"
    resp = api.client.get(path, params={name: at}, headers=api.auth("insp"))
    assert resp.status_code < 500, resp.text[:300]
    assert row_counts(api.ledger) == before
