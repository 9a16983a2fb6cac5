"""Real servers for tests: `cwledger serve` in a process of its own, on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["free_port", "start_server"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(ledger_dir: Path, db: str, port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    """`cwledger serve` in a process of its own; returns once /readyz answers 200."""
    env = {**os.environ, "CWLEDGER_RATE_PER_SECOND": "100000", "CWLEDGER_RATE_BURST": "100000"}
    cmd = [
        str(Path(sys.executable).parent / "cwledger"),
        "serve",
        "--ledger",
        str(ledger_dir),
        "--db",
        db,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become ready in 60 s")
