#!/usr/bin/env python
"""Ledgers of millions of entries: build, proofs, audit, publish and mirror, with growth.

For each size (``--sizes 1000000,10000000``) it builds an SQLite ledger in ``--dir`` through
the **log-level writer** (`Ledger.write_entries`: leaf hash, insert, tiles, a signed
checkpoint per batch, commit), with events signed by the inspectorate's key in worker
processes (their RFC 8785 payloads from a template, checked against the whole path for
every 1,000th event and by the audit for all) but never admitted through the book (no
schema, authority or book rules at write time: the audit checks all of it afterwards).
Then, each phase in a new process whose peak RSS (VmHWM) is read at its end:

1. ``build``: events/s of the whole build, and of the write alone; against the limits
   measured on the same rows in the same run: hashlib over the same leaf bytes (and the
   n-1 interior nodes), and raw ``sqlite3`` ``executemany`` of the same rows into an
   equivalent table (WAL, ``synchronous=FULL``, one commit per batch);
2. ``proofs``: 2,000 random inclusion and 2,000 random consistency proofs from the stored
   tiles (one read transaction, the ledger's shared node memo), median and p95; and
   ``Ledger.prove_inclusion`` / ``prove_consistency`` (own transaction each), 300 each;
3. ``audit``: ``audit(store)``, what ``cwledger verify`` runs before the book: every
   envelope decoded, its canonical form, leaf hash and columns, its Ed25519 signature,
   the key and role replay, the recomputed tree against every stored tile, every
   checkpoint's signature and root, the batches and the tile set (the book's replay,
   ``check_book``, is not part of it: ``bench_replay.py``). Against the Ed25519 limit:
   raw ``crypto_sign_open`` of a sample of the same signatures on 2 processes;
4. ``publish``: ``publish(ledger, out)`` into an empty directory (files, bytes), against
   ``cp -r`` of what it wrote;
5. ``mirror``: ``mirror(url, dir)`` of that publication behind ``python -m http.server``
   into a new SQLite store: fetch, check and store, replay the book, the whole audit;
   each stage's time from its progress callback.

Growth: for every figure, the largest size's over the smallest's. ``--keep`` keeps (and
reuses) the built ledgers and publications in ``--dir``; without it each size's files are
removed once measured; with it, each phase's figures are kept beside the ledger
(``s<size>/<phase>.json``) and reused by the next run unless named in ``--redo``, so a
run over several sizes can gather earlier ones. ``--phases`` runs only some phases. The LAST line
is one JSON object with every figure.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_scale.py --sizes 1000000 --dir /tmp/scale
    PYTHONPATH=src .venv/bin/python benchmarks/bench_scale.py \\
        --sizes 1000000,10000000 --dir /tmp/scale --keep
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import ESTIMATE_METHODS, proof_questions, raw_log_db, serve_directory, time_proofs

perf = time.perf_counter

ORIGIN = "scale.cwledger.example/log"
PARTY = "insp"
BASE_TIME = datetime(2014, 1, 7, 10, 0, 0, tzinfo=UTC)
SEED = 20261206
PHASES = ("build", "proofs", "publish", "audit", "mirror", "tree")


def say(msg: str) -> None:
    print(msg, flush=True)


def peak_mb() -> float:
    """VmHWM of this process (ru_maxrss would keep the forking parent's size across exec)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def children_peak_mb() -> float:
    """The largest peak RSS of the waited-for child processes (the audit's workers)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _t(seconds: int) -> str:
    return (BASE_TIME + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(i: int) -> dict[str, Any]:
    """Event i: an estimate.recorded with a body of about 300 bytes, as bench_tlog's."""
    estimate = {
        "party": PARTY,
        "value": 1000.0 + i % 97,
        "u": 50.0 + i % 13,
        "unit": "t",
        "method": ESTIMATE_METHODS[i % 3],
        "scope": "total",
    }
    return {
        "type": "estimate.recorded",
        "id": f"est-{i:08d}",
        "time": _t(i),
        "body": {"estimate": estimate},
    }


# -- 1. build -----------------------------------------------------------------------------

_SIGNER: list[Any] = []


def _init_signer(keys: str) -> None:
    from cwledger.ledger.keystore import Keystore

    _SIGNER[:] = [Keystore(Path(keys)).signer(PARTY)]


def _payload(i: int, bodies: dict[tuple[int, int, int], bytes]) -> bytes:
    """The RFC 8785 bytes of event i (keys in order: author, body, id, time, type), the
    body's from a cache of the 3,783 distinct ones; checked against the whole path
    (`Event`, `canonical_json`) for every 1,000th event, and by the audit for all."""
    key = (i % 97, i % 13, i % 3)
    body = bodies.get(key)
    if body is None:
        from cwledger.ledger.canonical import canonical_json

        body = bodies[key] = canonical_json(event(i)["body"])
    return b'{"author":"%b","body":%b,"id":"est-%08d","time":"%b","type":"estimate.recorded"}' % (
        PARTY.encode(),
        body,
        i,
        _t(i).encode(),
    )


_BODIES: dict[tuple[int, int, int], bytes] = {}


def _sign_range(start: int, end: int) -> list[tuple[str, str, str, bytes]]:
    """Events start..<end (entry index i + 1 holds event i), signed: (id, type, time,
    envelope bytes)."""
    from cwledger.ledger.canonical import canonical_json
    from cwledger.ledger.envelope import PAYLOAD_TYPE, Envelope, pae
    from cwledger.model.events import Event

    signer = _SIGNER[0]
    keyid = signer.key_id.hex()
    out = []
    for i in range(start, end):
        payload = _payload(i, _BODIES)
        if i % 1000 == 0:
            whole = Event.model_validate({"author": PARTY, **event(i)}).model_dump(mode="json")
            assert canonical_json(whole) == payload, (payload, canonical_json(whole))
        env = Envelope(PAYLOAD_TYPE, payload, keyid, signer.sign(pae(PAYLOAD_TYPE, payload)))
        out.append((f"est-{i:08d}", "estimate.recorded", _t(i), env.to_bytes()))
    return out


def phase_build(
    path: Path, size: int, batch: int, signers: int, limit_rows: int | None = None
) -> dict[str, Any]:
    """Write a ledger of `size` entries (the genesis and size - 1 events) through
    Ledger.write_entries, a checkpoint per `batch`; the limits on the same rows (on the
    first `limit_rows` only when given: the write is compared with them over those rows)."""
    from cwledger.ledger.ledger import Ledger
    from cwledger.store import StoredEntry
    from cwledger.tlog.hashing import leaf_hash

    ledger = Ledger.init(path, ORIGIN, founding=[(PARTY, "inspectorate")], time=_t(-3600))
    raw = raw_log_db(path.parent / f"{path.name}-raw.db")
    sha = hashlib.sha256
    events = size - 1
    write_s = raw_sql_s = raw_leaf_s = raw_node_s = sampled_write_s = 0.0
    leaf_bytes = sampled = 0
    limit_rows = events if not limit_rows else min(limit_rows, events)
    q = "INSERT INTO log_entry VALUES (?, ?, ?, ?, ?, ?, ?)"
    ctx = multiprocessing.get_context("fork")
    t_all = perf()
    last_say = t_all
    with ctx.Pool(signers, initializer=_init_signer, initargs=(str(path / "keys"),)) as pool:
        window: deque[Any] = deque()
        starts = iter(range(0, events, batch))

        def feed() -> None:
            while len(window) < 2 * signers + 1:
                start = next(starts, None)
                if start is None:
                    return
                window.append(pool.apply_async(_sign_range, (start, min(start + batch, events))))

        feed()
        while window:
            signed = window.popleft().get()
            feed()
            leaves = [env for _, _, _, env in signed]
            t0 = perf()
            with ledger.store.write() as w:
                at = w.size()
                new = [
                    StoredEntry(at + k, leaf_hash(env), eid, etype, PARTY, etime, env)
                    for k, (eid, etype, etime, env) in enumerate(signed)
                ]
                ledger.write_entries(w, at, new, ORIGIN)
            write_s += perf() - t0
            leaf_bytes += sum(map(len, leaves))
            if sampled < limit_rows:  # the limits, on the same bytes and rows
                sampled += len(new)
                sampled_write_s = write_s
                gc.collect()
                t0 = perf()
                hashes = [sha(b"\x00" + d).digest() for d in leaves]
                raw_leaf_s += perf() - t0
                t0 = perf()
                for a, b in zip(hashes, hashes[1:], strict=False):
                    sha(b"\x01" + a + b).digest()
                raw_node_s += perf() - t0
                rows = [
                    (
                        e.index,
                        e.leaf_hash,
                        e.event_id,
                        e.event_type,
                        PARTY,
                        e.event_time,
                        e.envelope,
                    )
                    for e in new
                ]
                t0 = perf()
                raw.execute("BEGIN")
                raw.executemany(q, rows)
                raw.execute("COMMIT")
                raw_sql_s += perf() - t0
            done = at + len(new)
            if perf() - last_say > 30 or done == size:
                last_say = perf()
                rate = (done - 1) / (last_say - t_all)
                say(
                    f"    build {done:,}/{size:,} ({100 * done / size:.0f}%), "
                    f"{rate:,.0f} events/s, eta {(size - done) / rate / 60:.1f} min, "
                    f"peak {peak_mb():.0f} MB"
                )
    total_s = perf() - t_all - raw_sql_s - raw_leaf_s - raw_node_s
    with ledger.store.read() as r:
        assert r.size() == size
    ledger.close()
    raw.close()
    raw_bytes = du(path.parent / f"{path.name}-raw.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path.parent / path.name}-raw.db{suffix}").unlink(missing_ok=True)
    return {
        "entries": size,
        "batch": batch,
        "signers": signers,
        "build_s": round(total_s, 2),
        "build_events_per_s": round(events / total_s),
        "write_s": round(write_s, 2),
        "write_events_per_s": round(events / write_s),
        "limit_rows": sampled,
        "raw_sqlite_s": round(raw_sql_s * events / sampled, 2),  # scaled to all rows
        "raw_sqlite_rows_per_s": round(sampled / raw_sql_s),
        "write_vs_raw_sqlite": round(raw_sql_s / sampled_write_s, 4),
        "raw_hash_s": round((raw_leaf_s + raw_node_s) * events / sampled, 2),
        "raw_leaf_hash_s": round(raw_leaf_s * events / sampled, 2),
        "write_vs_raw_sqlite_and_hash": round(
            (raw_sql_s + raw_leaf_s + raw_node_s) / sampled_write_s, 4
        ),
        "leaf_bytes": leaf_bytes,
        "ledger_bytes": du(path),
        "raw_sqlite_bytes": raw_bytes,
        "peak_mb": round(peak_mb(), 1),
    }


# -- 2. proofs ----------------------------------------------------------------------------


def _q(xs: list[float], f: float) -> float:
    return round(sorted(xs)[min(len(xs) - 1, int(f * len(xs)))] * 1e3, 4)


def _med(xs: list[float]) -> float:
    return round(statistics.median(xs) * 1e3, 4)


def phase_proofs(path: Path, samples: int) -> dict[str, Any]:
    from cwledger.ledger.ledger import Ledger
    from cwledger.tlog import verify_consistency, verify_inclusion
    from cwledger.tlog.tiled import TiledTree

    ledger = Ledger.open(path)
    cp = ledger.latest_checkpoint()
    size = cp.size
    inc_idx, pairs = proof_questions(random.Random(SEED), size, samples)
    with ledger.store.read() as r:
        inc_t, con_t, inc_p, con_p = time_proofs(r.tiles, size, inc_idx, pairs)
        checked = 200
        tree = TiledTree(size, r.tiles)
        leaves = {e.index: e.leaf_hash for e in r.entries_at(inc_idx[:checked])}
        for i, p in zip(inc_idx[:checked], inc_p, strict=False):
            verify_inclusion(leaves[i], i, size, p, cp.root_hash)
        for (a, b), p in zip(pairs[:checked], con_p, strict=False):
            verify_consistency(a, b, p, tree.root(a), tree.root(b))
    api_inc, api_con = [], []
    for i in inc_idx[:300]:
        t0 = perf()
        ledger.prove_inclusion(i)
        api_inc.append(perf() - t0)
    for a, _ in pairs[:300]:
        t0 = perf()
        ledger.prove_consistency(a)
        api_con.append(perf() - t0)
    ledger.close()
    return {
        "proof_samples": samples,
        "inclusion_ms": _med(inc_t),
        "inclusion_p95_ms": _q(inc_t, 0.95),
        "consistency_ms": _med(con_t),
        "consistency_p95_ms": _q(con_t, 0.95),
        "ledger_prove_inclusion_ms": _med(api_inc),
        "ledger_prove_consistency_ms": _med(api_con),
        "proofs_verified": 2 * checked,
        "peak_mb": round(peak_mb(), 1),
    }


def phase_tree(path: Path, size: int, samples: int) -> dict[str, Any]:
    """The proofs of phase 2 from a store holding only the tiles of a tree of `size`
    leaves (the tree_tile table a ledger of that size holds, built by the ledger's own
    TiledTree.append and LogWriter.put_tiles from synthetic leaf hashes, 65,536 a
    transaction): for a size whose ledger is not built in time."""
    from cwledger.store import Store
    from cwledger.tlog import CompactRange, verify_consistency, verify_inclusion
    from cwledger.tlog.hashing import leaf_hash
    from cwledger.tlog.tiled import TiledTree

    path.mkdir(parents=True, exist_ok=True)
    db = path / "tiles.db"
    db.unlink(missing_ok=True)
    store = Store.open(f"sqlite:///{db}")
    t0 = perf()
    at = 0
    step = 65_536
    while at < size:
        hashes = [leaf_hash(b"%064d" % i) for i in range(at, min(at + step, size))]
        with store.write() as w:
            compact, tiles, present = TiledTree(at, w.tiles).append(hashes)
            w.put_tiles(tiles, present)
        at = compact.size
    build_s = perf() - t0
    inc_idx, pairs = proof_questions(random.Random(SEED), size, samples)
    with store.read() as r:
        inc_t, con_t, inc_p, con_p = time_proofs(r.tiles, size, inc_idx, pairs)
        tree = TiledTree(size, r.tiles)
        root = tree.root()
        checked = 200
        for i, p in zip(inc_idx[:checked], inc_p, strict=False):
            verify_inclusion(leaf_hash(b"%064d" % i), i, size, p, root)
        for (a, b), p in zip(pairs[:checked], con_p, strict=False):
            verify_consistency(a, b, p, tree.root(a), tree.root(b))
    store.close()
    cr = CompactRange()  # the root once more, from the leaves alone
    for k in range(0, size, step):
        cr.extend(leaf_hash(b"%064d" % i) for i in range(k, min(k + step, size)))
    assert cr.root() == root
    tiles_bytes = du(db)
    db.unlink()
    return {
        "tree_leaves": size,
        "tree_build_s": round(build_s, 2),
        "tree_store_bytes": tiles_bytes,
        "inclusion_ms": _med(inc_t),
        "inclusion_p95_ms": _q(inc_t, 0.95),
        "consistency_ms": _med(con_t),
        "consistency_p95_ms": _q(con_t, 0.95),
        "proofs_verified": 2 * checked,
        "peak_mb": round(peak_mb(), 1),
    }


# -- 3. audit -----------------------------------------------------------------------------

_JOBS: list[tuple[bytes, bytes, bytes]] = []


def _open_range(start: int, end: int) -> int:
    from nacl.bindings import crypto_sign_open

    for pk, msg, sig in _JOBS[start:end]:
        crypto_sign_open(sig + msg, pk)
    return end - start


def _ed25519_limit(path: Path, sample: int) -> float:
    """Signatures per second of raw crypto_sign_open on 2 processes, over the signatures
    of the first `sample` events (same keys and messages as the audit checks)."""
    from cwledger.ledger.envelope import Envelope
    from cwledger.ledger.ledger import Ledger

    global _JOBS
    ledger = Ledger.open(path)
    authority = ledger.authority()
    with ledger.store.read() as r:
        entries = r.entries(1, sample + 1)
    ledger.close()
    jobs = []
    for e in entries:
        env = Envelope.from_bytes(e.envelope)
        jobs.append((authority.keys[(e.author, env.keyid)].public_key, env.signed_bytes(), env.sig))
    _JOBS = jobs
    n = len(jobs)
    ctx = multiprocessing.get_context("fork")
    best = float("inf")
    with ctx.Pool(2) as pool:
        for _ in range(2):
            t0 = perf()
            done = sum(pool.starmap(_open_range, [(0, n // 2), (n // 2, n)]))
            best = min(best, perf() - t0)
            assert done == n
    _JOBS = []
    return n / best


def phase_audit(path: Path) -> dict[str, Any]:
    from cwledger.ledger.audit import audit
    from cwledger.ledger.ledger import Ledger

    ledger = Ledger.open(path)
    last = [perf()]
    t_all = perf()

    def progress(done: int, total: int) -> None:
        if perf() - last[0] > 30:
            last[0] = perf()
            rate = done / (last[0] - t_all)
            say(
                f"    audit {done:,}/{total:,} ({100 * done / total:.0f}%), {rate:,.0f} entries/s, "
                f"eta {(total - done) / rate / 60:.1f} min, peak {peak_mb():.0f} MB"
            )

    report = audit(ledger.store, progress=progress)
    audit_s = perf() - t_all
    cp = ledger.latest_checkpoint()
    assert report.size == cp.size and report.root_hash == cp.root_hash
    ledger.close()
    parent_mb, workers_mb = peak_mb(), children_peak_mb()
    rate = _ed25519_limit(path, min(20_000, report.size - 1))
    return {
        "audit_s": round(audit_s, 2),
        "audit_entries_per_s": round(report.size / audit_s),
        "checkpoints": report.checkpoints,
        "tiles": report.tiles,
        "ed25519_limit_sigs_per_s": round(rate),
        "ed25519_limit_s": round(report.size / rate, 2),
        "audit_vs_ed25519": round(report.size / rate / audit_s, 4),
        "peak_mb": round(parent_mb, 1),
        "workers_peak_mb": round(workers_mb, 1),
    }


# -- 4. publish ---------------------------------------------------------------------------


def phase_publish(path: Path, out: Path) -> dict[str, Any]:
    from cwledger.ledger.ledger import Ledger
    from cwledger.ledger.publish import publish

    if out.exists():
        shutil.rmtree(out)
    ledger = Ledger.open(path)
    t0 = perf()
    rep = publish(ledger, out)
    publish_s = perf() - t0
    ledger.close()
    mb = peak_mb()
    nbytes = du(out)
    copy = out.with_name(out.name + "-cp")
    shutil.rmtree(copy, ignore_errors=True)
    t0 = perf()
    subprocess.run(["cp", "-r", str(out), str(copy)], check=True)
    subprocess.run(["sync"], check=True)
    cp_s = perf() - t0
    shutil.rmtree(copy)
    return {
        "publish_s": round(publish_s, 2),
        "files": rep.written + 1,
        "publish_bytes": nbytes,
        "cp_sync_s": round(cp_s, 2),
        "publish_vs_cp": round(publish_s / cp_s, 3),
        "peak_mb": round(mb, 1),
    }


# -- 5. mirror ----------------------------------------------------------------------------


def phase_mirror(pub: Path, out: Path) -> dict[str, Any]:
    from cwledger.ledger.mirror import mirror

    if out.exists():
        shutil.rmtree(out)
    proc, url = serve_directory(pub)
    stages: dict[str, float] = {}
    t_all = perf()
    last = [t_all]

    def progress(stage: str, done: int, total: int) -> None:
        now = perf()
        stages.setdefault(stage, now)
        if now - last[0] > 30:
            last[0] = now
            say(f"    mirror {stage} {done:,}/{total:,}, peak {peak_mb():.0f} MB")

    try:
        rep = mirror(url, out, progress=progress)
    finally:
        proc.kill()
        proc.wait()
    end = perf()
    marks = sorted((t, s) for s, t in stages.items()) + [(end, "end")]
    # a stage runs from its first progress call to the next stage's first
    spans = {s: round(marks[k + 1][0] - t, 2) for k, (t, s) in enumerate(marks[:-1])}
    if marks:
        spans["fetching"] = round(spans.get("fetching", 0) + marks[0][0] - t_all, 2)
    return {
        "mirror_s": round(end - t_all, 2),
        "mirror_stages_s": spans,
        "mirror_entries": rep.size,
        "mirror_bytes": du(out),
        "peak_mb": round(peak_mb(), 1),
        "workers_peak_mb": round(children_peak_mb(), 1),
    }


# -- driver -------------------------------------------------------------------------------


def child(phase: str, args: argparse.Namespace) -> dict[str, Any]:
    path, size = args.dir / f"s{args.size}", args.size
    if phase == "build":
        return phase_build(path, size, args.batch, args.signers, args.limit_rows)
    if phase == "proofs":
        return phase_proofs(path, args.samples)
    if phase == "audit":
        return phase_audit(path)
    if phase == "tree":
        return phase_tree(args.dir / f"t{size}", size, args.samples)
    if phase == "publish":
        return phase_publish(path, args.dir / f"s{size}-pub")
    if phase == "mirror":
        return phase_mirror(args.dir / f"s{size}-pub", args.dir / f"s{size}-mirror")
    raise ValueError(phase)


def run_child(phase: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        phase,
        "--size",
        str(size),
        "--dir",
        str(args.dir),
        "--batch",
        str(args.batch),
        "--signers",
        str(args.signers),
        "--samples",
        str(args.samples),
        "--limit-rows",
        str(args.limit_rows),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=os.environ)
    assert proc.stdout is not None
    last = ""
    for line in proc.stdout:
        if line.startswith("{"):
            last = line
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0:
        raise RuntimeError(f"{phase} at {size:,} failed (exit {proc.returncode})")
    return dict(json.loads(last))


def describe(phase: str, size: int, f: dict[str, Any]) -> str:
    n = f"{size:,}"
    if phase == "build":
        return (
            f"build {n}: {f['build_s']:.1f} s ({f['build_events_per_s']:,} events/s, signing in "
            f"{f['signers']} processes); write alone {f['write_s']:.1f} s "
            f"({f['write_events_per_s']:,}/s); limits on the same rows: raw sqlite3 "
            f"{f['raw_sqlite_s']:.1f} s, hashlib {f['raw_hash_s']:.1f} s "
            f"(write_vs_raw_sqlite_and_hash {f['write_vs_raw_sqlite_and_hash']}); "
            f"ledger {f['ledger_bytes'] / 1e9:.2f} GB; peak {f['peak_mb']:.0f} MB"
        )
    if phase == "proofs":
        return (
            f"proofs {n}: inclusion median {f['inclusion_ms']:.3f} ms (p95 "
            f"{f['inclusion_p95_ms']:.3f}), consistency median {f['consistency_ms']:.3f} ms "
            f"(p95 {f['consistency_p95_ms']:.3f}); Ledger.prove_inclusion "
            f"{f['ledger_prove_inclusion_ms']:.3f} ms, prove_consistency "
            f"{f['ledger_prove_consistency_ms']:.3f} ms; peak {f['peak_mb']:.0f} MB"
        )
    if phase == "audit":
        return (
            f"audit {n}: {f['audit_s']:.1f} s ({f['audit_entries_per_s']:,} entries/s; "
            f"{f['checkpoints']:,} checkpoints, {f['tiles']:,} tiles); Ed25519 limit "
            f"{f['ed25519_limit_s']:.1f} s ({f['ed25519_limit_sigs_per_s']:,}/s), "
            f"audit_vs_ed25519 {f['audit_vs_ed25519']}; peak {f['peak_mb']:.0f} MB "
            f"(workers {f['workers_peak_mb']:.0f} MB)"
        )
    if phase == "tree":
        return (
            f"tree {n} (tiles only, built in {f['tree_build_s']:.1f} s): inclusion median "
            f"{f['inclusion_ms']:.3f} ms (p95 {f['inclusion_p95_ms']:.3f}), consistency median "
            f"{f['consistency_ms']:.3f} ms (p95 {f['consistency_p95_ms']:.3f}); "
            f"peak {f['peak_mb']:.0f} MB"
        )
    if phase == "publish":
        return (
            f"publish {n}: {f['publish_s']:.1f} s, {f['files']:,} files, "
            f"{f['publish_bytes'] / 1e6:,.0f} MB; cp -r + sync {f['cp_sync_s']:.1f} s "
            f"(publish_vs_cp {f['publish_vs_cp']}); peak {f['peak_mb']:.0f} MB"
        )
    return (
        f"mirror {n}: {f['mirror_s']:.1f} s {f['mirror_stages_s']}; store "
        f"{f['mirror_bytes'] / 1e9:.2f} GB; peak {f['peak_mb']:.0f} MB "
        f"(audit workers {f['workers_peak_mb']:.0f} MB)"
    )


GROWTH = {
    "build": ("build_s", "peak_mb"),
    "proofs": ("inclusion_ms", "consistency_ms", "peak_mb"),
    "audit": ("audit_s", "peak_mb", "workers_peak_mb"),
    "publish": ("publish_s", "publish_bytes", "peak_mb"),
    "mirror": ("mirror_s", "peak_mb", "workers_peak_mb"),
    "tree": ("inclusion_ms", "consistency_ms", "peak_mb"),
}


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sizes", default="1000000", help="entries, comma-separated")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/cwledger-bench-scale"))
    ap.add_argument("--keep", action="store_true", help="keep and reuse built ledgers")
    ap.add_argument(
        "--phases", default=",".join(PHASES[:-1]), help="comma-separated subset (or tree)"
    )
    ap.add_argument("--redo", default="", help="phases measured again on a kept ledger")
    ap.add_argument("--batch", type=int, default=10_000, help="entries per checkpoint")
    ap.add_argument("--signers", type=int, default=2, help="signing processes")
    ap.add_argument(
        "--limit-rows",
        type=int,
        default=0,
        help="measure the limits on the first N rows only (0: all; the raw insert doubles "
        "the disk writes), scaled to all rows",
    )
    ap.add_argument("--samples", type=int, default=2_000, help="proofs of each kind")
    ap.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args)), flush=True)
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    phases = [p for p in PHASES if p in args.phases.split(",")]
    redo = set(args.redo.split(",")) if args.redo else set()
    args.dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {
        "sizes": sizes,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "started_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    say(f"bench_scale: sizes {sizes}, phases {phases}, dir {args.dir}, load {out['loadavg_start']}")
    figures: dict[int, dict[str, dict[str, Any]]] = {}
    for size in sizes:
        ledger = args.dir / f"s{size}"
        figures[size] = {}
        for phase in phases:
            kept = ledger / f"{phase}.json"  # a phase measured by an earlier --keep run
            if phase not in redo and kept.is_file() and (args.keep or phase == "build"):
                figures[size][phase] = json.loads(kept.read_text())
                say(f"  (reusing {kept})")
            else:
                if phase == "build" and ledger.exists():
                    shutil.rmtree(ledger)
                say(f"== {phase} {size:,} (load {os.getloadavg()[0]:.2f})")
                figures[size][phase] = run_child(phase, size, args)
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_text(json.dumps(figures[size][phase]))
            say("  " + describe(phase, size, figures[size][phase]))
            out[f"{phase}_{size}"] = figures[size][phase]
        if not args.keep:
            for p in (ledger, args.dir / f"s{size}-pub", args.dir / f"s{size}-mirror"):
                shutil.rmtree(p, ignore_errors=True)
    if len(sizes) > 1:
        small, large = figures[sizes[0]], figures[sizes[-1]]
        growth: dict[str, float] = {}
        for phase in phases:
            for key in GROWTH[phase]:
                if key in small.get(phase, {}) and small[phase][key]:
                    growth[f"{phase}.{key}"] = round(large[phase][key] / small[phase][key], 3)
        say(f"growth {sizes[-1]:,} / {sizes[0]:,} (x{sizes[-1] / sizes[0]:g} entries):")
        for key, ratio in growth.items():
            say(f"  {key:28s} x{ratio}")
        out["growth"] = growth
    out["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
