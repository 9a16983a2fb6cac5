#!/usr/bin/env python
"""The witness: add-checkpoint requests per second against a local `cwledger witness serve`.

``LOGS`` in-memory logs (one origin and Ed25519 log key each) grow one leaf at a time;
every step is a checkpoint signed by the log with the consistency proof from the previous
one. A bare asyncio HTTP/1.1 client (one kept-alive connection per log, so requests of one
log go in order and those of different logs concurrently) sends every log's chain to the
witness process; every answer must be a 200 with one cosignature line. Target: at least
1,000 requests per second on this machine.

The physical limit, measured in the same run and process: per request, what no witness
can skip, one after the other on one core: the Ed25519 verification of the log's
signature, the Ed25519 cosignature and one SQLite ``synchronous=FULL`` (WAL) commit of the
new state. ``ratio_vs_limit`` = our rate / that rate. The witness commits a group of
concurrent requests at once (one flush for many), so it can beat that limit: the second
limit, ``crypto_limit_rps`` (verify and sign only, no disk), is the ceiling of a perfect
group commit, and ``ratio_vs_crypto`` our rate against it.

The LAST line is one JSON object. Run ``python benchmarks/bench_witness.py`` or ``--quick``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.cosignature import CosignatureSigner
from cwledger.tlog.hashing import leaf_hash
from cwledger.tlog.note import Signer, sign
from cwledger.tlog.proof import consistency_proof, root_hash
from cwledger.witness.protocol import format_request
from cwledger.witness.store import WitnessStore, init_witness

perf = time.perf_counter


def chain(origin: str, steps: int) -> tuple[str, list[bytes]]:
    """The log's vkey and the request bodies growing it from 1 leaf to `steps`, one a step."""
    signer = Signer.generate(origin)
    leaves = [leaf_hash(f"{origin}/{i}".encode()) for i in range(steps)]
    bodies = []
    for size in range(1, steps + 1):
        text = Checkpoint(origin, size, root_hash(leaves[:size])).to_text()
        proof = [] if size == 1 else consistency_proof(leaves[:size], size - 1)
        bodies.append(format_request(size - 1, proof, sign(text, [signer])))
    return signer.verifier().vkey(), bodies


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(path: Path, profile: str | None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    prof = ["-m", "cProfile", "-o", profile] if profile else []
    process = subprocess.Popen(
        [
            sys.executable,
            *prof,
            "-m",
            "cwledger",
            "witness",
            "serve",
            str(path),
            "--port",
            str(port),
        ]
    )
    deadline = perf() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            if process.poll() is not None or perf() > deadline:
                process.kill()
                raise SystemExit("the witness did not start") from None
            time.sleep(0.05)


async def send(port: int, bodies: list[bytes]) -> None:
    """Send `bodies` in order on one kept-alive connection; each answer must be 200."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for body in bodies:
            head = (
                "POST /add-checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            writer.write(head + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in answer.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            got = await reader.readexactly(length)
            if answer[9:12] != b"200" or not got.startswith("\u2014 ".encode()):
                raise SystemExit(f"witness answered {answer[:12]!r}: {got[:200]!r}")
    finally:
        writer.close()


async def run_all(port: int, chains: list[list[bytes]]) -> float:
    t0 = perf()
    await asyncio.gather(*(send(port, c) for c in chains))
    return perf() - t0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def limits(n: int, directory: Path) -> tuple[float, float]:
    """Requests per second of (verify + cosign + one synchronous=FULL commit) and of
    (verify + cosign), one after the other."""
    log = Signer.generate("example.org/bench")
    verifier = log.verifier()
    witness = CosignatureSigner.generate("witness.example/bench")
    text = Checkpoint("example.org/bench", 1, bytes(32)).to_text()
    message = text.encode()
    sig = log.sign(message)
    db = sqlite3.connect(directory / "limit.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE cosigned (origin TEXT PRIMARY KEY, size INTEGER, root BLOB)")
    db.execute("INSERT INTO cosigned VALUES ('o', 0, x'00')")

    def crypto() -> None:
        verifier.verify(message, sig)
        witness.cosign(text)

    t0 = perf()
    for _ in range(n):
        crypto()
    crypto_s = perf() - t0
    t0 = perf()
    for i in range(n):
        crypto()
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE cosigned SET size = ? WHERE origin = 'o'", (i,))
        db.execute("COMMIT")
    full_s = perf() - t0
    db.close()
    return n / full_s, n / crypto_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the requests")
    parser.add_argument("--logs", type=int, default=64, help="concurrent logs (connections)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the witness into FILE")
    args = parser.parse_args()
    steps = 60 if args.quick else 300
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-witness-") as tmp:
        path = Path(tmp) / "witness"
        init_witness(path, "witness.example/bench")
        store = WitnessStore(path)
        chains = []
        for i in range(args.logs):
            vkey, bodies = chain(f"example.org/bench/{i}", steps + 1)
            store.add_log(f"example.org/bench/{i}", vkey)
            chains.append(bodies)
        store.close()
        process, port = serve(path, args.profile)
        try:
            asyncio.run(run_all(port, [c[:1] for c in chains]))  # warm-up: the first of each
            cpu0 = cpu_seconds(process.pid)
            seconds = asyncio.run(run_all(port, [c[1:] for c in chains]))
            server_cpu = cpu_seconds(process.pid) - cpu0
        finally:
            process.send_signal(signal.SIGINT if args.profile else signal.SIGKILL)
            process.wait()
        requests = args.logs * steps
        rps = requests / seconds
        limit_rps, crypto_rps = limits(2000 if args.quick else 5000, Path(tmp))
    result = {
        "benchmark": "witness",
        "requests": requests,
        "concurrent_logs": args.logs,
        "seconds": round(seconds, 3),
        "rps": round(rps, 1),
        "target_rps": 1000,
        "meets_target": rps >= 1000,
        "server_cpu_us_per_request": round(server_cpu / requests * 1e6, 1),
        "limit_rps": round(limit_rps, 1),
        "ratio_vs_limit": round(rps / limit_rps, 3),
        "crypto_limit_rps": round(crypto_rps, 1),
        "ratio_vs_crypto": round(rps / crypto_rps, 3),
        "loadavg": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }
    print(
        f"witness: {requests} add-checkpoint in {seconds:.2f} s = {rps:.0f}/s "
        f"(limit one commit a request {limit_rps:.0f}/s, crypto only {crypto_rps:.0f}/s)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
