#!/usr/bin/env python
"""`rebuild` and `verify` of synthetic ledgers of growing size: peak memory and time.

For each size it writes (once, with ``cwledger synth``) a ledger of that many events, or
reuses the one already in ``--dir``; then, in a new process each, it rebuilds the book
(``projections.rebuild``) and verifies the ledger (``audit`` then ``check_book``: all that
``cwledger verify`` does without its served-checkpoint check), and prints the time and the
peak RSS (VmHWM) of that process. The book must not hold the log in memory: the peak should
not grow with the log (issue 17: at 1,000,000 events at most 1.2 times the peak at 100,000,
and under 500 MB), and the time should grow linearly (at most 10.5 times).

The LAST line is one JSON object; its ratios are the largest size's figure over the
smallest's: ``rebuild_mem_ratio``, ``rebuild_time_ratio``, ``verify_mem_ratio``,
``verify_time_ratio``.

    .venv/bin/python benchmarks/bench_replay.py --sizes 100000,300000 --dir /tmp/replay
    .venv/bin/python benchmarks/bench_replay.py --sizes 100000,1000000 --dir /tmp/replay
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CHILD = """
import json, sys, time
from pathlib import Path
def hwm():  # VmHWM: ru_maxrss would keep the forking parent's size across exec
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024
from cwledger.ledger.audit import audit
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import check_book, rebuild
ledger = Ledger.open(Path(sys.argv[2]))
keys = ledger.operator_keys()
start = time.perf_counter()
if sys.argv[1] == "rebuild":
    rebuild(ledger.store, None, keys)
else:
    audit(ledger.store)
    check_book(ledger.store, None, keys)
print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": hwm()}))
"""


def _run(what: str, ledger: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, what, str(ledger)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _ledger(root: Path, size: int) -> Path:
    path = root / f"s{size}"
    if not path.exists():
        cli = Path(sys.executable).with_name("cwledger")
        start = time.perf_counter()
        subprocess.run([str(cli), "synth", str(path), "--events", str(size)], check=True)
        print(f"synth {size:,}: {time.perf_counter() - start:.1f} s", flush=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,300000", help="event counts, comma-separated")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cwledger-bench-replay"))
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    args.dir.mkdir(parents=True, exist_ok=True)
    figures: dict[int, dict[str, dict[str, Any]]] = {}
    for size in sizes:
        path = _ledger(args.dir, size)
        figures[size] = {what: _run(what, path) for what in ("rebuild", "verify")}
        for what, f in figures[size].items():
            print(
                f"{what:8} {size:>10,} events: {f['seconds']:8.1f} s, peak {f['peak_mb']:7.1f} MB",
                flush=True,
            )
    small, large = figures[sizes[0]], figures[sizes[-1]]
    result: dict[str, Any] = {"sizes": sizes, "load": os.getloadavg()[0]}
    for size in sizes:
        for what, f in figures[size].items():
            result[f"{what}_{size}_s"] = round(f["seconds"], 2)
            result[f"{what}_{size}_peak_mb"] = round(f["peak_mb"], 1)
    for what in ("rebuild", "verify"):
        result[f"{what}_mem_ratio"] = round(large[what]["peak_mb"] / small[what]["peak_mb"], 3)
        result[f"{what}_time_ratio"] = round(large[what]["seconds"] / small[what]["seconds"], 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
