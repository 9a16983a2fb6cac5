"""Reading another party's tlog-tiles resources is bounded: a body, or a gzip body once
inflated, larger than the limit is refused, never held in memory."""

from __future__ import annotations

import gzip
import threading
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cwledger.errors import Unavailable
from cwledger.ledger.fetch import fetch

BOMB = gzip.compress(b"\0" * 50_000_000)  # about 50 KB that inflates to 50 MB


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        body, gz = {
            "/bomb": (BOMB, True),
            "/small.gz": (gzip.compress(b"tile bytes"), True),
            "/plain": (b"x" * 2_000, False),
            "/bad.gz": (b"not gzip at all", True),
        }.get(self.path, (b"", False))
        if not body:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        if gz:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_a_gzip_bomb_is_refused_at_the_limit(base: str) -> None:
    assert len(BOMB) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(Unavailable, match="larger than any tlog-tiles resource"):
            fetch(f"{base}/bomb", limit=1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, f"inflated {peak:,} bytes for a 1 MB limit"


def test_bodies_within_the_limit_are_read_and_inflated(base: str) -> None:
    assert fetch(f"{base}/small.gz", limit=100) == b"tile bytes"
    assert fetch(f"{base}/plain", limit=2_000) == b"x" * 2_000
    with pytest.raises(Unavailable, match="larger"):
        fetch(f"{base}/plain", limit=1_999)
    with pytest.raises(Unavailable, match="not valid gzip"):
        fetch(f"{base}/bad.gz", limit=100)
    assert fetch(f"{base}/missing", limit=100) is None
