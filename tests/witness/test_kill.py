"""A witness SIGKILLed while 20 threads feed it two forks of one log never cosigns two
inconsistent checkpoints, and loses none it cosigned.

The forks are real ledgers: a copy of one ledger's directory, then different events
appended to each copy, both signed by the same log key. Ten threads push each branch's
checkpoints, each a step of one to three checkpoints past the last size it knows
cosigned (or that same one again), retrying from the size a 409 gives with a proof from
that size on their own branch; the witness is killed with SIGKILL once it has cosigned a
few, then restarted on its directory, and the threads go on. Every cosignature collected,
before and after the kill, and the state the witness kept, must lie on one branch.
"""

from __future__ import annotations

import random
import shutil
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from cwledger.ledger.ledger import Ledger
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.cosignature import CosignatureVerifier, verify_cosignature
from cwledger.tlog.proof import consistency_proof, root_hash
from cwledger.witness.client import WitnessUnavailable, add_checkpoint
from cwledger.witness.protocol import InconsistentProof, OldSizeMismatch, RootConflict
from cwledger.witness.store import WitnessStore
from tests.conftest import ORIGIN, event
from tests.witness.conftest import Served, make_witness, serve

THREADS = 20
BATCHES = 40  # checkpoints per branch past the fork
ATTEMPTS = 40  # requests per thread at most
KILL_AFTER = 12  # cosignatures collected before the SIGKILL


@dataclass
class Branch:
    """One fork: its leaf hashes and its signed checkpoints (size -> note)."""

    leaves: list[bytes]
    notes: dict[int, bytes]

    def proof(self, old: int, size: int) -> list[bytes]:
        return [] if old in (0, size) else consistency_proof(self.leaves[:size], old)


def _branch(led: Ledger, first: int, batches: int) -> Branch:
    notes = {}
    for b in range(batches):
        led.append(led.sign([event(first + b)], "insp"))
        cp = led.latest_checkpoint()
        notes[cp.size] = cp.note.encode()
    with led.store.read() as r:
        leaves = [e.leaf_hash for e in r.entries(0, r.size())]
    return Branch(leaves, notes)


def _forks(tmp_path: Path) -> tuple[str, Branch, Branch]:
    base = Ledger.init(tmp_path / "a", ORIGIN, founding=[("insp", "inspectorate")])
    base.append(base.sign([event(n) for n in range(3)], "insp"))
    log_vkey = base.authority().log_vkey
    base.close()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    a, b = Ledger.open(tmp_path / "a"), Ledger.open(tmp_path / "b")
    try:
        branch_a = _branch(a, 100, BATCHES)
        branch_b = _branch(b, 500, BATCHES)  # other events
    finally:
        a.close()
        b.close()
    assert log_vkey is not None
    return log_vkey, branch_a, branch_b


def test_sigkill_under_20_concurrent_streams_of_two_forks(tmp_path: Path) -> None:
    log_vkey, branch_a, branch_b = _forks(tmp_path)
    fork_size = min(s for s in branch_a.notes if branch_a.notes[s] != branch_b.notes.get(s))
    assert branch_a.leaves[: fork_size - 1] == branch_b.leaves[: fork_size - 1]
    assert branch_a.leaves[fork_size - 1] != branch_b.leaves[fork_size - 1]
    path = tmp_path / "witness"
    vkey = make_witness(path, {ORIGIN: log_vkey})
    served: list[Served] = [serve(path)]
    lock = threading.Condition()
    cosigned: list[tuple[int, bytes, bytes, str]] = []  # size, root, note, line
    up = threading.Event()
    up.set()

    failures: list[BaseException] = []

    def stream(seed: int) -> None:
        try:
            push(seed)
        except BaseException as e:  # a thread's failure fails the test
            failures.append(e)
            raise

    def push(seed: int) -> None:
        rng = random.Random(seed)
        branch = (branch_a, branch_b)[seed % 2]
        sizes = sorted(branch.notes)
        old = 0
        for _ in range(ATTEMPTS):
            ahead = [s for s in sizes if s > old][:3]
            if not ahead and old in sizes:
                break  # its branch's last checkpoint is cosigned
            size = rng.choice(ahead + [old] if old in branch.notes else ahead)
            up.wait()
            url = served[-1].url
            try:
                lines = add_checkpoint(
                    url, old, branch.proof(old, size), branch.notes[size], timeout=60
                )
            except OldSizeMismatch as e:
                old = e.latest_size
                continue
            except (InconsistentProof, RootConflict):
                continue  # the other branch got there first: this one is refused
            except WitnessUnavailable:
                continue  # killed: wait for the restart
            with lock:
                cosigned.append(
                    (size, root_hash(branch.leaves[:size]), branch.notes[size], lines[0])
                )
                lock.notify_all()
            old = size

    threads = [threading.Thread(target=stream, args=(seed,)) for seed in range(THREADS)]
    try:
        for t in threads:
            t.start()
        with lock:
            lock.wait_for(
                lambda: len(cosigned) >= KILL_AFTER or not any(t.is_alive() for t in threads)
            )
            up.clear()
        served[-1].stop(signal.SIGKILL)
        before = len(cosigned)
        served.append(serve(path))
        up.set()
        for t in threads:
            t.join()
    finally:
        up.set()
        served[-1].stop(signal.SIGKILL)
    assert not failures, failures
    assert before >= KILL_AFTER and len(cosigned) > before  # cosigned on both sides of the kill

    verifier = CosignatureVerifier.from_vkey(vkey)
    for _, root, note, line in cosigned:
        text = note.decode().split("\n\n")[0] + "\n"
        assert Checkpoint.from_text(text).root_hash == root
        assert verify_cosignature(verifier, text, line) is not None
    # One branch only: every cosigned checkpoint past the fork is on the same one.
    past = {root for size, root, _, _ in cosigned if size >= fork_size}
    on_a = {root_hash(branch_a.leaves[:s]) for s in branch_a.notes}
    on_b = {root_hash(branch_b.leaves[:s]) for s in branch_b.notes}
    assert past <= on_a or past <= on_b
    # Nothing cosigned was lost: the state kept is the largest size cosigned, on that branch.
    store = WitnessStore(path)
    latest = store.latest(ORIGIN)
    store.close()
    largest = max(size for size, _, _, _ in cosigned)
    assert latest is not None and latest.size == largest
    winner = branch_a if past <= on_a else branch_b
    assert latest.root_hash == root_hash(winner.leaves[:largest])
