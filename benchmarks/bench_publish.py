#!/usr/bin/env python
"""Static publication and mirrors, each against the plain copy of the same bytes.

On a synthetic ledger (``cwledger synth``; ``--ledger DIR`` to reuse one, copied first so
that it is never changed; else ``--events N`` are written):

- ``publish``: ``publish(ledger, out)`` into an empty directory, against ``cp -r`` of the
  directory it wrote (the same files and bytes): ``publish_vs_cp`` = our time / cp's;
- ``incremental``: 1,000 more entries appended, then ``publish`` again into the same
  directory, against ``cp -r`` of a directory holding only the files it added:
  ``incremental_vs_cp`` = our time / cp's;
- ``mirror``: ``mirror(url, dir)`` of the published directory behind ``python -m
  http.server`` on 127.0.0.1 (fetch, check, store, replay the book, full audit), against
  ``cwledger verify`` of the original (``audit`` then ``check_book``, in process):
  ``mirror_vs_verify`` = our time / verify's.

Ratios here are our time / the reference's (1.0 = as fast as it; lower is better).
`publish` fsyncs every file before the checkpoint names it; `cp` syncs nothing. The
LAST line is one JSON object. Run ``python benchmarks/bench_publish.py --ledger DIR`` or
``--events N``; ``--no-mirror`` for the publication figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import serve_directory
from cwledger.ledger.audit import audit
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.mirror import mirror
from cwledger.ledger.projections import check_book
from cwledger.ledger.publish import publish
from cwledger.scenario.synth import INSPECTORATE
from cwledger.scenario.synth import synth as write_synthetic

perf = time.perf_counter


def _files(top: Path) -> set[str]:
    return {p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file()}


def _bytes(top: Path) -> int:
    return sum(p.stat().st_size for p in top.rglob("*") if p.is_file())


def _cp(src: Path, dst: Path) -> float:
    t = perf()
    subprocess.run(["cp", "-r", str(src), str(dst)], check=True)
    return perf() - t


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _append(led: Ledger, count: int) -> None:
    events = [
        {
            "type": "estimate.recorded",
            "id": f"bench-publish-{i:06d}",
            "time": "2015-06-01T10:00:00Z",
            "body": {
                "estimate": {
                    "party": INSPECTORATE,
                    "value": float(i),
                    "u": 1.0,
                    "unit": "t",
                    "method": "open sources",
                    "scope": "total",
                }
            },
        }
        for i in range(count)
    ]
    for at in range(0, count, 250):
        led.append(led.sign(events[at : at + 250], INSPECTORATE))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ledger", type=Path, help="a synthetic ledger to copy (never changed)")
    ap.add_argument("--events", type=int, default=100_000, help="entries to synthesise")
    ap.add_argument("--more", type=int, default=1000, help="entries for the incremental run")
    ap.add_argument("--no-mirror", action="store_true", help="publish figures only")
    ap.add_argument("--workdir", type=Path, help="scratch directory (default: a temporary one)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-publish-", dir=args.workdir))
    result: dict[str, Any] = {"benchmark": "publish", "load_start": _load()}
    try:
        src = work / "ledger"
        if args.ledger is not None:
            shutil.copytree(args.ledger, src)
        else:
            write_synthetic(
                src, sites=23, items=max(200, args.events // 50), events=args.events, seed=1
            )
        led = Ledger.open(src)
        out = work / "pub"
        t = perf()
        rep = publish(led, out)
        t_pub = perf() - t
        t_cp = _cp(out, work / "pub-cp")
        result |= {
            "entries": rep.size,
            "files": rep.written + 1,
            "bytes": _bytes(out),
            "publish_s": round(t_pub, 3),
            "cp_s": round(t_cp, 3),
            "publish_vs_cp": round(t_pub / t_cp, 2),
            "load_publish": _load(),
        }
        print(f"publish {rep.size} entries: {t_pub:.2f} s, cp -r {t_cp:.2f} s", file=sys.stderr)

        before = _files(out)
        _append(led, args.more)
        t = perf()
        inc = publish(led, out)
        t_inc = perf() - t
        new = sorted(_files(out) - before)
        staged = work / "new"
        for name in new:
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out / name, staged / name)
        t_cp_new = _cp(staged, work / "new-cp")
        result |= {
            "more": args.more,
            "incremental_files": len(new),
            "incremental_bytes": inc.bytes_written,
            "incremental_s": round(t_inc, 3),
            "incremental_cp_s": round(t_cp_new, 4),
            "incremental_vs_cp": round(t_inc / t_cp_new, 2),
            "load_incremental": _load(),
        }
        print(f"incremental +{args.more}: {t_inc:.3f} s, cp -r {t_cp_new:.3f} s", file=sys.stderr)

        if args.no_mirror:
            led.close()
            raise SystemExit(0)
        t = perf()
        audit(led.store)
        check_book(led.store)
        t_verify = perf() - t
        size = led.latest_checkpoint().size
        led.close()
        proc, url = serve_directory(out)
        try:
            t = perf()
            mrep = mirror(url, work / "mirror")
            t_mirror = perf() - t
        finally:
            proc.kill()
            proc.wait()
        assert mrep.size == size
        result |= {
            "verify_s": round(t_verify, 2),
            "mirror_s": round(t_mirror, 2),
            "mirror_vs_verify": round(t_mirror / t_verify, 2),
            "load_mirror": _load(),
        }
        print(f"mirror {size}: {t_mirror:.1f} s, verify {t_verify:.1f} s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        result["load_end"] = _load()
        print(json.dumps(result))


if __name__ == "__main__":
    main()
