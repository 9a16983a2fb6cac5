"""The smaller holes of issue 13 (item 10) over HTTP: a full disk is a 507 that says so,
failed authentication is rate limited per address, a message never echoes a huge input,
an oversized body closes the connection, and the database file is private."""

from __future__ import annotations

import json
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from cwledger.api.process import spawn
from cwledger.http.deps import AUTH_FAILURE_BURST
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.envelope import PAYLOAD_TYPE, Envelope, pae
from cwledger.ledger.ledger import Ledger
from tests.api.conftest import PARTIES, Api, make_api
from tests.conftest import FOUNDING, ORIGIN, row_counts
from tests.conftest import event as an_event

PROBLEM = "application/problem+json"


def _signed(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    envelope = api.ledger.sign([body], "insp")[0]
    return dict(json.loads(envelope))


def fill_disk(led: Ledger) -> None:
    """From now on the SQLite file may not grow (SQLITE_FULL, as on a full disk)."""
    engine = led.store.engine

    def cap(conn: Any, _record: Any) -> None:
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(engine, "connect", cap)
    engine.dispose()


def test_a_full_disk_is_a_507_that_says_disk_full(api: Api) -> None:
    before = row_counts(api.ledger)
    fill_disk(api.ledger)
    envs = [_signed(api, an_event(n)) for n in range(1, 400)]
    resp = api.client.post(
        "/api/v1/events/batch", json={"envelopes": envs}, headers=api.auth("insp")
    )
    assert resp.status_code == 507, resp.text[:300]
    doc = resp.json()
    assert doc["type"] == "/problems/disk-full" and "disk full" in doc["detail"]
    assert row_counts(api.ledger) == before


def test_failed_authentication_is_rate_limited_per_address(api: Api) -> None:
    bad = {"Authorization": "Bearer cwl_nosuchtoken_0000"}
    codes = [api.client.get("/api/v1/status", headers=bad).status_code for _ in range(30)]
    assert codes[:AUTH_FAILURE_BURST] == [401] * AUTH_FAILURE_BURST
    assert set(codes[AUTH_FAILURE_BURST:]) == {429}
    refused = api.client.get("/api/v1/status", headers=bad)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # Requests without a token are not failed guesses; other addresses are not held back.
    assert api.client.get("/api/v1/status").status_code == 401


def test_no_message_echoes_a_huge_input(api: Api) -> None:
    signer = api.ledger.keystore.signer("insp")
    huge = "x" * 100_000
    raw = {**an_event(1), "author": "insp"}
    cases = []
    for field in ("id", "type", "author", "time"):
        payload = canonical_json({**raw, field: huge})
        sig = signer.sign(pae(PAYLOAD_TYPE, payload))
        cases.append(
            json.loads(Envelope(PAYLOAD_TYPE, payload, signer.key_id.hex(), sig).to_bytes())
        )
    cases.append({**_signed(api, an_event(2)), "payloadType": huge})
    cases.append({**_signed(api, an_event(3)), "signatures": [{"keyid": huge, "sig": "AA=="}]})
    before = row_counts(api.ledger)
    for doc in cases:
        resp = api.client.post("/api/v1/events", json=doc, headers=api.auth("insp"))
        assert 400 <= resp.status_code < 500
        assert len(resp.content) < 8_000, (len(resp.content), resp.text[:200])
    for query in ("at", "since"):
        path = "/api/v1/status" if query == "at" else "/api/v1/events"
        resp = api.client.get(path, params={query: "y" * 50_000}, headers=api.auth("insp"))
        assert resp.status_code == 422 and len(resp.content) < 8_000
    assert row_counts(api.ledger) == before


def test_an_oversized_body_is_answered_413_with_connection_close(api: Api) -> None:
    small = make_api(api.ledger, ["insp"], max_request_bytes=1000)
    big = json.dumps({"payload": "A" * 5000, "payloadType": "x", "signatures": []})
    resp = small.client.post("/api/v1/events", content=big, headers=small.auth("insp"))
    assert resp.status_code == 413 and resp.headers["connection"] == "close"

    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            yield b"A" * 1000

    resp = small.client.post("/api/v1/events", content=chunks(), headers=small.auth("insp"))
    assert resp.status_code == 413 and resp.headers["connection"] == "close"


def test_a_streamed_oversized_body_is_not_read_to_its_end(tmp_path: Path) -> None:
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    led.close()
    server = spawn(tmp_path / "ledger", env={"CWLEDGER_MAX_REQUEST_BYTES": "100000"})
    try:
        port = int(server.base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(
                b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"%x\r\n%b\r\n" % (65536, b"A" * 65536)
            sent, answer = 0, b""
            s.settimeout(0.05)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and sent < 200 * 2**20:
                try:
                    s.sendall(chunk)
                    sent += 65536
                except OSError:
                    break  # the server closed the connection
                try:
                    got = s.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not got:
                    break
                answer += got
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"connection: close" in answer.lower()
        assert sent < 20 * 2**20, f"the server read {sent:,} bytes after its 413"
    finally:
        server.stop()


def test_the_database_file_is_private(tmp_path: Path) -> None:
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    try:
        led.append(led.sign([an_event(1)], "insp"))
        files = [p for p in (tmp_path / "ledger").iterdir() if p.name.startswith("ledger.db")]
        assert {p.name for p in files} >= {"ledger.db"}
        for p in files:
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    finally:
        led.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    yield make_api(led, PARTIES)
    led.close()
