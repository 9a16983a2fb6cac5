#!/usr/bin/env python
"""cwledger performance against the physical limit of this machine, measured in the same run.

Run ``python benchmarks/bench_tlog.py`` (full sizes, a few minutes) or ``--quick`` (1/10 of
the sizes, under a minute). Human-readable lines are printed while running; the LAST line is
one JSON object with every figure. Ratios are ``limit time / our time`` (1.0 = as fast as
the limit, higher is better); ``pymerkle_*_speedup`` is ``pymerkle time / our time``.

1. root: ``cwledger.tlog.root_hash`` over precomputed leaf hashes vs a tight hashlib loop.
2. append: ``Ledger.append`` in batches vs raw SQLite ``executemany`` of the same rows;
   also the storage-only part (leaf hash, insert, tiles, checkpoint, commit).
3. verify: the full audit vs raw Ed25519 verification of the same signatures on every core,
   with the fastest binding found (PyNaCl / cryptography, 1 thread, 2 threads, 2 processes).
4. pymerkle 7: tree building + root vs ``InmemoryTree``; inclusion proofs from storage vs
   ``SqliteTree``.
5. inclusion / consistency proofs from stored tiles: median milliseconds per proof.

``--profile`` instead runs the slow paths (append, storage-only append, audit) at quick
sizes under cProfile and prints the functions where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import json
import multiprocessing
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import nacl.signing
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open

from common import ESTIMATE_METHODS, proof_questions, raw_log_db, time_proofs
from cwledger.heap import freeze_start_up
from cwledger.ledger.audit import audit
from cwledger.ledger.envelope import Envelope
from cwledger.ledger.ledger import Ledger
from cwledger.store import Store, StoredEntry
from cwledger.tlog import (
    CompactRange,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from cwledger.tlog.tiled import NodeMemo, TiledTree

try:
    from pymerkle import InmemoryTree, SqliteTree
except ImportError:  # pragma: no cover - a benchmark-only dependency
    sys.exit("pymerkle is needed for the benchmark: pip install 'cwledger[bench]'")

perf = time.perf_counter

FULL = {
    "root_leaves": 1_000_000,
    "events": 100_000,
    "batch": 1_000,
    "tree_leaves": 1_000_000,
    "proofs": 10_000,
    "proof_samples": 2_000,
    "sig_sample": 20_000,
}
QUICK = {
    "root_leaves": 100_000,
    "events": 10_000,
    "batch": 1_000,
    "tree_leaves": 100_000,
    "proofs": 1_000,
    "proof_samples": 500,
    "sig_sample": 4_000,
}
TARGETS = {  # key: (operator, value)
    "root_ratio": (">=", 0.5),
    "append_ratio": (">=", 0.3),
    "verify_ratio": (">=", 0.7),
    "pymerkle_root_speedup": (">=", 8.0),
    "pymerkle_proof_speedup": (">=", 10.0),
    "inclusion_proof_ms": ("<", 1.0),
    "consistency_proof_ms": ("<", 1.0),
}
ORIGIN = "bench.cwledger.example/log"
BASE_TIME = datetime(2014, 1, 7, 10, 0, 0, tzinfo=UTC)
SEED = 20261129

_load_seen: list[float] = []


def say(msg: str) -> None:
    print(msg, flush=True)


def load() -> float:
    one = os.getloadavg()[0]
    _load_seen.append(one)
    return one


def best_of(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    """Best wall time of `reps` calls of fn (and the result of the last one)."""
    best, out = float("inf"), None
    for _ in range(reps):
        gc.collect()
        t0 = perf()
        out = fn()
        best = min(best, perf() - t0)
    return best, out


def ms(seconds: float) -> float:
    return round(seconds * 1e3, 4)


# -- 1. root ------------------------------------------------------------------------------


def leaf_data(n: int) -> list[bytes]:
    """n distinct 64-byte leaf inputs."""
    return [b"%064d" % i for i in range(n)]


def raw_node_loop(hashes: Sequence[bytes], count: int) -> float:
    """The limit for `count` interior hashes: a tight hashlib loop over 65-byte inputs."""
    sha, p = hashlib.sha256, b"\x01"
    pairs = zip(hashes, islice(hashes, 1, None), strict=False)
    t0 = perf()
    for a, b in islice(pairs, count):
        sha(p + a + b).digest()
    return perf() - t0


def raw_node_listcomp(hashes: Sequence[bytes], count: int) -> float:
    """Same work as raw_node_loop, keeping the results (as a level of a tree would)."""
    sha, p = hashlib.sha256, b"\x01"
    pairs = islice(zip(hashes, islice(hashes, 1, None), strict=False), count)
    t0 = perf()
    _ = [sha(p + a + b).digest() for a, b in pairs]
    return perf() - t0


def raw_leaf_loop(data: Sequence[bytes]) -> float:
    """The limit for the leaf hashes: one leaf-sized hashlib call per leaf."""
    sha, p = hashlib.sha256, b"\x00"
    t0 = perf()
    _ = [sha(p + d).digest() for d in data]
    return perf() - t0


def bench_root(sizes: dict[str, int], out: dict[str, Any]) -> tuple[list[bytes], list[bytes]]:
    n = sizes["root_leaves"]
    say(f"\n== 1. root of {n:,} leaves (load {load():.2f})")
    data = leaf_data(n)
    hashes = [leaf_hash(d) for d in data]
    reps = 5  # interleaved, best of each: other processes may share the 2 cores
    root_s = limit_s = full_s = full_limit_s = float("inf")
    root = full_root = b""
    for _ in range(reps):
        gc.collect()
        t0 = perf()
        root = root_hash(hashes)
        root_s = min(root_s, perf() - t0)
        limit_s = min(limit_s, raw_node_loop(hashes, n - 1), raw_node_listcomp(hashes, n - 1))
        gc.collect()
        t0 = perf()
        full_root = root_hash([leaf_hash(d) for d in data])
        full_s = min(full_s, perf() - t0)
        full_limit_s = min(full_limit_s, raw_leaf_loop(data) + raw_node_loop(hashes, n - 1))
    assert full_root == root, "root over leaf data differs from root over leaf hashes"
    say(
        f"  ours  root_hash over {n:,} precomputed leaf hashes ({n - 1:,} node hashes): "
        f"{root_s:.3f} s ({(n - 1) / root_s / 1e6:.2f} M hashes/s)"
    )
    say(
        f"  limit tight hashlib loop, the same {n - 1:,} 65-byte node hashes:        "
        f"{limit_s:.3f} s ({(n - 1) / limit_s / 1e6:.2f} M hashes/s)"
    )
    say(f"  root_ratio = {limit_s / root_s:.3f}   (target >= 0.5)")
    say(
        f"  ours  leaf_hash x {n:,} + root_hash (2n-1 = {2 * n - 1:,} hashes): {full_s:.3f} s; "
        f"limit {full_limit_s:.3f} s; root_with_leaves_ratio = {full_limit_s / full_s:.3f}"
    )
    out.update(
        root_leaves=n,
        root_s=round(root_s, 5),
        root_limit_s=round(limit_s, 5),
        root_ratio=round(limit_s / root_s, 4),
        root_hashes_per_s=round((n - 1) / root_s),
        root_limit_hashes_per_s=round((n - 1) / limit_s),
        root_with_leaves_s=round(full_s, 5),
        root_with_leaves_limit_s=round(full_limit_s, 5),
        root_with_leaves_ratio=round(full_limit_s / full_s, 4),
        root_hex=root.hex(),
    )
    return data, hashes


# -- 2. append ----------------------------------------------------------------------------


def make_events(n: int) -> list[dict[str, Any]]:
    """n unique estimate.recorded events with bodies of about 300 bytes (RFC 8785).

    An estimate is the event the book's rules do least with (one record each), so the
    append figures stay those of the log; benchmarks/bench_holdings.py measures the book.
    """
    out = []
    for i in range(n):
        t = (BASE_TIME + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        estimate = {
            "party": "insp",
            "value": 1000.0 + i % 97,
            "u": 50.0 + i % 13,
            "unit": "t",
            "method": ESTIMATE_METHODS[i % 3],
            "scope": "total",
        }
        out.append(
            {
                "type": "estimate.recorded",
                "id": f"est-{i:07d}",
                "time": t,
                "body": {"estimate": estimate},
            }
        )
    return out


def raw_sqlite_insert(path: Path, rows: list[tuple[Any, ...]], batch: int) -> float:
    """The limit: the same rows into an equivalent table, WAL + synchronous=FULL, 1 commit/batch."""
    con = raw_log_db(path)
    q = "INSERT INTO log_entry VALUES (?, ?, ?, ?, ?, ?, ?)"
    gc.collect()
    t0 = perf()
    for k in range(0, len(rows), batch):
        con.execute("BEGIN")
        con.executemany(q, rows[k : k + batch])
        con.execute("COMMIT")
    elapsed = perf() - t0
    count = con.execute("SELECT count(*) FROM log_entry").fetchone()[0]
    con.close()
    assert count == len(rows)
    return elapsed


def storage_only_append(ledger: Ledger, batch: Sequence[tuple[str, str, str, str, bytes]]) -> int:
    """The log half of Ledger.append (Ledger.write_entries) with the canonicalisation in
    front of it: envelope to RFC 8785 bytes, leaf hashes, entries, tiles, a signed
    checkpoint, commit. What it leaves out is admission: schema, authority, Ed25519."""
    with ledger.store.write() as w:
        size = w.size()
        new = []
        for k, (eid, etype, author, etime, env) in enumerate(batch):
            leaf = Envelope.from_bytes(env).to_bytes()
            new.append(StoredEntry(size + k, leaf_hash(leaf), eid, etype, author, etime, leaf))
        compact = ledger.write_entries(w, size, new, ORIGIN)
    return compact.size


def new_ledgers(base: Path, names: Sequence[str]) -> list[Ledger]:
    """Fresh ledgers with the same genesis and keys (one init, then directory copies)."""
    first = base / names[0]
    ledger = Ledger.init(first, ORIGIN, founding=[("insp", "inspectorate")], time=_t(-3600))
    ledger.close()
    for name in names[1:]:
        shutil.copytree(first, base / name)
    return [Ledger.open(base / name) for name in names]


def _t(seconds: int) -> str:
    return (BASE_TIME + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def bench_append(sizes: dict[str, int], base: Path, out: dict[str, Any]) -> tuple[Ledger, list]:
    n, batch = sizes["events"], sizes["batch"]
    say(f"\n== 2. append {n:,} events in batches of {batch:,} (load {load():.2f})")
    full, storage = new_ledgers(base, ["ledger-full", "ledger-storage"])
    events = make_events(n)
    gc.collect()
    t0 = perf()
    envelopes = full.sign(events, "insp")
    sign_s = perf() - t0
    body_len = statistics.mean(len(json.dumps(e["body"], separators=(",", ":"))) for e in events)
    say(
        f"  signing (Ledger.sign, before timing the append): {sign_s:.2f} s, "
        f"{n / sign_s:,.0f} events/s; body ~{body_len:.0f} B, "
        f"envelope ~{statistics.mean(len(e) for e in envelopes):.0f} B"
    )

    gc.collect()
    t0 = perf()
    accepted = 0
    for k in range(0, n, batch):
        receipts = full.append(envelopes[k : k + batch])
        accepted += sum(1 for r in receipts if not r.duplicate)
    append_s = perf() - t0
    assert accepted == n, f"{accepted} of {n} events appended"
    # As `cwledger append` ends: its signature processes end with it, and the audit below
    # starts its workers as `cwledger verify` does, in a process with no other thread.
    full.close()
    full = Ledger.open(full.path)
    say(
        f"  FULL PATH   Ledger.append (decode, canonical check, validate, authorise, verify "
        f"Ed25519, hash, insert, tiles, checkpoint, commit): {append_s:.2f} s, "
        f"{n / append_s:,.0f} events/s"
    )

    rows_in = [
        (e["id"], e["type"], "insp", e["time"], env)
        for e, env in zip(events, envelopes, strict=True)
    ]
    gc.collect()
    t0 = perf()
    for k in range(0, n, batch):
        storage_only_append(storage, rows_in[k : k + batch])
    storage_s = perf() - t0
    say(
        f"  LOG APPEND  (canonicalise, leaf hash, insert, tiles, checkpoint, commit; "
        f"Ledger.write_entries, no admission checks): {storage_s:.2f} s, "
        f"{n / storage_s:,.0f} events/s"
    )
    cp_full, cp_storage = full.latest_checkpoint(), storage.latest_checkpoint()
    assert (cp_full.size, cp_full.root_hash) == (cp_storage.size, cp_storage.root_hash)
    storage.close()

    rows = [
        (i + 1, leaf_hash(env), eid, etype, author, etime, env)
        for i, (eid, etype, author, etime, env) in enumerate(rows_in)
    ]
    raw_s = min(raw_sqlite_insert(base / "raw.db", rows, batch) for _ in range(3))
    say(
        f"  LIMIT raw sqlite3 executemany, same rows/columns/indexes, WAL, synchronous=FULL, "
        f"commit per {batch:,}: {raw_s:.3f} s, {n / raw_s:,.0f} rows/s"
    )
    say(
        f"  append_ratio (log append) = {raw_s / storage_s:.4f}   (target >= 0.3); "
        f"append_full_ratio (with admission and Ed25519) = {raw_s / append_s:.4f}"
    )
    out.update(
        events=n,
        batch_size=batch,
        event_body_bytes=round(body_len),
        envelope_bytes=round(statistics.mean(len(e) for e in envelopes)),
        sign_s=round(sign_s, 4),
        sign_events_per_s=round(n / sign_s),
        append_full_s=round(append_s, 4),
        append_full_events_per_s=round(n / append_s),
        append_full_ratio=round(raw_s / append_s, 4),
        append_raw_sqlite_s=round(raw_s, 4),
        append_raw_rows_per_s=round(n / raw_s),
        append_s=round(storage_s, 4),
        append_events_per_s=round(n / storage_s),
        append_ratio=round(raw_s / storage_s, 4),
    )
    return full, envelopes


# -- 3. verify ----------------------------------------------------------------------------

Job = tuple[bytes, bytes, bytes]  # public key, message (DSSE PAE), signature
_JOBS: list[Job] = []  # set before forking the process pool, so workers inherit it
BINDINGS = ("pynacl.crypto_sign_open", "pynacl.VerifyKey.verify", "cryptography.Ed25519.verify")


def _verify_range(binding: str, start: int, end: int) -> int:
    """Verify _JOBS[start:end] with one binding; raises on a bad signature. Returns the count."""
    jobs = _JOBS
    if binding == "pynacl.crypto_sign_open":
        op = crypto_sign_open
        for i in range(start, end):
            pk, msg, sig = jobs[i]
            op(sig + msg, pk)
    elif binding == "pynacl.VerifyKey.verify":
        nkeys: dict[bytes, nacl.signing.VerifyKey] = {}
        for i in range(start, end):
            pk, msg, sig = jobs[i]
            vk = nkeys.get(pk)
            if vk is None:
                vk = nkeys[pk] = nacl.signing.VerifyKey(pk)
            vk.verify(msg, sig)
    elif binding == "cryptography.Ed25519.verify":
        ckeys: dict[bytes, Ed25519PublicKey] = {}
        for i in range(start, end):
            pk, msg, sig = jobs[i]
            ck = ckeys.get(pk)
            if ck is None:
                ck = ckeys[pk] = Ed25519PublicKey.from_public_bytes(pk)
            ck.verify(sig, msg)
    else:
        raise ValueError(binding)
    return end - start


def _halves(n: int) -> list[tuple[int, int]]:
    mid = n // 2
    return [(0, mid), (mid, n)]


def time_verify(binding: str, mode: str, n: int, threads: Any, procs: Any) -> float:
    gc.collect()
    t0 = perf()
    if mode == "1 thread":
        done = _verify_range(binding, 0, n)
    elif mode == "2 threads":
        done = sum(threads.map(lambda r: _verify_range(binding, *r), _halves(n)))
    else:
        done = sum(procs.starmap(_verify_range, [(binding, a, b) for a, b in _halves(n)]))
    elapsed = perf() - t0
    assert done == n
    return elapsed


def signature_jobs(ledger: Ledger) -> list[Job]:
    authority = ledger.authority()
    jobs = []
    with ledger.store.read() as r:
        for chunk in r.iter_entries():
            for e in chunk:
                env = Envelope.from_bytes(e.envelope)
                pk = authority.keys[(e.author, env.keyid)].public_key
                jobs.append((pk, env.signed_bytes(), env.sig))
    return jobs


def _audit_once(ledger: Ledger) -> tuple[float, Any]:
    assert threading.active_count() == 1, "the audit would spawn its workers, not fork them"
    gc.collect()
    t0 = perf()
    report = audit(ledger.store)
    return perf() - t0, report


def _limit_once(binding: str, mode: str, n: int) -> float:
    """The fastest binding's time for all n signatures, with pools of its own (closed after,
    so that the audit next starts its workers as `cwledger verify` does)."""
    ctx = multiprocessing.get_context("fork")
    with ThreadPoolExecutor(max_workers=2) as threads, ctx.Pool(2) as procs:
        procs.starmap(_verify_range, [(binding, 0, 1), (binding, 1, 2)])  # warm up
        return time_verify(binding, mode, n, threads, procs)


def bench_verify(sizes: dict[str, int], ledger: Ledger, out: dict[str, Any]) -> None:
    global _JOBS
    say(
        f"\n== 3. verify: the full audit of the {sizes['events'] + 1:,}-entry ledger "
        f"(load {load():.2f})"
    )
    _JOBS = signature_jobs(ledger)
    n = len(_JOBS)
    assert n == sizes["events"] + 1
    sample = min(sizes["sig_sample"], n)
    rates: dict[str, float] = {}
    ctx = multiprocessing.get_context("fork")
    with ThreadPoolExecutor(max_workers=2) as threads, ctx.Pool(2) as procs:
        procs.starmap(_verify_range, [(BINDINGS[0], 0, 1), (BINDINGS[0], 1, 2)])  # warm up
        for _ in range(2):  # two interleaved rounds, best of each
            for binding in BINDINGS:
                for mode in ("1 thread", "2 threads", "2 processes"):
                    s = time_verify(binding, mode, sample, threads, procs)
                    key = f"{binding} / {mode}"
                    rates[key] = max(rates.get(key, 0.0), sample / s)
    for key, rate in rates.items():
        binding, mode = key.split(" / ")
        say(f"  {binding:28s} {mode:12s} {rate:9,.0f} signatures/s ({sample:,} signatures)")
    fastest = max(rates, key=rates.__getitem__)
    binding, mode = fastest.split(" / ")
    # The audit and the limit in turns, best of each: the machine's speed drifts within a
    # run, and both then meet the same drift.
    runs: list[float] = []
    limits: list[float] = []
    for _ in range(3):
        seconds, report = _audit_once(ledger)
        runs.append(seconds)
        limits.append(_limit_once(binding, mode, n))
    audit_s, limit_s = min(runs), min(limits)
    assert report.size == n and report.root_hash == ledger.latest_checkpoint().root_hash
    say(
        f"  ours  audit(store) (decode, canonical, leaf hash, Ed25519 on "
        f"{os.cpu_count()} processes; authorise, tiles, {report.checkpoints} checkpoints): "
        f"{audit_s:.2f} s, {n / audit_s:,.0f} entries/s (best of {[round(r, 2) for r in runs]})"
    )
    thread_gain = {
        b: round(rates[f"{b} / 2 threads"] / rates[f"{b} / 1 thread"], 3) for b in BINDINGS
    }
    say("  2-thread speedup per binding (~2 when the GIL is released and a core is idle):")
    say(f"    {thread_gain}")
    say(
        f"  LIMIT fastest = {fastest}: all {n:,} signatures in {limit_s:.2f} s "
        f"({n / limit_s:,.0f}/s)"
    )
    say(f"  verify_ratio = {limit_s / audit_s:.3f}   (target >= 0.7)")
    full_vs_sigs = limit_s / out["append_full_s"] if "append_full_s" in out else None
    if full_vs_sigs is not None:
        say(
            f"  the full append path against the same Ed25519 limit: {full_vs_sigs:.3f} "
            "(append_full_vs_ed25519; no target)"
        )
    _JOBS = []
    out.update(
        verify_entries=n,
        verify_s=round(audit_s, 4),
        verify_runs_s=[round(r, 3) for r in runs],
        verify_entries_per_s=round(n / audit_s),
        verify_limit_s=round(limit_s, 4),
        verify_limit_runs_s=[round(r, 3) for r in limits],
        verify_limit_sigs_per_s=round(n / limit_s),
        verify_ratio=round(limit_s / audit_s, 4),
        append_full_vs_ed25519=None if full_vs_sigs is None else round(full_vs_sigs, 4),
        ed25519_fastest=fastest,
        ed25519_sample=sample,
        ed25519_sigs_per_s={k: round(v) for k, v in rates.items()},
        ed25519_two_thread_speedup=thread_gain,
    )


# -- 4 and 5. pymerkle, proofs from storage -----------------------------------------------


def build_tile_store(path: Path, hashes: Sequence[bytes], chunk: int = 65_536) -> Store:
    """The real storage code: TiledTree.append + LogWriter.put_tiles in write transactions."""
    store = Store.open(f"sqlite:///{path}")
    size = 0
    for k in range(0, len(hashes), chunk):
        with store.write() as w:
            compact, tiles, present = TiledTree(size, w.tiles).append(hashes[k : k + chunk])
            w.put_tiles(tiles, present)
            size = compact.size
    return store


def prefix_roots(hashes: Sequence[bytes], sizes: set[int]) -> dict[int, bytes]:
    """Roots of the given prefixes, from one CompactRange pass (independent of the tiles)."""
    roots, cr, at = {}, CompactRange(), 0
    for s in sorted(sizes):
        cr.extend(islice(hashes, at, s))
        at = s
        roots[s] = cr.root()
    return roots


VERIFIED = 200
"""Proofs of each kind verified (and compared with pymerkle's) after being timed."""


def bench_pymerkle_and_proofs(
    sizes: dict[str, int],
    data: list[bytes],
    hashes: list[bytes],
    base: Path,
    out: dict[str, Any],
) -> None:
    n = sizes["root_leaves"]
    say(f"\n== 4a. pymerkle InmemoryTree vs ours: tree + root of {n:,} leaves (load {load():.2f})")
    ours_s = out["root_with_leaves_s"]
    gc.collect()
    t0 = perf()
    tree = InmemoryTree.init_from_entries(data, algorithm="sha256")
    pm_root = tree.get_root()
    pm_s = perf() - t0
    assert pm_root.hex() == out["root_hex"], "pymerkle (security mode) root differs from ours"
    del tree
    gc.collect()
    say(f"  pymerkle InmemoryTree.init_from_entries + get_root: {pm_s:.2f} s (same root: yes)")
    say(f"  ours leaf_hash + root_hash:                           {ours_s:.3f} s")
    say(f"  pymerkle_root_speedup = {pm_s / ours_s:.1f}   (target >= 8)")
    out.update(pymerkle_root_s=round(pm_s, 4), pymerkle_root_speedup=round(pm_s / ours_s, 2))

    size = sizes["tree_leaves"]
    tree_hashes = hashes[:size]
    say(
        f"\n== 4b. inclusion proofs from storage at size {size:,} vs pymerkle SqliteTree "
        f"(load {load():.2f})"
    )
    t0 = perf()
    store = build_tile_store(base / "tiles.db", tree_hashes)
    tiles_s = perf() - t0
    with store.read() as r:
        root = TiledTree(size, r.tiles).root()
        tile_count = sum(1 for _ in r.all_tiles())
    assert root == root_hash(tree_hashes), "tile store root differs from root_hash"
    say(
        f"  built {tile_count:,} tiles for {size:,} leaves with TiledTree.append + put_tiles: "
        f"{tiles_s:.2f} s"
    )

    t0 = perf()
    pm = SqliteTree(str(base / "pymerkle.db"), algorithm="sha256")
    pm.append_entries(data[:size])
    pm_build_s = perf() - t0
    say(f"  pymerkle SqliteTree.append_entries of {size:,} leaves: {pm_build_s:.2f} s")

    rng = random.Random(SEED)
    indices = [rng.randrange(size) for _ in range(sizes["proofs"])]
    gc.collect()
    with store.read() as r:
        # As the ledger serves proofs: a new tree view per proof over the SQLite tiles,
        # sharing the ledger's memo of computed nodes (NodeMemo, default bound).
        memo = NodeMemo()
        t0 = perf()
        ours = [TiledTree(size, r.tiles, memo).inclusion_proof(i) for i in indices]
        ours_s = perf() - t0
    gc.collect()
    t0 = perf()
    theirs = [pm.prove_inclusion(i + 1, size) for i in indices]
    pm_proofs_s = perf() - t0
    compared = 0
    for i, mine, their in islice(zip(indices, ours, theirs, strict=True), VERIFIED):
        verify_inclusion(tree_hashes[i], i, size, mine, root)
        assert [bytes(h) for h in their.path[1:]] == mine, f"pymerkle proof differs at {i}"
        compared += 1
    pm.close()
    k = len(indices)
    say(
        f"  ours  {k:,} TiledTree.inclusion_proof in one read transaction: {ours_s:.3f} s "
        f"({ms(ours_s / k):.3f} ms/proof)"
    )
    say(
        f"  pymerkle {k:,} SqliteTree.prove_inclusion:                   {pm_proofs_s:.3f} s "
        f"({ms(pm_proofs_s / k):.3f} ms/proof); {compared} proofs checked equal and verified"
    )
    say(f"  pymerkle_proof_speedup = {pm_proofs_s / ours_s:.1f}   (target >= 10)")
    out.update(
        tree_leaves=size,
        tiles_build_s=round(tiles_s, 4),
        tiles=tile_count,
        pymerkle_sqlite_build_s=round(pm_build_s, 4),
        proofs=k,
        ours_proofs_s=round(ours_s, 4),
        pymerkle_proofs_s=round(pm_proofs_s, 4),
        pymerkle_proof_speedup=round(pm_proofs_s / ours_s, 2),
    )

    say(f"\n== 5. proofs from stored tiles at size {size:,} (load {load():.2f})")
    samples = sizes["proof_samples"]
    inc_idx, pairs = proof_questions(rng, size, samples)
    with store.read() as r:
        inc_t, con_t, inc_proofs, con_proofs = time_proofs(r.tiles, size, inc_idx, pairs)
    txn_t = []
    for i in inc_idx[:300]:
        t0 = perf()
        with store.read() as r:
            TiledTree(size, r.tiles).inclusion_proof(i)
        txn_t.append(perf() - t0)
    store.close()
    inc_checked = con_checked = 0
    for i, p in islice(zip(inc_idx, inc_proofs, strict=True), VERIFIED):
        verify_inclusion(tree_hashes[i], i, size, p, root)
        inc_checked += 1
    roots = prefix_roots(tree_hashes, {s for ab in pairs[:VERIFIED] for s in ab})
    assert roots[size] == root
    for (a, b), p in islice(zip(pairs, con_proofs, strict=True), VERIFIED):
        verify_consistency(a, b, p, roots[a], roots[b])
        con_checked += 1

    def q(xs: list[float], f: float) -> float:
        return ms(sorted(xs)[min(len(xs) - 1, int(f * len(xs)))])

    inc_ms, con_ms = ms(statistics.median(inc_t)), ms(statistics.median(con_t))
    say(
        f"  inclusion proof   median {inc_ms:.3f} ms, p95 {q(inc_t, 0.95):.3f} ms "
        f"({samples:,} random leaves, inside one read transaction)"
    )
    say(
        f"  consistency proof median {con_ms:.3f} ms, p95 {q(con_t, 0.95):.3f} ms "
        f"({samples:,} random (size1, size2), half of them to the full size)"
    )
    say(
        f"  inclusion proof with its own read transaction (store.read() per proof): "
        f"median {ms(statistics.median(txn_t)):.3f} ms"
    )
    say(f"  {inc_checked} inclusion and {con_checked} consistency proofs verified (targets < 1 ms)")
    out.update(
        inclusion_proof_ms=inc_ms,
        inclusion_proof_p95_ms=q(inc_t, 0.95),
        consistency_proof_ms=con_ms,
        consistency_proof_p95_ms=q(con_t, 0.95),
        inclusion_proof_with_txn_ms=ms(statistics.median(txn_t)),
        proof_samples=samples,
        proofs_verified=inc_checked + con_checked,
    )


def bench_ledger_proofs(ledger: Ledger, out: dict[str, Any]) -> None:
    """Ledger.prove_inclusion / prove_consistency (a read transaction, proof, roots, hex)."""
    cp = ledger.latest_checkpoint()
    rng = random.Random(SEED + 1)
    inc, con = [], []
    for _ in range(300):
        i = rng.randrange(cp.size)
        t0 = perf()
        p = ledger.prove_inclusion(i)
        inc.append(perf() - t0)
        proof = [bytes.fromhex(h) for h in p["proof"]]
        verify_inclusion(bytes.fromhex(p["leaf_hash"]), i, cp.size, proof, cp.root_hash)
    for _ in range(300):
        a = rng.randrange(1, cp.size)
        t0 = perf()
        ledger.prove_consistency(a)
        con.append(perf() - t0)
    say(
        f"  Ledger.prove_inclusion at size {cp.size:,} (own transaction, root, leaf, hex): "
        f"median {ms(statistics.median(inc)):.3f} ms; prove_consistency "
        f"{ms(statistics.median(con)):.3f} ms (300 each, inclusion proofs verified)"
    )
    out.update(
        ledger_prove_inclusion_ms=ms(statistics.median(inc)),
        ledger_prove_consistency_ms=ms(statistics.median(con)),
    )


# -- driver -------------------------------------------------------------------------------


def targets_met(out: dict[str, Any]) -> dict[str, bool]:
    met = {}
    for key, (op, value) in TARGETS.items():
        if key in out:
            met[key] = out[key] >= value if op == ">=" else out[key] < value
    return met


def source_state() -> str:
    """The commit measured, and a digest of uncommitted changes to src/ (others edit it)."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", "src"], cwd=root, capture_output=True
        ).stdout
    except OSError:
        return "unknown"
    return f"{head}+{hashlib.sha256(diff).hexdigest()[:8]}" if diff else head


def run(quick: bool, keep: bool) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    out: dict[str, Any] = {
        "quick": quick,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "started_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": source_state(),
    }
    say(
        f"cwledger benchmark ({'quick' if quick else 'full'}) on {os.cpu_count()} cores, "
        f"Python {out['python']}, load average {out['loadavg_start']}, source {out['source']}"
    )
    base = Path(tempfile.mkdtemp(prefix="cwledger-bench-"))
    t_all = perf()
    try:
        data, hashes = bench_root(sizes, out)
        ledger, _ = bench_append(sizes, base, out)
        bench_verify(sizes, ledger, out)
        say(f"\n== 2b. proofs through the Ledger API (load {load():.2f})")
        bench_ledger_proofs(ledger, out)
        ledger.close()
        bench_pymerkle_and_proofs(sizes, data, hashes, base, out)
    finally:
        if keep:
            say(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    out["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    out["loadavg_max_1min"] = round(max(_load_seen + [out["loadavg_end"][0]]), 2)
    out["total_s"] = round(perf() - t_all, 1)
    out["targets"] = {k: f"{op} {v}" for k, (op, v) in TARGETS.items()}
    out["targets_met"] = met = targets_met(out)
    say(f"\ndone in {out['total_s']:.0f} s; load average now {out['loadavg_end']}")
    for key, ok in met.items():
        say(
            f"  {key:24s} {out[key]!s:>10}  target {out['targets'][key]:7s} "
            f"{'met' if ok else 'MISSED'}"
        )
    return out


def _profile(name: str, fn: Callable[[], object], top: int) -> list[dict[str, Any]]:
    """Run fn under cProfile; print and return the `top` functions by self time."""
    prof = cProfile.Profile()
    gc.collect()
    t0 = perf()
    prof.runcall(fn)
    wall = perf() - t0
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(file).name}:{line}:{func}" if line else func
        rows.append((tt, ct, nc, where))
    rows.sort(reverse=True)
    say(f"\n== profile {name}: {wall:.2f} s wall under cProfile, {total:.2f} s profiled")
    say(f"  {'self %':>7} {'cum %':>7} {'calls':>9}  function")
    for tt, ct, nc, where in rows[:top]:
        say(f"  {100 * tt / total:6.1f}% {100 * ct / total:6.1f}% {nc:9d}  {where}")
    ours = sorted(
        ((ct, tt, nc, where) for tt, ct, nc, where in rows if _is_ours(where)), reverse=True
    )[1 : top + 1]
    say("  -- cwledger functions by cumulative share (inclusive of callees)")
    for ct, tt, nc, where in ours:
        say(f"  {100 * tt / total:6.1f}% {100 * ct / total:6.1f}% {nc:9d}  {where}")
    return [
        {"function": w, "self_share": round(tt / total, 4), "cum_share": round(ct / total, 4)}
        for tt, ct, _nc, w in rows[:top]
    ] + [
        {"function": w, "self_share": round(tt / total, 4), "cum_share": round(ct / total, 4)}
        for ct, tt, _nc, w in ours
    ]


_OUR_FILES = {
    p.name
    for p in Path(leaf_hash.__code__.co_filename).parents[1].rglob("*.py")
    if p.name != "__init__.py"
}


def _is_ours(where: str) -> bool:
    return where.split(":", 1)[0] in _OUR_FILES and "<" not in where.rsplit(":", 1)[-1]


def profile_run(top: int) -> dict[str, Any]:
    """cProfile each measured path: the ledger paths at quick sizes, proofs at the full size."""
    sizes = QUICK
    base = Path(tempfile.mkdtemp(prefix="cwledger-profile-"))
    out: dict[str, Any] = {"profile": True, "events": sizes["events"], "loadavg": os.getloadavg()}
    say(f"profiling on {os.cpu_count()} cores, load average {out['loadavg']}")
    try:
        full, storage = new_ledgers(base, ["full", "storage"])
        events = make_events(sizes["events"])
        envelopes = full.sign(events, "insp")
        rows_in = [
            (e["id"], e["type"], "insp", e["time"], env)
            for e, env in zip(events, envelopes, strict=True)
        ]
        b = sizes["batch"]
        data = leaf_data(sizes["root_leaves"])
        size = FULL["tree_leaves"]
        hashes = [leaf_hash(d) for d in leaf_data(size)]
        store = build_tile_store(base / "tiles.db", hashes)
        rng = random.Random(SEED)
        indices = [rng.randrange(size) for _ in range(2000)]
        pairs = [(a, size) for a in (rng.randrange(1, size) for _ in range(2000))]

        def inclusion() -> None:
            with store.read() as r:
                tree = TiledTree(size, r.tiles)
                for i in indices:
                    tree.inclusion_proof(i)

        def consistency() -> None:
            with store.read() as r:
                tree = TiledTree(size, r.tiles)
                for a, z in pairs:
                    tree.consistency_proof(a, z)

        parts: dict[str, Callable[[], object]] = {
            "root_hash_over_leaf_hashes": lambda: root_hash(hashes[: sizes["root_leaves"]]),
            "tree_and_root_from_leaf_data": lambda: root_hash([leaf_hash(d) for d in data]),
            "append_full_path": lambda: [
                full.append(envelopes[k : k + b]) for k in range(0, len(envelopes), b)
            ],
            "append_storage_only": lambda: [
                storage_only_append(storage, rows_in[k : k + b]) for k in range(0, len(rows_in), b)
            ],
            "verify_audit": lambda: audit(full.store),
            f"inclusion_proofs_2000_at_{size}": inclusion,
            f"consistency_proofs_2000_at_{size}": consistency,
            "ledger_prove_inclusion_300": lambda: [
                full.prove_inclusion(i % sizes["events"]) for i in range(0, 300 * 31, 31)
            ],
        }
        for name, fn in parts.items():
            out[name] = _profile(name, fn, top)
        store.close()
        full.close()
        storage.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1/10 of the sizes (< 1 minute)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--profile", action="store_true", help="cProfile the slow paths instead")
    parser.add_argument("--top", type=int, default=15, help="functions listed per profile")
    args = parser.parse_args(argv)
    freeze_start_up()  # as the command line and the server's workers do, once imported
    out = profile_run(args.top) if args.profile else run(args.quick, args.keep)
    print(json.dumps(out, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
