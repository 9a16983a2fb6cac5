"""Collecting cosignatures: a slow witness does not hold back the others' cosignatures (they
are stored, and the checkpoint served with its quorum, while it is still being asked)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from cwledger.ledger.ledger import Ledger
from cwledger.ledger.witnessing import Asked, Witnessing, collect_cosignatures
from tests.conftest import event
from tests.witness.inprocess import InProcessWitness, set_policy


def test_a_slow_witness_does_not_hold_back_the_quorum(ledger: Ledger, tmp_path: Path) -> None:
    witnesses = {
        f"http://w{n}.example": InProcessWitness(
            tmp_path / f"w{n}", f"witness.example/w{n}", ledger, lambda: 1_700_000_000
        )
        for n in range(3)
    }
    slow, release = "http://w2.example", threading.Event()

    def post(url: str, old: int, proof: Sequence[bytes], note: bytes) -> list[str]:
        if url == slow:
            assert release.wait(60), "never released"
        return witnesses[url].post(url, old, proof, note)

    try:
        set_policy(ledger, [(url, w.vkey) for url, w in witnesses.items()], 2)
        ledger.append(ledger.sign([event(1), event(2)], "insp"))
        size = ledger.store.size()
        result: list[list[Asked]] = []
        collecting = threading.Thread(
            target=lambda: result.append(collect_cosignatures(ledger, post=post))
        )
        collecting.start()
        try:
            stored = threading.Event()
            for _ in range(600):  # until the two others are stored (the slow one still asked)
                with ledger.store.read() as r:
                    cp = r.latest_checkpoint()
                if cp is not None and cp.size == size:
                    stored.set()
                    break
                stored.wait(0.1)
            assert stored.is_set(), "the two prompt cosignatures were not stored"
            assert collecting.is_alive() and len(cp.cosignatures) == 2  # type: ignore[union-attr]
        finally:
            release.set()
            collecting.join()
        [asked] = result
        assert [a.cosigned for a in asked] == [True] * 3
        with ledger.store.read() as r:
            newest = r.newest_checkpoint()
        assert newest is not None and newest.size == size and len(newest.cosignatures) == 3
    finally:
        for w in witnesses.values():
            w.close()


def test_the_background_thread_collects_after_each_poke_and_stops(
    ledger: Ledger, tmp_path: Path
) -> None:
    witness = InProcessWitness(tmp_path / "w", "witness.example/w", ledger, lambda: 1_700_000_000)
    try:
        set_policy(ledger, [("http://w.example", witness.vkey)], 1)
        witnessing = Witnessing(ledger, post=witness.post, min_interval=0.05).start()
        try:
            for n in range(3):
                ledger.append(ledger.sign([event(n)], "insp"))
                witnessing.poke()
                size = ledger.store.size()
                cosigned = threading.Event()
                for _ in range(600):  # until the thread has collected (no timing asserted)
                    with ledger.store.read() as r:
                        cp = r.latest_checkpoint()
                    if cp is not None and cp.size == size:
                        cosigned.set()
                        break
                    cosigned.wait(0.1)
                assert cosigned.is_set(), f"size {size} was never cosigned"
        finally:
            witnessing.stop()
        assert not witnessing._thread.is_alive()
        with ledger.store.read() as r:
            assert r.witness_states()[witness.vkey].size == size
    finally:
        witness.close()
