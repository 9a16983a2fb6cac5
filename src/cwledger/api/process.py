"""`cwledger serve` in a process of its own, on a free port of 127.0.0.1: for the tests, the
benchmarks and the screenshots, which all need a real server to talk to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

__all__ = ["ServerProcess", "free_port", "spawn"]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A running server: its process and base URL."""

    proc: subprocess.Popen[bytes]
    base: str

    def stop(self) -> None:
        """Stop the server and wait for it."""
        self.proc.terminate()
        self.proc.wait(30)


def spawn(
    ledger_dir: Path,
    *,
    db: str | None = None,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> ServerProcess:
    """Start `cwledger serve` over `ledger_dir` (`db`: its database URL) with `env` added to
    the environment; return once `/readyz` answers 200. Raises RuntimeError with the
    server's own error output if it exits or is not ready within `timeout` seconds."""
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "cwledger"), "serve", "--ledger", str(ledger_dir)]
    cmd += ["--port", str(port), "--workers", str(workers)] + ([] if db is None else ["--db", db])
    proc = subprocess.Popen(
        cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            error = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"the server exited: {error}")
        try:
            with urlopen(f"{base}/readyz", timeout=1) as ready:
                if ready.status == 200:
                    return ServerProcess(proc, base)
        except OSError:  # not listening yet, or not ready (a URLError: HTTP 503)
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the server was not ready within {timeout:g} s")
