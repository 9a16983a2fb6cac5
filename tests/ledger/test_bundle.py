"""Offline bundles: built from a real ledger, checked with no ledger; every byte of the file
counts; cosignatures below quorum, unknown witnesses, wrong pinned keys and a missing
governance entry fail, each named."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwledger.ledger.admission import decode_entry
from cwledger.ledger.bundle import (
    BUNDLE_FORMAT,
    UNPINNED_LOG_KEY,
    BundleInvalid,
    build_bundle,
    check_bundle,
)
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.ledger import Ledger
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.cosignature import CosignatureSigner
from cwledger.tlog.note import Signer
from tests.conftest import FOUNDING, ORIGIN, event

W1, W2, W3 = (CosignatureSigner(f"witness-{n}.example", bytes([n]) * 32) for n in (1, 2, 3))


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    led.append(led.sign([event(i) for i in range(5)], "insp"))
    led.rotate_key("insp")
    led.append(led.sign([event(i) for i in range(5, 8)], "insp"))
    yield led
    led.close()


def _bundle(
    ledger: Ledger,
    indices: list[int],
    witnesses: tuple[CosignatureSigner, ...] = (),
    quorum: int | None = None,
    cosigners: tuple[CosignatureSigner, ...] | None = None,
) -> bytes:
    """A bundle of `indices`; its checkpoint cosigned by `cosigners` (default: `witnesses`),
    naming `witnesses` and `quorum` (default: all of them)."""
    with ledger.store.read() as r:
        cp = r.latest_checkpoint()
        assert cp is not None
        text = Checkpoint(ORIGIN, cp.size, cp.root_hash).to_text()
        lines = [w.cosign(text, 1_700_000_000 + n) for n, w in enumerate(cosigners or witnesses)]
        note = cp.note + "".join(line + "\n" for line in lines)
        return build_bundle(
            r,
            ledger.tree(r, cp.size),
            cp,
            indices,
            checkpoint_note=note,
            witness_vkeys=[w.verifier().vkey() for w in witnesses],
            quorum=len(witnesses) if quorum is None else quorum,
        )


def _log_vkey(ledger: Ledger) -> str:
    vkey = ledger.authority().log_vkey
    assert vkey is not None
    return vkey


def _doc(data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(data)
    return out


def _write(doc: dict[str, Any]) -> bytes:
    return canonical_json(doc) + b"\n"


def test_a_bundle_checks_offline_and_says_what_each_entry_is(ledger: Ledger) -> None:
    data = _bundle(ledger, [7, 3])
    doc = _doc(data)
    assert set(doc) == {"format", "checkpoint", "log_vkey", "witness_vkeys", "quorum", "entries"}
    assert doc["format"] == BUNDLE_FORMAT and doc["witness_vkeys"] == [] and doc["quorum"] == 0
    result = check_bundle(data, log_vkey=_log_vkey(ledger))
    assert result.warnings == []
    with ledger.store.read() as r:
        governance = [
            e.index
            for e in r.entries(0, r.size())
            if e.event_type.startswith(("ledger.", "party.", "key."))
        ]
        stored = {e.index: e for e in r.entries(0, r.size())}
    # the asked-for entries and every governance entry up to the last (the rotation too)
    assert [e.index for e in result.entries] == sorted({3, 7, *[g for g in governance if g <= 7]})
    for e in result.entries:
        s = stored[e.index]
        assert (e.type, e.author, e.time, e.id) == (
            s.event_type,
            s.author,
            s.event_time,
            s.event_id,
        )
    assert any(e.type == "key.rotated" and e.governance for e in result.entries)
    assert result.checkpoint.size == ledger.latest_checkpoint().size


def test_an_unpinned_log_key_is_said_plainly(ledger: Ledger) -> None:
    assert check_bundle(_bundle(ledger, [2])).warnings == [UNPINNED_LOG_KEY]


def test_a_wrong_pinned_log_key_fails(ledger: Ledger) -> None:
    other = Signer.generate(ORIGIN).verifier().vkey()
    with pytest.raises(BundleInvalid, match="checkpoint"):
        check_bundle(_bundle(ledger, [2]), log_vkey=other)


def test_a_bundle_without_the_key_rotation_fails_naming_the_key(ledger: Ledger) -> None:
    doc = _doc(_bundle(ledger, [7]))
    rotation = next(
        n
        for n, e in enumerate(doc["entries"])
        if decode_entry(base64.b64decode(e["envelope"]), check_canonical=False).event.type
        == "key.rotated"
    )
    del doc["entries"][rotation]
    with pytest.raises(BundleInvalid, match=r"insp has no key"):
        check_bundle(_write(doc), log_vkey=_log_vkey(ledger))


def test_a_bundle_that_does_not_start_at_the_genesis_fails(ledger: Ledger) -> None:
    doc = _doc(_bundle(ledger, [2]))
    del doc["entries"][0]
    with pytest.raises(BundleInvalid, match="genesis"):
        check_bundle(_write(doc))


def test_cosignatures_meet_the_quorum(ledger: Ledger) -> None:
    data = _bundle(ledger, [2], (W1, W2))
    result = check_bundle(data)
    assert result.cosigned_by == [f"{W1.name}+{W1.key_id.hex()}", f"{W2.name}+{W2.key_id.hex()}"]
    pinned = [W1.verifier().vkey(), W2.verifier().vkey()]
    assert check_bundle(data, log_vkey=_log_vkey(ledger), witness_vkeys=pinned).warnings == []


def test_a_missing_cosignature_below_quorum_fails_naming_it(ledger: Ledger) -> None:
    data = _bundle(ledger, [2], (W1, W2), cosigners=(W1,))
    with pytest.raises(BundleInvalid, match=f"1 valid cosignatures, quorum 2; missing {W2.name}"):
        check_bundle(data)
    pinned = [W1.verifier().vkey(), W2.verifier().vkey()]
    with pytest.raises(BundleInvalid, match=f"missing {W2.name}"):
        check_bundle(data, log_vkey=_log_vkey(ledger), witness_vkeys=pinned)
    # one of two pinned is enough only when the pin says so
    assert check_bundle(data, witness_vkeys=pinned, quorum=1).cosigned_by


def test_an_extra_cosignature_by_an_unknown_key_does_not_count(ledger: Ledger) -> None:
    data = _bundle(ledger, [2], (W1, W2), cosigners=(W1, W3))
    with pytest.raises(BundleInvalid, match=f"{W3.name}.*a key the bundle does not name"):
        check_bundle(data)
    pinned = [W1.verifier().vkey(), W2.verifier().vkey()]
    with pytest.raises(BundleInvalid, match=f"1 valid cosignatures, quorum 2; missing {W2.name}"):
        check_bundle(data, witness_vkeys=pinned)


def test_a_wrong_pinned_witness_key_fails(ledger: Ledger) -> None:
    data = _bundle(ledger, [2], (W1, W2))
    pinned = [W1.verifier().vkey(), W3.verifier().vkey()]
    with pytest.raises(BundleInvalid, match=f"missing {W3.name}"):
        check_bundle(data, log_vkey=_log_vkey(ledger), witness_vkeys=pinned)
    forged = CosignatureSigner(W2.name, bytes([9]) * 32)  # W2's name, another key
    with pytest.raises(BundleInvalid):
        check_bundle(data, witness_vkeys=[W1.verifier().vkey(), forged.verifier().vkey()])


def test_a_file_policy_that_is_not_a_majority_fails(ledger: Ledger) -> None:
    with pytest.raises(BundleInvalid, match="not a majority"):
        check_bundle(_bundle(ledger, [2], (W1, W2), quorum=1))


@pytest.fixture(scope="module")
def small_bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small bundle (one founding party, one entry, two witnesses, quorum 2)."""
    path = tmp_path_factory.mktemp("small") / "ledger"
    led = Ledger.init(
        path, ORIGIN, founding=[("insp", "inspectorate")], time="2013-09-14T00:00:00Z"
    )
    try:
        led.append(led.sign([event(1)], "insp"))
        return _bundle(led, [1], (W1, W2))
    finally:
        led.close()


def test_every_single_byte_flip_of_a_small_bundle_fails(small_bundle: bytes) -> None:
    check_bundle(small_bundle)
    for at in range(len(small_bundle)):
        for mask in (0x01, 0x20):
            changed = bytearray(small_bundle)
            changed[at] ^= mask
            with pytest.raises(BundleInvalid):
                check_bundle(bytes(changed))


@settings(max_examples=1500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_single_byte_change_fails(small_bundle: bytes, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(small_bundle) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda v: v != small_bundle[at]), label="byte")
    changed = bytearray(small_bundle)
    changed[at] = value
    with pytest.raises(BundleInvalid):
        check_bundle(bytes(changed))
