"""The log over HTTP: the public C2SP tlog-tiles API read by an independent client, and the
JSON proofs and entries, all checked with cwledger.tlog against the signed checkpoints.

One ledger for the module (read-only tests): the genesis and four batches, so checkpoints
at sizes 1, 101, 301, 601 and 670; 670 leaves are two full level-0 tiles, a partial one of
158 hashes and a partial level-1 tile of 2.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.api import create_app
from cwledger.http.settings import Settings
from cwledger.ledger.access import issue_token
from cwledger.ledger.envelope import Envelope
from cwledger.ledger.keystore import CHECKPOINT_SIGNER
from cwledger.ledger.ledger import Ledger
from cwledger.store import LogReader, StoredCheckpoint, StoredEntry
from cwledger.tlog import (
    HASH_SIZE,
    TILE_WIDTH,
    Checkpoint,
    entries_path,
    leaf_hash,
    root_hash,
    tile_layout,
    tile_path,
    verify_consistency,
    verify_inclusion,
)
from cwledger.tlog.note import Verifier
from cwledger.tlog.tiled import TiledTree
from tests.conftest import event

ORIGIN = "example.org/cwledger/test"
BATCHES = [100, 200, 300, 69]  # after the genesis: sizes 101, 301, 601, 670
SIZE = 1 + sum(BATCHES)
PROBLEM = "application/problem+json"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass
class Log:
    """The app over the ledger, an observer's token, and what the store holds."""

    client: TestClient
    ledger: Ledger
    token: str
    entries: list[StoredEntry]
    checkpoints: list[StoredCheckpoint]
    log_key: Verifier

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def leaves(self) -> list[bytes]:
        return [e.leaf_hash for e in self.entries]

    def api(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1/log/{path}", params=params, headers=self.auth)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def log(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Log]:
    """The same log on each backend (PostgreSQL reads the published log statement by
    statement, without a transaction)."""
    path = tmp_path_factory.mktemp("log") / "l"
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_new_database")()
    led = Ledger.init(
        path,
        ORIGIN,
        founding=[("insp", "inspectorate"), ("obs", "observer")],
        time="2013-09-14T00:00:00Z",
        key_seed=b"x" * 32,
        database_url=url,
    )
    n = 0
    for count in BATCHES:
        led.append(led.sign([event(i) for i in range(n, n + count)], "insp"))
        n += count
    token, _ = issue_token(led.store, led.authority(), "obs")
    app = create_app(Settings(ledger=path, rate_per_second=1e6, rate_burst=10**6), ledger=led)
    with led.store.read() as r:
        entries, checkpoints = r.entries(0, SIZE + 1), r.checkpoints()
    # The log key a verifier trusts, handed over out of band (here: the operator's keystore).
    log_key = led.keystore.signer(CHECKPOINT_SIGNER).verifier()
    yield Log(
        TestClient(app, raise_server_exceptions=False), led, token, entries, checkpoints, log_key
    )
    led.close()


def assert_problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    doc: dict[str, Any] = resp.json()
    assert doc["type"] == f"/problems/{code}"
    assert doc["status"] == status and doc["title"] and doc["detail"]
    return doc


def decode_bundle(data: bytes) -> list[bytes]:
    """A C2SP entry bundle: big-endian uint16 length-prefixed entries."""
    out, at = [], 0
    while at < len(data):
        assert at + 2 <= len(data), "truncated length prefix"
        n = int.from_bytes(data[at : at + 2], "big")
        at += 2
        assert at + n <= len(data), "truncated entry"
        out.append(data[at : at + n])
        at += n
    return out


def test_fixture_shape(log: Log) -> None:
    assert [cp.size for cp in log.checkpoints] == [1, 101, 301, 601, SIZE]
    assert len(log.entries) == SIZE
    assert tile_layout(SIZE) == [(2, 158), (0, 2)]


# -- an independent client of the public API -------------------------------------------------


class TilesClient:
    """Reads only `/log/checkpoint` and `/log/tile/...`, as a monitor or a mirror would."""

    def __init__(self, client: TestClient, log_key: Verifier) -> None:
        self.client, self.log_key = client, log_key
        self.fetched: list[str] = []

    def get(self, path: str) -> bytes:
        resp = self.client.get(f"/log/{path}")
        assert resp.status_code == 200, (path, resp.text)
        assert resp.headers["content-type"] == "application/octet-stream"
        self.fetched.append(path)
        data: bytes = resp.content
        return data

    def checkpoint(self) -> Checkpoint:
        resp = self.client.get("/log/checkpoint")
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "text/plain; charset=utf-8"
        cp, _ = Checkpoint.from_note(resp.content, [self.log_key], origin=ORIGIN)
        return cp

    def tree(self, size: int) -> TiledTree:
        """The tree of `size` read from the tiles: each tile at the width that size gives it."""
        layout = tile_layout(size)

        def fetch(keys: Iterable[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
            out = {}
            for level, index in set(keys):
                full, partial = layout[level]
                width = TILE_WIDTH if index < full else partial
                data = self.get(tile_path(level, index, width))
                assert len(data) == width * HASH_SIZE
                out[(level, index)] = data
            return out

        return TiledTree(size, fetch)

    def entries(self, size: int) -> list[bytes]:
        full, partial = tile_layout(size)[0]
        out = []
        for n in range(full):
            out += decode_bundle(self.get(entries_path(n)))
        if partial:
            out += decode_bundle(self.get(entries_path(full, partial)))
        return out


def test_independent_client_verifies_the_log(log: Log) -> None:
    c = TilesClient(log.client, log.log_key)
    cp = c.checkpoint()  # signature by the log key, origin, strict parse
    assert (cp.size, cp.root_hash) == (SIZE, log.checkpoints[-1].root_hash)

    # The root, rebuilt from the tiles it needs (O(log n) of them), is the checkpoint's.
    tree = c.tree(cp.size)
    assert tree.root() == cp.root_hash
    # ... and from every leaf hash of the level-0 tiles, hashed from scratch.
    leaves = b"".join(c.get(tile_path(0, n)) for n in range(2)) + c.get("tile/0/002.p/158")
    leaf_hashes = [leaves[i : i + HASH_SIZE] for i in range(0, len(leaves), HASH_SIZE)]
    assert root_hash(leaf_hashes) == cp.root_hash

    # Every entry of the bundles hashes to its leaf; some are proved included from tiles.
    entries = c.entries(cp.size)
    assert len(entries) == cp.size
    assert [leaf_hash(e) for e in entries] == leaf_hashes
    for index in (0, 1, 255, 256, 511, 512, 600, cp.size - 1):
        proof = tree.inclusion_proof(index)
        verify_inclusion(leaf_hash(entries[index]), index, cp.size, proof, cp.root_hash)

    # The genesis (entry 0) names the key that signed the checkpoint.
    genesis = json.loads(Envelope.from_bytes(entries[0]).payload)
    assert genesis["type"] == "ledger.genesis"
    assert Verifier.from_vkey(genesis["body"]["log_key"]).vkey() == log.log_key.vkey()

    # Older trees are reachable from the same tiles (partial tiles of the current width
    # cover them): the roots of every stored checkpoint.
    for stored in log.checkpoints:
        assert tree.root(stored.size) == stored.root_hash
    assert all(p.startswith("tile/") for p in c.fetched)


def test_checkpoint_is_not_cached_and_is_the_stored_note(log: Log) -> None:
    resp = log.client.get("/log/checkpoint")
    assert resp.headers["cache-control"] == "no-cache"
    assert resp.text == log.checkpoints[-1].note
    assert "authorization" not in {k.lower() for k in resp.request.headers}


def test_full_tiles_are_immutable_and_hold_the_leaf_hashes(log: Log) -> None:
    for n in range(2):
        resp = log.client.get(f"/log/{tile_path(0, n)}")
        assert resp.status_code == 200
        assert resp.headers["cache-control"] == IMMUTABLE
        assert resp.headers["content-type"] == "application/octet-stream"
        assert resp.content == b"".join(log.leaves[n * 256 : n * 256 + 256])
        assert len(resp.content) == 8192  # the row only: no stored interior nodes


def test_partial_tiles_are_prefixes_and_not_immutable(log: Log) -> None:
    resp = log.client.get("/log/tile/0/002.p/158")
    assert resp.status_code == 200
    assert "immutable" not in resp.headers["cache-control"]
    assert resp.content == b"".join(log.leaves[512:SIZE])
    # A narrower width of the partial tile (an older checkpoint's).
    resp = log.client.get("/log/tile/0/002.p/89")
    assert resp.content == b"".join(log.leaves[512:601])
    # A partial request for a tile that has filled since: its first W hashes.
    resp = log.client.get("/log/tile/0/001.p/45")
    assert resp.status_code == 200 and "immutable" not in resp.headers["cache-control"]
    assert resp.content == b"".join(log.leaves[256:301])
    # Level 1: the roots of the full level-0 tiles.
    resp = log.client.get("/log/tile/1/000.p/2")
    assert resp.content == root_hash(log.leaves[:256]) + root_hash(log.leaves[256:512])
    resp = log.client.get("/log/tile/1/000.p/1")
    assert resp.content == root_hash(log.leaves[:256])


def test_entry_bundles_decode_to_the_stored_entries(log: Log) -> None:
    stored = [e.envelope for e in log.entries]
    resp = log.client.get("/log/tile/entries/001")
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == IMMUTABLE
    assert resp.headers["content-type"] == "application/octet-stream"
    assert decode_bundle(resp.content) == stored[256:512]
    resp = log.client.get("/log/tile/entries/002.p/158")
    assert "immutable" not in resp.headers["cache-control"]
    assert decode_bundle(resp.content) == stored[512:]
    resp = log.client.get("/log/tile/entries/000.p/3")
    assert decode_bundle(resp.content) == stored[:3]


def test_entry_bundles_are_gzipped_when_the_client_takes_it(log: Log) -> None:
    gz = log.client.get("/log/tile/entries/000", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gz.headers["vary"] == "Accept-Encoding"
    plain = log.client.get("/log/tile/entries/000", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert gz.content == plain.content  # httpx decodes the gzip body
    refused = log.client.get("/log/tile/entries/000", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
    assert gzip.decompress(gzip.compress(plain.content)) == plain.content


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/002",  # partial in the checkpoint's tree
        "tile/0/002.p/159",  # wider than the checkpoint's tree gives it
        "tile/0/002.p/255",
        "tile/0/003.p/1",
        "tile/0/x001/000",
        "tile/1/000",
        "tile/1/000.p/3",
        "tile/2/000.p/1",
        "tile/63/000.p/1",
        "tile/entries/002",
        "tile/entries/002.p/159",
        "tile/entries/003.p/1",
    ],
)
def test_tiles_beyond_the_checkpoint_are_not_found(log: Log, path: str) -> None:
    assert_problem(log.client.get(f"/log/{path}"), 404, "not-found")


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1234",
        "tile/0/x1/234",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/007",
        "tile/00/000",
        "tile/01/000",
        "tile/0/0",
        "tile/0/01",
        "tile/0/0001",
        "tile/0/x000/001",
        "tile/64/000",
        "tile/-1/000",
        "tile/x/000",
        "tile/0",
        "tile/0/",
        "tile/0/000/",
        "tile/0/000.p/",
        "tile/0/000.p/1/",
        "tile/entries/000.p/0",
        "tile/entries/1",
        "tile/entries",
        "tile/data/000",
    ],
)
def test_malformed_tile_paths_are_400_problems(log: Log, path: str) -> None:
    assert_problem(log.client.get(f"/log/{path}"), 400, "malformed-input")


def test_openapi_documents_the_public_resources(log: Log) -> None:
    spec = log.client.get("/openapi.json").json()
    tile = spec["paths"]["/log/tile/{path}"]["get"]
    assert set(tile["responses"]) == {"200", "400", "404"}
    assert "application/octet-stream" in tile["responses"]["200"]["content"]
    assert [p["name"] for p in tile["parameters"]] == ["path"]
    checkpoint = spec["paths"]["/log/checkpoint"]["get"]
    assert "text/plain" in checkpoint["responses"]["200"]["content"]
    for path in (
        "/log/checkpoint",
        "/log/proofs/inclusion",
        "/log/proofs/consistency",
        "/log/entries",
    ):
        responses = spec["paths"][f"/api/v1{path}"]["get"]["responses"]
        assert {"200", "422"} <= set(responses) and "401" not in responses
        assert "application/json" in responses["200"]["content"]


# -- the JSON API -----------------------------------------------------------------------------


def test_checkpoint_json(log: Log) -> None:
    resp = log.api("checkpoint")
    assert resp.status_code == 200, resp.text
    latest = log.checkpoints[-1]
    assert resp.json() == {
        "size": latest.size,
        "root_hash": latest.root_hash.hex(),
        "note": latest.note,
        "signed_at": latest.signed_at,
    }
    cp, _ = Checkpoint.from_note(resp.json()["note"].encode(), [log.log_key], origin=ORIGIN)
    assert cp.root_hash.hex() == resp.json()["root_hash"]


def check_inclusion(doc: dict[str, Any]) -> None:
    verify_inclusion(
        bytes.fromhex(doc["leaf_hash"]),
        doc["index"],
        doc["tree_size"],
        [bytes.fromhex(h) for h in doc["proof"]],
        bytes.fromhex(doc["root_hash"]),
    )


def test_inclusion_proofs_verify_against_the_checkpoints(log: Log) -> None:
    latest = log.checkpoints[-1]
    for index in (0, 1, 256, 600, SIZE - 1):
        resp = log.api("proofs/inclusion", index=index)
        assert resp.status_code == 200, resp.text
        doc = resp.json()
        assert set(doc) == {"index", "tree_size", "leaf_hash", "root_hash", "proof"}
        assert doc["tree_size"] == latest.size
        assert doc["root_hash"] == latest.root_hash.hex()
        assert doc["leaf_hash"] == log.leaves[index].hex()
        check_inclusion(doc)
    for cp in log.checkpoints:  # against every stored checkpoint's root
        doc = log.api("proofs/inclusion", index=cp.size - 1, size=cp.size).json()
        assert doc["root_hash"] == cp.root_hash.hex()
        check_inclusion(doc)


def test_inclusion_proof_by_event_id(log: Log) -> None:
    entry = log.entries[300]
    doc = log.api("proofs/inclusion", event_id=entry.event_id).json()
    assert (doc["index"], doc["leaf_hash"]) == (300, entry.leaf_hash.hex())
    check_inclusion(doc)
    doc = log.api("proofs/inclusion", event_id="genesis", size=1).json()
    assert doc["index"] == 0 and doc["proof"] == []
    assert doc["root_hash"] == log.checkpoints[0].root_hash.hex()
    check_inclusion(doc)
    # In the log, but not in the tree asked for.
    assert_problem(log.api("proofs/inclusion", event_id=entry.event_id, size=300), 404, "not-found")


def test_consistency_between_stored_checkpoints_verifies(log: Log) -> None:
    cps = log.checkpoints
    for i, old in enumerate(cps):
        for new in cps[i:]:
            resp = log.api("proofs/consistency", first=old.size, second=new.size)
            assert resp.status_code == 200, resp.text
            doc = resp.json()
            assert (doc["root1"], doc["root2"]) == (old.root_hash.hex(), new.root_hash.hex())
            verify_consistency(
                old.size,
                new.size,
                [bytes.fromhex(h) for h in doc["proof"]],
                old.root_hash,
                new.root_hash,
            )
    doc = log.api("proofs/consistency", first=101).json()  # second: the latest
    assert (doc["size1"], doc["size2"]) == (101, SIZE)
    assert set(doc) == {"size1", "size2", "root1", "root2", "proof"}


def test_entries_json(log: Log) -> None:
    resp = log.api("entries", start=250, end=260)
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert (doc["start"], doc["end"], doc["tree_size"]) == (250, 260, SIZE)
    assert [e["index"] for e in doc["entries"]] == list(range(250, 260))
    for e, stored in zip(doc["entries"], log.entries[250:260], strict=True):
        raw = base64.b64decode(e["envelope"], validate=True)
        assert raw == stored.envelope
        assert leaf_hash(raw).hex() == e["leaf_hash"] == stored.leaf_hash.hex()
        assert (e["event_id"], e["type"], e["author"], e["time"]) == (
            stored.event_id,
            stored.event_type,
            stored.author,
            stored.event_time,
        )
    # Cut at the checkpoint's size; past it, nothing.
    doc = log.api("entries", start=SIZE - 5, end=SIZE + 100).json()
    assert (doc["end"], len(doc["entries"])) == (SIZE, 5)
    doc = log.api("entries", start=SIZE + 10).json()
    assert (doc["start"], doc["end"], doc["entries"]) == (SIZE + 10, SIZE + 10, [])
    # Default end: one call's worth (all 670 here).
    doc = log.api("entries").json()
    assert [e["index"] for e in doc["entries"]] == list(range(SIZE))
    assert log.api("entries", start=0, end=1000).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("proofs/inclusion", {"event_id": "no-such-event"}, 404, "not-found"),
        ("proofs/inclusion", {"index": SIZE}, 404, "not-found"),
        ("proofs/inclusion", {"index": 200, "size": 101}, 404, "not-found"),
        ("proofs/inclusion", {"index": 0, "size": SIZE + 1}, 422, "validation"),
        ("proofs/inclusion", {"index": 0, "size": 0}, 422, "validation"),
        ("proofs/inclusion", {"index": -1}, 422, "validation"),
        ("proofs/inclusion", {"index": "x"}, 422, "validation"),
        ("proofs/inclusion", {"index": 2**64}, 422, "validation"),
        ("proofs/inclusion", {"index": 2**63}, 422, "validation"),
        ("proofs/inclusion", {}, 422, "validation"),
        ("proofs/inclusion", {"index": 1, "event_id": "genesis"}, 422, "validation"),
        ("proofs/inclusion", {"event_id": ""}, 422, "validation"),
        ("proofs/inclusion", {"event_id": "a b"}, 422, "validation"),
        ("proofs/consistency", {}, 422, "validation"),
        ("proofs/consistency", {"first": 0}, 422, "validation"),
        ("proofs/consistency", {"first": 302, "second": 301}, 422, "validation"),
        ("proofs/consistency", {"first": 1, "second": SIZE + 1}, 422, "validation"),
        ("proofs/consistency", {"first": 2**63}, 422, "validation"),
        ("proofs/consistency", {"first": SIZE + 1}, 422, "validation"),
        ("entries", {"start": 0, "end": 1001}, 422, "validation"),
        ("entries", {"start": 10, "end": 9}, 422, "validation"),
        ("entries", {"start": -1}, 422, "validation"),
        ("entries", {"start": 2**63}, 422, "validation"),
        ("entries", {"start": 0, "end": "many"}, 422, "validation"),
    ],
)
def test_bad_requests_are_problems(
    log: Log, path: str, params: dict[str, Any], status: int, code: str
) -> None:
    assert_problem(log.api(path, **params), status, code)


def test_the_page_limit_is_named(log: Log) -> None:
    doc = assert_problem(log.api("entries", start=5, end=5000), 422, "validation")
    assert "at most 1000 per call" in doc["problems"][0]["detail"]
    assert doc["problems"][0]["location"] == "query.end"


@pytest.mark.parametrize(
    "path", ["checkpoint", "proofs/inclusion?index=0", "proofs/consistency?first=1", "entries"]
)
def test_the_published_log_as_json_needs_no_token(log: Log, path: str) -> None:
    """It reveals nothing the public tiles do not; the browser's own check reads it."""
    assert log.client.get(f"/api/v1/log/{path}").status_code == 200
    assert log.client.get(f"/api/v1/log/{path}", headers={"Authorization": "x"}).status_code == 200


@settings(max_examples=60)
@given(data=st.data())
def test_any_inclusion_proof_verifies(log: Log, data: st.DataObject) -> None:
    size = data.draw(st.integers(1, SIZE), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    resp = log.api("proofs/inclusion", index=index, size=size)
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert (doc["index"], doc["tree_size"]) == (index, size)
    assert doc["root_hash"] == root_hash(log.leaves[:size]).hex()
    assert doc["leaf_hash"] == log.leaves[index].hex()
    check_inclusion(doc)


@settings(max_examples=40)
@given(data=st.data())
def test_any_consistency_proof_verifies(log: Log, data: st.DataObject) -> None:
    second = data.draw(st.integers(1, SIZE), label="second")
    first = data.draw(st.integers(1, second), label="first")
    doc = log.api("proofs/consistency", first=first, second=second).json()
    root1, root2 = root_hash(log.leaves[:first]), root_hash(log.leaves[:second])
    assert (doc["root1"], doc["root2"]) == (root1.hex(), root2.hex())
    verify_consistency(first, second, [bytes.fromhex(h) for h in doc["proof"]], root1, root2)


def test_a_ledger_with_only_its_genesis(tmp_path: Path) -> None:
    """A ledger with only its genesis serves a one-leaf tree: a partial tile of width 1."""
    led = Ledger.init(tmp_path / "g", ORIGIN, time="2013-09-14T00:00:00Z", key_seed=b"y" * 32)
    try:
        client = TestClient(create_app(Settings(ledger=led.path), ledger=led))
        with led.store.read() as r:
            (genesis,) = r.entries(0, 1)
        assert client.get("/log/tile/0/000.p/1").content == genesis.leaf_hash
        assert decode_bundle(client.get("/log/tile/entries/000.p/1").content) == [genesis.envelope]
        assert client.get("/log/tile/0/000").status_code == 404
        assert client.get("/log/tile/1/000.p/1").status_code == 404
    finally:
        led.close()


def test_nothing_is_served_beyond_the_latest_checkpoint(
    log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the stored tiles and entries ahead of the latest checkpoint, the extra hashes and
    entries would stay unserved: everything is cut at the checkpoint's size (here, as if
    the newest checkpoint were the one at 301)."""

    at_301 = log.checkpoints[2]
    assert at_301.size == 301
    monkeypatch.setattr(LogReader, "latest_checkpoint", lambda self: at_301)
    get = log.client.get
    assert get("/log/checkpoint").text == at_301.note
    assert get("/log/tile/0/000").status_code == 200
    assert get("/log/tile/0/001.p/45").content == b"".join(log.leaves[256:301])
    for path in (
        "tile/0/001",
        "tile/0/001.p/46",
        "tile/0/002.p/1",
        "tile/1/000.p/2",
        "tile/entries/001",
        "tile/entries/001.p/46",
    ):
        assert_problem(get(f"/log/{path}"), 404, "not-found")
    assert get("/log/tile/1/000.p/1").content == root_hash(log.leaves[:256])
    assert len(decode_bundle(get("/log/tile/entries/001.p/45").content)) == 45
    doc = log.api("proofs/inclusion", index=300).json()
    assert (doc["tree_size"], doc["root_hash"]) == (301, at_301.root_hash.hex())
    check_inclusion(doc)
    assert_problem(log.api("proofs/inclusion", index=301), 404, "not-found")
    assert_problem(log.api("proofs/inclusion", index=0, size=302), 422, "validation")
    assert log.api("proofs/consistency", first=101).json()["size2"] == 301
    assert log.api("entries", start=290, end=400).json()["end"] == 301
