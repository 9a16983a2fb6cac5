"""The add-checkpoint protocol's pure parts, and the store's decisions under concurrency."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.note import Signer, sign
from cwledger.witness.app import WitnessApp
from cwledger.witness.protocol import (
    MAX_PROOF_LINES,
    Cosigned,
    InconsistentProof,
    OldSizeMismatch,
    RootConflict,
    UnknownLog,
    decide,
    format_request,
    open_checkpoint,
    parse_request,
)
from cwledger.witness.store import DB_FILE, Opened, WitnessStore
from tests.witness.conftest import ORIGIN, SyntheticLog, make_witness

hashes = st.binary(min_size=32, max_size=32)


@given(st.integers(0, 2**64 - 1), st.lists(hashes, max_size=MAX_PROOF_LINES), st.binary(min_size=1))
def test_format_and_parse_round_trip(old: int, proof: list[bytes], note: bytes) -> None:
    parsed = parse_request(format_request(old, proof, note))
    assert (parsed.old_size, list(parsed.proof), parsed.note) == (old, proof, note)


def _forks() -> tuple[SyntheticLog, SyntheticLog]:
    signer = Signer.generate(ORIGIN)
    a, b = SyntheticLog(ORIGIN, signer), SyntheticLog(ORIGIN, signer)
    a.grow(5)
    b.leaves = list(a.leaves)
    a.grow(11, tag="a")
    b.grow(11, tag="b")
    return a, b


FORK_A, FORK_B = _forks()  # 5 shared leaves, then 11 of each branch's own


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 16), st.integers(0, 16), st.booleans()),
        max_size=40,
    )
)
def test_decide_never_accepts_two_inconsistent_checkpoints(
    steps: list[tuple[bool, int, int, bool]],
) -> None:
    """Whatever the requests (either fork, any old size and size, honest or wrong
    proofs), the checkpoints accepted in turn all lie on one branch and never shrink."""
    trusted = {ORIGIN: [FORK_A.signer.verifier()]}
    latest: Cosigned | None = None
    accepted: list[tuple[SyntheticLog, int]] = []
    for on_a, old, size, honest in steps:
        fork = FORK_A if on_a else FORK_B
        old, size = min(old, size), max(old, size)
        proof = fork.proof(old, size) if honest else fork.proof(max(old - 1, 0), size)
        request = parse_request(format_request(old, proof, fork.checkpoint(size)))
        checkpoint, _ = open_checkpoint(request, trusted)
        try:
            decide(request, checkpoint, latest)
        except (OldSizeMismatch, InconsistentProof, RootConflict):
            continue
        assert latest is None or size >= latest.size
        latest = Cosigned(size, checkpoint.root_hash)
        accepted.append((fork, size))
    past_fork = {fork is FORK_A for fork, size in accepted if size > 5}
    assert len(past_fork) <= 1


def test_the_store_decides_racing_requests_one_at_a_time(tmp_path: Path) -> None:
    """Eight connections (as eight processes would) race the same old size with
    checkpoints of both forks: exactly one wins, and the state is the winner's."""
    path = tmp_path / "witness"
    make_witness(path, {ORIGIN: FORK_A.signer.verifier().vkey()})
    trusted = {ORIGIN: [FORK_A.signer.verifier()]}
    first = WitnessStore(path)
    request = parse_request(format_request(0, [], FORK_A.checkpoint(5)))
    assert first.record([Opened(request, *open_checkpoint(request, trusted))]) == [None]
    stores = [WitnessStore(path) for _ in range(8)]
    outcomes: list[tuple[int, Exception | None]] = []
    start = threading.Barrier(len(stores))

    def race(i: int) -> None:
        fork = (FORK_A, FORK_B)[i % 2]
        size = 6 + i
        request = parse_request(format_request(5, fork.proof(5, size), fork.checkpoint(size)))
        opened = Opened(request, *open_checkpoint(request, trusted))
        start.wait()
        outcomes.append((i, stores[i].record([opened])[0]))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, refusal in outcomes if refusal is None]
    assert len(outcomes) == 8 and len(winners) == 1
    assert all(isinstance(r, OldSizeMismatch) for _, r in outcomes if r is not None)
    (won,) = winners
    fork = (FORK_A, FORK_B)[won % 2]
    assert first.latest(ORIGIN) == Cosigned(6 + won, fork.root(6 + won))
    for store in [first, *stores]:
        store.close()


def test_a_batch_is_decided_in_order(tmp_path: Path) -> None:
    """In one group commit, each request sees the state the ones before it left."""
    path = tmp_path / "witness"
    make_witness(path, {ORIGIN: FORK_A.signer.verifier().vkey()})
    trusted = {ORIGIN: [FORK_A.signer.verifier()]}

    def opened(fork: SyntheticLog, old: int, size: int) -> Opened:
        request = parse_request(format_request(old, fork.proof(old, size), fork.checkpoint(size)))
        return Opened(request, *open_checkpoint(request, trusted))

    store = WitnessStore(path)
    outcomes = store.record(
        [opened(FORK_A, 0, 6), opened(FORK_B, 0, 7), opened(FORK_B, 6, 8), opened(FORK_A, 6, 9)]
    )
    assert outcomes[0] is None and outcomes[3] is None
    assert isinstance(outcomes[1], OldSizeMismatch) and outcomes[1].latest_size == 6
    assert isinstance(outcomes[2], InconsistentProof)
    assert store.latest(ORIGIN) == Cosigned(9, FORK_A.root(9))
    store.close()


def test_a_checkpoint_for_another_origin_is_not_taken_for_its_log() -> None:
    signer = Signer.generate(ORIGIN)
    text = Checkpoint(ORIGIN + "x", 1, bytes(32)).to_text()
    request = parse_request(format_request(0, [], sign(text, [signer])))
    with pytest.raises(UnknownLog, match="does not witness"):
        open_checkpoint(request, {ORIGIN: [signer.verifier()]})


def _answer(app: WitnessApp, body: bytes) -> tuple[int, str, bytes]:
    """The app's answer, on an event loop of its own in a thread of its own (this test's
    thread may already run one: an earlier test's browser, in the same worker)."""
    out: list[tuple[int, str, bytes]] = []
    t = threading.Thread(target=lambda: out.append(asyncio.run(app.add_checkpoint(body))))
    t.start()
    t.join()
    return out[0]


def test_a_database_failure_cosigns_nothing_and_answers_503(tmp_path: Path) -> None:
    path = tmp_path / "witness"
    make_witness(path, {ORIGIN: FORK_A.signer.verifier().vkey()})
    app = WitnessApp(path)
    ok = _answer(app, format_request(0, [], FORK_A.checkpoint(5)))
    assert ok[0] == 200 and ok[2].startswith("\u2014 ".encode())
    db = sqlite3.connect(path / DB_FILE)
    db.execute("DROP TABLE cosigned")  # the state cannot be written any more
    db.close()
    status, _, body = _answer(app, format_request(5, FORK_A.proof(5, 6), FORK_A.checkpoint(6)))
    assert status == 503 and b"could not record" in body and "\u2014".encode() not in body
    app.store.close()
