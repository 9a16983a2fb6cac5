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
def http_server(directory: Path) -> Iterator[str]:
    """`python -m http.server` serving `directory` on 127.0.0.1; its URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(url + "/", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("http.server exited") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.kill()
        proc.wait()
