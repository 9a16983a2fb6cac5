#!/usr/bin/env python
"""Where the CPU of the append path and of the audit goes, per event, in CPU time.

Run ``python benchmarks/bench_cpu.py`` (10,000 events, under a minute unloaded). On a
shared machine wall times move with whatever runs beside them; CPU time moves far less,
so this is the figure to compare two versions with when the load is high. It prints:

- the append path (`Ledger.append`, batches of 1,000, the events of bench_tlog.py): the
  appending thread's CPU (``time.thread_time``) per event in each phase (decoding,
  judging with the book's rules, the log's write, the book's write) and in all, the part
  of it in the cyclic garbage collector (counted inside the phases too), and one Ed25519
  verification of the same signatures on one thread; the process has frozen its start-up
  objects, as the command line and the server's workers do (`cwledger.heap`);
- the audit (`audit(store)` of the ledger just written): the CPU per entry of this
  process (``time.process_time``) and of its workers (``RUSAGE_CHILDREN``); then a
  worker's checks of every entry run in this process, with the signatures and without
  them (``audit_checks``, ``audit_checks_but_signatures``): their difference is what the
  signatures cost, and the signatures' share of the whole (``verify_bound``) is the most
  ``verify_ratio`` (bench_tlog.py) could reach if nothing but the workers' checks took
  any time: no sequential replay in the audit's process, no results sent back.

Each figure is the best of ``--rounds``. The last line is one JSON object.

``--reads`` instead measures the server's hot reads in-process, on SQLite and then
PostgreSQL (the scenario's ledger, the requests of ``bench_api.py``): the app's ASGI
callable called directly, one request at a time, after ``--warm`` requests of each kind;
per request, the CPU time of this process (the app, its database driver, no HTTP) and,
on PostgreSQL, of the server's processes (``/proc``, every process named ``postgres``:
run it on a machine where nothing else uses that server). Each figure is the best of
``--rounds`` runs of ``--requests`` requests.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import bench_api  # noqa: E402 (the scenario's ledger and the server's read requests)
import bench_tlog  # noqa: E402 (the benchmark's events and ledgers)
from cwledger.api import create_app  # noqa: E402
from cwledger.heap import freeze_start_up  # noqa: E402
from cwledger.http.settings import Settings  # noqa: E402
from cwledger.ledger import audit as audit_module  # noqa: E402
from cwledger.ledger import ledger as ledger_module  # noqa: E402
from cwledger.ledger.audit import audit  # noqa: E402
from cwledger.ledger.envelope import Envelope  # noqa: E402
from cwledger.ledger.ledger import Ledger  # noqa: E402
from cwledger.ledger.signatures import SignatureJob, bad_signatures  # noqa: E402
from cwledger.store.book import BookWriter  # noqa: E402

PHASES = {
    "decode": (ledger_module._Batch, "decode"),
    "judge_and_book_rules": (ledger_module.Ledger, "_admit"),
    "log_write": (ledger_module.Ledger, "extend_log"),
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


class CollectorTime:
    """The appending thread's CPU in the cyclic garbage collector (`gc.callbacks`), counted
    inside whichever phase set it off: the `cyclic_gc` line."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.thread_time()
        else:
            self.seconds += time.thread_time() - self._start


def append_round(n: int, spent: dict[str, float]) -> dict[str, float]:
    """One fresh ledger, n events appended; CPU seconds by phase, then the audit's."""
    base = Path(tempfile.mkdtemp(prefix="cwledger-cpu-"))
    try:
        (ledger,) = bench_tlog.new_ledgers(base, ["ledger"])
        envelopes = ledger.sign(bench_tlog.make_events(n), "insp")
        spent.clear()
        gc.collect()
        collector = CollectorTime()
        gc.callbacks.append(collector)
        t0 = time.thread_time()
        try:
            for k in range(0, n, 1000):
                ledger.append(envelopes[k : k + 1000])
        finally:
            gc.callbacks.remove(collector)
        out = dict(spent, appending_thread=time.thread_time() - t0, cyclic_gc=collector.seconds)

        authority = ledger.authority()
        jobs: list[SignatureJob] = []
        for i, data in enumerate(envelopes):
            env = Envelope.from_bytes(data)
            key = authority.keys[("insp", env.keyid)].public_key
            jobs.append((i, key, env.signed_bytes(), env.sig))
        t0 = time.thread_time()
        assert bad_signatures(jobs, workers=1) == []
        out["ed25519_one_thread"] = time.thread_time() - t0
        # As `cwledger append` ends: its signature processes end with it (and are no longer
        # this process's children), and the audit below forks its workers as `cwledger
        # verify` does, in a process with no other thread.
        ledger.close()
        ledger = Ledger.open(ledger.path)

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.process_time()  # the pool's result thread unpickles in this process
        report = audit(ledger.store)
        out["audit_parent"] = time.process_time() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["audit_workers"] = (after.ru_utime + after.ru_stime) - (
            before.ru_utime + before.ru_stime
        )
        assert report.size == n + 1
        out["audit_checks"] = workers_checks(ledger, signatures=True)
        out["audit_checks_but_signatures"] = workers_checks(ledger, signatures=False)
        ledger.close()
        return out
    finally:
        shutil.rmtree(base, ignore_errors=True)


def workers_checks(ledger: Ledger, signatures: bool) -> float:
    """CPU seconds of the audit workers' checks of every entry (`_check_chunk`, chunks of
    `CHUNK`), run in this process; without `signatures`, every signature is taken as valid
    without being verified."""
    verify = audit_module.verify_ed25519
    if not signatures:
        audit_module.verify_ed25519 = lambda *_: None
    try:
        with ledger.store.read() as r:
            audit_module._init_worker(audit_module._named_keys(r))
            size, chunk = r.size(), audit_module.CHUNK
            gc.collect()
            t0 = time.process_time()
            for start in range(0, size, chunk):
                audit_module._check_chunk(r, start, min(start + chunk, size))
            return time.process_time() - t0
    finally:
        audit_module.verify_ed25519 = verify


def postgres_cpu() -> float:
    """CPU seconds (user and system) of every process named ``postgres`` so far."""
    ticks = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if stat[stat.index("(") + 1 : stat.rindex(")")] == "postgres":
                fields = stat.rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def _call(app: Any, method: str, target: str, headers: list[tuple[bytes, bytes]]) -> int:
    """One request to the ASGI `app`; its status."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def read_rounds(backend: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """µs of CPU per request of each read kind on `backend`: this process's, PostgreSQL's."""
    out: dict[str, dict[str, float]] = {}
    with bench_api.scenario_ledger(backend) as (ledger, url):
        kinds, token = bench_api.requests_of(ledger, random.Random(2013))
        settings = Settings(
            ledger=ledger.path, database_url=url, rate_per_second=1e9, rate_burst=10**9
        )
        app = create_app(settings, ledger=ledger)
        headers = [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]
        reads = [k for k in kinds if k != "holdings_computed"] + ["holdings_computed"]

        async def run() -> None:
            async with app.router.lifespan_context(app):
                for kind in reads:
                    make = kinds[kind]
                    for i in range(args.warm if kind != "holdings_computed" else 0):
                        await _call(app, *make(i)[:2], headers)
                    best: dict[str, float] = {}
                    for _ in range(args.rounds):
                        gc.collect()
                        pg0, t0 = postgres_cpu(), time.process_time()
                        for i in range(args.requests):
                            method, target, _ = make(i)
                            status = await _call(app, method, target, headers)
                            if not 200 <= status < 300:
                                raise RuntimeError(f"{target}: {status}")
                        here, pg = time.process_time() - t0, postgres_cpu() - pg0
                        for key, seconds in (("app", here), ("postgresql", pg)):
                            us = seconds / args.requests * 1e6
                            best[key] = round(min(best.get(key, us), us), 1)
                    out[kind] = best if backend == "postgresql" else {"app": best["app"]}
                    print(f"  [{backend}] {kind:18s} {out[kind]}", file=sys.stderr)

        asyncio.run(run())
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reads", action="store_true", help="the server's hot reads instead")
    parser.add_argument("--requests", type=int, default=3000, help="with --reads: per round")
    parser.add_argument("--warm", type=int, default=1000, help="with --reads: first, per kind")
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave the start-up objects in the collector's sight (a before column)",
    )
    args = parser.parse_args(argv)
    if not args.no_freeze:
        freeze_start_up()  # as the command line and the server's workers do, once imported
    if args.reads:
        load_start = os.getloadavg()
        cpu = {b: read_rounds(b, args) for b in ("sqlite", "postgresql")}
        print(f"CPU per request (µs), best of {args.rounds} x {args.requests:,}:")
        print(f"  {'read':18s} {'SQLite':>8s} {'PG: app':>8s} {'server':>8s}")
        for kind in cpu["sqlite"]:
            pg = cpu["postgresql"][kind]
            print(
                f"  {kind:18s} {cpu['sqlite'][kind]['app']:8.1f} {pg['app']:8.1f}"
                f" {pg['postgresql']:8.1f}"
            )
        print(json.dumps({"reads_cpu_us": cpu, "loadavg_start": load_start}))
        return
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
    signatures = best["audit_checks"] - best["audit_checks_but_signatures"]
    bound = round(signatures / best["audit_checks"], 3)
    print(f"CPU per event, best of {args.rounds}, {n:,} events (load {load_start[0]:.2f}):")
    for key, us in per.items():
        print(f"  {key:27s} {us:7.1f} µs")
    print(
        f"  the signatures' share of the workers' checks: {bound:.3f} (verify_bound: the most"
        " verify_ratio can reach with nothing else taking time)"
    )
    print(
        json.dumps(
            {
                "events": n,
                "rounds": args.rounds,
                "cpu_us_per_event": per,
                "verify_bound": bound,
                "loadavg_start": load_start,
                "loadavg_end": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
