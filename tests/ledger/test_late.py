"""`cwledger late-entries` by two bounds (issue 15, section 2): the log's own clock, and its
witnesses' cosignatures, whose timestamps say when a tree without an entry existed whatever
the operator's clock says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cwledger.cli import app, common
from cwledger.errors import Unavailable
from cwledger.ledger.late import witnessed_late
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.witnessing import collect_cosignatures
from cwledger.time import from_rfc3339
from tests.conftest import FOUNDING, ORIGIN, event
from tests.witness.inprocess import InProcessWitness, set_policy

S = 1_000_000  # µs in a second
runner = CliRunner()


# -- the bound, pure ---------------------------------------------------------------------


def test_the_bound_of_an_entry_is_the_latest_cosigned_tree_without_it() -> None:
    moments = ((i, 0) for i in range(6))  # a stream: read once, in order
    # Trees of size 2 (seen at 100 s) and 4 (seen at 50 s, by a slower clock): entries 0
    # and 1 are in every tree, entries 2 and 3 not in the tree of 2, entries 4 and 5 in
    # neither (the bound is the later of the two moments).
    found = list(witnessed_late(moments, iter([(4, 50), (2, 100)]), late_after=0))
    assert found == [(2, 100 * S), (3, 100 * S), (4, 100 * S), (5, 100 * S)]


def test_only_an_event_time_more_than_the_threshold_before_the_bound_is_late() -> None:
    moments = [(5, 100 * S - 10), (6, 100 * S - 11), (7, 100 * S), (8, 200 * S)]
    assert list(witnessed_late(moments, [(5, 100)], late_after=10)) == [(6, 100 * S)]
    assert list(witnessed_late(moments, [(5, 100)], late_after=0)) == [
        (5, 100 * S),
        (6, 100 * S),
    ]
    assert list(witnessed_late(moments, [], late_after=0)) == []


# -- on a ledger with a witness ----------------------------------------------------------


class Clock:
    """A clock the test sets: the log's in microseconds, or a witness's in seconds."""

    def __init__(self, text: str, unit: int = 1) -> None:
        self.unit = unit
        self.set(text)

    def set(self, text: str) -> None:
        self.now = from_rfc3339(text) // self.unit

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def log_clock() -> Clock:
    return Clock("2013-09-14T00:00:00Z")


@pytest.fixture
def led(tmp_path: Path, log_clock: Clock) -> Iterator[Ledger]:
    ledger = Ledger.init(
        tmp_path / "ledger",
        ORIGIN,
        founding=FOUNDING,
        time="2013-09-14T00:00:00Z",
        log_clock=log_clock,
    )
    yield ledger
    ledger.close()


def dated(n: int, time: str) -> dict[str, Any]:
    return event(n) | {"time": time}


def late(led: Ledger, *extra: str) -> list[dict[str, Any]]:
    res = runner.invoke(app, ["late-entries", "--json", "--ledger", str(led.path), *extra])
    assert res.exit_code == 0, res.output
    docs: list[dict[str, Any]] = json.loads(res.stdout)
    return docs


def test_an_entry_backdated_before_a_cosigned_tree_is_witnessed_late(
    led: Ledger, log_clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    witness_clock = Clock("2014-03-01T00:00:00Z", S)
    witness = InProcessWitness(tmp_path / "witness", "witness.example/w1", led, witness_clock)
    try:
        log_clock.set("2014-01-01T00:00:00Z")
        set_policy(led, [("http://witness.example/w1", witness.vkey)], 1)
        log_clock.set("2014-01-10T10:00:00Z")
        led.append(led.sign([dated(1, "2014-01-10T09:00:00Z")], "insp"))
        [asked] = collect_cosignatures(led, post=witness.post)
        assert asked.cosigned, asked.failure
    finally:
        witness.close()
    cosigned = led.latest_checkpoint().size
    with led.store.read() as r:
        assert r.cosignature_times() == [(cosigned, witness_clock.now)]

    # The witness saw the tree of `cosigned` entries on 1 March; the operator's clock says
    # 12 January. A is dated 8 January: four days before the log's clock (within its
    # threshold of seven), but 51.58 days before a witness saw a tree without it. E is
    # late by both.
    log_clock.set("2014-01-12T10:00:00Z")
    a, e = led.append(
        led.sign([dated(10, "2014-01-08T10:00:00Z"), dated(11, "2013-12-01T10:00:00Z")], "insp")
    )
    # B is dated after the bound; D 1.58 days before it (six by the log's clock).
    log_clock.set("2014-03-05T10:00:00Z")
    b, d = led.append(
        led.sign([dated(12, "2014-03-05T09:00:00Z"), dated(13, "2014-02-27T10:00:00Z")], "insp")
    )
    assert a.index == cosigned  # the first entry that no cosigned tree holds

    rows = [(x["index"], x["bound"], x["taken_after"], x["days_late"]) for x in late(led)]
    assert rows == [
        (a.index, "witnessed", "2014-03-01T00:00:00Z", 51.58),
        (e.index, "log clock", "2014-01-12T10:00:00Z", 42.0),
        (e.index, "witnessed", "2014-03-01T00:00:00Z", 89.58),
    ]
    [doc] = [x for x in late(led) if x["index"] == a.index]
    assert doc["event_id"] == "ev-000010" and doc["time"] == "2014-01-08T10:00:00Z"
    assert doc["logged_at"] == "2014-01-12T10:00:00Z"  # what the operator's clock says

    # A day's threshold: D too, by both bounds; B never by the witnessed one.
    rows = [(x["index"], x["bound"], x["days_late"]) for x in late(led, "--days", "1")]
    assert (d.index, "log clock", 6.0) in rows and (d.index, "witnessed", 1.58) in rows
    witnessed = {x["index"] for x in late(led, "--days", "0") if x["bound"] == "witnessed"}
    assert witnessed == {a.index, e.index, d.index}
    assert b.index not in witnessed
    assert all(
        x["index"] >= cosigned for x in late(led, "--days", "0") if x["bound"] == "witnessed"
    )

    # The table says which bound, and how many entries.
    monkeypatch.setattr(common.out, "_width", 200)  # whatever the worker's terminal
    res = runner.invoke(app, ["late-entries", "--ledger", str(led.path)])
    assert res.exit_code == 0, res.output
    assert "witnessed" in res.stdout and "log clock" in res.stdout and "51.58" in res.stdout
    assert "2 late entries, 2 of them witnessed" in res.output


def test_a_witness_whose_clock_runs_ahead_moves_no_bound_without_the_quorum(
    led: Ledger, log_clock: Clock, tmp_path: Path
) -> None:
    """A quorum of two: one witness whose clock says 2015 cosigns alone, its tree short of
    the quorum; no entry is "witnessed" late by it. Once the second witness (an honest
    clock) cosigns too, the bound is the earlier of the two: still no false alarm."""
    ahead = Clock("2015-01-01T00:00:00Z", S)
    honest = Clock("2014-01-10T10:00:01Z", S)
    w1 = InProcessWitness(tmp_path / "w1", "witness.example/w1", led, ahead)
    w2 = InProcessWitness(tmp_path / "w2", "witness.example/w2", led, honest)
    urls = ["http://witness.example/w1", "http://witness.example/w2"]
    try:
        log_clock.set("2014-01-01T00:00:00Z")
        set_policy(led, [(urls[0], w1.vkey), (urls[1], w2.vkey)], 2)
        log_clock.set("2014-01-10T10:00:00Z")
        led.append(led.sign([dated(1, "2014-01-10T09:00:00Z")], "insp"))

        def w2_down(url: str, *a: Any) -> list[str]:
            if url == urls[1]:
                raise Unavailable("witness.example/w2 does not answer")
            return w1.post(url, *a)

        collect_cosignatures(led, post=w2_down)
        with led.store.read() as r:
            assert r.cosignature_times() == []  # 1 of 2: short of the quorum
        log_clock.set("2014-01-12T10:00:00Z")
        (x,) = led.append(led.sign([dated(2, "2014-01-11T10:00:00Z")], "insp"))
        assert not [d for d in late(led, "--days", "0") if d["bound"] == "witnessed"]
        both = {urls[0]: w1.post, urls[1]: w2.post}
        collect_cosignatures(led, post=lambda url, *a: both[url](url, *a))
        (y,) = led.append(led.sign([dated(3, "2014-01-12T09:00:00Z")], "insp"))
    finally:
        w1.close()
        w2.close()
    with led.store.read() as r:
        times = r.cosignature_times()
    assert times and all(t < ahead.now for _, t in times)  # the earliest: the honest clock
    flagged = {d["index"] for d in late(led, "--days", "1")}
    assert x.index not in flagged and y.index not in flagged


def test_without_witnesses_only_the_log_clock_bounds(led: Ledger, log_clock: Clock) -> None:
    log_clock.set("2014-01-20T10:00:00Z")
    x, _ = led.append(
        led.sign([dated(1, "2014-01-02T10:00:00Z"), dated(2, "2014-01-14T10:00:00Z")], "insp")
    )
    rows = [(r["index"], r["bound"], r["days_late"]) for r in late(led)]
    assert rows == [(x.index, "log clock", 18.0)]  # not the one six days late
    assert late(led, "--days", "18") == []
