"""The audit holds nothing per checkpoint but its size: `audit` of a log of 24,000 batches
of one entry (24,000 checkpoints) runs under a memory cap that a log of 2,000 fits in.

The cap is ``RLIMIT_DATA`` (as in `test_bounded_memory`), set in a child process after it
has audited the small log (imports, caches and one chunk's worth of work in place): what it
then uses plus `HEADROOM_MB`. Holding every stored checkpoint at once (the audit's
dictionary of them, as it was, about 1 KB each: the note, the root, the row) needs more
than that for 22,000 more: the second test shows it fails under the same cap.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cwledger.ledger.ledger import Ledger
from cwledger.store import StoredEntry
from cwledger.tlog.hashing import leaf_hash
from tests.conftest import FOUNDING, ORIGIN, event
from tests.memory_cap import PRELUDE, dies_of_memory, run_child

SMALL, LARGE = 2_000, 24_000
HEADROOM_MB = 12

CHILD = (
    PRELUDE
    + """
from cwledger.ledger.audit import audit

def run(ledger, large):
    report = audit(ledger.store, workers=1)
    return [report.checkpoints]

small_then_large(run)
"""
)


def _one_checkpoint_per_entry(path: Path, batches: int) -> None:
    """A ledger of `batches` batches of one signed estimate each, written through the log
    path (`Ledger.write_entries`: entry, tiles, a signed checkpoint) in one transaction."""
    led = Ledger.init(path, ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    raws = [event(i) for i in range(batches)]
    envelopes = led.sign(raws, "insp")
    with led.store.write() as w:
        for k, (raw, env) in enumerate(zip(raws, envelopes, strict=True)):
            entry = StoredEntry(
                1 + k, leaf_hash(env), raw["id"], raw["type"], "insp", raw["time"], env
            )
            led.write_entries(w, 1 + k, [entry], ORIGIN)
    led.close()


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("audit-memory")
    for name, batches in (("small", SMALL), ("large", LARGE)):
        _one_checkpoint_per_entry(root / name, batches)
    return root / "small", root / "large"


def test_the_audit_of_many_checkpoints_fits_the_memory_of_few(ledgers: tuple[Path, Path]) -> None:
    done = run_child(CHILD, *ledgers, HEADROOM_MB)
    assert done.returncode == 0, done.stderr[-2000:]
    names = [line.split()[:2] for line in done.stdout.splitlines()]
    assert names == [["small", str(SMALL + 1)], ["large", str(LARGE + 1)]]


def test_the_cap_is_tight_enough_to_catch_the_checkpoints_held_at_once(
    ledgers: tuple[Path, Path],
) -> None:
    """The same child, reading every stored checkpoint into a dictionary before the audit
    of the large log (what the audit did), runs out of memory under the cap."""
    leaky = CHILD.replace(
        "    report = audit(ledger.store, workers=1)",
        "    with ledger.store.read() as r:\n"
        "        held = {c.size: c for c in r.checkpoints()}\n"
        "    report = audit(ledger.store, workers=1)",
    )
    assert dies_of_memory(leaky, *ledgers, HEADROOM_MB)
