"""What several benchmarks share: the methods their estimates name, the raw SQLite table
that is the limit of the log's writes and the random proof questions with the loop that
times their answers from stored tiles (`bench_tlog.py`, `bench_scale.py`), and a static
file server for a published log (`bench_publish.py`, `bench_scale.py`)."""

from __future__ import annotations

import gc
import random
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from cwledger.tlog.tiled import NodeMemo, TiledTree

__all__ = [
    "ESTIMATE_METHODS",
    "ProofTimes",
    "proof_questions",
    "raw_log_db",
    "serve_directory",
    "time_proofs",
]

perf = time.perf_counter
TileFetch = Callable[[Iterable[tuple[int, int]]], Mapping[tuple[int, int], bytes]]


ESTIMATE_METHODS = (
    "open-source analysis of declared production capacity, import records of precursors"
    " and the reported number of filling units at the listed storage sites",
    "count of declared storage sites weighed against commercial satellite imagery and"
    " the access reports of the joint mission for the period under review",
    "reconciliation of consignment manifests at the port of loading with the tonnages"
    " reported as destroyed at each venue, by category and priority",
)
"""The methods the benchmarks' `estimate.recorded` events name in turn (bodies of about
300 bytes)."""

_ENTRY_DDL = """
CREATE TABLE log_entry (
    idx INTEGER NOT NULL PRIMARY KEY,
    leaf_hash BLOB NOT NULL UNIQUE,
    event_id VARCHAR(128) NOT NULL UNIQUE,
    event_type VARCHAR(64) NOT NULL,
    author VARCHAR(64) NOT NULL,
    event_time VARCHAR(40) NOT NULL,
    envelope BLOB NOT NULL
);
CREATE INDEX ix_log_entry_event_type ON log_entry (event_type);
CREATE INDEX ix_log_entry_author ON log_entry (author);
"""


def raw_log_db(path: Path) -> sqlite3.Connection:
    """A new SQLite database at `path` holding a table like the log's entries, with its
    indexes, in WAL mode with synchronous=FULL (as the ledger's): the raw insert's limit."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.executescript(_ENTRY_DDL)
    return con


def proof_questions(
    rng: random.Random, size: int, samples: int
) -> tuple[list[int], list[tuple[int, int]]]:
    """`samples` random leaf indices, and as many (size1, size2) pairs, half of them to the
    full `size`."""
    indices = [rng.randrange(size) for _ in range(samples)]
    pairs = []
    for _ in range(samples):
        a = rng.randrange(1, size)
        pairs.append((a, size if rng.random() < 0.5 else rng.randrange(a + 1, size + 1)))
    return indices, pairs


class ProofTimes(NamedTuple):
    inclusion_s: list[float]
    consistency_s: list[float]
    inclusion: list[list[bytes]]
    consistency: list[list[bytes]]


def time_proofs(
    tiles: TileFetch, size: int, indices: list[int], pairs: list[tuple[int, int]]
) -> ProofTimes:
    """Each proof's time and hashes: a new view of the tree of `size` per proof, sharing one
    NodeMemo as the ledger does; every tile a proof needs beyond it is read from `tiles`."""
    out = ProofTimes([], [], [], [])
    gc.collect()
    memo = NodeMemo()
    for i in indices:
        t0 = perf()
        p = TiledTree(size, tiles, memo).inclusion_proof(i)
        out.inclusion_s.append(perf() - t0)
        out.inclusion.append(p)
    for a, b in pairs:
        t0 = perf()
        p = TiledTree(size, tiles, memo).consistency_proof(a, b)
        out.consistency_s.append(perf() - t0)
        out.consistency.append(p)
    return out


def serve_directory(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m http.server` on a free port of 127.0.0.1 over `directory` (a published
    log), once it answers its checkpoint: (the process, its base URL)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            with urllib.request.urlopen(url + "/checkpoint", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("http.server did not start")
