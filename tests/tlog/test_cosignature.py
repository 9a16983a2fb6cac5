"""c2sp.org/tlog-cosignature (Ed25519 cosignature/v1): every vector of cosignatures.json."""

from __future__ import annotations

import hashlib
from base64 import b64decode
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import InvalidSignature, MalformedInput, UnknownSigner, VerificationError
from cwledger.tlog import note
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.cosignature import (
    MAX_TIMESTAMP,
    CosignatureSigner,
    CosignatureVerifier,
    cosignature_timestamp,
    cosigned_message,
    verifier_from_vkey,
    verify_cosignature,
)
from cwledger.tlog.note import Signature, Signer, UnverifiedNoteError, Verifier

from ._vectors import load

COSIG = load("cosignatures.json")
VERIFY = COSIG["verify"]
WITNESS = CosignatureSigner.from_seed(
    VERIFY["witness_name"], bytes.fromhex(VERIFY["witness_seed_hex"])
)
VALID_LINE = next(line["line"] for line in VERIFY["lines"] if line["want"] == "valid")
MESSAGES = COSIG["signed_message"]["vectors"]
TIMESTAMPS = COSIG["timestamp_parse"]["vectors"]


@pytest.mark.parametrize(
    "v", MESSAGES, ids=[f"{i}-{v['source']['what']}" for i, v in enumerate(MESSAGES)]
)
def test_signed_message_vector(v: dict[str, Any]) -> None:
    assert cosigned_message(v["body"], v["timestamp"]) == v["want_message"].encode()


def test_witness_reproduces_the_valid_line() -> None:
    assert WITNESS.key_id == note.key_id(WITNESS.name, 0x04, WITNESS.public_key)
    assert WITNESS.key_id != note.key_id(WITNESS.name, 0x01, WITNESS.public_key)
    assert WITNESS.cosign(VERIFY["body"], 1234) == VALID_LINE  # Ed25519 is deterministic


@pytest.mark.parametrize(
    "line",
    VERIFY["lines"],
    ids=[f"{i}-{v['want']}-{v.get('why', '')}" for i, v in enumerate(VERIFY["lines"])],
)
def test_verify_vector(line: dict[str, Any]) -> None:
    verifier = WITNESS.verifier()
    if line["want"] == "valid":
        assert verify_cosignature(verifier, VERIFY["body"], line["line"]) == line["want_timestamp"]
    elif line["want"] == "ignored":
        assert verify_cosignature(verifier, VERIFY["body"], line["line"]) is None
    else:
        assert line["want"] == "malformed"
        with pytest.raises(MalformedInput):
            verify_cosignature(verifier, VERIFY["body"], line["line"])


def bump_timestamp(line: str, delta: int) -> str:
    sig = Signature.from_line(line)
    ts = int.from_bytes(sig.signature[:8], "big") + delta
    return Signature(sig.name, sig.key_id, ts.to_bytes(8, "big") + sig.signature[8:]).line


@pytest.mark.parametrize("m", VERIFY["mutations"], ids=[m["desc"] for m in VERIFY["mutations"]])
def test_mutation_vector(m: dict[str, Any]) -> None:
    assert m["want"] == "invalid"
    with pytest.raises(InvalidSignature):
        verify_cosignature(WITNESS.verifier(), VERIFY["body"], bump_timestamp(VALID_LINE, 1))
    with pytest.raises(InvalidSignature):  # and the body is signed too
        verify_cosignature(WITNESS.verifier(), VERIFY["body"].replace("10", "11"), VALID_LINE)


@pytest.mark.parametrize(
    "v", TIMESTAMPS, ids=[f"{i}-{v['desc']}" for i, v in enumerate(TIMESTAMPS)]
)
def test_timestamp_parse_vector(v: dict[str, Any]) -> None:
    raw = b64decode(v["sig_base64"])
    if v.get("want_error"):
        with pytest.raises(MalformedInput):
            cosignature_timestamp(raw[4:])
    else:
        assert cosignature_timestamp(raw[4:]) == v["want_timestamp"]


def test_parse_only_c2sp_example() -> None:
    with pytest.raises(UnverifiedNoteError) as err:
        note.open(COSIG["parse_only"]["msg"].encode(), [])
    log_sig, witness_sig = err.value.note.unverified_sigs
    assert witness_sig.name == "witness.example.com/w1"
    assert cosignature_timestamp(witness_sig.signature) == 1679315147
    with pytest.raises(MalformedInput):  # the log's 64-byte signature is not a cosignature
        cosignature_timestamp(log_sig.signature)
    assert Checkpoint.from_text(err.value.note.text).size == 20852163


def test_checkpoint_and_cosignature_open_together() -> None:
    seed = bytes([0x11]) + bytes(31)
    origin = "sigsum.org/v1/tree/" + hashlib.sha256(Signer("x", seed).public_key).hexdigest()
    log = Signer(origin, seed)
    body = Checkpoint(origin, 10, bytes(32)).to_text()
    witness = CosignatureSigner(VERIFY["witness_name"], WITNESS.seed, clock=lambda: 1234)
    signed = note.add_signatures(note.sign(body, [log]), [witness], [log.verifier()])
    assert signed.decode().endswith(witness.cosign(body, 1234) + "\n")
    cp, opened = Checkpoint.from_note(signed, [log.verifier(), witness.verifier()], origin)
    assert [s.name for s in opened.sigs] == [origin, witness.name]
    assert cosignature_timestamp(opened.sigs[1].signature) == 1234
    # The witness alone does not vouch for the log: the log's signature is required.
    with pytest.raises(UnknownSigner):
        Checkpoint.from_note(signed, [witness.verifier()])
    # The same key as a plain note key has another key ID: its lines stay unverified.
    only_cosignature = f"{body}\n{witness.cosign(body, 1234)}\n".encode()
    with pytest.raises(UnknownSigner):
        note.open(only_cosignature, [Verifier(witness.name, witness.public_key)])
    assert note.open(only_cosignature, [witness.verifier()]).sigs[0].name == witness.name


def test_cosignature_verifier_rejects_plain_and_bad_signatures() -> None:
    v = WITNESS.verifier()
    plain = Signer(WITNESS.name, WITNESS.seed).sign(VERIFY["body"].encode())
    with pytest.raises(InvalidSignature):  # a 64-byte note signature is not a cosignature
        v.verify(VERIFY["body"].encode(), plain)
    huge = (MAX_TIMESTAMP + 1).to_bytes(8, "big") + bytes(64)
    with pytest.raises(InvalidSignature):
        v.verify(VERIFY["body"].encode(), huge)
    line = Signature(v.name, v.key_id, huge).line
    with pytest.raises(MalformedInput):
        verify_cosignature(v, VERIFY["body"], line)


def test_timestamp_bounds_and_key_strings() -> None:
    for bad in (-1, MAX_TIMESTAMP + 1):
        with pytest.raises(MalformedInput):
            WITNESS.sign(b"x\n", bad)
        with pytest.raises(MalformedInput):
            cosigned_message("x\n", bad)
    assert cosignature_timestamp(WITNESS.sign(b"x\n", MAX_TIMESTAMP)) == MAX_TIMESTAMP
    assert CosignatureSigner.from_skey(WITNESS.skey()).seed == WITNESS.seed
    with pytest.raises(MalformedInput):
        Signer.from_skey(WITNESS.skey())  # a 0x04 secret key is not a note key
    witness_vkey = WITNESS.vkey()
    assert type(verifier_from_vkey(witness_vkey)) is CosignatureVerifier
    assert CosignatureVerifier.from_vkey(witness_vkey).key_type == 0x04
    with pytest.raises(MalformedInput):
        Verifier.from_vkey(witness_vkey)
    # transparency-dev/formats converts a 0x01 key to a witness key: same key, new ID.
    test_key = Verifier.from_vkey("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
    converted = CosignatureVerifier(test_key.name, test_key.public_key)
    assert converted.key_id == note.key_id("TEST", 0x04, test_key.public_key) != test_key.key_id
    assert CosignatureSigner.generate("w").sign(b"x\n")[:8] != bytes(8)  # stamped with now


BODY = st.builds(
    lambda o, n: Checkpoint(o, n, bytes(32)).to_text(),
    st.text(st.characters(exclude_categories=["Cs"]).filter(lambda c: c >= " "), min_size=1),
    st.integers(0, 2**64 - 1),
)


@settings(max_examples=50, deadline=None)
@given(BODY, st.integers(0, MAX_TIMESTAMP))
def test_cosign_verify_round_trip(body: str, ts: int) -> None:
    line = WITNESS.cosign(body, ts)
    assert verify_cosignature(WITNESS.verifier(), body, line) == ts
    with pytest.raises(InvalidSignature):
        verify_cosignature(WITNESS.verifier(), body + "x\n", line)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text().map(lambda t: VALID_LINE[: len(t) % 120] + t)))
def test_verify_cosignature_raises_only_verification_errors(line: str) -> None:
    try:
        got = verify_cosignature(WITNESS.verifier(), VERIFY["body"], line)
    except VerificationError:
        return
    assert got is None or got == 1234
