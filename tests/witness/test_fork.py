"""The fork test, the witnesses' half (issue 15, section 3): a ledger's directory copied,
different events appended to each copy (all signed by the same log key). Three real
`cwledger witness serve` processes that cosigned one branch refuse every other: one of the
same size (409, another root), one longer (422, no consistency proof from the tree they
cosigned) and one shorter (409: they hold a larger tree). A refused branch's newest
checkpoint never reaches its quorum, so it serves the checkpoint from before the fork.
(The monitors' half is in tests/test_monitor_cli.py.)"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.errors import CwledgerError
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.witnessing import collect_cosignatures
from cwledger.store import StoredCheckpoint
from cwledger.witness.client import add_checkpoint
from cwledger.witness.protocol import (
    InconsistentProof,
    MalformedRequest,
    OldSizeMismatch,
    RootConflict,
)
from cwledger.witness.store import WitnessStore, init_witness
from tests.conftest import FOUNDING, ORIGIN, event
from tests.witness.conftest import Served, serve
from tests.witness.inprocess import set_policy

runner = CliRunner()
GROWS = 10  # entries the cosigned branch appends after the fork


@pytest.fixture
def witnesses(tmp_path: Path) -> Iterator[list[tuple[Served, str]]]:
    """Three served witnesses (their vkeys beside them), of no log yet."""
    made: list[tuple[Served, str]] = []
    try:
        for n in range(3):
            path = tmp_path / f"witness-{n}"
            vkey = init_witness(path, f"witness.example/w{n}").verifier().vkey()
            made.append((serve(path), vkey))
        yield made
    finally:
        for served, _ in made:
            served.stop(9)


def _append(path: Path, numbers: range) -> None:
    with closing(Ledger.open(path)) as led:
        led.append(led.sign([event(i) for i in numbers], "insp"))


def _collect(path: Path) -> list[tuple[bool, str | None]]:
    with closing(Ledger.open(path)) as led:
        return [(a.cosigned, a.failure) for a in collect_cosignatures(led, timeout=30)]


def _checkpoints(path: Path) -> tuple[StoredCheckpoint | None, StoredCheckpoint | None]:
    """(the checkpoint served: the newest with its quorum, the newest) of the ledger."""
    with closing(Ledger.open(path)) as led, led.store.read() as r:
        return r.latest_checkpoint(), r.newest_checkpoint()


def _proof(path: Path, old: int, size: int) -> list[bytes]:
    with closing(Ledger.open(path)) as led:
        return [bytes.fromhex(h) for h in led.prove_consistency(old, size)["proof"]]


def _listed(path: Path) -> list[dict[str, Any]]:
    res = runner.invoke(app, ["witnesses", "list", "--json", "--ledger", str(path)])
    assert res.exit_code == 0, res.output
    rows: list[dict[str, Any]] = json.loads(res.stdout)["witnesses"]
    return rows


def _refused(expected: type[CwledgerError], *args: Any) -> CwledgerError:
    with pytest.raises(expected) as caught:
        add_checkpoint(*args, timeout=30)
    return caught.value


def test_the_witnesses_that_cosigned_one_branch_refuse_every_other(
    tmp_path: Path, witnesses: list[tuple[Served, str]]
) -> None:
    a = tmp_path / "a"
    with closing(Ledger.init(a, ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")) as led:
        origin, log_vkey = led.authority().origin, led.authority().log_vkey
        assert origin is not None and log_vkey is not None
        for served, _ in witnesses:  # `cwledger witness add-log`
            store = WitnessStore(served.path)
            store.add_log(origin, log_vkey)
            store.close()
        set_policy(led, [(s.url, k) for s, k in witnesses], 2)
        led.append(led.sign([event(i) for i in range(1, 40)], "insp"))
    assert _collect(a) == [(True, None)] * 3
    before, _ = _checkpoints(a)
    assert before is not None and len(before.cosignatures) == 3

    # The fork: copies of the closed ledger, each appended to apart.
    b, c, d = (tmp_path / name for name in "bcd")
    for copy in (b, c, d):
        shutil.copytree(a, copy)
    _append(a, range(100, 100 + GROWS))
    _append(b, range(200, 200 + GROWS))  # the same size as a, another root
    _append(c, range(300, 300 + GROWS + 5))  # longer
    _append(d, range(400, 400 + GROWS - 5))  # shorter
    assert _collect(a) == [(True, None)] * 3  # the witnesses now hold branch a
    cosigned, _ = _checkpoints(a)
    assert cosigned is not None and cosigned.size == before.size + GROWS

    answers = {
        b: "answered 409",  # RootConflict (after the 409 naming a's size, asked from it)
        c: "answered 422",  # InconsistentProof (asked from a's size, with c's proof)
        d: "a fork or a rewind",  # their 409 names a larger tree than d's
    }
    for branch, said in answers.items():
        asked = _collect(branch)
        assert [ok for ok, _ in asked] == [False] * 3, asked
        assert all(failure is not None and said in failure for _, failure in asked), asked
        # Recorded: `witnesses list` names each failure, and no witness moved past the fork.
        listed = _listed(branch)
        assert [row["failure"] for row in listed] == [failure for _, failure in asked]
        assert {row["cosigned_size"] for row in listed} == {before.size}
        with closing(Ledger.open(branch)) as led, led.store.read() as r:
            states = r.witness_states()
        assert {states[k].failure for _, k in witnesses} == {f for _, f in asked}
        # Never its quorum: the branch still serves the checkpoint from before the fork.
        served, newest = _checkpoints(branch)
        assert served is not None and newest is not None
        assert (served.size, served.root_hash) == (before.size, before.root_hash)
        assert served.cosignatures == before.cosignatures
        assert newest.size != before.size and newest.cosignatures == ()

    # Straight to each witness, from the size it holds (a's): refused, as the spec says.
    _, newest_b = _checkpoints(b)
    _, newest_c = _checkpoints(c)
    _, newest_d = _checkpoints(d)
    assert newest_b is not None and newest_c is not None and newest_d is not None
    assert newest_b.size == cosigned.size and newest_b.root_hash != cosigned.root_hash
    proof_c = _proof(c, cosigned.size, newest_c.size)
    for served, _ in witnesses:
        url = served.url
        assert "409" in str(_refused(RootConflict, url, cosigned.size, [], newest_b.note.encode()))
        conflict = _refused(InconsistentProof, url, cosigned.size, proof_c, newest_c.note.encode())
        assert "422" in str(conflict)
        # d believes the witness holds the tree from before the fork: 409 names a's size.
        stale = _refused(
            OldSizeMismatch,
            url,
            before.size,
            _proof(d, before.size, newest_d.size),
            newest_d.note.encode(),
        )
        assert isinstance(stale, OldSizeMismatch) and stale.latest_size == cosigned.size
        _refused(MalformedRequest, url, cosigned.size, [], newest_d.note.encode())  # old > new
        store = WitnessStore(served.path)
        latest = store.latest(origin)
        store.close()
        assert latest is not None and (latest.size, latest.root_hash) == (
            cosigned.size,
            cosigned.root_hash,
        )

    # Branch a goes on being cosigned.
    _append(a, range(500, 503))
    assert _collect(a) == [(True, None)] * 3
    grown, _ = _checkpoints(a)
    assert grown is not None and grown.size == cosigned.size + 3
