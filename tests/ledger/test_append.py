"""The append path: accepted events are stored with their leaves, tiles and checkpoint;
refused ones write nothing and say every reason; a retried event is not appended twice.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import json
import os
import signal

import pytest

from cwledger.errors import EventForbidden, EventRejected
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.envelope import PAYLOAD_TYPE, Envelope, pae, sign_event
from cwledger.ledger.ledger import CHUNK, Ledger
from cwledger.ledger.signatures import MIN_THREADED
from cwledger.model.events import Event
from cwledger.store import LogWriter
from cwledger.tlog import leaf_hash, root_hash, verify_inclusion
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.compact import CompactRange
from cwledger.tlog.note import Signer, Verifier
from tests.conftest import ORIGIN, estimate, event, row_counts

INSPECTION = {"inspection": "I-1", "site": "S-01", "kind": "routine"}


@pytest.fixture
def ledger(any_ledger: Ledger) -> Ledger:
    """The shared `ledger`, on each backend in turn."""
    return any_ledger


def _leaf_hashes(led: Ledger) -> list[bytes]:
    with led.store.read() as r:
        return [e.leaf_hash for e in r.entries(0, r.size())]


def test_accepted_event_is_stored_with_leaf_tiles_and_checkpoint(ledger: Ledger) -> None:
    before = row_counts(ledger)
    [envelope] = ledger.sign([event(1)], "insp")
    [receipt] = ledger.append([envelope])
    assert receipt.index == before["log_entry"] and not receipt.duplicate
    assert receipt.leaf_hash == leaf_hash(envelope)
    with ledger.store.read() as r:
        [stored] = r.entries(receipt.index, receipt.index + 1)
    assert stored.envelope == envelope and stored.event_id == "ev-000001"
    assert stored.author == "insp" and stored.event_type == "estimate.recorded"
    hashes = _leaf_hashes(ledger)
    cp = ledger.latest_checkpoint()
    assert cp.size == len(hashes) == before["log_entry"] + 1
    assert cp.root_hash == root_hash(hashes)
    log_key = Verifier.from_vkey(ledger.authority().log_vkey or "")
    signed, _ = Checkpoint.from_note(cp.note.encode(), [log_key], origin=ORIGIN)
    assert signed.root_hash == root_hash(hashes)
    proof = ledger.prove_inclusion(receipt.index)
    verify_inclusion(
        receipt.leaf_hash,
        receipt.index,
        cp.size,
        [bytes.fromhex(h) for h in proof["proof"]],
        cp.root_hash,
    )
    assert row_counts(ledger)["checkpoint"] == before["checkpoint"] + 1


def test_one_checkpoint_per_batch(ledger: Ledger) -> None:
    before = row_counts(ledger)
    receipts = ledger.append(ledger.sign([event(i) for i in range(300)], "insp"))
    assert [r.index for r in receipts] == list(
        range(before["log_entry"], before["log_entry"] + 300)
    )
    after = row_counts(ledger)
    assert after["checkpoint"] == before["checkpoint"] + 1
    assert ledger.latest_checkpoint().root_hash == root_hash(_leaf_hashes(ledger))
    # 1 + 300 leaves: a full and a partial level-0 tile, and a partial level-1 tile.
    assert after["tree_tile"] == 3


def test_same_envelope_twice_returns_first_receipt_and_adds_nothing(ledger: Ledger) -> None:
    envelopes = ledger.sign([event(1), event(2)], "insp")
    first = ledger.append(envelopes)
    before = row_counts(ledger)
    again = ledger.append(envelopes)
    assert [(r.index, r.leaf_hash) for r in again] == [(r.index, r.leaf_hash) for r in first]
    assert all(r.duplicate for r in again)
    assert row_counts(ledger) == before


def test_same_event_resigned_with_other_time_is_a_duplicate(ledger: Ledger) -> None:
    [first] = ledger.append(ledger.sign([event(1)], "insp"))
    before = row_counts(ledger)
    retry = {**event(1), "time": "2015-06-01T00:00:00Z"}
    [again] = ledger.append(ledger.sign([retry], "insp"))
    assert again.duplicate and again.index == first.index
    assert row_counts(ledger) == before


def test_duplicate_inside_one_batch_is_appended_once(ledger: Ledger) -> None:
    [env] = ledger.sign([event(7)], "insp")
    before = row_counts(ledger)
    a, b = ledger.append([env, env])
    assert a.index == b.index and not a.duplicate and b.duplicate
    assert row_counts(ledger)["log_entry"] == before["log_entry"] + 1


def test_reused_event_id_with_other_content_is_refused(ledger: Ledger) -> None:
    ledger.append(ledger.sign([event(1)], "insp"))
    before = row_counts(ledger)
    with pytest.raises(EventRejected, match=r"event id 'ev-000001' is already used \(entry 1\)"):
        ledger.append(ledger.sign([event(1, **estimate(99))], "insp"))
    assert row_counts(ledger) == before


def test_batch_is_all_or_nothing_and_lists_every_problem(ledger: Ledger) -> None:
    good = ledger.sign([event(1), event(2)], "insp")
    bad_role = ledger.sign([event(3, "inspection.opened", **INSPECTION)], "obs")
    before = row_counts(ledger)
    with pytest.raises(EventRejected) as info:
        ledger.append([good[0], b"{not json", bad_role[0], good[1]])
    locations = [p.location for p in info.value.problems]
    assert locations == ["event[1].envelope", "event[2].type"]
    assert row_counts(ledger) == before


def test_a_forged_signature_in_a_large_batch_writes_and_signs_nothing(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From MIN_THREADED signatures on, the entries, tiles and book are written while the
    # signatures are checked on other threads: a bad one rolls the writes back, and the
    # log key signs no checkpoint of a tree that holds it.
    n = 3 * MIN_THREADED
    envelopes = ledger.sign([event(i) for i in range(n)], "insp")
    e = Envelope.from_bytes(envelopes[n - 7])
    flipped = bytes([e.sig[0] ^ 1]) + e.sig[1:]
    forged = Envelope(e.payload_type, e.payload, e.keyid, flipped).to_bytes()
    signed: list[int] = []
    store_checkpoint = Ledger._store_checkpoint

    def recorded(self: Ledger, w: LogWriter, tree: CompactRange, origin: str, q: int) -> None:
        signed.append(tree.size)
        store_checkpoint(self, w, tree, origin, q)

    monkeypatch.setattr(Ledger, "_store_checkpoint", recorded)
    before = row_counts(ledger)
    with pytest.raises(EventRejected) as info:
        ledger.append([*envelopes[: n - 7], forged, *envelopes[n - 6 :]])
    assert [p.location for p in info.value.problems] == [f"event[{n - 7}].signatures[0].sig"]
    assert row_counts(ledger) == before
    assert signed == []
    receipts = ledger.append(envelopes)
    assert [r.index for r in receipts] == list(range(before["log_entry"], before["log_entry"] + n))
    assert signed == [before["log_entry"] + n]
    assert ledger.latest_checkpoint().root_hash == root_hash(_leaf_hashes(ledger))


def _forged(envelope: bytes) -> bytes:
    e = Envelope.from_bytes(envelope)
    return Envelope(
        e.payload_type, e.payload, e.keyid, bytes([e.sig[0] ^ 1]) + e.sig[1:]
    ).to_bytes()


def test_forged_signatures_in_every_chunk_of_a_batch_are_all_named(ledger: Ledger) -> None:
    # A batch of several chunks has each chunk's signatures checked on worker processes
    # while the next chunk is decoded; the batch waits for every verdict before it writes
    # a checkpoint, even when the workers die.
    n = 2 * CHUNK + 5
    envelopes = ledger.sign([event(i) for i in range(n)], "insp")
    bad = [3, CHUNK + 1, n - 2]
    sent = [_forged(e) if i in bad else e for i, e in enumerate(envelopes)]
    before = row_counts(ledger)
    for kill in (False, True):
        if kill:  # the workers of the first try are gone: their slices are checked here
            for worker in ledger._signature_processes._started()._processes.values():
                os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(EventRejected) as info:
            ledger.append(sent)
        assert [p.location for p in info.value.problems] == [
            f"event[{i}].signatures[0].sig" for i in bad
        ]
        assert row_counts(ledger) == before
    receipts = ledger.append(envelopes)
    assert [r.index for r in receipts] == list(range(before["log_entry"], before["log_entry"] + n))
    assert ledger.latest_checkpoint().root_hash == root_hash(_leaf_hashes(ledger))


def test_a_batch_longer_than_a_chunk_is_still_all_or_nothing(ledger: Ledger) -> None:
    # The append path decodes and judges CHUNK envelopes at a time (bounded memory); a
    # problem, a reused id or a forbidden event in a later chunk still refuses the batch.
    n = 2 * CHUNK + 5
    envelopes = ledger.sign([event(i) for i in range(n)], "insp")
    reused = ledger.sign([event(3, **estimate(42))], "insp")  # id of the first chunk's
    before = row_counts(ledger)
    with pytest.raises(EventRejected) as info:
        ledger.append([*envelopes, b"{not json", *reused])
    assert [p.location for p in info.value.problems] == [
        f"event[{n}].envelope",
        f"event[{n + 1}].payload.id",
    ]
    assert "already used (this batch)" in info.value.problems[1].message
    theirs = ledger.sign([event(n + 1)], "obs")
    with pytest.raises(EventForbidden) as forbidden:
        ledger.append([*envelopes, *theirs, *theirs], submitter="insp")
    assert [p.location for p in forbidden.value.problems] == [
        f"event[{n}].payload.author",
        f"event[{n + 1}].payload.author",
    ]
    assert row_counts(ledger) == before
    receipts = ledger.append([*envelopes, envelopes[0]])
    assert [r.index for r in receipts[:n]] == list(
        range(before["log_entry"], before["log_entry"] + n)
    )
    assert receipts[n].duplicate and receipts[n].index == receipts[0].index
    assert row_counts(ledger)["checkpoint"] == before["checkpoint"] + 1


def _resign(envelope: bytes, signer: Signer, **changes: object) -> bytes:
    """Re-sign an envelope after changing its payload fields (a well-signed but bad event)."""
    env = Envelope.from_bytes(envelope)
    payload = {**json.loads(env.payload), **changes}
    raw = canonical_json(payload)
    sig = signer.sign(pae(PAYLOAD_TYPE, raw))
    return Envelope(PAYLOAD_TYPE, raw, signer.key_id.hex(), sig).to_bytes()


def _bad_inputs(ledger: Ledger) -> dict[str, tuple[bytes, str]]:
    insp = ledger.keystore.signer("insp")
    [env] = ledger.sign([event(1, "inspection.opened", **INSPECTION)], "insp")
    e = Envelope.from_bytes(env)
    wrong_type = Envelope(
        "application/json", e.payload, e.keyid, insp.sign(pae("application/json", e.payload))
    )
    flipped = bytearray(e.sig)
    flipped[0] ^= 1
    stranger = Signer.generate("mallory")
    spaced = json.dumps(json.loads(e.payload), indent=1).encode()
    return {
        "malformed JSON": (b'{"payloadType": ', "envelope: envelope is not valid JSON"),
        "not an object": (b"[1, 2]", "envelope must be a JSON object"),
        "wrong payload type": (
            wrong_type.to_bytes(),
            "payloadType: want 'application/vnd.cwledger.event+json'",
        ),
        "bad signature": (
            Envelope(e.payload_type, e.payload, e.keyid, bytes(flipped)).to_bytes(),
            "does not verify",
        ),
        "unknown author": (_resign(env, stranger, author="mallory"), "unknown party 'mallory'"),
        "unregistered key": (_resign(env, stranger), "insp has no key"),
        "key of another party": (_resign(env, ledger.keystore.signer("dec")), "insp has no key"),
        "role not allowed": (
            _resign(env, ledger.keystore.signer("dec"), author="dec"),
            "role declarant may not write inspection.opened (inspectorate may)",
        ),
        "unknown event type": (_resign(env, insp, type="weather.reported"), "unknown event type"),
        "bad time": (_resign(env, insp, time="yesterday"), "payload.time"),
        "missing body": (
            _resign(env, insp, body=None),
            "payload.body",
        ),
        "non-canonical payload": (
            Envelope(
                PAYLOAD_TYPE, spaced, e.keyid, insp.sign(pae(PAYLOAD_TYPE, spaced))
            ).to_bytes(),
            "not RFC 8785 canonical JSON",
        ),
        "two signatures": (
            json.dumps(
                {
                    "payloadType": PAYLOAD_TYPE,
                    "payload": base64.b64encode(e.payload).decode(),
                    "signatures": [{"keyid": e.keyid, "sig": base64.b64encode(e.sig).decode()}] * 2,
                }
            ).encode(),
            "exactly 1 signature",
        ),
        "second genesis": (
            sign_event(
                Event(
                    type="ledger.genesis",
                    id="g2",
                    time="2014-01-01T00:00:00Z",
                    author="operator",
                    body={"origin": "x", "log_key": insp.vkey(), "parties": [], "registrars": []},
                ),
                ledger.keystore.signer("operator"),
            ).to_bytes(),
            "payload.body.parties",
        ),
    }


BAD = [
    "malformed JSON",
    "not an object",
    "wrong payload type",
    "bad signature",
    "unknown author",
    "unregistered key",
    "key of another party",
    "role not allowed",
    "unknown event type",
    "bad time",
    "missing body",
    "non-canonical payload",
    "two signatures",
    "second genesis",
]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_written(
    ledger: Ledger, case: str
) -> None:
    data, message = _bad_inputs(ledger)[case]
    before = row_counts(ledger)
    with pytest.raises(EventRejected) as info:
        ledger.append([data])
    assert message in str(info.value), str(info.value)
    assert all(p.location.startswith("event[0]") for p in info.value.problems)
    assert row_counts(ledger) == before


def test_revoked_key_is_refused_after_its_revocation(ledger: Ledger) -> None:
    obs = ledger.keystore.signer("obs")
    revoke = {
        "type": "key.revoked",
        "id": "rev-1",
        "time": "2014-02-01T00:00:00Z",
        "body": {"party": "obs", "key_id": obs.key_id.hex(), "reason": "key lost"},
    }
    [r] = ledger.append(ledger.sign([revoke], "operator"))
    before = row_counts(ledger)
    estimate = event(5)
    with pytest.raises(
        EventRejected, match=f"key {obs.key_id.hex()} of obs was revoked by entry {r.index}"
    ):
        ledger.append(ledger.sign([estimate], "obs"))
    assert row_counts(ledger) == before


def test_rotated_key_hands_over_at_the_rotation_entry(ledger: Ledger) -> None:
    old = ledger.keystore.signer("insp")
    new = Signer.generate("insp")
    rotate = {
        "type": "key.rotated",
        "id": "rot-1",
        "time": "2014-02-01T00:00:00Z",
        "body": {"party": "insp", "key": new.vkey()},
    }
    ledger.append([sign_event(Event.model_validate({"author": "insp", **rotate}), old).to_bytes()])
    stale = sign_event(Event.model_validate({"author": "insp", **event(8)}), old).to_bytes()
    with pytest.raises(EventRejected, match="was rotated by entry"):
        ledger.append([stale])
    fresh = sign_event(Event.model_validate({"author": "insp", **event(8)}), new).to_bytes()
    [receipt] = ledger.append([fresh])
    assert not receipt.duplicate


def test_party_registered_in_a_batch_can_write_later_in_the_same_batch(ledger: Ledger) -> None:
    jmt = Signer.generate("jmt")
    body = {"name": "jmt", "role": "inspectorate", "key": jmt.vkey()}
    # insp already holds the role: a quorum of the founding parties approves (3 of 4).
    approvals = [ledger.approve("party.registered", body, p) for p in ("insp", "dec", "obs")]
    register = {
        "type": "party.registered",
        "id": "reg-jmt",
        "time": "2014-01-01T00:00:00Z",
        "body": {**body, "approvals": approvals},
    }
    [reg] = ledger.sign([register], "operator")
    first = sign_event(Event.model_validate({"author": "jmt", **event(9)}), jmt).to_bytes()
    a, b = ledger.append([reg, first])
    assert b.index == a.index + 1


def test_only_registrars_register_parties(ledger: Ledger) -> None:
    register = {
        "type": "party.registered",
        "id": "reg-x",
        "time": "2014-01-01T00:00:00Z",
        "body": {"name": "x", "role": "declarant", "key": Signer.generate("x").vkey()},
    }
    with pytest.raises(EventRejected, match="insp is not a registrar"):
        ledger.append(ledger.sign([register], "insp"))


def test_a_new_ledger_starts_with_its_genesis(ledger: Ledger) -> None:
    with ledger.store.read() as r:
        [genesis] = r.entries(0, 1)
    assert genesis.event_type == "ledger.genesis" and genesis.author == "operator"
    authority = ledger.authority()
    assert authority.origin == ORIGIN
    assert {p: r.role for p, r in authority.parties.items()} == {
        "operator": "operator",
        "insp": "inspectorate",
        "dec": "declarant",
        "obs": "observer",
    }


def test_concurrent_writers_are_serialised_without_loss(ledger: Ledger) -> None:
    """Two writers on their own connections: every receipt is in the log, the log verifies."""
    import threading

    from cwledger.ledger.audit import audit

    results: dict[str, list[int]] = {}

    def writer(party: str, type_: str, base: int) -> None:
        led = Ledger.open(ledger.path)
        got: list[int] = []
        for k in range(10):
            batch = [event(base + 5 * k + j, type_) for j in range(5)]
            got += [r.index for r in led.append(led.sign(batch, party))]
        results[party] = got
        led.close()

    threads = [
        threading.Thread(target=writer, args=("insp", "estimate.recorded", 1000)),
        threading.Thread(target=writer, args=("dec", "estimate.recorded", 2000)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    indices = sorted(results["insp"] + results["dec"])
    assert indices == list(range(1, 101))
    assert audit(ledger.store).size == 101
