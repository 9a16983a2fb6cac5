"""Submitting and listing events over HTTP: receipts, refusals, authentication, limits.
Every write test checks the answer and the database's rows before and after."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cwledger.api.process import spawn
from cwledger.ledger.access import issue_token, revoke_token
from cwledger.ledger.ledger import CHUNK, Ledger
from tests.api.conftest import Api, make_api
from tests.book.builders import Book, item
from tests.conftest import FOUNDING, ORIGIN, event, row_counts

PROBLEM = "application/problem+json"


def envelopes(api: Api, events: list[dict[str, Any]], party: str = "insp") -> list[Any]:
    """The events signed by `party`, as DSSE envelope JSON objects."""
    return [json.loads(e) for e in api.ledger.sign(events, party)]


def post_one(api: Api, env: Any, party: str = "insp") -> Any:
    return api.client.post("/api/v1/events", json=env, headers=api.auth(party))


def post_batch(api: Api, envs: list[Any], party: str = "insp") -> Any:
    return api.client.post(
        "/api/v1/events/batch", json={"envelopes": envs}, headers=api.auth(party)
    )


def assert_problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    doc: dict[str, Any] = resp.json()
    assert doc["type"] == f"/problems/{code}"
    assert doc["status"] == status and doc["title"] and doc["detail"]
    assert "Traceback" not in resp.text
    return doc


def test_an_event_is_appended_once_and_a_resubmission_returns_the_same_receipt(api: Api) -> None:
    before = row_counts(api.ledger)
    [env] = envelopes(api, [event(1)])
    first = post_one(api, env)
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert receipt["index"] == before["log_entry"] and receipt["duplicate"] is False
    after = row_counts(api.ledger)
    assert after["log_entry"] == before["log_entry"] + 1
    assert after["checkpoint"] == before["checkpoint"] + 1
    with api.ledger.store.read() as r:
        [stored] = r.entries(receipt["index"], receipt["index"] + 1)
    assert stored.leaf_hash.hex() == receipt["leaf_hash"] and stored.event_id == "ev-000001"

    again = post_one(api, env)
    assert again.status_code == 200
    assert {**again.json(), "duplicate": False} == receipt and again.json()["duplicate"] is True
    assert row_counts(api.ledger) == after


def test_a_batch_is_all_or_nothing_and_lists_every_refusal_with_its_index(api: Api) -> None:
    good = envelopes(api, [event(n) for n in range(1, 4)])
    bad_sig = dict(
        good[1], signatures=[dict(good[1]["signatures"][0], sig=good[0]["signatures"][0]["sig"])]
    )
    [bad_body] = envelopes(api, [{**event(9), "body": {"estimate": {"party": "insp"}}}])
    before = row_counts(api.ledger)
    resp = post_batch(api, [good[0], bad_sig, bad_body])
    doc = assert_problem(resp, 422, "event-rejected")
    assert {p["index"] for p in doc["problems"]} == {1, 2}
    assert any(p["location"] == "event[1].signatures[0].sig" for p in doc["problems"])
    assert all(p["location"].startswith(f"event[{p['index']}]") for p in doc["problems"])
    assert row_counts(api.ledger) == before

    ok = post_batch(api, good)
    assert ok.status_code == 201, ok.text
    indices = [r["index"] for r in ok.json()["receipts"]]
    assert indices == list(range(before["log_entry"], before["log_entry"] + 3))
    assert row_counts(api.ledger)["log_entry"] == before["log_entry"] + 3


def test_a_party_may_submit_only_its_own_events_of_its_roles_types(api: Api) -> None:
    before = row_counts(api.ledger)
    [by_dec] = envelopes(api, [event(1)], party="dec")
    doc = assert_problem(post_one(api, by_dec, party="insp"), 403, "forbidden")
    assert doc["problems"][0]["location"] == "event[0].payload.author"

    tag = {
        "type": "item.tagged",
        "id": "t-1",
        "time": "2014-01-02T00:00:00Z",
        "body": {"item": "I-1", "tag": "T-1", "site": "S-1"},
    }
    [dec_tag] = envelopes(api, [tag], party="dec")
    doc = assert_problem(post_one(api, dec_tag, party="dec"), 403, "forbidden")
    assert "item.tagged is written by inspectorate, not declarant" in doc["problems"][0]["detail"]

    [by_obs] = envelopes(api, [event(2)], party="obs")
    doc = assert_problem(post_one(api, by_obs, party="obs"), 403, "forbidden")
    assert "observer" in doc["detail"]
    assert row_counts(api.ledger) == before


def test_tokens_missing_malformed_unknown_revoked_or_expired_are_refused(api: Api) -> None:
    [env] = envelopes(api, [event(1)])
    before = row_counts(api.ledger)
    url = "/api/v1/events"
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Bearer cwl_0000000000000000_secret"},
        {"Authorization": api.auth("insp")["Authorization"] + "x"},
    ):
        resp = api.client.post(url, json=env, headers=headers)
        assert_problem(resp, 401, "unauthorized")
        assert resp.headers["www-authenticate"] == "Bearer"
    authority = api.ledger.authority()
    token, row = issue_token(api.ledger.store, authority, "insp")
    revoke_token(api.ledger.store, row.token_id)
    doc = assert_problem(
        api.client.post(url, json=env, headers={"Authorization": f"Bearer {token}"}),
        401,
        "unauthorized",
    )
    assert "revoked" in doc["detail"]
    past = datetime.now(UTC) - timedelta(days=2)
    old, _ = issue_token(api.ledger.store, authority, "insp", valid_for=timedelta(days=1), now=past)
    doc = assert_problem(
        api.client.post(url, json=env, headers={"Authorization": f"Bearer {old}"}),
        401,
        "unauthorized",
    )
    assert "expired" in doc["detail"]
    assert row_counts(api.ledger)["log_entry"] == before["log_entry"]


def test_batches_and_bodies_over_the_limits_get_413_and_write_nothing(api: Api) -> None:
    small = make_api(api.ledger, ["insp"], max_batch=2, max_request_bytes=4000)
    envs = envelopes(small, [event(n) for n in range(1, 4)])
    before = row_counts(api.ledger)
    doc = assert_problem(post_batch(small, envs), 413, "too-large")
    assert "at most 2" in doc["detail"]
    big = dict(envs[0], payload=envs[0]["payload"] + "A" * 5000)
    assert_problem(post_one(small, big), 413, "too-large")
    chunked = small.client.post(
        "/api/v1/events",
        content=iter([json.dumps(big).encode()[:3000], json.dumps(big).encode()[3000:]]),
        headers={**small.auth("insp"), "content-type": "application/json"},
    )
    assert_problem(chunked, 413, "too-large")
    assert row_counts(api.ledger) == before


def test_a_token_over_its_rate_gets_429_with_retry_after(api: Api) -> None:
    slow = make_api(api.ledger, ["obs"], rate_per_second=0.5, rate_burst=2)
    assert slow.client.get("/api/v1/status", headers=slow.auth("obs")).status_code == 200
    assert slow.client.get("/api/v1/status", headers=slow.auth("obs")).status_code == 200
    resp = slow.client.get("/api/v1/status", headers=slow.auth("obs"))
    doc = assert_problem(resp, 429, "rate-limited")
    assert int(resp.headers["retry-after"]) >= 1 and doc["retry_after"] > 0


def test_malformed_requests_get_a_validation_problem_listing_every_location(api: Api) -> None:
    before = row_counts(api.ledger)
    resp = api.client.post(
        "/api/v1/events",
        content=b"{not json",
        headers={**api.auth("insp"), "content-type": "application/json"},
    )
    assert_problem(resp, 422, "validation")
    resp = api.client.post(
        "/api/v1/events", json={"payload": 1, "signatures": []}, headers=api.auth("insp")
    )
    doc = assert_problem(resp, 422, "validation")
    locations = {p["location"] for p in doc["problems"]}
    assert {"body.payload", "body.payloadType", "body.signatures"} <= locations
    resp = api.client.get("/api/v1/events?since=yesterday", headers=api.auth("obs"))
    assert assert_problem(resp, 422, "validation")["problems"][0]["location"] == "query.since"
    assert_problem(api.client.get("/api/v1/nowhere", headers=api.auth("obs")), 404, "not-found")
    assert row_counts(api.ledger) == before


def test_events_are_listed_by_type_author_item_site_and_time_page_by_page(api: Api) -> None:
    b = Book(api.ledger)
    b.declare([item("I-1"), item("I-2", "S-2", kg=500)])
    b.append("item.tagged", {"item": "I-1", "tag": "T-1", "site": "S-1"})
    api.ledger.append(api.ledger.sign([event(n) for n in range(1, 8)], "obs"))

    def listed(query: str) -> list[dict[str, Any]]:
        out, cursor = [], None
        while True:
            q = query + ("" if cursor is None else f"&cursor={cursor}")
            page = api.client.get(f"/api/v1/events?limit=3&{q}", headers=api.auth("obs"))
            assert page.status_code == 200, page.text
            out += page.json()["events"]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return out

    everything = listed("")
    with api.ledger.store.read() as r:
        size = r.size()
    assert [e["index"] for e in everything] == list(range(size))
    assert {e["type"] for e in listed("type=estimate.recorded")} == {"estimate.recorded"}
    assert len(listed("author=obs")) == 7
    tagged = listed("item=I-1")
    assert [e["type"] for e in tagged] == ["declaration.submitted", "item.tagged"]
    assert tagged[1]["event"]["body"]["tag"] == "T-1"
    assert [e["type"] for e in listed("site=S-2")] == ["declaration.submitted"]
    assert [e["type"] for e in listed("site=S-1")] == ["declaration.submitted", "item.tagged"]
    window = listed("since=2014-01-03&until=2014-01-04T10:00:00Z")
    assert window and all("2014-01-03" <= e["time"][:10] <= "2014-01-04" for e in window)
    assert {e["event_id"] for e in window} == {"e00001", "ev-000002", "ev-000003"}


def test_an_entry_over_65535_bytes_is_refused_because_no_entry_bundle_could_hold_it(
    api: Api,
) -> None:
    from tests.book.builders import declaration

    # 200 items with 118-character ids: every field within its bounds, the whole over 64 KiB.
    body = declaration([item(f"I-{n:05d}-{'x' * 110}") for n in range(200)])
    ev = {
        "type": "declaration.submitted",
        "id": "big",
        "time": "2014-01-01T00:00:00Z",
        "body": body,
    }
    [env] = envelopes(api, [ev], party="dec")
    before = row_counts(api.ledger)
    doc = assert_problem(post_one(api, env, party="dec"), 422, "event-rejected")
    assert doc["problems"][-1]["location"] == "event[0].envelope"
    assert "at most 65,535" in doc["problems"][-1]["detail"]
    assert row_counts(api.ledger) == before


def test_a_corrupt_row_in_the_database_is_the_servers_fault_named_by_its_row(
    api: Api,
) -> None:
    # SQLite keeps a value of any type in any column: an envelope or a tile changed to text
    # outside cwledger is answered 500, naming the row, by every route that reads it.
    assert post_batch(api, envelopes(api, [event(1), event(2)])).status_code == 201
    db = sqlite3.connect(api.ledger.path / "ledger.db")
    with db:
        db.execute("UPDATE log_entry SET envelope = CAST(envelope AS TEXT) WHERE idx = 2")
        db.execute("UPDATE tree_tile SET hashes = 'junk' WHERE level = 0 AND idx = 0")
    db.close()
    for url, detail in (
        ("/api/v1/events?limit=10", "entry 2: the stored envelope is str '{"),
        ("/api/v1/log/entries?start=0&end=3", "entry 2: the stored envelope is str '{"),
        ("/log/tile/0/000.p/3", "tile 0/0: the stored hashes are str 'junk', not bytes"),
        ("/api/v1/log/proofs/inclusion?index=1&size=3", "tile 0/0: the stored hashes are str"),
    ):
        resp = api.client.get(url, headers=api.auth("obs"))
        doc = assert_problem(resp, 500, "corrupt-database")
        assert doc["detail"].startswith(detail), url
        assert "changed outside cwledger" in doc["detail"]


def _post(base: str, path: str, token: str, doc: object) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(doc).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_a_served_batch_of_several_chunks_is_judged_with_every_signature(
    tmp_path: Path,
) -> None:
    # `cwledger serve` with two workers: a batch longer than a chunk has its signatures
    # checked on processes that the worker spawns (it runs threads), forged ones named.
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    token = issue_token(led.store, led.authority(), "insp")[0]
    good = [json.loads(e) for e in led.sign([event(n) for n in range(1, CHUNK + 45)], "insp")]
    led.close()
    bad = [4, CHUNK + 40]
    forged = [
        dict(e, signatures=[dict(e["signatures"][0], sig=good[0]["signatures"][0]["sig"])])
        if i in bad
        else e
        for i, e in enumerate(good)
    ]
    server = spawn(tmp_path / "ledger", workers=2)
    try:
        status, doc = _post(server.base, "/api/v1/events/batch", token, {"envelopes": forged})
        assert status == 422, doc
        assert [p["location"] for p in doc["problems"]] == [
            f"event[{i}].signatures[0].sig" for i in bad
        ]
        status, doc = _post(server.base, "/api/v1/events/batch", token, {"envelopes": good})
        assert status == 201, doc
        assert [r["index"] for r in doc["receipts"]] == list(range(1, len(good) + 1))
    finally:
        server.stop()
