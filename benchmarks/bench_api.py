#!/usr/bin/env python
"""The HTTP API under a bounded load, on SQLite and on PostgreSQL.

For each backend: loads the syria-2013 scenario (2,060 entries) into a new ledger (for
PostgreSQL, a new database on 127.0.0.1:5432, dropped at the end), starts ``cwledger serve``
on 127.0.0.1 (``--workers``, default 2) and, from this process, runs a fixed number of
requests (``--requests``) with ``--concurrency`` requests in flight, under a time limit
(``--time-limit`` seconds per run), ``--rounds`` times in turn (the median round is kept),
against:

- ``trivial``: ``GET /healthz`` (no database, no token, on the event loop): the limit of
  this server and this client on this machine, measured in the same run;
- ``holdings``: ``GET /api/v1/holdings?at=<one of 36 days of 2014>``, as a dashboard asks
  (the inspectorate's token, read transaction; after the first request for a day at a log
  size, the answer cache's);
- ``holdings_cold``: the same at a random second of 2014, a moment no request asked
  before (in practice); it is answered as the book's last change before it (one index
  seek, with the log's size), computed once per change and log size;
- ``holdings_computed``: an answer no request asked before, so that every request computes
  it (one index seek per (site, chemical) group): a change's moment, a site (or none) and
  a grouping (by site or chemical) not asked before. Measured, not held to the target;
- ``proof``: ``GET /api/v1/log/proofs/inclusion?index=<random>`` (tiles, proof);
- ``consistency``: ``GET /api/v1/log/proofs/consistency?first=<random>`` (to the latest);
- ``checkpoint``: ``GET /log/checkpoint`` (the signed note, C2SP);
- ``tile``: ``GET /log/tile/0/<random full tile>`` (256 hashes, C2SP);
- ``bundle``: ``GET /log/tile/entries/<random full bundle>`` (256 entries, C2SP; about
  650 kB each: reported as MB/s, not held to the target);
- ``entries``: ``GET /api/v1/log/entries?start=<random>&end=<start + 16>`` (JSON);
- ``append``: ``POST /api/v1/events/batch`` of 100 events signed beforehand (decode,
  signatures, authority, book, tiles, a signed checkpoint, commit), 4 in flight.

- ``whoami``: ``GET /api/v1/whoami``: the same app's floor for an authenticated ``/api/v1``
  read (routing, the token, the rate limit; no query);

It prints requests/s and p50/p99 latency per run, each as a ratio to ``trivial`` (for
latency: trivial / run, so 1 is as fast as the trivial endpoint), the throughput also as a
ratio to ``whoami``, and events/s for the appends. Targets (issue 17): every read route at
least 0.5 of the trivial endpoint's throughput, measured in the same run; batch appends at
least 2,000 events/s. The LAST line is one JSON object; its ``api_read_ratio_sqlite`` and
``api_read_ratio_postgresql`` are the worst read route's ratio on each backend (at the first
worker count given).

``--workers 1,2,4`` serves the same ledger with each number of worker processes in turn
and prints the read routes' throughput per count (``read_scaling`` in the JSON).

With more than one worker, the workers accept connections from one listening socket, and
a burst of new connections can land unevenly (16/0 seen with 2 workers): such a round
measures one worker, not the server. So each run's connections are spread over the
workers before its first request: the client finds which worker holds each one
(``/proc``: the socket's inode in ``/proc/net/tcp`` and the workers' file descriptors),
opens more until each worker holds its share (at most 300 more), and keeps an even
choice of them. With more workers than cores a worker can keep losing the race to accept
(4 workers on 2 cores: one took 2 of 1,016); the split is then as even as the workers
allowed. Each run's split is reported (``connections`` in the JSON, most first).

The client keeps its freed heap, as the server's workers do (``cwledger.heap``): with
glibc's defaults, reading a 104 kB page of entries cost this client some 50 µs more in page
faults, on the same two cores as the server, and the entries route measured 0.44 of the
trivial endpoint on PostgreSQL instead of 0.56-0.58 (docs/performance.md).
``--default-heap`` leaves the client's heap at glibc's defaults.

Run ``python benchmarks/bench_api.py`` (both backends) or ``--backend sqlite``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from cwledger.api.process import spawn
from cwledger.heap import keep_freed_heap
from cwledger.ledger.access import issue_token
from cwledger.ledger.envelope import sign_event
from cwledger.ledger.ledger import Ledger
from cwledger.model.events import Event
from cwledger.scenario import syria_2013
from cwledger.time import rfc3339

perf = time.perf_counter
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/{}"
BATCH = 100
Request = Callable[[int], tuple[str, str, Any]]
"""A run's requests: make(i) -> method, path and query, JSON body (or None)."""


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a kept-alive connection: (status, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def serving(pid: int, base: str, workers: int, timeout: float = 60.0) -> list[int]:
    """The `workers` worker processes of the server `pid` listening at `base`, once each
    has answered a request (a worker holds the listening socket before its app is ready).
    Raises RuntimeError if they do not within `timeout`."""
    port = int(base.rsplit(":", 1)[1])
    deadline = time.monotonic() + timeout
    answered: set[int] = set()
    while True:
        pids = server_workers(pid, port)
        if len(pids) == workers and answered >= set(pids):
            return pids
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workers} workers asked; {pids} found, {answered} answered")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
            probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
            if probe.recv(4096).startswith(b"HTTP/1.1 200"):
                owner = connection_owners(pids, port).get(probe.getsockname()[1])
                if owner is not None:
                    answered.add(owner)
        time.sleep(0.01)


def server_workers(pid: int, port: int) -> list[int]:
    """The processes under `pid` (uvicorn's supervisor) that serve `port`: those holding its
    listening socket (not the supervisor itself, nor a helper process such as
    multiprocessing's resource tracker). With one worker, `pid` itself."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:  # "pid (comm) state ppid ..."
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(ppid, []).append(int(name))
    below, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        below.append(p)
        todo += children.get(p, [])
    listening = _sockets(port, "0A")
    return [p for p in below if _holds(p, listening)] or [pid]


def _sockets(port: int, state: str) -> dict[str, int]:
    """The sockets on 127.0.0.1:`port` in TCP state `state` ("01" established, "0A"
    listening): {inode: remote port}."""
    out: dict[str, int] = {}
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if cols[3] == state and int(cols[1].split(":")[1], 16) == port:
                out[cols[9]] = int(cols[2].split(":")[1], 16)
    return out


def _holds(pid: int, inodes: dict[str, int]) -> list[str]:
    """The inodes of `inodes` that process `pid` has open."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    out = []
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            out.append(target[8:-1])
    return out


def connection_owners(workers: list[int], port: int) -> dict[int, int]:
    """Which worker holds the server's end of each connection to `port`: {client port:
    pid}. A connection still in the listening socket's queue has none."""
    established = _sockets(port, "01")
    return {established[inode]: pid for pid in workers for inode in _holds(pid, established)}


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def spread(
    host: str, port: int, conns: list[Connection], workers: list[int], tries: int = 300
) -> list[int]:
    """Spread `conns` as evenly as the workers take them: open up to `tries` further
    connections until each worker holds its share, then keep as even a choice of them as
    there is and close the rest. Returns the number each worker holds, most first (even,
    within one, unless a worker kept losing the race to accept: it is reported as it is)."""
    n, w = len(conns), len(workers)
    pool = list(conns)
    held: dict[int, list[Connection]] = {}
    for attempt in range(tries + 1):
        owners: dict[int, int] = {}
        for _wait in range(200):  # until every connection is accepted by a worker
            owners = connection_owners(workers, port)
            if all(c[1].get_extra_info("sockname")[1] in owners for c in pool):
                break
            await asyncio.sleep(0.005)
        held = {pid: [] for pid in workers}
        for c in pool:
            pid = owners.get(c[1].get_extra_info("sockname")[1])
            if pid is not None:
                held[pid].append(c)
        if all(len(cs) >= -(-n // w) for cs in held.values()) or attempt == tries:
            break
        pool.append(await asyncio.open_connection(host, port))
    # As even as possible: the workers holding fewest first, each its share of what is left.
    keep: list[Connection] = []
    by_count = sorted(held.values(), key=len)
    for k, cs in enumerate(by_count):
        keep += cs[: (n - len(keep)) // (w - k)]
    keep += [c for c in pool if c not in keep][: n - len(keep)]
    for c in pool:
        if c not in keep:
            c[1].close()
    conns[:] = keep
    owners = connection_owners(workers, port)
    split = [
        sum(owners.get(c[1].get_extra_info("sockname")[1]) == p for c in keep) for p in workers
    ]
    return sorted(split, reverse=True)


async def load(
    base: str,
    make: Request,
    requests: int,
    concurrency: int,
    limit_s: float,
    headers: dict[str, str],
    workers: list[int] | None = None,
) -> dict[str, Any]:
    """Send `requests` requests (make(i) -> method, url, json body), `concurrency` at a time
    on kept-alive connections, stopping at `limit_s`; every answer must be 2xx. Returns rps
    and latency percentiles. With `workers` (the server's worker processes), the
    connections are first spread evenly over them (`spread`).

    A bare asyncio HTTP/1.1 client (a request is a few bytes written, the answer read by its
    Content-Length): a general client such as httpx costs more per request than this
    server's trivial endpoint, and would make every ratio look better than it is."""
    host, port = base.removeprefix("http://").split(":")
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    latencies: list[float] = []
    received = 0
    next_i = 0

    def request(i: int) -> bytes:
        method, url, body = make(i)
        data = b"" if body is None else json.dumps(body).encode()
        kind = "Content-Type: application/json\r\n" if body is not None else ""
        return (
            f"{method} {url} HTTP/1.1\r\nHost: {host}\r\n{extra}{kind}"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode() + data

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal next_i, received
        try:
            while next_i < requests and perf() < deadline:
                i = next_i
                next_i += 1
                req = request(i)
                t0 = perf()
                status, body = await _exchange(reader, writer, req)
                latencies.append(perf() - t0)
                received += len(body)
                if status >= 300:
                    raise RuntimeError(f"{req[:60]!r}: {status} {body[:300]!r}")
        finally:
            writer.close()

    conns = [await asyncio.open_connection(host, int(port)) for _ in range(concurrency)]
    split = [concurrency] if not workers else await spread(host, int(port), conns, workers)
    deadline = perf() + limit_s
    start = perf()
    await asyncio.gather(*(worker(r, w) for r, w in conns))
    wall = perf() - start
    latencies.sort()
    return {
        "connections": split,
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "wall_s": wall,
        "mb_per_s": received / wall / 1e6,
    }


def batches(ledger: Ledger, author: str, count: int) -> list[dict[str, Any]]:
    """`count` batches of BATCH estimate events by `author`, signed now (outside the timing)."""
    signer = ledger.keystore.signer(author)
    out = []
    for b in range(count):
        envs = []
        for k in range(BATCH):
            body = {
                "estimate": {
                    "party": author,
                    "value": float(k),
                    "u": 1.0,
                    "unit": "t",
                    "method": "bench",
                    "scope": "total",
                }
            }
            ev = Event(
                type="estimate.recorded",
                id=f"bench-{b:05d}-{k:03d}",
                time="2016-02-01T00:00:00Z",
                author=author,
                body=body,
            )
            envs.append(json.loads(sign_event(ev, signer).to_bytes()))
        out.append({"envelopes": envs})
    return out


READS = (
    "holdings",
    "holdings_cold",
    "proof",
    "consistency",
    "checkpoint",
    "checkpoint_json",
    "tile",
    "entries",
)
"""The read routes of the target (issue 17): each at least 0.5 of the trivial endpoint's."""
COMPUTED = ("holdings_computed",)
"""Measured and reported (``api_holdings_computed_ratio_<backend>``), not held to the
target: holdings no request asked before, computed on every request (at a moment no
request asked before, ``holdings_cold``, the answer is the last change's, computed once).
Their rounds run after the other routes' rounds, so as not to empty the answer caches."""
BULK = ("bundle",)
"""Reads measured and reported, but not held to the trivial endpoint's request rate: an
entry bundle of the scenario is about 650 kB (256 sealed entries), 30,000 times the
trivial endpoint's answer; its figure is its transfer rate (MB/s)."""
ENTRIES_PAGE = 16


def measure(
    base: str,
    kinds: dict[str, Request],
    args: argparse.Namespace,
    auth: dict[str, str],
    workers: list[int] | None,
) -> dict[str, dict[str, Any]]:
    """Each kind's median round (the runs take turns, `--rounds` times: the VM's speed
    drifts within seconds), after a warm-up of 200 requests each; with `workers`, each
    round's connections spread evenly over them."""
    for make in kinds.values():
        asyncio.run(load(base, make, 200, args.concurrency, 10, auth, workers))
    rounds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for _ in range(args.rounds):
        for kind, make in kinds.items():
            rounds[kind].append(
                asyncio.run(
                    load(
                        base, make, args.requests, args.concurrency, args.time_limit, auth, workers
                    )
                )
            )
    return {k: sorted(v, key=lambda x: x["rps"])[len(v) // 2] for k, v in rounds.items()}


def ratios(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each run's figures and its ratios to the trivial endpoint's and to whoami's."""
    trivial, floor = runs["trivial"], runs["whoami"]
    return {
        kind: {
            **{k: v if isinstance(v, list) else round(v, 2) for k, v in r.items()},
            "rps_ratio": round(r["rps"] / trivial["rps"], 3),
            "p50_ratio": round(trivial["p50_ms"] / r["p50_ms"], 3),
            "p99_ratio": round(trivial["p99_ms"] / r["p99_ms"], 3),
            "rps_ratio_vs_whoami": round(r["rps"] / floor["rps"], 3),
        }
        for kind, r in runs.items()
    }


@contextmanager
def scenario_ledger(backend: str) -> Iterator[tuple[Ledger, str | None]]:
    """The syria-2013 scenario loaded into a new ledger (for PostgreSQL, in a new database
    on 127.0.0.1:5432), with its database URL; removed (dropped) afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-api-{backend}-"))
    dbname, url = None, None
    if backend == "postgresql":
        dbname = f"cwledger_bench_{secrets.token_hex(4)}"
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as a:
            a.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        url = PG.format(dbname)
    try:
        t0 = perf()
        ledger = syria_2013.load(tmp / "ledger", database_url=url)
        print(f"[{backend}] scenario loaded in {perf() - t0:.1f} s", file=sys.stderr)
        try:
            yield ledger, url
        finally:
            ledger.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if dbname is not None:
            with psycopg.connect(
                "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True
            ) as a:
                a.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(dbname)
                    )
                )


def requests_of(ledger: Ledger, rng: random.Random) -> tuple[dict[str, Request], str]:
    """Each run's requests over the scenario's `ledger`, and the bearer token of the party
    that reads (and writes)."""
    authority = ledger.authority()
    # The scenario's ledger is confidential: the book's answers go to a party cleared to
    # read them (the inspectorate), not to an observer.
    token = issue_token(ledger.store, authority, syria_2013.PARTIES[1][0])[0]
    with ledger.store.read() as r:
        size = r.size()
    days = [f"2014-{m:02d}-{d:02d}" for m in range(1, 13) for d in (1, 15, 28)]

    def moment() -> str:  # a second of 2014 no request asks twice (in practice)
        t = datetime(2014, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400))
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    def tile_index(n: int) -> str:  # C2SP: 3-digit groups, all but the last with x
        digits = f"{n:d}"
        digits = "0" * (-len(digits) % 3) + digits
        groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
        return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])

    full = size // 256  # full tiles and bundles in the tree of the scenario's size

    def entries_page(_: int) -> tuple[str, str, Any]:
        start = rng.randrange(size - ENTRIES_PAGE)
        return "GET", f"/api/v1/log/entries?start={start}&end={start + ENTRIES_PAGE}", None

    with ledger.store.read() as r:  # every (change, site or none, grouping), shuffled
        book = r.book.dump()
    changes = sorted({int(row[2]) for row in book["holding_change"]})
    sites = sorted({site for site, _ in book["holding_group"] if site})
    unasked = [
        (rfc3339(at), site, by)
        for at in changes
        for site in (None, *sites)
        for by in ("site", "chemical")
    ]
    rng.shuffle(unasked)

    asked = itertools.count()  # across runs: no answer asked twice (before it wraps)

    def computed(_: int) -> tuple[str, str, Any]:
        at, site, by = unasked[next(asked) % len(unasked)]
        where = "" if site is None else f"&site={quote(site)}"
        return "GET", f"/api/v1/holdings?at={at}&by={by}{where}", None

    kinds: dict[str, Request] = {
        "trivial": lambda _: ("GET", "/healthz", None),
        "whoami": lambda _: ("GET", "/api/v1/whoami", None),
        "holdings": lambda _: ("GET", f"/api/v1/holdings?at={rng.choice(days)}", None),
        "holdings_cold": lambda _: ("GET", f"/api/v1/holdings?at={moment()}", None),
        "holdings_computed": computed,
        "proof": lambda _: (
            "GET",
            f"/api/v1/log/proofs/inclusion?index={rng.randrange(size)}",
            None,
        ),
        "consistency": lambda _: (
            "GET",
            f"/api/v1/log/proofs/consistency?first={rng.randrange(1, size)}",
            None,
        ),
        "checkpoint": lambda _: ("GET", "/log/checkpoint", None),
        "checkpoint_json": lambda _: ("GET", "/api/v1/log/checkpoint", None),
        "tile": lambda _: ("GET", f"/log/tile/0/{tile_index(rng.randrange(full))}", None),
        "bundle": lambda _: (
            "GET",
            f"/log/tile/entries/{tile_index(rng.randrange(full))}",
            None,
        ),
        "entries": entries_page,
    }
    return kinds, token


def run_backend(name: str, args: argparse.Namespace) -> dict[str, Any]:
    with scenario_ledger(name) as (ledger, url):
        kinds, token = requests_of(ledger, random.Random(2013))
        auth = {"Authorization": f"Bearer {token}"}
        signed = batches(ledger, syria_2013.PARTIES[1][0], args.batches)
        no_limit = {"CWLEDGER_RATE_PER_SECOND": "1e9", "CWLEDGER_RATE_BURST": "1000000000"}
        counts = [int(w) for w in args.workers.split(",")]
        out: dict[str, Any] = {"backend": name, "workers": counts[0]}
        scaling: dict[str, dict[str, float]] = {}
        for n, workers in enumerate(counts):
            server = spawn(ledger.path, db=url, workers=workers, env=no_limit)
            try:
                pids = None if workers == 1 else serving(server.proc.pid, server.base, workers)
                reads = {k: kinds[k] for k in kinds if k not in COMPUTED}
                runs = measure(server.base, reads, args, auth, pids)
                # Then on their own: each of their answers is new, and between two rounds
                # they would push the other routes' answers out of the workers' answer
                # caches (256 answers each).
                runs |= measure(server.base, {k: kinds[k] for k in COMPUTED}, args, auth, pids)
                if n == 0:
                    runs["append"] = asyncio.run(
                        load(
                            server.base,
                            lambda i: ("POST", "/api/v1/events/batch", signed[i]),
                            len(signed),
                            4,
                            args.time_limit * 4,
                            auth,
                            pids,
                        )
                    )
            finally:
                server.stop()
            scaling[str(workers)] = {k: round(r["rps"], 1) for k, r in runs.items()}
            if pids is not None:
                splits = sorted({tuple(r["connections"]) for r in runs.values()})
                say = f"[{name}] {workers} workers: connections per worker {splits}"
                print(say, file=sys.stderr)
            print(f"[{name}] {workers} workers: {scaling[str(workers)]}", file=sys.stderr)
            if n == 0:
                out |= ratios(runs)
        out["append"]["events_per_s"] = round(out["append"]["rps"] * BATCH, 1)
        out["read_ratio"] = min(out[kind]["rps_ratio"] for kind in READS)
        out["read_ratio_with_bulk"] = min(out[kind]["rps_ratio"] for kind in (*READS, *BULK))
        out["read_ratio_vs_whoami"] = min(out[kind]["rps_ratio_vs_whoami"] for kind in READS)
        out["read_scaling"] = scaling
        out["targets_met"] = {
            f"{kind}_rps_ratio>=0.5": out[kind]["rps_ratio"] >= 0.5 for kind in READS
        } | {"append_events_per_s>=2000": out["append"]["events_per_s"] >= 2000}
        return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--time-limit", type=float, default=20.0)
    p.add_argument("--batches", type=int, default=60)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--workers",
        default="2",
        help="Server processes; a list (1,2,4) serves with each in turn (read scaling).",
    )
    p.add_argument(
        "--default-heap",
        action="store_true",
        help="Leave this client's heap at glibc's defaults (see the module's docstring).",
    )
    args = p.parse_args()
    if not args.default_heap:
        keep_freed_heap()
    names = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [run_backend(n, args) for n in names]
    for r in results:
        head = f"{'req/s':>8} {'ratio':>6} {'vs who':>6} {'p50 ms':>8} {'p99 ms':>8}"
        print(f"\n{r['backend']} ({r['workers']} workers): {'run':<15} {head}")
        for kind in ("trivial", "whoami", *READS, *COMPUTED, *BULK, "append"):
            x = r[kind]
            figures = f"{x['rps']:>8.1f} {x['rps_ratio']:>6.2f} {x['rps_ratio_vs_whoami']:>6.2f}"
            print(f"{'':>10} {kind:<15} {figures} {x['p50_ms']:>8.2f} {x['p99_ms']:>8.2f}")
        rate = r["append"]["events_per_s"]
        print(f"{'':>10} append: {rate:.0f} events/s; worst read ratio {r['read_ratio']:.2f}")
        print(f"{'':>10} entry bundles: {r['bundle']['mb_per_s']:.0f} MB/s")
        if len(r["read_scaling"]) > 1:
            print(f"{'':>10} req/s by workers: " + ", ".join(r["read_scaling"]))
            for kind in ("trivial", *READS, *COMPUTED, *BULK):
                line = " ".join(f"{w[kind]:>8.0f}" for w in r["read_scaling"].values())
                print(f"{'':>10} {kind:<15} {line}")
    summary: dict[str, Any] = {
        "api": results,
        "client_heap": "glibc defaults" if args.default_heap else "kept",
    }
    for r in results:
        summary[f"api_read_ratio_{r['backend']}"] = r["read_ratio"]
        summary[f"api_bundle_mb_per_s_{r['backend']}"] = round(r["bundle"]["mb_per_s"], 1)
        summary[f"api_holdings_computed_ratio_{r['backend']}"] = r["holdings_computed"]["rps_ratio"]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
