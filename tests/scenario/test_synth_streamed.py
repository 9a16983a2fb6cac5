"""`synth` plans its events a window of time at a time: the ledger is the one it wrote when
it planned them all at once (golden root hashes and accounts, computed with that code on
main at `bc2c3f9`), and its memory does not grow with the ledger.

The memory test is in the style of tests/ledger/test_bounded_memory.py: an ``RLIMIT_DATA``
cap set in a child process (never the test runner's) once it has planned and made the
events of a small ledger, at what it then uses plus `HEADROOM_MB`; the events of a ledger
ten times as long must then be made under the cap. Planning them all at once, as `synth`
did before (about 150 bytes per event: 30 MB for 200,000), fails there with MemoryError.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cwledger.scenario import synth as synthetic
from cwledger.scenario.synth import Diversion, SynthReport, synth
from tests.memory_cap import PRELUDE

# (arguments, root hash, digest of the account), from main's synth before this change.
GOLDEN: list[tuple[dict[str, Any], str, str]] = [
    (
        {"sites": 3, "items": 120, "events": 1000, "seed": 1},
        "5ad1209f73f1e2f882a595ba72c8d052b07437c949f9e4230bb77bd8071e39bc",
        "ffef1e7e8061c946f5e61b0111310cdf5b5601ccca10cc9df451f8ac67ca6959",
    ),
    (  # 12 items, 330 seal events each: replacements, checks at hand-overs, the horizon
        {"sites": 2, "items": 12, "events": 4000, "seed": 4},
        "1951f36039e4d19ae0a041e937be3beb812e4399ce6479baa31d4630082f7759",
        "041956cd486d5cc70c9ff0f123f57ee498e6a0b2198230eb9f4097ae1ba14df6",
    ),
    (
        {"sites": 4, "items": 400, "events": 2500, "seed": 3, "diversion": "abrupt"},
        "3729cd10d2dd8412715f1410a935dcd91fb4e53e1083ae367f9dc0cafecbc17a",
        "cee0380c5d6199809b1b114f06a0fffc071064a3f59069d840d50665d854b8b5",
    ),
    (
        {"sites": 4, "items": 400, "events": 2500, "seed": 5, "diversion": "protracted:25.5"},
        "2e44eb271e1be4d25af5725211923492a7880a5bff1415588ca6c0cb20136b69",
        "3278d86f7773aeb4ed1e3521e50689b6eea651e7857241288f73bd482d83b2f7",
    ),
    (
        {"sites": 23, "items": 300, "events": 5000, "seed": 17},
        "10f1fae66aa6d66698cf2c7bb9c08234369d3082bc8c20ff2c6f40703a835bb0",
        "455fe434046ae32e3abce6c03af50f1cd248f4bec2f1f364c491f92a0de4c8b9",
    ),
]

# (sites, items, events, seed, diversion), sha256 of every (author, raw event) after the
# genesis as main's synth made them (the author, then the event's JSON with sorted keys).
GOLDEN_EVENTS: list[tuple[tuple[int, int, int, int, str | None], str]] = [
    (
        (23, 2000, 100_000, 1, None),
        "cadfe889855c07f68a66aa9baa37594145ac9dfbb3c2458d84a6042ca28c8b7a",
    ),
    ((2, 12, 40_000, 4, None), "3e89d9b37339e814ecebfb40b444bd373e7d7b80f1bc4bdcaa7eef462fcf3d43"),
    (
        (4, 400, 30_000, 5, "protracted:300"),
        "b7faade54bf31754976d3ce61abaa809e6a4f0601ab97b79b9bbe061dad0773f",
    ),
]


def _account(report: SynthReport) -> str:
    """A digest of the report's account: held, destroyed, item ends, diverted, sizes."""
    payload = [
        sorted([list(k), v] for k, v in report.held.items()),
        sorted([list(k), v] for k, v in report.destroyed.items()),
        sorted([k, v.state.value, v.site] for k, v in report.items.items()),
        sorted(report.diverted.items()),
        report.events,
        report.size,
    ]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


@pytest.mark.parametrize(("args", "root", "account"), GOLDEN)
def test_the_ledger_written_a_window_at_a_time_is_the_one_planned_all_at_once(
    tmp_path: Path, args: dict[str, Any], root: str, account: str
) -> None:
    """A window of 97 events: dozens of windows, cut inside the busy hours."""
    kw = dict(args)
    if "diversion" in kw:
        kw["diversion"] = Diversion.parse(kw["diversion"])
    report = synth(tmp_path / "ledger", window=97, **kw)
    assert report.root_hash == root
    assert _account(report) == account


@pytest.mark.parametrize(("args", "digest"), GOLDEN_EVENTS)
def test_the_events_of_longer_ledgers_are_the_ones_planned_all_at_once(
    args: tuple[int, int, int, int, str | None], digest: str
) -> None:
    """Without writing them: a tenth of the events per window."""
    sites, items, events, seed, spec = args
    diversion = None if spec is None else Diversion.parse(spec)
    story = synthetic._Story.tell(sites, items, events, seed, diversion)
    h = hashlib.sha256()
    count = 0
    for author, raw in story.raw_events(window=events // 10):
        h.update(author.encode())
        h.update(json.dumps(raw, sort_keys=True).encode())
        count += 1
    assert count == events - 1
    assert h.hexdigest() == digest


@pytest.mark.parametrize(("window", "events"), [(1, 600), (7, 3_000), (500, 3_000), (10**9, 3_000)])
def test_the_windows_give_every_event_once_in_order(window: int, events: int) -> None:
    """Whatever the window, the events come out as the sorted list of all of them."""
    story = synthetic._Story.tell(2, 10, events, 8, None)
    everything = sorted([*story.plan, *story.padding.events()])
    assert len(everything) == events - 1 - len(story.parts)
    assert list(synthetic._in_order(story.plan, story.padding, window)) == everything
    spans = synthetic._windows(sorted(t for t, _, _ in story.plan), story.padding, window)
    assert len(spans) > 1 or window == 10**9


def test_a_window_of_no_events_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="window"):
        synth(tmp_path / "l", sites=2, items=10, events=3_000, seed=8, window=0)
    assert not (tmp_path / "l").exists()


SMALL, LARGE, WINDOW = 20_000, 200_000, 20_000
HEADROOM_MB = 12
"""Above what the child uses once it has made the small ledger's events; a window's events
take about 3 MB, all of the large ledger's about 30 MB."""

CHILD = (
    PRELUDE
    + """
from cwledger.scenario import synth

small, large, window, headroom = (int(a) for a in sys.argv[1:5])
for events in (small, large):
    if events == large:
        cap_data(headroom)
    story = synth._Story.tell(4, 300, events, 17, None)
    made = 0
    for _ in story.raw_events(window):
        made += 1
    print(events, made, round(data_mb(), 1), flush=True)
"""
)


def _plan_under_cap(child: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", child, *(str(a) for a in (SMALL, LARGE, WINDOW, HEADROOM_MB))],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_events_of_a_long_ledger_are_made_in_the_memory_of_a_short_one() -> None:
    done = _plan_under_cap(CHILD)
    assert done.returncode == 0, done.stderr[-2000:]
    made = [line.split()[:2] for line in done.stdout.splitlines()]
    assert made == [[str(SMALL), str(SMALL - 1)], [str(LARGE), str(LARGE - 1)]]


def test_the_cap_is_tight_enough_to_catch_a_plan_of_every_event() -> None:
    """The same child, planning every event before it makes the first (as `synth` did:
    the plan and the seal events in one list, sorted), runs out of memory under the cap."""
    leaky = CHILD.replace(
        "story.raw_events(window)",
        "synth._raw_events(story.parts,"
        " sorted([*story.plan, *story.padding.events()]),"
        " synth._Writer(story.world, story.padding.seals, story.received))",
    )
    assert leaky != CHILD
    run = _plan_under_cap(leaky)
    assert run.returncode != 0
    assert "MemoryError" in run.stderr
