#!/usr/bin/env python
"""Time travel: ``holdings --at`` on a ledger of 100,000 events, against DuckDB on the same rows.

Builds (or reuses, with ``--keep DIR``) a ledger of about 100,000 signed events through the
real append path: a declaration of 16,000 items in parts, then for each item a tag, a seal,
a seal check, a shipment to the port, its receipt and its destruction, dated from October
2013 to January 2016 and appended in time order in batches of 1,000. Then, for random
moments, it answers "what was held where at that moment" three ways and checks that they
agree to the gram:

- ``cwledger``: ``answers.holdings(book, at=T)`` (one index seek per (site, chemical) group
  into the running totals, plus the grouping in Python): what ``cwledger holdings --at``
  runs;
- ``duckdb``: DuckDB (in memory, columnar, all cores) summing the same ``holding_change``
  rows dated up to T, grouped by site and chemical;
- ``sqlite_scan``: the same sum in SQLite, for reference.

It also times the whole command, ``cwledger holdings --at 2014-06-30 --json`` in a new
process (Python start, imports, opening the store, the answer), median of 5.

The LAST line is one JSON object. ``ratio_vs_duckdb`` = cwledger time / DuckDB time (the
target is at most 2). Run ``python benchmarks/bench_holdings.py`` or ``--quick`` (10,000
events).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cwledger.book import answers
from cwledger.intake import declaration_parts
from cwledger.ledger.ledger import Ledger
from cwledger.model import Declaration

try:
    import duckdb
except ImportError:  # pragma: no cover - a benchmark-only dependency
    sys.exit("duckdb is needed for the benchmark: pip install 'cwledger[bench]'")

perf = time.perf_counter
ORIGIN = "example.org/cwledger/bench-holdings"
START = datetime(2013, 10, 24, tzinfo=UTC)
SPAN = timedelta(days=820)  # to January 2016
SITES = [f"S-{n:02d}" for n in range(23)]
VENUES = ["PORT", "V-1", "V-2", "V-3", "V-4", "V-5"]
CHEMICALS = [
    {"label": "DF", "cwc_category": 1, "removal_priority": "1"},
    {"label": "HD", "cwc_category": 1, "removal_priority": "1"},
    {"label": "A", "cwc_category": 1, "removal_priority": "1"},
    {"label": "B", "cwc_category": 2, "removal_priority": "2"},
    {"label": "HF", "cwc_category": 2, "removal_priority": "2"},
    {"label": "isopropanol", "cwc_category": 1, "removal_priority": "in-country"},
]


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _mass(kg: float) -> dict[str, Any]:
    return {"kg": round(kg, 3), "u_random_kg": 2.0, "u_systematic_kg": 1.0, "method": "scale"}


def scenario(items: int, seed: int = 2013) -> list[tuple[str, str, dict[str, Any]]]:
    """(time, type, body) of every event after the declaration, in time order."""
    rng = random.Random(seed)
    events: list[tuple[str, str, dict[str, Any]]] = []
    for n in range(items):
        i = f"C-{n:06d}"
        site = SITES[n % len(SITES)]
        venue = VENUES[1 + n % 5]
        t0 = START + timedelta(days=10) + SPAN * rng.random() * 0.8
        steps = sorted(rng.uniform(0, 1) for _ in range(6))
        at = [_t(t0 + timedelta(days=30 * s)) for s in steps]
        kg = 200 + 800 * rng.random()
        events += [
            (at[0], "item.tagged", {"item": i, "tag": f"T-{n:06d}", "site": site}),
            (
                at[1],
                "seal.applied",
                {"seal": f"SL-{n:06d}", "type": "metal_cap", "closes": {"kind": "item", "id": i}},
            ),
            (at[2], "seal.checked", {"seal": f"SL-{n:06d}", "condition": "intact"}),
            (
                at[3],
                "transfer.shipped",
                {
                    "transfer": f"TR-{n:06d}",
                    "origin": site,
                    "destination": venue,
                    "due": at[5],
                    "items": [{"item": i, "measured": _mass(kg)}],
                },
            ),
            (
                at[4],
                "transfer.received",
                {
                    "transfer": f"TR-{n:06d}",
                    "site": venue,
                    "items": [{"item": i, "measured": _mass(kg)}],
                },
            ),
            (
                at[5],
                "destruction.batch",
                {
                    "batch": f"B-{n:06d}",
                    "method": "hydrolysis",
                    "venue": venue,
                    "start": at[5],
                    "end": at[5],
                    "items": [{"item": i}],
                },
            ),
        ]
    events.sort(key=lambda e: e[0])
    return events


def declaration(items: int) -> Declaration:
    sites = [
        {
            "id": s,
            "name": f"Site {s}",
            "kind": "storage" if s in SITES else "destruction",
            "coordinates": {"lat": 33 + (k % 7) * 0.5, "lon": 36 + (k % 5) * 0.3},
            "party": "dec",
        }
        for k, s in enumerate(SITES + VENUES)
    ]
    rng = random.Random(7)
    decl_items = [
        {
            "id": f"C-{n:06d}",
            "kind": "container",
            "chemical": CHEMICALS[n % 6]["label"],
            "declared": _mass(200 + 800 * rng.random()),
            "site": SITES[n % len(SITES)],
        }
        for n in range(items)
    ]
    return Declaration.model_validate(
        {
            "version": 1,
            "legal_basis": "EC-M-33/DEC.1",
            "due": "2013-10-27",
            "chemicals": CHEMICALS,
            "sites": sites,
            "items": decl_items,
        }
    )


def build(path: Path, events: int) -> dict[str, float]:
    """A ledger of about `events` events; returns the build figures."""
    items = max(1, (events - 200) // 6)
    led = Ledger.init(
        path,
        ORIGIN,
        founding=[("dec", "declarant"), ("insp", "inspectorate")],
        time=_t(START - timedelta(days=1)),
    )
    t0 = perf()
    parts = [
        {"type": "declaration.submitted", "id": f"decl-p{b['part']}", "time": _t(START), "body": b}
        for b in declaration_parts(declaration(items))
    ]
    led.append(led.sign(parts, "dec"))
    author = {"transfer.shipped": "dec", "transfer.received": "dec", "destruction.batch": "dec"}
    todo = scenario(items)
    done = len(parts)
    for start in range(0, len(todo), 1000):
        chunk = todo[start : start + 1000]
        by_author: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for k, (at, kind, body) in enumerate(chunk):
            raw = {"type": kind, "id": f"ev-{start + k:07d}", "time": at, "body": body}
            by_author[author.get(kind, "insp")].append((k, raw))
        envelopes: list[bytes | str] = [b""] * len(chunk)
        for party, raws in by_author.items():
            for (k, _), env in zip(raws, led.sign([r for _, r in raws], party), strict=True):
                envelopes[k] = env
        led.append(envelopes)
        done += len(chunk)
        print(f"  built {done:,} events", file=sys.stderr, end="\r")
    seconds = perf() - t0
    print(file=sys.stderr)
    led.close()
    return {
        "events": done + 1,
        "build_seconds": round(seconds, 1),
        "build_events_per_s": round(done / seconds),
    }


def _median_ms(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = perf()
        fn()
        times.append(perf() - t0)
    return statistics.median(times) * 1000


def measure(path: Path, queries: int, repeat: int) -> dict[str, Any]:
    led = Ledger.open(path)
    db = path / "ledger.db"
    tmp = Path(tempfile.mkdtemp())
    rows_csv = tmp / "holding_change.csv"
    with sqlite3.connect(db) as con, rows_csv.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["site", "chemical", "at", "idx", "item", "grams", "items"])
        w.writerows(
            con.execute("SELECT site, chemical, at, idx, item, grams, items FROM holding_change")
        )
        lo, hi = con.execute("SELECT min(at), max(at) FROM holding_change").fetchone()
        rows = con.execute("SELECT count(*) FROM holding_change").fetchone()[0]
    duck = duckdb.connect()
    duck.execute(
        'CREATE TABLE holding_change (site VARCHAR, chemical VARCHAR, "at" BIGINT, idx BIGINT,'
        " item VARCHAR, grams BIGINT, items INTEGER)"
    )
    # Site "" is material in transit: keep it a string, not NULL.
    duck.execute(f"COPY holding_change FROM '{rows_csv}' (HEADER, NULL '\\N')")
    raw = sqlite3.connect(db)
    rng = random.Random(42)
    moments = [rng.randint(lo, hi) for _ in range(queries)]
    ours, theirs, scan = [], [], []
    duck_sql = (
        "SELECT site, chemical, sum(grams)::BIGINT, sum(items)::BIGINT FROM holding_change"
        ' WHERE "at" <= ? GROUP BY site, chemical'
    )
    scan_sql = duck_sql.replace("::BIGINT", "")
    for at in moments:
        with led.store.read() as r:
            got = {(h.site, h.chemical): (h.grams, h.items) for h in r.book.holdings(at)}
            ours.append(_median_ms(lambda r=r, at=at: answers.holdings(r.book, at=at), repeat))
        want = {(s, c): (g, n) for s, c, g, n in duck.execute(duck_sql, [at]).fetchall() if g or n}
        scanned = {(s, c): (g, n) for s, c, g, n in raw.execute(scan_sql, (at,)) if g or n}
        assert got == want == scanned, f"holdings at {at} disagree"
        theirs.append(_median_ms(lambda at=at: duck.execute(duck_sql, [at]).fetchall(), repeat))
        scan.append(_median_ms(lambda at=at: raw.execute(scan_sql, (at,)).fetchall(), repeat))
    led.close()
    shutil.rmtree(tmp)
    cli = [
        sys.executable,
        "-m",
        "cwledger",
        "holdings",
        "--at",
        "2014-06-30",
        "--json",
        "--ledger",
        str(path),
    ]
    cli_s = (
        statistics.median(
            _median_ms(lambda: subprocess.run(cli, check=True, capture_output=True), 1)
            for _ in range(5)
        )
        / 1000
    )
    ours_ms, duck_ms, scan_ms = (statistics.median(x) for x in (ours, theirs, scan))
    return {
        "holding_rows": rows,
        "groups": len(got),
        "queries": queries,
        "cwledger_ms": round(ours_ms, 3),
        "cwledger_worst_ms": round(max(ours), 3),
        "duckdb_ms": round(duck_ms, 3),
        "sqlite_scan_ms": round(scan_ms, 3),
        "ratio_vs_duckdb": round(ours_ms / duck_ms, 2),
        "ratio_vs_sqlite_scan": round(ours_ms / scan_ms, 3),
        "cli_holdings_at_s": round(cli_s, 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--quick", action="store_true", help="10,000 events")
    p.add_argument("--queries", type=int, default=40)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--keep", type=Path, help="build the ledger here once and reuse it")
    args = p.parse_args()
    events = 10_000 if args.quick else args.events
    figures: dict[str, Any] = {"load_start": os.getloadavg()[0]}
    path = args.keep or Path(tempfile.mkdtemp()) / "ledger"
    if not (path / "ledger.db").exists():
        print(f"building a ledger of about {events:,} events in {path}", file=sys.stderr)
        figures |= build(path, events)
    figures |= measure(path, args.queries, args.repeat)
    figures["load_end"] = os.getloadavg()[0]
    print(
        f"holdings --at: cwledger {figures['cwledger_ms']} ms, DuckDB {figures['duckdb_ms']}"
        f" ms, SQLite scan {figures['sqlite_scan_ms']} ms; ratio vs DuckDB"
        f" {figures['ratio_vs_duckdb']} (target <= 2)"
    )
    if args.keep is None:
        shutil.rmtree(path.parent)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
