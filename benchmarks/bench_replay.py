#!/usr/bin/env python
"""`synth`, `rebuild` and `verify` of synthetic ledgers of growing size: peak memory and time.

For each size it writes (once, with ``cwledger synth``, timed with its peak RSS: the
generator plans its events a window at a time, so its peak should not grow either) a
ledger of that many events, or reuses the one already in ``--dir`` (and the figures of
its writing, kept beside it in ``s{size}.synth.json``); then, unless ``--synth-only``, in
a new process each, it rebuilds the book
(``projections.rebuild``) and verifies the ledger (``audit`` then ``check_book``: all that
``cwledger verify`` does without its served-checkpoint check), and prints the time and the
peak RSS (VmHWM) of that process. The book must not hold the log in memory: the peak should
not grow with the log (issue 17: at 1,000,000 events at most 1.2 times the peak at 100,000,
and under 500 MB), and the time should grow linearly (at most 10.5 times).

The LAST line is one JSON object; its ratios are the largest size's figure over the
smallest's: ``synth_mem_ratio``, ``synth_time_ratio`` (when both ledgers were written by
this script), ``rebuild_mem_ratio``, ``rebuild_time_ratio``, ``verify_mem_ratio``,
``verify_time_ratio``.

    .venv/bin/python benchmarks/bench_replay.py --sizes 100000,300000 --dir /tmp/replay
    .venv/bin/python benchmarks/bench_replay.py --sizes 100000,1000000 --dir /tmp/replay
    .venv/bin/python benchmarks/bench_replay.py --sizes 100000,1000000 --synth-only
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


def _ledger(root: Path, size: int) -> tuple[Path, dict[str, Any] | None]:
    """The ledger of ``size`` events in ``root``, written unless it is there, and the
    figures of its writing (None if it was written without them)."""
    path, figures = root / f"s{size}", root / f"s{size}.synth.json"
    if not path.exists():
        cli = Path(sys.executable).with_name("cwledger")
        start = time.perf_counter()
        child = subprocess.Popen([str(cli), "synth", str(path), "--events", str(size)])
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"cwledger synth {size} failed ({child.returncode})")
        # ru_maxrss of that child (KB): its own peak (the forking parent is far smaller).
        f = {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024}
        figures.write_text(json.dumps(f))
        print(
            f"{'synth':8} {size:>10,} events: {seconds:8.1f} s, peak {f['peak_mb']:7.1f} MB",
            flush=True,
        )
    return path, json.loads(figures.read_text()) if figures.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,300000", help="event counts, comma-separated")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cwledger-bench-replay"))
    parser.add_argument(
        "--synth-only", action="store_true", help="write the ledgers, no rebuild or verify"
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    args.dir.mkdir(parents=True, exist_ok=True)
    figures: dict[int, dict[str, dict[str, Any]]] = {}
    replays = () if args.synth_only else ("rebuild", "verify")
    for size in sizes:
        path, synth = _ledger(args.dir, size)
        figures[size] = {what: _run(what, path) for what in replays}
        for what, f in figures[size].items():  # (synth's printed as it was written)
            print(
                f"{what:8} {size:>10,} events: {f['seconds']:8.1f} s, peak {f['peak_mb']:7.1f} MB",
                flush=True,
            )
        if synth is not None:
            figures[size]["synth"] = synth
    small, large = figures[sizes[0]], figures[sizes[-1]]
    result: dict[str, Any] = {"sizes": sizes, "load": os.getloadavg()[0]}
    for size in sizes:
        for what, f in figures[size].items():
            result[f"{what}_{size}_s"] = round(f["seconds"], 2)
            result[f"{what}_{size}_peak_mb"] = round(f["peak_mb"], 1)
    for what in ("synth", *replays):
        if what not in small or what not in large:
            continue
        result[f"{what}_mem_ratio"] = round(large[what]["peak_mb"] / small[what]["peak_mb"], 3)
        result[f"{what}_time_ratio"] = round(large[what]["seconds"] / small[what]["seconds"], 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
