"""What the publication and mirror tests share: ledgers with full and partial tiles, a
plain `python -m http.server` over a directory on a free 127.0.0.1 port, the `/log/` API."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from cwledger.api import create_app
from cwledger.http.settings import Settings
from cwledger.ledger.ledger import Ledger
from tests.conftest import event


def grow(led: Ledger, start: int, count: int, party: str = "insp") -> None:
    """Append `count` estimates with ids from `start`, in batches of 100."""
    for at in range(start, start + count, 100):
        led.append(led.sign([event(i) for i in range(at, min(at + 100, start + count))], party))


def log_api(led: Ledger) -> TestClient:
    """The public `/log/` tlog-tiles API of `led`, in process."""
    return TestClient(create_app(Settings(ledger=led.path), ledger=led))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _process(argv: list[str], cwd: Path, ready: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv`; wait until `ready` (a URL) answers; kill it at the end."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(1200):
            try:
                with urllib.request.urlopen(ready, timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"{argv[0]} exited") from None
                time.sleep(0.05)
        yield proc
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def http_server(directory: Path) -> Iterator[str]:
    """`python -m http.server` serving `directory` on 127.0.0.1; its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with _process(argv, directory, url + "/"):
        yield url


@contextmanager
def cwledger_serve(ledger_dir: Path) -> Iterator[str]:
    """`cwledger serve` over `ledger_dir` on 127.0.0.1; its URL (the log is under /log/)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cli = str(Path(sys.executable).with_name("cwledger"))
    argv = [cli, "serve", "--ledger", str(ledger_dir), "--host", "127.0.0.1", "--port", str(port)]
    with _process(argv, ledger_dir, url + "/log/checkpoint"):
        yield url
