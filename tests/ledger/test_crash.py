"""Durability: a writer killed with SIGKILL at random moments loses nothing it acknowledged,
and leaves a log that verifies."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from cwledger.ledger.audit import audit
from cwledger.ledger.ledger import Ledger
from tests.conftest import ORIGIN

# Appends batches of 1-3 events in a loop; prints each receipt only after append() returned.
CHILD = """
import json, sys
from pathlib import Path
from cwledger.ledger.ledger import Ledger
led = Ledger.open(Path(sys.argv[1]))
n = int(sys.argv[2])
while True:
    batch = [{"type": "inspection.opened", "id": f"crash-{n + k:08d}",
              "time": "2014-01-01T00:00:00Z",
              "body": {"inspection": f"I-{n + k}", "site": "S-1", "kind": "routine"}}
             for k in range(1 + n % 3)]
    for r in led.append(led.sign(batch, "insp")):
        ack = {"index": r.index, "id": r.event_id, "leaf": r.leaf_hash.hex()}
        print(json.dumps(ack), flush=True)
    n += len(batch)
"""


def test_sigkill_during_appends_loses_no_acknowledged_event(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    Ledger.init(path, ORIGIN, founding=[("insp", "inspectorate")]).close()
    rng = random.Random(20131014)
    acknowledged: list[dict[str, object]] = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for round_ in range(20):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(round_ * 1_000_000)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert child.stdout is not None
        first = child.stdout.readline()  # wait until it is appending, then kill at random
        time.sleep(rng.uniform(0.0, 0.3))
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait()
        lines = [first, *rest.splitlines(keepends=True)]
        acknowledged += [json.loads(x) for x in lines if x.endswith(b"\n")]
    assert len(acknowledged) > 20
    led = Ledger.open(path)
    report = audit(led.store)
    with led.store.read() as r:
        stored = {e.event_id: e for e in r.entries(0, r.size())}
    for receipt in acknowledged:
        entry = stored[str(receipt["id"])]
        assert (entry.index, entry.leaf_hash.hex()) == (receipt["index"], receipt["leaf"])
    assert report.size == len(stored)
    led.close()
