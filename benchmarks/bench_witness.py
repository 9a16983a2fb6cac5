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

``--append``: what collecting cosignatures costs the log. The same batches (200 of 100
events, signed beforehand) are appended to two copies of one ledger: one without witnesses
(the limit, measured in the same run) and one whose policy names 3 local witness
processes, collecting the way the server does (a :class:`Witnessing` thread, `poke()`
after each append); its time runs until the newest checkpoint holds all 3 cosignatures.
``overhead_pct`` = witnessed time / plain time - 1 (target: under 10%). The two copies
take turns, a segment of 50 batches each (the order alternating), so that both see the
same load on the machine; the median of the segments' ratios is printed beside the total.

The LAST line is one JSON object. Run ``python benchmarks/bench_witness.py`` or ``--quick``;
``python benchmarks/bench_witness.py --append`` (``--quick``: 40 batches).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cwledger.ledger.ledger import Ledger
from cwledger.ledger.witnessing import Witnessing, collect_cosignatures
from cwledger.model.events import WITNESS_POLICY
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


def serve(
    path: Path, profile: str | None, *, quiet: bool = False
) -> tuple[subprocess.Popen[bytes], int]:
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
        ],
        stdout=subprocess.DEVNULL if quiet else None,
        stderr=subprocess.DEVNULL if quiet else None,
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


# -- --append: the cost of collecting cosignatures to the log's batch appends -------------

ORIGIN = "example.org/cwledger/bench-witnessing"
FOUNDING = [("insp", "inspectorate"), ("dec", "declarant"), ("obs", "observer")]
WITNESSES = 3


def estimates(n: int) -> list[dict[str, object]]:
    """n unique estimate.recorded events (the event the book does least with)."""
    return [
        {
            "type": "estimate.recorded",
            "id": f"est-{i:07d}",
            "time": f"2014-01-{1 + i % 28:02d}T10:00:00Z",
            "body": {
                "estimate": {
                    "party": "insp",
                    "value": 1000.0 + i % 97,
                    "u": 50.0 + i % 13,
                    "unit": "t",
                    "method": "open-source analysis of declared production capacity",
                    "scope": "total",
                }
            },
        }
        for i in range(n)
    ]


def set_policy(ledger: Ledger, witnesses: list[tuple[str, str]]) -> None:
    """The witness policy (all `witnesses`, quorum a majority), approved by the founders."""
    body = {
        "witnesses": [{"url": u, "key": k} for u, k in witnesses],
        "quorum": len(witnesses) // 2 + 1,
    }
    k, eligible = ledger.authority().quorum_for(None)
    approvals = [ledger.approve(WITNESS_POLICY, body, p) for p in eligible[:k]]
    ledger.submit_approved(WITNESS_POLICY, body, approvals, "operator")


def cosigned_by_all(ledger: Ledger) -> bool:
    with ledger.store.read() as r:
        cp = r.newest_checkpoint()
        return cp is not None and cp.size == r.size() and len(cp.cosignatures) == WITNESSES


def start_witnesses(ledger: Ledger, tmp: Path) -> list[tuple[subprocess.Popen[bytes], str]]:
    """WITNESSES `cwledger witness serve` processes of the ledger's log, named in its policy."""
    authority = ledger.authority()
    assert authority.origin is not None and authority.log_vkey is not None
    served: list[tuple[subprocess.Popen[bytes], str]] = []
    vkeys = []
    try:
        for n in range(WITNESSES):
            path = tmp / f"witness-{n}"
            vkeys.append(init_witness(path, f"witness.example/w{n}").verifier().vkey())
            store = WitnessStore(path)
            store.add_log(authority.origin, authority.log_vkey)
            store.close()
            process, port = serve(path, None, quiet=True)
            served.append((process, f"http://127.0.0.1:{port}"))
    except BaseException:
        stop_all([p for p, _ in served])
        raise
    set_policy(ledger, [(url, vkey) for (_, url), vkey in zip(served, vkeys, strict=True)])
    return served


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.kill()
        process.wait()


def main_append(args: argparse.Namespace) -> None:
    n_batches = 40 if args.quick else args.batches
    per_segment = min(args.segment, n_batches // 2)
    size = args.batch_size
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-witnessing-") as tmp_name:
        tmp = Path(tmp_name)
        base = tmp / "base"
        ledger = Ledger.init(base, ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
        envelopes = ledger.sign(estimates(n_batches * size), "insp")
        ledger.close()
        batches = [envelopes[k : k + size] for k in range(0, len(envelopes), size)]
        segments = [batches[k : k + per_segment] for k in range(0, n_batches, per_segment)]
        for kind in ("plain", "witnessed"):
            shutil.copytree(base, tmp / kind)
        ledgers = {kind: Ledger.open(tmp / kind) for kind in ("plain", "witnessed")}
        witnessed = ledgers["witnessed"]
        served = start_witnesses(witnessed, tmp)
        witnessing: Witnessing | None = None
        try:
            collect_cosignatures(witnessed)  # the witnesses hold the tree before the timing
            if not cosigned_by_all(witnessed):
                raise SystemExit("the witnesses did not cosign the first checkpoint")
            pace = {} if args.min_interval is None else {"min_interval": args.min_interval}
            witnessing = Witnessing(witnessed, first_retry=0.05, max_retry=0.5, **pace).start()
            profiler = cProfile.Profile() if args.profile else None
            seconds: dict[str, list[float]] = {"plain": [], "witnessed": []}
            drained = 0.0  # of the witnessed time: waiting for the last cosignatures
            cpu = {"plain": 0.0, "witnessed": 0.0}
            witness_cpu = 0.0
            for k, segment in enumerate(segments):
                for kind in ("plain", "witnessed") if k % 2 == 0 else ("witnessed", "plain"):
                    ledger = ledgers[kind]
                    wcpu0 = sum(cpu_seconds(p.pid) for p, _ in served)
                    if profiler and kind == "witnessed":
                        profiler.enable()
                    cpu0, t0 = time.process_time(), perf()
                    for batch in segment:
                        ledger.append(batch)
                        if kind == "witnessed":
                            witnessing.poke()
                    if kind == "witnessed":  # until its newest checkpoint is cosigned
                        t1 = perf()
                        while not cosigned_by_all(ledger):
                            time.sleep(0.002)
                        drained += perf() - t1
                    seconds[kind].append(perf() - t0)
                    cpu[kind] += time.process_time() - cpu0
                    if profiler and kind == "witnessed":
                        profiler.disable()
                    if kind == "witnessed":
                        witness_cpu += sum(cpu_seconds(p.pid) for p, _ in served) - wcpu0
                pair = seconds["witnessed"][-1] / seconds["plain"][-1]
                print(
                    f"segment {k + 1}/{len(segments)}: plain {seconds['plain'][-1]:.2f} s, "
                    f"witnessed {seconds['witnessed'][-1]:.2f} s, ratio {pair:.3f} "
                    f"(load {os.getloadavg()[0]:.2f})",
                    flush=True,
                )
            failures = [a.failure for a in witnessing.last if a.failure]
            if failures:
                raise SystemExit(f"a witness failed: {failures}")
            with witnessed.store.read() as r:
                rounds = sum(s.cosignatures for s in r.witness_states().values()) // WITNESSES
            if profiler:
                profiler.dump_stats(args.profile)
        finally:
            if witnessing is not None:
                witnessing.stop()
            stop_all([p for p, _ in served])
            for ledger in ledgers.values():
                ledger.close()
    events = n_batches * size
    total = {kind: sum(v) for kind, v in seconds.items()}
    overhead = (total["witnessed"] / total["plain"] - 1) * 100
    pairs = sorted(w / p for w, p in zip(seconds["witnessed"], seconds["plain"], strict=True))
    median_overhead = (statistics.median(pairs) - 1) * 100
    appending = (total["witnessed"] - drained) / total["plain"]  # the appends alone
    rate = {kind: events / t for kind, t in total.items()}
    result = {
        "benchmark": "witness-append",
        "batches": n_batches,
        "batch_size": size,
        "segments": len(segments),
        "witnesses": WITNESSES,
        "plain_seconds": round(total["plain"], 3),
        "witnessed_seconds": round(total["witnessed"], 3),
        "plain_events_per_s": round(rate["plain"], 1),
        "witnessed_events_per_s": round(rate["witnessed"], 1),
        "ratio_vs_plain": round(rate["witnessed"] / rate["plain"], 3),
        "overhead_pct": round(overhead, 1),
        "median_segment_overhead_pct": round(median_overhead, 1),
        "drain_seconds": round(drained, 3),
        "append_loop_overhead_pct": round((appending - 1) * 100, 1),
        "target_overhead_pct": 10,
        "meets_target": overhead < 10,
        "collection_rounds": rounds,
        "cpu_overhead_pct": round((cpu["witnessed"] / cpu["plain"] - 1) * 100, 1),
        "plain_cpu_s": round(cpu["plain"], 3),
        "witnessed_cpu_s": round(cpu["witnessed"], 3),
        "witness_processes_cpu_s": round(witness_cpu, 3),
        "segment_seconds": {k: [round(x, 3) for x in v] for k, v in seconds.items()},
        "loadavg": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }
    print(
        f"append {events:,} events in {n_batches} batches of {size}: without witnesses "
        f"{rate['plain']:,.0f}/s (the limit), with {WITNESSES} collecting "
        f"{rate['witnessed']:,.0f}/s: ratio {rate['witnessed'] / rate['plain']:.3f}, "
        f"overhead {overhead:.1f}% (median of the segments {median_overhead:.1f}%), "
        f"{rounds} collection rounds; the appends alone {(appending - 1) * 100:.1f}%, "
        f"waiting for the last cosignatures {drained:.2f} s; CPU of this process "
        f"{(cpu['witnessed'] / cpu['plain'] - 1) * 100:+.1f}%"
    )
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the requests")
    parser.add_argument("--logs", type=int, default=64, help="concurrent logs (connections)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the witness into FILE")
    parser.add_argument(
        "--append",
        action="store_true",
        help="time batch appends with and without 3 witnesses collecting cosignatures",
    )
    parser.add_argument("--batches", type=int, default=200, help="--append: batches")
    parser.add_argument("--batch-size", type=int, default=100, help="--append: events a batch")
    parser.add_argument(
        "--segment", type=int, default=50, help="--append: batches a segment (alternating)"
    )
    parser.add_argument(
        "--min-interval",
        type=float,
        help="--append: Witnessing's min_interval (seconds between rounds; default its own)",
    )
    args = parser.parse_args()
    if args.append:
        main_append(args)
        return
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
