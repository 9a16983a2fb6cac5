#!/usr/bin/env python
"""Where the CPU of the append path and of the audit goes, per event, in CPU time.

Run ``python benchmarks/bench_cpu.py`` (10,000 events, under a minute unloaded). On a
shared machine wall times move with whatever runs beside them; CPU time moves far less,
so this is the figure to compare two versions with when the load is high. It prints:

- the append path (`Ledger.append`, batches of 1,000, the events of bench_tlog.py): the
  appending thread's CPU (``time.thread_time``) per event in each phase (decoding,
  judging with the book's rules, the log's write, the book's write) and in all, and one
  Ed25519 verification of the same signatures on one thread;
- the audit (`audit(store)` of the ledger just written): the CPU per entry of this
  process (``time.process_time``) and of its workers (``RUSAGE_CHILDREN``).

Each figure is the best of ``--rounds``. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import bench_tlog  # noqa: E402 (the benchmark's events and ledgers)
from cwledger.ledger import ledger as ledger_module  # noqa: E402
from cwledger.ledger.audit import audit  # noqa: E402
from cwledger.ledger.envelope import Envelope  # noqa: E402
from cwledger.ledger.signatures import SignatureJob, bad_signatures  # noqa: E402
from cwledger.store.book import BookWriter  # noqa: E402

PHASES = {
    "decode": (ledger_module._Batch, "decode"),
    "judge_and_book_rules": (ledger_module.Ledger, "_admit"),
    "log_write": (ledger_module.Ledger, "write_entries"),
    "book_write": (BookWriter, "write"),
}


def _timed(fn: Callable[..., Any], spent: dict[str, float], name: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.thread_time() - t0

    return wrapper


def append_round(n: int, spent: dict[str, float]) -> dict[str, float]:
    """One fresh ledger, n events appended; CPU seconds by phase, then the audit's."""
    base = Path(tempfile.mkdtemp(prefix="cwledger-cpu-"))
    try:
        (ledger,) = bench_tlog.new_ledgers(base, ["ledger"])
        envelopes = ledger.sign(bench_tlog.make_events(n), "insp")
        spent.clear()
        gc.collect()
        t0 = time.thread_time()
        for k in range(0, n, 1000):
            ledger.append(envelopes[k : k + 1000])
        out = dict(spent, appending_thread=time.thread_time() - t0)

        authority = ledger.authority()
        jobs: list[SignatureJob] = []
        for i, data in enumerate(envelopes):
            env = Envelope.from_bytes(data)
            key = authority.keys[("insp", env.keyid)].public_key
            jobs.append((i, key, env.signed_bytes(), env.sig))
        t0 = time.thread_time()
        assert bad_signatures(jobs, workers=1) == []
        out["ed25519_one_thread"] = time.thread_time() - t0

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.process_time()  # the pool's result thread unpickles in this process
        report = audit(ledger.store)
        out["audit_parent"] = time.process_time() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["audit_workers"] = (after.ru_utime + after.ru_stime) - (
            before.ru_utime + before.ru_stime
        )
        assert report.size == n + 1
        ledger.close()
        return out
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    spent: dict[str, float] = {}
    for name, (owner, attr) in PHASES.items():
        setattr(owner, attr, _timed(getattr(owner, attr), spent, name))
    load_start = os.getloadavg()
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for key, seconds in append_round(args.events, spent).items():
            best[key] = min(best.get(key, seconds), seconds)
    n = args.events
    per = {k: round(v / n * 1e6, 1) for k, v in best.items()}
    per["audit_total"] = round(per["audit_parent"] + per["audit_workers"], 1)
    print(f"CPU per event, best of {args.rounds}, {n:,} events (load {load_start[0]:.2f}):")
    for key, us in per.items():
        print(f"  {key:22s} {us:7.1f} µs")
    print(
        json.dumps(
            {
                "events": n,
                "rounds": args.rounds,
                "cpu_us_per_event": per,
                "loadavg_start": load_start,
                "loadavg_end": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
