#!/usr/bin/env python
"""The day-one escrow: `escrow commit` of 20,000 items and proof checks, against hashlib.

Each figure is a ratio ``hashlib time / our time`` (1.0: as fast as SHA-256 of the same
bytes alone, higher is better), the hashlib time measured in the same run over exactly the
bytes our code hashes:

* ``commit``: from the declaration's items to the committed roots and the escrow file
  written (records, RFC 8785 bytes, fresh salts, keyed order, the trees, the 0600 file);
  the limit hashes every leaf input and every node input of the trees.
* ``commit_cli``: the whole ``cwledger escrow commit`` command on a new ledger (a new
  process: reading the CSV sheet, signing, appending too), against the same limit.
* ``check_reveal``: checking one revealed item offline (its record's bytes, its leaf, the
  path to the root); the limit hashes that leaf and path.
* ``check_subset``: checking one ``escrow.destroyed_proved`` body of 200 leaves (parsing
  the JSON body and recomputing the root); the limit hashes the nodes the check computes.

The LAST line is one JSON object. Run ``python benchmarks/bench_escrow.py`` (under a
minute).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cwledger.escrow import EscrowSecrets, check_opening, escrow_items, proved_bodies
from cwledger.intake import COLUMNS, read_declaration
from cwledger.model.escrow import EscrowDestroyedProved
from cwledger.tlog.sumtree import SumRoot, verify_sum_subset

ITEMS = 20_000


def write_sheet(path: Path, n: int) -> Path:
    chemicals = [("Chem-A", 1, "1A3", "1"), ("Chem-B", 2, "", "2"), ("Chem-C", 1, "", "1")]
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for i in range(n):
            label, category, schedule, priority = chemicals[i % 3]
            s = i % 50
            out.writerow(
                [
                    f"C-{i:07d}", "container", label, category, schedule, priority, "", "",
                    f"T-{i:07d}", f"S-{s}", f"Site {s}", "storage", 34 + s / 100,
                    36 + s / 100, "", 100 + i % 997 + 0.5, 2.5, 1.0, "weighing",
                ]
            )  # fmt: skip
    return path


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def hash_all(inputs: list[bytes]) -> Callable[[], None]:
    sha = hashlib.sha256

    def run() -> None:
        for data in inputs:
            sha(data).digest()

    return run


def tree_inputs(secrets: EscrowSecrets, version: int) -> list[bytes]:
    """Every byte string the trees hash: each leaf's input, each node's input."""
    out = []
    for tree in secrets.trees(version).values():
        for leaf in tree.leaves:
            rec = leaf.record
            out.append(b"\x00" + rec.grams.to_bytes(8, "big") + leaf.salt + rec.canonical())
        for level in tree.levels[:-1]:
            for a, b in zip(level[::2], level[1::2], strict=False):
                out.append(
                    b"\x01" + a[0] + a[1].to_bytes(8, "big") + b[0] + b[1].to_bytes(8, "big")
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sheet = write_sheet(root / "decl.csv", args.items)
        decl = read_declaration(
            sheet, version=1, legal_basis="escrow", due="2013-09-21", party="dec"
        )
        secrets_file = root / "dec.escrow"
        kept: dict[str, EscrowSecrets] = {}

        def commit() -> None:
            secrets = EscrowSecrets.new("dec")
            trees = secrets.add_version(1, escrow_items(decl))
            for t in trees.values():
                t.commitment()
            secrets.save(secrets_file)
            kept["s"] = secrets

        ours = best(commit, args.repeat)
        secrets = kept["s"]
        inputs = tree_inputs(secrets, 1)
        limit = best(hash_all(inputs), args.repeat)
        load.append(os.getloadavg()[0])

        # the whole command, in a new process, on a new ledger
        ledger = root / "ledger"
        cli = [sys.executable, "-m", "cwledger"]
        subprocess.run([*cli, "init", str(ledger), "--origin", "bench/escrow"], check=True)
        keys = ["keys", "new", "--party", "dec", "--role", "declarant", "--ledger", str(ledger)]
        subprocess.run([*cli, *keys], check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run(
            [*cli, "escrow", "commit", str(sheet), "--as", "dec", "--ledger", str(ledger)],
            check=True,
            capture_output=True,
        )
        cli_s = time.perf_counter() - start
        load.append(os.getloadavg()[0])

        # proof checks
        trees = secrets.trees(1)
        tree = trees[1]
        commitments = {(1, c): t.root for c, t in trees.items()}
        opening = tree.opening(tree.leaves[len(tree.leaves) // 3].record.id)
        reveal_inputs = [
            b"\x00"
            + opening.record.grams.to_bytes(8, "big")
            + bytes.fromhex(opening.salt)
            + opening.record.canonical()
        ] + [b"\x01" + bytes(32) + bytes(8) + bytes(32) + bytes(8)] * len(opening.path)
        reps = 2_000
        check_s = best(lambda: [check_opening(opening, commitments) for _ in range(reps)], 3)
        check_limit = best(lambda: [hash_all(reveal_inputs)() for _ in range(reps)], 3)
        assert check_opening(opening, commitments) is None

        gone = [leaf.record.id for leaf in tree.leaves[::7]]
        body = proved_bodies(tree, gone, what="destroyed", at="2014-06-30T00:00:00Z")[0]
        doc = body.model_dump_json()
        root_ = SumRoot(tree.root.hash, tree.root.grams, tree.root.size)

        def check_subset() -> None:
            parsed = EscrowDestroyedProved.model_validate_json(doc)
            verify_sum_subset(parsed.proof.proof(), root_)

        # the check computes one node per revealed leaf and covering node, less one
        nodes = body.count + len(body.proof.nodes) - 1
        subset_inputs = [b"\x01" + bytes(32) + bytes(8) + bytes(32) + bytes(8)] * nodes
        subset_s = best(lambda: [check_subset() for _ in range(100)], 3)
        subset_limit = best(lambda: [hash_all(subset_inputs)() for _ in range(100)], 3)
        load.append(os.getloadavg()[0])

    result = {
        "items": args.items,
        "trees": {str(c): t.root.size for c, t in trees.items()},
        "commit_s": round(ours, 4),
        "commit_hashlib_s": round(limit, 4),
        "commit_ratio": round(limit / ours, 4),
        "commit_cli_s": round(cli_s, 3),
        "commit_cli_ratio": round(limit / cli_s, 4),
        "hashed_bytes": sum(map(len, inputs)),
        "check_reveal_us": round(check_s / reps * 1e6, 1),
        "check_reveal_hashlib_us": round(check_limit / reps * 1e6, 2),
        "check_reveal_ratio": round(check_limit / check_s, 4),
        "path_nodes": len(opening.path),
        "check_subset_leaves": body.count,
        "check_subset_nodes": len(body.proof.nodes),
        "check_subset_us": round(subset_s / 100 * 1e6, 1),
        "check_subset_hashlib_us": round(subset_limit / 100 * 1e6, 1),
        "check_subset_ratio": round(subset_limit / subset_s, 4),
        "loadavg": load,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
