#!/usr/bin/env python
"""Material balances of every site and month, against DuckDB on the same rows.

Builds a synthetic ledger with ``cwledger.scenario.synth`` (or reuses one with
``--ledger DIR``), then computes the balance of every site for every calendar month
(beginning inventory, receipts, shipments, destroyed, other, ending inventory) two ways
and checks that they agree to the gram:

- ``cwledger``: ``accountancy.balances.site_balances`` (the monthly flows the book keeps,
  plus the beginning inventories carried forward, in Python): what ``cwledger balances``
  runs;
- ``duckdb``: DuckDB (in memory, all cores) from the same ``holding_change`` rows and
  their events' types, grouped by site, month and flow, with the beginning inventory as a
  window sum.

The LAST line is one JSON object; ``ratio_vs_duckdb`` = cwledger time / DuckDB time (the
target is at most 2). ``--events`` sets the size of a new ledger (default 1,000,000,
several minutes to build; ``--quick``: 20,000).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cwledger.accountancy.balances import site_balances
from cwledger.ledger.ledger import Ledger
from cwledger.scenario.synth import synth
from cwledger.time import months

try:
    import duckdb
except ImportError:  # pragma: no cover - a benchmark-only dependency
    sys.exit("duckdb is needed for the benchmark: pip install 'cwledger[bench]'")

perf = time.perf_counter

DUCK = """
WITH flows AS (
  SELECT site, strftime(make_timestamp("at"), '%Y-%m') AS month,
         CASE WHEN event_type = 'transfer.received' THEN 'receipts'
              WHEN event_type = 'transfer.shipped' THEN 'shipments'
              WHEN event_type = 'destruction.batch' AND grams < 0 THEN 'destroyed'
              ELSE 'other' END AS flow,
         grams
  FROM changes WHERE site <> ''
), monthly AS (
  SELECT site, month,
         sum(CASE WHEN flow = 'receipts' THEN grams ELSE 0 END)::BIGINT AS receipts,
         -sum(CASE WHEN flow = 'shipments' THEN grams ELSE 0 END)::BIGINT AS shipments,
         -sum(CASE WHEN flow = 'destroyed' THEN grams ELSE 0 END)::BIGINT AS destroyed,
         sum(CASE WHEN flow = 'other' THEN grams ELSE 0 END)::BIGINT AS other,
         sum(grams)::BIGINT AS net
  FROM flows GROUP BY site, month
)
SELECT site, month, receipts, shipments, destroyed, other,
       (coalesce(sum(net) OVER (PARTITION BY site ORDER BY month
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::BIGINT AS beginning
FROM monthly ORDER BY site, month
"""


def _median_ms(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = perf()
        fn()
        times.append(perf() - t0)
    return statistics.median(times) * 1000


def measure(path: Path, repeat: int) -> dict[str, Any]:
    led = Ledger.open(path)
    tmp = Path(tempfile.mkdtemp())
    rows_csv = tmp / "changes.csv"
    with led.store.read() as r:
        rows = r.book.changes_by_event()
        with rows_csv.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["site", "at", "event_type", "grams", "items"])
            w.writerows(rows)
        periods = months(min(x[1] for x in rows), max(x[1] for x in rows))

        def ours() -> list[Any]:
            return site_balances(r, periods)

        mine = ours()
        ours_ms = _median_ms(ours, repeat)
    led.close()
    duck = duckdb.connect()
    duck.execute(
        'CREATE TABLE changes (site VARCHAR, "at" BIGINT, event_type VARCHAR, grams BIGINT,'
        " items INTEGER)"
    )
    duck.execute(f"COPY changes FROM '{rows_csv}' (HEADER, NULL '\\N')")
    theirs = duck.execute(DUCK).fetchall()
    duck_ms = _median_ms(lambda: duck.execute(DUCK).fetchall(), repeat)
    shutil.rmtree(tmp)
    got = {
        (b.site, b.period.to_json()["start"][:7]): (
            b.receipts_g,
            b.shipments_g,
            b.destroyed_g,
            b.other_g,
            b.beginning_g,
        )
        for b in mine
    }
    want = {(s, m): (rc, sh, de, ot, bi) for s, m, rc, sh, de, ot, bi in theirs}
    assert all(got[k] == v for k, v in want.items()), "balances disagree with DuckDB"
    return {
        "holding_rows": len(rows),
        "sites": len({k[0] for k in got}),
        "months": len(periods),
        "cwledger_ms": round(ours_ms, 2),
        "duckdb_ms": round(duck_ms, 2),
        "ratio_vs_duckdb": round(ours_ms / duck_ms, 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ledger", type=Path, help="reuse this ledger instead of building one")
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--quick", action="store_true", help="20,000 events")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    figures: dict[str, Any] = {"load_start": os.getloadavg()[0]}
    path = args.ledger
    if path is None:
        events = 20_000 if args.quick else args.events
        path = Path(tempfile.mkdtemp()) / "ledger"
        items = max(200, events // 50)
        print(f"building a synthetic ledger of {events:,} events", file=sys.stderr)
        report = synth(path, sites=23, items=items, events=events, seed=2013)
        figures |= {"events": report.events, "build_seconds": round(report.seconds, 1)}
    figures |= measure(path, args.repeat)
    figures["load_end"] = os.getloadavg()[0]
    print(
        f"balances of {figures['sites']} sites x {figures['months']} months: cwledger"
        f" {figures['cwledger_ms']} ms, DuckDB {figures['duckdb_ms']} ms; ratio"
        f" {figures['ratio_vs_duckdb']} (target <= 2)"
    )
    if args.ledger is None:
        shutil.rmtree(path.parent)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
