"""The server's own parts: health and readiness, problem types, the rate limiter, token
durations, the CLI's tokens commands."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.cli.server import parse_duration
from cwledger.errors import RateLimited
from cwledger.http.deps import RateLimiter
from cwledger.http.problems import PROBLEM_TYPES
from cwledger.store.schema import SCHEMA_REVISION
from tests.api.conftest import Api, make_api

runner = CliRunner()


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["schema_revision"] == SCHEMA_REVISION
    with api.ledger.store.read() as r:
        assert ready["log_size"] == r.size()


def test_not_ready_when_the_schema_is_not_at_this_codes_revision(api: Api) -> None:
    with api.ledger.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    resp = api.client.get("/readyz")
    assert resp.status_code == 503 and resp.json()["type"] == "/problems/unavailable"
    assert f"needs {SCHEMA_REVISION}" in resp.json()["detail"]


@pytest.mark.parametrize("code", sorted(PROBLEM_TYPES))
def test_every_problem_type_is_described_at_its_uri(api: Api, code: str) -> None:
    doc = api.client.get(f"/problems/{code}").json()
    assert doc == {
        "type": f"/problems/{code}",
        "title": PROBLEM_TYPES[code][1],
        "status": PROBLEM_TYPES[code][0],
    }


def test_a_wrong_method_gets_405_with_allow(api: Api) -> None:
    resp = api.client.delete("/api/v1/events", headers=api.auth("obs"))
    assert resp.status_code == 405 and resp.headers["allow"] in ("GET", "POST")
    assert resp.json()["type"] == "/problems/method-not-allowed"


def test_the_rate_limiter_takes_a_burst_then_the_rate() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    for _ in range(3):
        limiter.take("t", now=100.0)
    with pytest.raises(RateLimited) as e:
        limiter.take("t", now=100.0)
    assert e.value.retry_after == pytest.approx(0.5)
    limiter.take("other", now=100.0)  # each token its own bucket
    limiter.take("t", now=100.5)  # half a second: one more
    with pytest.raises(RateLimited):
        limiter.take("t", now=100.5)


@given(st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=200))
def test_the_rate_limiter_never_lets_more_through_than_burst_plus_rate_times_time(
    gaps: list[float],
) -> None:
    limiter, now, taken = RateLimiter(rate=10.0, burst=5), 0.0, 0
    for gap in gaps:
        now += gap
        try:
            limiter.take("t", now=now)
            taken += 1
        except RateLimited as e:
            assert e.retry_after > 0
    assert taken <= 5 + 10.0 * now + 1e-9


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("3600s", timedelta(hours=1)),
    ],
)
def test_durations(text: str, want: timedelta) -> None:
    assert parse_duration(text) == want


@pytest.mark.parametrize("text", ["", "0d", "d", "1w", "-1d", "1.5h", "01d"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_duration(text)


def test_tokens_issue_list_revoke_from_the_cli(api: Api) -> None:
    api = make_api(api.ledger, [], token_cache_seconds=0.0)  # no cache: revocation at once
    where = ["--ledger", str(api.ledger.path)]
    result = runner.invoke(
        app,
        ["tokens", "issue", "--party", "dec", "--expires", "1d", "--label", "ci", "--json", *where],
    )
    assert result.exit_code == 0, result.output
    issued = json.loads(result.stdout)
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert api.client.get("/api/v1/status", headers=headers).status_code == 200
    listed = json.loads(runner.invoke(app, ["tokens", "list", "--json", *where]).stdout)
    mine = next(t for t in listed if t["token_id"] == issued["token_id"])
    assert (
        mine["party"] == "dec"
        and mine["label"] == "ci"
        and mine["expires_at"]
        and "token" not in mine
    )
    assert runner.invoke(app, ["tokens", "revoke", issued["token_id"], *where]).exit_code == 0
    assert api.client.get("/api/v1/status", headers=headers).status_code == 401
    again = runner.invoke(app, ["tokens", "revoke", issued["token_id"], *where])
    assert "not already revoked" in str(again.exception)
    nobody = runner.invoke(app, ["tokens", "issue", "--party", "nobody", *where])
    assert "not in the log" in str(nobody.exception)


def test_the_server_refuses_to_start_without_a_ledger(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--ledger", str(tmp_path / "none")])
    assert "no ledger" in str(result.exception)


def test_a_revoked_token_is_refused_once_the_token_cache_expires(api: Api) -> None:
    import time

    from cwledger.ledger.access import issue_token, revoke_token

    cached = make_api(api.ledger, [], token_cache_seconds=0.2)
    token, row = issue_token(api.ledger.store, api.ledger.authority(), "obs")
    headers = {"Authorization": f"Bearer {token}"}
    assert cached.client.get("/api/v1/status", headers=headers).status_code == 200
    revoke_token(api.ledger.store, row.token_id)
    time.sleep(0.3)
    assert cached.client.get("/api/v1/status", headers=headers).status_code == 401


def test_whoami_names_the_tokens_party_and_role(api: Api) -> None:
    for party, role in (("insp", "inspectorate"), ("obs", "observer"), ("operator", "operator")):
        doc = api.client.get("/api/v1/whoami", headers=api.auth(party)).json()
        assert (doc["party"], doc["role"]) == (party, role) and doc["token_id"]


def test_answers_are_remembered_per_log_size_and_an_append_gives_new_ones(api: Api) -> None:
    from tests.book.builders import Book, declaration, item, site

    b = Book(api.ledger)
    b.declare([item("I-1")])
    url = "/api/v1/holdings?by=site"
    first = api.client.get(url, headers=api.auth("obs")).json()
    assert first == [{"key": "S-1", "kg": 1000.0, "items": 1}]
    assert api.client.get(url, headers=api.auth("obs")).json() == first
    with api.ledger.store.read() as r:
        size = r.size()
    # remembered under the book's last holdings change up to the moment (none given: ever)
    assert any(k[:2] == (size, "holdings-since") for k in api.app.state.answers._answers)
    amended = declaration([item("I-1"), item("I-2", "S-2", kg=5)], [site("S-1"), site("S-2")], 2)
    b.append("declaration.amended", amended)
    second = api.client.get(url, headers=api.auth("obs")).json()
    assert second == [
        {"key": "S-1", "kg": 1000.0, "items": 1},
        {"key": "S-2", "kg": 5.0, "items": 1},
    ]


def test_the_answer_cache_forgets_the_least_recently_used_beyond_its_capacity(api: Api) -> None:
    from cwledger.http.deps import AnswerCache, Snapshot

    cache, computed = AnswerCache(capacity=2), []
    r = Snapshot(api.ledger.store, cache)
    for q in ("a", "b", "a", "c", "b", "a"):
        cache.get(r, (q,), lambda q=q: computed.append(q) or q)
    r.close()
    assert computed == ["a", "b", "c", "b", "a"]  # "a" kept by its reuse, then "b" pushed out


def test_a_database_that_went_away_is_a_503_problem_not_a_trace(
    tmp_path: Path, pg_new_database: Any
) -> None:
    from cwledger.ledger.ledger import Ledger
    from tests.conftest import FOUNDING, ORIGIN, pg_connect, pg_drop_database

    url = pg_new_database()
    led = Ledger.init(tmp_path / "l", ORIGIN, founding=FOUNDING, database_url=url)
    gone = make_api(led, ["obs"])
    assert gone.client.get("/api/v1/holdings", headers=gone.auth("obs")).status_code == 200
    led.store.engine.dispose()
    with pg_connect() as admin:
        pg_drop_database(admin, url.rsplit("/", 1)[1])
    resp = gone.client.get("/api/v1/holdings?at=2014-01-01", headers=gone.auth("obs"))
    assert resp.status_code == 503 and resp.json()["type"] == "/problems/unavailable"
    assert "Traceback" not in resp.text and "psycopg" not in resp.text
    assert gone.client.get("/readyz").status_code == 503


def test_the_cli_says_when_the_database_is_not_there(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "database.url").write_text("postgresql+psycopg://postgres@127.0.0.1:1/none\n")
    cli = Path(sys.executable).parent / "cwledger"
    done = subprocess.run([cli, "log", "--ledger", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "error (database-unavailable)" in done.stderr and "Traceback" not in done.stderr
