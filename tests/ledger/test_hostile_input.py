"""Hostile input at admission (issue 13): a receipt is never given for an unchecked
signature; deep nesting, lone surrogates and huge numbers are refused, nothing written."""

from __future__ import annotations

import base64
import json

import pytest

from cwledger.errors import EventRejected
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.envelope import PAYLOAD_TYPE, Envelope
from cwledger.ledger.ledger import Ledger
from cwledger.model.events import Event
from tests.conftest import event, row_counts


def _forged(payload: bytes, keyid: str = "deadbeef", sig: bytes = b"\0" * 64) -> bytes:
    return Envelope(PAYLOAD_TYPE, payload, keyid, sig).to_bytes()


def _payload(raw: dict[str, object], author: str = "insp") -> bytes:
    return canonical_json(Event.model_validate({"author": author, **raw}).model_dump(mode="json"))


def test_a_retry_with_a_forged_signature_gets_no_receipt(ledger: Ledger) -> None:
    ledger.append(ledger.sign([event(5)], "insp"))
    before = row_counts(ledger)
    retry = _payload({**event(5), "time": "2015-06-01T00:00:00Z"})
    with pytest.raises(EventRejected, match="has no key deadbeef"):
        ledger.append([_forged(retry)])
    keyid = ledger.keystore.signer("insp").key_id.hex()
    with pytest.raises(EventRejected, match="does not verify"):
        ledger.append([_forged(retry, keyid=keyid)])
    # Signed by another party's valid key: not the author's.
    other = ledger.keystore.signer("dec")
    env = json.loads(ledger.sign([{**event(5), "time": "2015-06-01T00:00:00Z"}], "insp")[0])
    env["signatures"][0]["keyid"] = other.key_id.hex()
    with pytest.raises(EventRejected):
        ledger.append([json.dumps(env).encode()], submitter="insp")
    assert row_counts(ledger) == before
    # A genuine retry still gets its first receipt.
    [again] = ledger.append(ledger.sign([{**event(5), "time": "2015-06-01T00:00:00Z"}], "insp"))
    assert again.duplicate and row_counts(ledger) == before


HOSTILE_PAYLOADS = {
    "nested 10,000 deep (object)": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "nested 10,000 deep (array)": b'{"body":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "nested 900 deep": b'{"body":{"a":' + b"[" * 900 + b"]" * 900 + b"}}",
    "a lone surrogate": b'{"type":"\\ud800"}',
    "a lone surrogate in a key": b'{"\\udfff":1}',
    "invalid UTF-8": b'{"type":"\xff"}',
    "a 5,000-digit number": b'{"type":1' + b"0" * 5000 + b"}",
    "a huge float": b'{"type":1e999999}',
}


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS.values(), ids=HOSTILE_PAYLOADS.keys())
def test_hostile_payloads_are_refused_and_nothing_is_written(
    ledger: Ledger, payload: bytes
) -> None:
    before = row_counts(ledger)
    with pytest.raises(EventRejected):
        ledger.append([_forged(payload)])
    assert row_counts(ledger) == before


def test_a_lone_surrogate_in_a_real_event_is_refused(ledger: Ledger) -> None:
    raw = {"type": "estimate.recorded", "id": "ev-\ud800", "time": "2014-01-01T10:00:00Z"}
    payload = json.dumps({**event(1), **raw, "author": "insp"}, sort_keys=True).encode()
    before = row_counts(ledger)
    with pytest.raises(EventRejected):
        ledger.append([_forged(payload)])
    env = {
        "payload": base64.b64encode(_payload(event(2))).decode(),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [{"keyid": "\ud800", "sig": base64.b64encode(b"\0" * 64).decode()}],
    }
    with pytest.raises(EventRejected):
        ledger.append([json.dumps(env).encode()])
    assert row_counts(ledger) == before
