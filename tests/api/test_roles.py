"""Who may do what: every role against every endpoint, each answer checked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.book.builders import Book, item
from tests.conftest import event

ROLES = {"operator": "operator", "insp": "inspectorate", "dec": "declarant", "obs": "observer"}

READS = [
    "/api/v1/whoami",
    "/api/v1/events",
    "/api/v1/items/I-1",
    "/api/v1/items/I-1/position",
    "/api/v1/sites",
    "/api/v1/sites/S-1",
    "/api/v1/holdings",
    "/api/v1/findings",
    "/api/v1/declarations",
    "/api/v1/declarations/1",
    "/api/v1/status",
    "/api/v1/milestones",
]
# The published log: what the tiles reveal, as JSON too (the browser's check reads these).
PUBLIC = [
    "/healthz",
    "/readyz",
    "/log/checkpoint",
    "/log/tile/0/000.p/2",
    "/api/v1/log/checkpoint",
    "/api/v1/log/entries?start=0&end=2",
    "/api/v1/log/proofs/inclusion?index=0",
    "/api/v1/log/proofs/consistency?first=1",
]


@pytest.fixture
def declared(api: Api) -> Api:
    Book(api.ledger).declare([item("I-1"), item("I-2", kg=500)])
    return api


@pytest.mark.parametrize("party", [None, *ROLES])
@pytest.mark.parametrize("url", READS)
def test_every_role_reads_and_nobody_without_a_token(
    declared: Api, party: str | None, url: str
) -> None:
    headers = {} if party is None else declared.auth(party)
    resp = declared.client.get(url, headers=headers)
    assert resp.status_code == (401 if party is None else 200), resp.text


@pytest.mark.parametrize("party", [None, *ROLES])
@pytest.mark.parametrize("url", PUBLIC)
def test_the_health_checks_and_the_published_log_are_public(
    declared: Api, party: str | None, url: str
) -> None:
    headers = {} if party is None else declared.auth(party)
    assert declared.client.get(url, headers=headers).status_code == 200


def _write(api: Api, party: str, type_: str, body: dict[str, Any], *, batch: bool) -> int:
    ev = {"type": type_, "id": f"{type_}-{party}", "time": "2014-02-01T00:00:00Z", "body": body}
    env = json.loads(api.ledger.sign([ev], party)[0])
    url, doc = ("/api/v1/events/batch", {"envelopes": [env]}) if batch else ("/api/v1/events", env)
    with api.ledger.store.read() as r:
        before = r.size()
    resp = api.client.post(url, json=doc, headers=api.auth(party))
    with api.ledger.store.read() as r:
        after = r.size()
    assert after == before + (1 if resp.status_code == 201 else 0), resp.text
    return resp.status_code


TAG = {"item": "I-1", "tag": "T-1", "site": "S-1"}
ESTIMATE = event(1)["body"]
SITE = {
    "site": {
        "id": "S-9",
        "name": "Site S-9",
        "kind": "storage",
        "coordinates": {"lat": 34.0, "lon": 36.0},
        "party": "dec",
    }
}

# (event type, body) -> expected status by party: 201 written, 403 not this party's to
# write (observers write nothing; a role writes only its types).
WRITES = [
    ("estimate.recorded", ESTIMATE, {"operator": 403, "insp": 201, "dec": 201, "obs": 403}),
    ("item.tagged", TAG, {"operator": 403, "insp": 201, "dec": 403, "obs": 403}),
    ("site.declared", SITE, {"operator": 403, "insp": 201, "dec": 201, "obs": 403}),
]


@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize(("type_", "body", "expected"), WRITES)
def test_each_role_writes_only_its_own_event_types(
    declared: Api, type_: str, body: dict[str, Any], expected: dict[str, int], batch: bool
) -> None:
    for party, status in expected.items():
        body_for = {**body, "tag": f"T-{party}"} if type_ == "item.tagged" else body
        if type_ == "site.declared":  # the inspectorate declares venues abroad (a vessel)
            kind = "vessel" if party == "insp" else "storage"
            body_for = {"site": {**body["site"], "id": f"S-{party}", "kind": kind, "party": party}}
        assert _write(declared, party, type_, body_for, batch=batch) == status, party


@pytest.mark.parametrize("party", [None, *ROLES])
def test_nobody_signs_or_posts_checkpoints_over_http(declared: Api, party: str | None) -> None:
    headers = {} if party is None else declared.auth(party)
    for url in ("/log/checkpoint", "/api/v1/log/checkpoint"):
        assert declared.client.post(url, content=b"x", headers=headers).status_code == 405
    with declared.ledger.store.read() as r:
        sizes = [c.size for c in r.checkpoints()]
    assert sizes == sorted(set(sizes))  # one checkpoint per append, all by the server
