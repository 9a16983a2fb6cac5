"""The log asks its witnesses (issue 15 section 2): the witness policy is a governance event
the founders approve; after a batch the log collects cosignatures, from the size each
witness last cosigned; a witness that is down never blocks an append; the log serves a
checkpoint once it holds its quorum; `verify` and `prove` check the served checkpoint with
the keys pinned; and the audit names any cosignature, checkpoint quorum or witness record
deleted or changed (section 6)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.errors import EventRejected
from cwledger.ledger import audit as audit_module
from cwledger.ledger.audit import AuditFailure, audit
from cwledger.ledger.cosignatures import CosignatureAudit
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.witnessing import Witnessing, collect_cosignatures
from cwledger.model.events import WITNESS_POLICY
from cwledger.store import StoredCheckpoint, StoredCosignature, streams
from cwledger.store.schema import checkpoint, cosignature, witness_state
from cwledger.tlog.cosignature import CosignatureVerifier, verify_cosignature
from tests.conftest import event
from tests.witness.inprocess import LocalWitnesses, local_witnesses, set_policy

runner = CliRunner()


@pytest.fixture
def ledger(any_ledger: Ledger) -> Ledger:
    """Every test here on SQLite and on PostgreSQL."""
    return any_ledger


@pytest.fixture
def witnesses(ledger: Ledger, tmp_path: Path) -> Iterator[LocalWitnesses]:
    w = local_witnesses(tmp_path / "witnesses", ledger)
    yield w
    w.close()


def _witnessed(ledger: Ledger, witnesses: LocalWitnesses, quorum: int = 2) -> None:
    set_policy(ledger, witnesses.witnesses, quorum)
    collect_cosignatures(ledger, post=witnesses.post)


def _append(ledger: Ledger, start: int, n: int) -> None:
    ledger.append(ledger.sign([event(start + i) for i in range(n)], "insp"))


def test_a_checkpoint_is_served_once_its_quorum_has_cosigned(
    ledger: Ledger, witnesses: LocalWitnesses
) -> None:
    _append(ledger, 0, 3)
    before = ledger.latest_checkpoint()
    set_policy(ledger, witnesses.witnesses, 2)
    assert ledger.latest_checkpoint() == before  # the policy's own tree waits for its quorum
    witnesses.down = {0, 1}
    asked = collect_cosignatures(ledger, post=witnesses.post)
    assert [a.cosigned for a in asked] == [False, False, True]
    assert "connection refused" in (asked[0].failure or "")
    assert ledger.latest_checkpoint() == before  # 1 of 2
    witnesses.down = set()
    collect_cosignatures(ledger, post=witnesses.post)
    served = ledger.latest_checkpoint()
    assert served.size == before.size + 1 and len(served.cosignatures) == 3
    text_ = served.note[: served.note.find("\n\n") + 1]
    for vkey, line in zip(witnesses.vkeys, served.cosignatures, strict=True):
        assert verify_cosignature(CosignatureVerifier.from_vkey(vkey), text_, line) is not None
    assert served.cosigned_note == served.note + "".join(x + "\n" for x in served.cosignatures)


def test_a_witness_that_is_down_never_blocks_an_append_and_catches_up_from_its_size(
    ledger: Ledger, witnesses: LocalWitnesses
) -> None:
    _witnessed(ledger, witnesses)
    first = ledger.latest_checkpoint().size
    witnesses.down = {2}
    for b in range(3):
        _append(ledger, 10 * b, 4)
        collect_cosignatures(ledger, post=witnesses.post)
    assert ledger.latest_checkpoint().size == first + 12  # 2 of 3 is the quorum
    with ledger.store.read() as r:
        states = r.witness_states()
    assert states[witnesses.vkeys[2]].size == first
    assert "connection refused" in (states[witnesses.vkeys[2]].failure or "")
    witnesses.down = set()
    witnesses.asked.clear()
    collect_cosignatures(ledger, post=witnesses.post)
    assert witnesses.asked == [(2, first)]  # one request, with the proof from its own size
    assert len(ledger.latest_checkpoint().cosignatures) == 3
    audit(ledger.store)


def test_a_witness_whose_size_the_log_lost_is_asked_again_from_the_size_it_names(
    ledger: Ledger, witnesses: LocalWitnesses
) -> None:
    _witnessed(ledger, witnesses)
    _append(ledger, 0, 5)
    collect_cosignatures(ledger, post=witnesses.post)
    _append(ledger, 5, 5)
    with ledger.store.write() as w:  # the log's record of witness 0 is behind: 409, then again
        w.conn.execute(
            update(witness_state)
            .where(witness_state.c.witness == witnesses.vkeys[0])
            .values(size=1)
        )
    witnesses.asked.clear()
    asked = collect_cosignatures(ledger, post=witnesses.post)
    assert all(a.cosigned for a in asked)
    old = ledger.latest_checkpoint().size - 5
    assert (0, 1) in witnesses.asked and (0, old) in witnesses.asked


def test_the_background_collector_cosigns_after_each_poke(
    ledger: Ledger, witnesses: LocalWitnesses
) -> None:
    set_policy(ledger, witnesses.witnesses, 3)
    collector = Witnessing(ledger, post=witnesses.post, first_retry=0.01, min_interval=0.01).start()
    try:
        for b in range(3):
            _append(ledger, 10 * b, 2)
            collector.poke()
        for _ in range(500):  # waiting for the thread, not timing it
            with ledger.store.read() as r:
                newest = r.newest_checkpoint()
            assert newest is not None
            if len(newest.cosignatures) == 3:
                break
            time.sleep(0.01)
    finally:
        collector.stop()
    assert ledger.latest_checkpoint().size == ledger.store.size()


def test_the_policy_needs_a_registrar_and_the_founders_quorum(
    ledger: Ledger, witnesses: LocalWitnesses
) -> None:
    body = {
        "witnesses": [
            {"url": u, "key": k} for u, k in zip(witnesses.urls, witnesses.vkeys, strict=True)
        ],
        "quorum": 2,
    }
    raw = {"type": WITNESS_POLICY, "id": "policy-1", "time": "2014-01-01T00:00:00Z"}
    with pytest.raises(EventRejected, match="needs the approvals of"):
        ledger.append(ledger.sign([{**raw, "body": body}], "operator"))
    one = [ledger.approve(WITNESS_POLICY, body, "insp")]
    with pytest.raises(EventRejected, match="it has 1"):
        ledger.append(ledger.sign([{**raw, "body": {**body, "approvals": one}}], "operator"))
    k, eligible = ledger.authority().quorum_for(None)
    approvals = [ledger.approve(WITNESS_POLICY, body, p) for p in eligible[:k]]
    with pytest.raises(EventRejected, match="not a registrar"):
        ledger.append(ledger.sign([{**raw, "body": {**body, "approvals": approvals}}], "insp"))
    with pytest.raises(EventRejected, match="want a majority"):
        minority = {**body, "quorum": 1, "approvals": approvals}
        ledger.append(ledger.sign([{**raw, "body": minority}], "operator"))
    with pytest.raises(EventRejected, match="type 0x04"):
        log_key = ledger.authority().log_vkey
        bad = {"witnesses": [{"url": "http://w.test", "key": log_key}], "quorum": 1}
        ledger.append(ledger.sign([{**raw, "body": bad}], "operator"))
    ledger.append(ledger.sign([{**raw, "body": {**body, "approvals": approvals}}], "operator"))
    assert ledger.authority().witness_policy.keys == tuple(witnesses.vkeys)
    audit(ledger.store)  # the audit replays the same rule


def _tamper(ledger: Ledger, statement: object) -> str:
    with ledger.store.write() as w:
        w.conn.execute(statement)  # type: ignore[call-overload]
    with pytest.raises(AuditFailure) as e:
        audit(ledger.store)
    return str(e.value)


@pytest.fixture
def cosigned(ledger: Ledger, witnesses: LocalWitnesses) -> Ledger:
    _witnessed(ledger, witnesses)
    for b in range(3):
        _append(ledger, 10 * b, 3)
        collect_cosignatures(ledger, post=witnesses.post)
    report = audit(ledger.store)
    assert report.cosignatures == 3 * 4
    return ledger


def test_the_audit_names_a_deleted_cosignature(cosigned: Ledger) -> None:
    with cosigned.store.read() as r:
        c = r.cosignatures()[1]
    said = _tamper(
        cosigned,
        delete(cosignature).where(
            cosignature.c.checkpoint_size == c.checkpoint_size,
            cosignature.c.witness == c.witness,
        ),
    )
    assert "the chain of cosignatures by witness-1.example" in said and "deleted" in said


def test_the_audit_names_the_latest_cosignature_deleted(cosigned: Ledger) -> None:
    size = cosigned.store.size()
    said = _tamper(cosigned, delete(cosignature).where(cosignature.c.checkpoint_size == size))
    assert "the log's record of witness" in said and f"up to size {size}" in said


def test_the_audit_names_a_changed_cosignature(cosigned: Ledger) -> None:
    with cosigned.store.read() as r:
        c = r.cosignatures()[0]
    changed = c.line[:-6] + ("AAAA==" if not c.line.endswith("AAAA==") else "BBBB==")
    said = _tamper(
        cosigned,
        update(cosignature)
        .where(
            cosignature.c.checkpoint_size == c.checkpoint_size,
            cosignature.c.witness == c.witness,
        )
        .values(line=changed),
    )
    assert f"size {c.checkpoint_size} by witness-1.example" in said and "does not verify" in said


def test_the_audit_names_a_deleted_witness_record(
    cosigned: Ledger, witnesses: LocalWitnesses
) -> None:
    gone = delete(witness_state).where(witness_state.c.witness == witnesses.vkeys[1])
    said = _tamper(cosigned, gone)
    assert "witness witness-2.example" in said


def test_the_audit_names_a_changed_quorum(cosigned: Ledger) -> None:
    size = cosigned.store.size()
    said = _tamper(cosigned, update(checkpoint).where(checkpoint.c.size == size).values(quorum=0))
    assert f"checkpoint for size {size} records a witness quorum of 0" in said


def test_the_audit_names_a_cosignature_of_no_stored_checkpoint(cosigned: Ledger) -> None:
    with cosigned.store.read() as r:
        c = r.cosignatures()[0]
    said = _tamper(
        cosigned,
        insert(cosignature).values(
            checkpoint_size=9999, witness=c.witness, line="x", cosigned_at=0, chain=bytes(32)
        ),
    )
    assert "of the checkpoint for size 9999, which is not stored" in said


def test_the_cosignature_streams_page_through_the_whole_table(cosigned: Ledger) -> None:
    with cosigned.store.read() as r:
        every = r.cosignatures()  # by witness, then size
        by_size = sorted(every, key=lambda c: (c.checkpoint_size, c.witness))
        assert list(streams.cosignatures_by_size(r, chunk=1)) == by_size
        assert list(streams.cosignatures_by_size(r, chunk=5)) == by_size
        first_witness: dict[int, str] = {}
        for c in by_size:  # by size, then witness: the first seen is the smallest
            first_witness.setdefault(c.checkpoint_size, c.witness)
        assert list(streams.cosigned_sizes(r, chunk=1)) == sorted(first_witness.items())
        for w in {c.witness for c in every}:
            mine = [c for c in every if c.witness == w]
            assert list(streams.witness_cosignatures(r, w, chunk=1)) == mine


def test_the_audit_holds_one_checkpoints_cosignatures_at_a_time(
    cosigned: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    pulled: list[int] = []  # the size of each cosignature the audit took from the stream
    ahead: list[int] = []  # at each checkpoint checked: how many it took of larger sizes

    def counted(reader: object) -> Iterator[StoredCosignature]:
        for c in streams.cosignatures_by_size(reader, chunk=1):  # type: ignore[arg-type]
            pulled.append(c.checkpoint_size)
            yield c

    check = CosignatureAudit.check_checkpoint

    def checking(self: CosignatureAudit, cp: StoredCheckpoint, policy: object) -> None:
        check(self, cp, policy)  # type: ignore[arg-type]
        ahead.append(sum(1 for size in pulled if size > cp.size))

    monkeypatch.setattr(audit_module, "cosignatures_by_size", counted)
    monkeypatch.setattr(CosignatureAudit, "check_checkpoint", checking)
    assert audit(cosigned.store).cosignatures == 12
    assert len(pulled) == 12 and len(ahead) >= 4
    assert max(ahead) <= 1  # one cosignature of the next checkpoint looked at, no more


def _cli(ledger: Ledger, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr (with the error `main` would print, if any)."""
    result = runner.invoke(app, [*args, "--ledger", str(ledger.path)])
    failure = "" if result.exception is None else f"\nerror: {result.exception}"
    return result.exit_code, result.stdout, result.stderr + failure


def test_verify_checks_the_served_checkpoint_with_the_pinned_keys(
    cosigned: Ledger, witnesses: LocalWitnesses
) -> None:
    log_key = cosigned.authority().log_vkey
    assert log_key is not None
    pins = ["--log-key", log_key] + [a for v in witnesses.vkeys for a in ("--witness", v)]
    code, out, err = _cli(cosigned, "verify", *pins, "--quorum", "3")
    assert code == 0, err
    said = " ".join(err.split())
    assert "cosigned by 3 of 3 witnesses (quorum 3)" in said and "not pinned" not in said
    code, _, err = _cli(cosigned, "verify")
    said = " ".join(err.split())
    assert code == 0 and "log key was not pinned" in said and "witness keys were not pinned" in said
    # One witness's cosignatures gone (and its record with them): below a pinned quorum of 3.
    with cosigned.store.write() as w:
        w.conn.execute(delete(cosignature).where(cosignature.c.witness == witnesses.vkeys[2]))
        w.conn.execute(delete(witness_state).where(witness_state.c.witness == witnesses.vkeys[2]))
    code, _, err = _cli(cosigned, "verify", *pins, "--quorum", "3")
    said = " ".join(err.split())
    assert code == 1 and "has 2 valid witness cosignatures" in said
    assert "missing: witness-3.example" in said
    not_a_log_key = witnesses.witnesses[0].vkey
    code, _, err = _cli(cosigned, "verify", "--log-key", not_a_log_key)
    assert code == 1


def test_a_pinned_log_key_that_is_not_the_ledgers_is_refused(cosigned: Ledger) -> None:
    other = Ledger.init(cosigned.path.parent / "other", "example.org/other")
    try:
        code, _, err = _cli(cosigned, "verify", "--log-key", str(other.authority().log_vkey))
    finally:
        other.close()
    assert code == 1 and "not the pinned" in " ".join(err.split())


def test_prove_prints_the_cosigned_checkpoint_it_checked(
    cosigned: Ledger, witnesses: LocalWitnesses
) -> None:
    pins = [a for v in witnesses.vkeys for a in ("--witness", v)]
    code, out, err = _cli(cosigned, "prove", "inclusion", "4", *pins, "--quorum", "2")
    assert code == 0, err
    doc = json.loads(out)
    served = cosigned.latest_checkpoint()
    assert doc["checkpoint"] == served.cosigned_note and doc["tree_size"] == served.size
    code, out, err = _cli(cosigned, "prove", "consistency", "3", *pins)
    assert code == 0 and json.loads(out)["checkpoint"] == served.cosigned_note
    code, _, err = _cli(cosigned, "prove", "inclusion", "4", "--size", "6", *pins)
    assert code == 1 and "not the checkpoint the log serves" in err
