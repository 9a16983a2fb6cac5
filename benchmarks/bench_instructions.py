#!/usr/bin/env python
"""Instructions per entry of the per-entry Python of the audit and the append path, counted
by valgrind's callgrind: the same count for the same code and inputs whatever else the
machine is doing, so two versions compare on a shared machine where wall and CPU time
move by more than the change.

Run ``python benchmarks/bench_instructions.py`` (valgrind must be installed: Debian's
``valgrind``; a few minutes). It builds a ledger of ``--events`` events (bench_tlog.py's,
signed through the book), then counts, each in its own process under callgrind with
collection switched on only around the measured call:

- ``audit_checks``: the audit worker's checks of each entry (`audit._check_entries`:
  decoding, the stored form and columns, the leaf hash), Ed25519 left out (it is the
  limit the ratios divide by, and libsodium's count does not change with our code);
- ``decode_canonical``: `admission.decode_entry` with the canonical check, as the append
  path decodes a submitted envelope.

``--tree DIR`` counts the code of another checkout (its ``src``) on the same ledger, for a
"before" column. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PARTS = ("audit_checks", "decode_canonical")
WARM = 100  # entries decoded before counting: caches, lazy imports, pydantic's first calls


def build(base: Path, events: int) -> str:
    """A ledger of `events` bench_tlog events (and its genesis); returns its store URL."""
    sys.path.insert(0, str(HERE))
    import bench_tlog

    (ledger,) = bench_tlog.new_ledgers(base, ["ledger"])
    envelopes = ledger.sign(bench_tlog.make_events(events), "insp")
    for k in range(0, len(envelopes), 1000):
        ledger.append(envelopes[k : k + 1000])
    url = ledger.store.url
    ledger.close()
    return url


def _entries(reader: Any, start: int, end: int) -> tuple[list[Any], list[bytes]]:
    """Entries start..<end as the tree's `audit._check_entries` takes them (its rows; in a
    tree before `audited_rows`, (entry, stored moment) pairs, read in one statement or
    two), and their envelopes."""
    if hasattr(reader, "audited_rows"):
        rows = reader.audited_rows(start, end)
        return rows, [r[6] for r in rows]
    if hasattr(reader, "entries_as_stored"):
        pairs = list(reader.entries_as_stored(start, end)[0])
    elif hasattr(reader, "entries_with_moments"):
        pairs = list(reader.entries_with_moments(start, end))
    else:
        moments = [m for _, m in reader.moments(start, end)]
        pairs = list(zip(reader.entries(start, end), moments, strict=True))
    return pairs, [e.envelope for e, _ in pairs]


def _audit_arguments(check: Any, entries: list[Any]) -> tuple[Any, ...]:
    """`audit._check_entries`'s arguments, for this tree's signature or an older one's
    (the entries and their moments apart), made before counting starts."""
    if len(inspect.signature(check).parameters) == 1:
        return (entries,)
    return ([e for e, _ in entries], [(e.index, m) for e, m in entries])


def measured(part: str, url: str, count: int) -> None:
    """Run `part` over entries 1..count (after WARM others), inside `functools.reduce`'s
    call of its function: callgrind's ``--toggle-collect=functools_reduce`` counts that
    call and nothing else. (Callgrind toggles collection at every call of the function
    named: one that the measured code calls itself, as the audit calls `sorted` for each
    entry, would leave those calls out, and one that imports call would count them.)"""
    from cwledger.ledger import audit
    from cwledger.ledger.admission import decode_entry
    from cwledger.store import Store

    store = Store.open(url, migrate=False)
    with store.read() as r:
        audit._init_worker(audit._named_keys(r))
        entries, envelopes = _entries(r, 1, 1 + count)
        warm, warm_envelopes = _entries(r, 1 + count, 1 + count + WARM)
    store.close()
    if part == "audit_checks":
        audit.verify_ed25519 = lambda *_: None  # type: ignore[assignment]  # the limit's part
        audit._check_entries(*_audit_arguments(audit._check_entries, warm))
        arguments = _audit_arguments(audit._check_entries, entries)

        def run(_: int, __: int) -> int:
            audit._check_entries(*arguments)
            return 0
    else:
        for envelope in warm_envelopes:
            decode_entry(envelope)

        def run(_: int, __: int) -> int:
            for envelope in envelopes:
                decode_entry(envelope)
            return 0

    functools.reduce(run, [0, 0])


def count(part: str, url: str, entries: int, tree: Path) -> int:
    """Instructions callgrind collects for `part` over `entries` entries, code from `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "PYTHONHASHSEED": "0"}
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--toggle-collect=functools_reduce",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            str(Path(__file__).resolve()),
            "--measure",
            part,
            "--url",
            url,
            "--events",
            str(entries),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in out.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise RuntimeError(f"callgrind printed no count:\n{out.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=3000, help="entries counted (default 3000)")
    parser.add_argument("--tree", type=Path, action="append", default=[],
                        help="another checkout whose code to count too (repeatable)")  # fmt: skip
    parser.add_argument("--measure", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measured(args.measure, args.url, args.events)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed: apt-get install valgrind")
    base = Path(tempfile.mkdtemp(prefix="cwledger-instructions-"))
    try:
        url = build(base, args.events + WARM + 1)
        trees = [HERE.parent, *args.tree]
        out: dict[str, object] = {"entries": args.events}
        for tree in trees:
            name = "this tree" if tree == HERE.parent else str(tree)
            per_entry = {p: round(count(p, url, args.events, tree) / args.events) for p in PARTS}
            print(
                f"{name}: "
                + ", ".join(f"{p} {n:,} instructions/entry" for p, n in per_entry.items()),
                flush=True,
            )
            out[name] = per_entry
        print(json.dumps(out, sort_keys=True))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
