"""DSSE envelopes and RFC 8785 canonical JSON."""

from __future__ import annotations

import base64
import json
import os
import signal
import threading

import pytest
import rfc8785
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import to_json

from cwledger.errors import EventRejected, MalformedInput
from cwledger.ledger.admission import _canonical_event, decode_entry
from cwledger.ledger.canonical import (
    canonical_json,
    in_canonical_form,
    is_canonical,
    parse_json_object,
    plain_json,
    plain_number,
)
from cwledger.ledger.envelope import PAYLOAD_TYPE, Envelope, pae, sign_event
from cwledger.ledger.signatures import (
    SignatureJob,
    SignatureProcesses,
    bad_signatures,
    verify_ed25519,
)
from cwledger.model.events import Event
from cwledger.tlog.note import Signer


def test_pae_matches_the_dsse_spec_example() -> None:
    # DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world")
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


strings = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
string_objects = st.recursive(
    strings,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(codec="ascii"), max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
).filter(lambda v: isinstance(v, dict))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | strings,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | st.dictionaries(st.text(st.characters(codec="ascii"), max_size=6), inner, max_size=4)
    ),
    max_leaves=15,
)


@given(string_objects)
def test_envelope_shaped_objects_take_the_fast_path_and_equal_rfc8785(
    value: dict[str, object],
) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@given(json_values)
def test_canonical_json_equals_rfc8785_on_any_json(value: object) -> None:
    try:
        want = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError, UnicodeEncodeError):
        with pytest.raises(MalformedInput):
            canonical_json(value)
        return
    assert canonical_json(value) == want


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | strings,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
        max_leaves=15,
    )
)
def test_canonical_json_round_trips(value: object) -> None:
    data = canonical_json(value)
    assert json.loads(data) == value
    assert canonical_json(json.loads(data)) == data


@given(json_values)
def test_is_canonical_agrees_with_rfc8785(value: object) -> None:
    doc = {"v": value}
    try:
        want = rfc8785.dumps(doc)
    except (rfc8785.CanonicalizationError, ValueError, UnicodeEncodeError):
        return
    parsed, canonical = is_canonical(want, "x")
    assert canonical and rfc8785.dumps(parsed) == want
    spaced = json.dumps(doc, indent=1, ensure_ascii=False).encode()
    assert is_canonical(spaced, "x")[1] == (spaced == want)
    ascii_escaped = json.dumps(doc, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    assert is_canonical(ascii_escaped.encode(), "x")[1] == (ascii_escaped.encode() == want)


def _spellings(doc: dict[str, object]) -> list[bytes]:
    """Ways to write `doc` as JSON: RFC 8785's, with spaces, with ASCII escapes, with its
    keys in reverse order, with a member given twice (the first value, then the last),
    with a number written otherwise."""
    out = [
        json.dumps(doc, indent=1, ensure_ascii=False).encode(),
        json.dumps(doc, ensure_ascii=True, sort_keys=True, separators=(",", ":")).encode(),
        json.dumps(dict(reversed(doc.items())), separators=(",", ":"), ensure_ascii=False).encode(),
        b'{"v":0,' + json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()[1:],
        b'{"v":1.0}',
        b'{"v":1e0}',
        b"[]",
        b"{",
    ]
    try:
        out.append(rfc8785.dumps(doc))
    except (rfc8785.CanonicalizationError, ValueError, UnicodeEncodeError):
        pass
    return out


@given(json_values)
@example({"b": 1, "a": "\u2028\x7f\x1f"})
@example({"a": "é \u2028 \U0001f600 \x7f", "é": ["\ud7ff", "\ue000"]})
def test_the_audits_reading_of_a_payloads_form_is_is_canonicals(value: object) -> None:
    """`in_canonical_form` (pydantic's parser and serializer first) says what
    `is_canonical` says of every spelling of an object, and False of what is no object."""
    for data in _spellings({"v": value, "a": value} if isinstance(value, dict) else {"v": value}):
        try:
            want = is_canonical(data, "x")[1]
        except MalformedInput:
            want = False
        assert in_canonical_form(data) == want, data


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_no_json_and_no_payload(constant: str) -> None:
    """Python's JSON parser (and pydantic's) reads NaN and Infinity, which are no JSON and
    which RFC 8785 cannot write: `is_canonical` said such a payload was canonical. It is
    refused, named, wherever a payload or a document is parsed, and the audit's reading
    of a payload's form says it is not canonical."""
    data = b'{"v":[1,%b]}' % constant.encode()
    said = f"is not valid JSON: {constant} is no JSON number"
    with pytest.raises(MalformedInput, match=said):
        is_canonical(data, "payload")
    with pytest.raises(MalformedInput, match=said):
        parse_json_object(data, "document")
    assert not in_canonical_form(data)
    signer = Signer.generate("insp")
    payload = (
        b'{"author":"insp","body":{"estimate":{"u":%b}},"id":"e-1",'
        b'"time":"2014-01-07T10:00:00Z","type":"estimate.recorded"}' % constant.encode()
    )
    sig = signer.sign(pae(PAYLOAD_TYPE, payload))
    envelope = Envelope(PAYLOAD_TYPE, payload, signer.key_id.hex(), sig).to_bytes()
    with pytest.raises(EventRejected, match=f"payload: payload {said}"):
        decode_entry(envelope)


def test_canonical_json_refuses_what_jcs_cannot_encode() -> None:
    with pytest.raises(MalformedInput):
        canonical_json({"n": float("nan")})
    with pytest.raises(MalformedInput):
        canonical_json({"n": 2**60})  # beyond IEEE 754 doubles: not interoperable
    with pytest.raises(MalformedInput):
        canonical_json({"s": "\ud800"})  # a lone surrogate is not Unicode text


def _event() -> Event:
    return Event(
        type="seal.checked", id="e1", time="2014-01-01T00:00:00Z", author="insp", body={"seal": "A"}
    )


def test_signed_envelope_round_trips_and_verifies() -> None:
    signer = Signer.generate("insp")
    env = sign_event(_event(), signer)
    parsed = Envelope.from_bytes(env.to_bytes())
    assert parsed == env and parsed.payload_type == PAYLOAD_TYPE
    assert json.loads(parsed.payload) == _event().model_dump()
    verify_ed25519(signer.public_key, parsed.signed_bytes(), parsed.sig)
    assert parsed.keyid == signer.key_id.hex()
    # Whitespace in a submission does not change the leaf.
    spaced = json.dumps(json.loads(env.to_bytes()), indent=3)
    assert Envelope.from_bytes(spaced).to_bytes() == env.to_bytes()


@given(strings, strings, st.binary(max_size=100), st.binary(min_size=64, max_size=64))
def test_envelope_bytes_are_rfc8785(
    payload_type: str, keyid: str, payload: bytes, sig: bytes
) -> None:
    env = Envelope(payload_type, payload, keyid, sig)
    obj = {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(sig).decode()}],
    }
    assert env.to_bytes() == rfc8785.dumps(obj)
    assert Envelope.from_bytes(env.to_bytes()) == env


@pytest.mark.parametrize(
    "doc, message",
    [
        ("{}", "exactly the fields"),
        ('{"payloadType": 1, "payload": "", "signatures": []}', "payloadType must be a string"),
        ('{"payloadType": "x", "payload": "%%%", "signatures": []}', "not standard base64"),
        ('{"payloadType": "x", "payload": "", "signatures": []}', "exactly 1 signature"),
        ('{"payloadType": "x", "payload": "", "signatures": [{"keyid": "k"}]}', "keyid and sig"),
        (
            '{"payloadType": "x", "payload": "", "signatures": [{"keyid": "k", "sig": "AAAA"}]}',
            "64 bytes",
        ),
        (
            '{"payloadType": "x", "payload": "", "signatures": [{"keyid": 5, "sig": "AAAA"}]}',
            "keyid must be a string",
        ),
    ],
)
def test_malformed_envelopes_are_refused(doc: str, message: str) -> None:
    with pytest.raises(MalformedInput, match=message):
        Envelope.from_bytes(doc)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_malformed_input(data: bytes) -> None:
    try:
        Envelope.from_bytes(data)
    except MalformedInput:
        pass


def test_batch_signature_check_names_the_lowest_bad_index() -> None:
    signer = Signer.generate("insp")
    jobs = []
    for i in range(300):
        msg = b"m%d" % i
        sig = signer.sign(msg)
        if i in (170, 250):
            sig = bytes(64)
        jobs.append((i, signer.public_key, msg, sig))
    assert bad_signatures(jobs, workers=2) == [170, 250]
    assert bad_signatures(jobs, workers=1) == [170, 250]
    assert bad_signatures(jobs[:170], workers=2) == []
    zero_sig = base64.b64decode("A" * 86 + "==")
    assert bad_signatures([(0, signer.public_key, b"x", zero_sig)]) == [0]


def _jobs(signer: Signer, n: int, bad: set[int]) -> list[SignatureJob]:
    return [
        (i, signer.public_key, b"m%d" % i, bytes(64) if i in bad else signer.sign(b"m%d" % i))
        for i in range(n)
    ]


def test_signatures_checked_on_worker_processes_name_every_bad_one() -> None:
    signer = Signer.generate("insp")
    processes = SignatureProcesses(workers=2)
    try:
        first = processes.submit(_jobs(signer, 300, {0, 170, 299}))
        second = processes.submit(_jobs(signer, 40, set()))  # beside the first
        assert first() == [0, 170, 299]
        assert second() == []
    finally:
        processes.close()


def test_beside_another_thread_the_signature_workers_are_spawned_not_forked() -> None:
    # A server runs threads: a fork would copy whatever lock one of them held.
    signer = Signer.generate("insp")
    processes = SignatureProcesses(workers=2)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert processes.submit(_jobs(signer, 100, {7, 99}))() == [7, 99]
        assert processes.start_method == "spawn"
    finally:
        release.set()
        other.join()
        processes.close()


def test_a_dead_signature_worker_loses_no_verdict() -> None:
    # A worker killed while it holds slices: they are checked on the waiting thread, and
    # the next batch starts new workers.
    signer = Signer.generate("insp")
    processes = SignatureProcesses(workers=2)
    try:
        assert processes.submit(_jobs(signer, 10, {3}))() == [3]
        workers = list(processes._started()._processes.values())  # type: ignore[union-attr]
        pending = processes.submit(_jobs(signer, 2000, {1, 1998}))
        for worker in workers:
            os.kill(worker.pid, signal.SIGKILL)
        assert pending() == [1, 1998]
        assert processes.submit(_jobs(signer, 50, {49}))() == [49]
        again = processes._started()._processes.values()  # type: ignore[union-attr]
        assert {w.pid for w in again}.isdisjoint(w.pid for w in workers)
    finally:
        processes.close()


envelope_like = st.fixed_dictionaries(
    {},
    optional={
        "payloadType": st.one_of(strings, st.integers()),
        "payload": st.one_of(
            st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()), strings
        ),
        "signatures": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "keyid": st.one_of(strings, st.none()),
                    "sig": st.one_of(
                        st.binary(min_size=63, max_size=65).map(
                            lambda b: base64.b64encode(b).decode()
                        ),
                        strings,
                    ),
                    "extra": strings,
                },
            ),
            max_size=2,
        ),
        "extra": strings,
    },
)


_VALID_SIG = base64.b64encode(bytes(64)).decode()


@given(envelope_like)
@example({"payloadType": "t", "payload": "", "signatures": [{"keyid": "k", "sig": _VALID_SIG}]})
@example({"payloadType": "t", "payload": "eA==", "signatures": [{"keyid": "", "sig": _VALID_SIG}]})
@example({"payloadType": "t", "payload": "eA", "signatures": [{"keyid": "k", "sig": _VALID_SIG}]})
def test_fast_and_step_by_step_envelope_parsers_agree(doc: dict[str, object]) -> None:
    data = json.dumps(doc)
    try:
        slow: Envelope | None = Envelope._parse_slowly(data)
    except MalformedInput:
        slow = None
    try:
        fast: Envelope | None = Envelope.from_bytes(data)
    except MalformedInput:
        fast = None
    assert fast == slow
    if doc.get("payload") == "eA==" and doc.get("payloadType") == "t":
        assert fast is not None and fast.payload == b"x"  # a valid envelope is accepted


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
b64_like = st.one_of(
    st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
    # any characters of the alphabet, padding in any place: some decode, some with bits
    # set that the decoder drops (not canonical), some not at all
    st.text(st.sampled_from(_B64 + '=\\"é'), max_size=12),
)


@given(
    b64_like,
    st.one_of(st.text(st.sampled_from('0123456789abcdefAF"\\'), max_size=10), strings),
    st.one_of(
        st.binary(min_size=64, max_size=64).map(lambda b: base64.b64encode(b).decode()), b64_like
    ),
    st.sampled_from([PAYLOAD_TYPE, "application/json"]),
)
@example("eA==", "0a1b", "A" * 85 + "Q==", PAYLOAD_TYPE)  # a signature that is not canonical
@example("eB==", "0a1b", base64.b64encode(bytes(64)).decode(), PAYLOAD_TYPE)
def test_an_envelope_cut_at_its_fixed_parts_is_what_the_parsers_read(
    payload: str, keyid: str, sig: str, payload_type: str
) -> None:
    """The fast path for canonical bytes (`Envelope._cut_canonical`) takes only envelopes
    the JSON parsers read alike, and says they are canonical only when they are."""
    signatures = f'[{{"keyid":"{keyid}","sig":"{sig}"}}]'
    text = f'{{"payload":"{payload}","payloadType":"{payload_type}","signatures":{signatures}}}'
    data = text.encode()
    cut = Envelope._cut_canonical(data)
    try:
        slow: Envelope | None = Envelope._parse_slowly(data)
    except MalformedInput:
        slow = None
    if cut is None:
        return
    assert cut == slow == Envelope.from_bytes(data)
    encoded_anew = Envelope(cut.payload_type, cut.payload, cut.keyid, cut.sig).to_bytes()
    assert (cut.leaf is not None) == (encoded_anew == data)
    assert cut.to_bytes() == encoded_anew


def test_the_canonical_leaf_is_cut_and_a_non_canonical_one_is_encoded_anew() -> None:
    signer = Signer.generate("insp")
    env = sign_event(_event(), signer)
    leaf = env.to_bytes()
    cut = Envelope.from_bytes(leaf)
    assert cut.leaf is leaf and cut == env
    # The next character of the alphabet before "==" sets a bit that the decoder drops:
    # the same signature, but not the canonical leaf
    sig64 = base64.b64encode(env.sig)
    assert sig64.endswith(b"==")
    last = _B64[_B64.index(chr(sig64[-3])) + 1].encode()
    loose = leaf.replace(sig64, sig64[:-3] + last + b"==")
    parsed = Envelope.from_bytes(loose)
    assert loose != leaf and parsed == env
    assert parsed.leaf is None and parsed.to_bytes() == leaf


def _general_event(payload: bytes) -> tuple[Event | None, bool]:
    """What the general path of decode_entry makes of a payload: the event (None if it
    is not one) and whether the payload is canonical."""
    try:
        obj, canonical = is_canonical(payload, "payload")
        return Event.model_validate(obj), canonical
    except (MalformedInput, ValidationError):
        return None, False


@given(json_values, st.sampled_from(["e1", "bad id", ""]))
@example({"a": 1.0}, "e1")
@example({"b": 1, "a": {"d": 2, "c": 3}}, "e1")
@example({"a": 2**53}, "e1")
@example({"a": "\u00e9", "b": [1, None, True]}, "e1")
@example({"a": "\u2028 \U0001f600 \x7f \x1f", "\u00e9": 1}, "e1")
def test_the_fast_decoding_of_a_payload_agrees_with_the_general_path(
    body: object, event_id: str
) -> None:
    doc = {
        "type": "seal.checked",
        "id": event_id,
        "time": "2014-01-01T00:00:00Z",
        "author": "insp",
        "body": body,
    }
    try:
        canonical = rfc8785.dumps(doc)
    except (rfc8785.CanonicalizationError, ValueError, UnicodeEncodeError):
        return
    spaced = json.dumps(doc, indent=1, ensure_ascii=False).encode()
    escaped = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    # Compact, but each object's members in the order they were made (the event's are not
    # in RFC 8785 order), then with the event's members sorted and the body's as made
    unsorted = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    top_sorted = json.dumps(
        {k: doc[k] for k in sorted(doc)}, separators=(",", ":"), ensure_ascii=False
    ).encode()
    for payload in (canonical, spaced, escaped, unsorted, top_sorted):
        fast = _canonical_event(payload)
        event, is_canon = _general_event(payload)
        if fast is not None:  # taken only for a valid event in canonical form, the same one
            assert is_canon and fast == event
            assert fast.body == event.body and json.dumps(fast.body) == json.dumps(event.body)
    # The common case takes the fast path: ASCII keys (text beyond ASCII too), no float,
    # an event.
    if isinstance(body, dict) and event_id == "e1":
        if plain_json(body) and _general_event(canonical)[0] is not None:
            assert _canonical_event(canonical) is not None


def test_plain_json_in_order_also_asks_every_objects_keys_in_rfc8785_order() -> None:
    ordered = {"a": [{"x": 1, "y": None}], "b": {"": True, "c": "d"}}
    assert plain_json(ordered) and plain_json(ordered, in_order=True)
    for unordered in ({"b": 1, "a": 2}, {"a": [{"y": 1, "x": 2}]}, {"a": {"c": 1, "": 2}}):
        assert plain_json(unordered) and not plain_json(unordered, in_order=True)
    assert plain_json({"a": 1.5}, in_order=True)  # printed alike (`plain_number`)
    for unplain_number in (1.0, 1e-05, -0.0, 1e300):
        assert not plain_json({"a": unplain_number}, in_order=True)
    # What is not plain is found at any depth, in an object's values and in an array's.
    for unplain in ({"a": 2**53}, {"a": [-(2**53)]}, {"a": {"b": [1.0]}}, {1: "a"}, {"é": 1}):
        assert not plain_json(unplain) and not plain_json(unplain, in_order=True)
    assert plain_json({"a": 2**53 - 1, "b": [-(2**53) + 1, "c", True, None]}, in_order=True)


@given(
    st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=1e-4, max_value=1e16)
    | st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False).map(float)
)
@example(1e-4)
@example(0.1 + 0.2)
@example(-12.5)
@example(4503599627370495.5)  # the largest doubles with a fraction
def test_a_plain_number_prints_alike_in_python_pydantic_and_rfc8785(x: float) -> None:
    """Where `plain_number` says so, Python's json.dumps, pydantic's serializer (the fast
    paths) and the RFC 8785 library write the same bytes."""
    if plain_number(x):
        assert json.dumps(x).encode() == to_json(x) == rfc8785.dumps(x)
    else:  # a whole number, or one ECMAScript or Python writes with an exponent
        assert x.is_integer() or not 1e-4 <= abs(x) < 1e16


def test_masses_with_a_fraction_are_judged_without_the_pure_python_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mass of 12.5 kg is the commonest number of a real record: the fast paths write and
    judge it (the RFC 8785 library in pure Python took some ten times as long)."""
    body = {"estimate": {"party": "insp", "value": 1004.5, "u": 0.25, "unit": "t",
                         "method": "declared", "scope": "total"}}  # fmt: skip
    doc = {"type": "estimate.recorded", "id": "e1", "time": "2014-01-07T10:00:00Z",
           "author": "insp", "body": body}  # fmt: skip
    want = rfc8785.dumps(doc)

    def pure_python(_: object) -> bytes:
        raise AssertionError("the pure-Python RFC 8785 path was taken")

    monkeypatch.setattr(rfc8785, "dumps", pure_python)
    assert canonical_json(doc) == want
    assert is_canonical(want, "payload")[1] and in_canonical_form(want)
    assert _canonical_event(want) is not None
    for spelled in (b"1004.50", b"1.0045e3", b"1004.5000000000000001"):
        other = want.replace(b"1004.5", spelled)
        assert not is_canonical(other, "payload")[1] and not in_canonical_form(other)
