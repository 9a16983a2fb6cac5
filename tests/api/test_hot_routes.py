"""The hot routes (`cwledger.api.hot`) answer exactly as the FastAPI routes behind them:
the same status, headers and bytes, for the requests they take; the ones they do not take
reach the FastAPI route; the token, its rate limit and the caller's clearance are checked
as before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwledger.api.hot import HotRoute
from cwledger.ledger.ledger import Ledger
from tests.api.conftest import Api, make_api
from tests.book.builders import Book, declaration, item, site

Taken = list[tuple[str, bool]]


@pytest.fixture
def taken(scenario_api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Taken]:
    """(path, whether its hot route answered) of every request a hot route saw."""
    seen: Taken = []
    for route in scenario_api.app.router.routes:
        if isinstance(route, HotRoute):

            def recorded(request: Any, answer: Any = route.answer) -> Any:
                async def run() -> Any:
                    response = await answer(request)
                    seen.append((request.url.path, response is not None))
                    return response

                return run()

            monkeypatch.setattr(route, "answer", recorded)
    yield seen


def _same(api: Api, url: str, taken: Taken, **headers: str) -> None:
    """`url` answered by its hot route equals it answered by the FastAPI route (an extra
    query parameter, which FastAPI ignores, makes the hot route hand it on)."""
    taken.clear()
    hot = api.client.get(url, headers=headers)
    assert taken and taken[-1][1], f"{url}: the hot route did not answer"
    taken.clear()
    plain = api.client.get(url + ("&" if "?" in url else "?") + "zz=1", headers=headers)
    assert taken and not taken[-1][1], f"{url}: the hot route answered an unknown parameter"
    assert hot.status_code == plain.status_code == 200, (url, hot.text[:200])
    assert hot.content == plain.content, url
    assert dict(hot.headers) == dict(plain.headers), url


def test_each_hot_route_answers_as_its_fastapi_route(scenario_api: Api, taken: Taken) -> None:
    auth = scenario_api.auth(sorted(scenario_api.tokens)[0])
    with scenario_api.ledger.store.read() as r:
        size = r.size()
    for url in (
        "/log/checkpoint",
        "/api/v1/log/checkpoint",
        "/log/tile/0/000",
        "/log/tile/1/000.p/3",
        "/log/tile/entries/001",
        f"/log/tile/entries/{size // 256:03d}.p/{size % 256}",
        "/api/v1/log/proofs/inclusion?index=7",
        f"/api/v1/log/proofs/inclusion?index=7&size={size - 1}",
        "/api/v1/log/proofs/consistency?first=10",
        f"/api/v1/log/proofs/consistency?first=10&second={size - 3}",
        "/api/v1/log/entries?start=5&end=21",
        f"/api/v1/log/entries?start={size - 4}&end={size + 10}",
        f"/api/v1/log/entries?start={size - 1}&end={size}",  # one entry
        "/api/v1/log/entries?start=5&end=5",  # none
        f"/api/v1/log/entries?start={size + 3}&end={size + 9}",  # none: beyond the tree
        "/api/v1/holdings",
        "/api/v1/holdings?at=2014-06-01",
        "/api/v1/holdings?at=2014-06-01T12:00:00Z&by=chemical",
        "/api/v1/holdings?at=2014-06-01T12:00:01Z&by=category",
        "/api/v1/holdings?by=priority",
    ):
        for _ in range(2):  # computed, then kept
            _same(scenario_api, url, taken, **auth)
    _same(scenario_api, "/log/tile/entries/001", taken, **{"Accept-Encoding": "gzip"})


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_proof_or_page_is_the_fastapi_routes(
    scenario_api: Api, taken: Taken, data: st.DataObject
) -> None:
    with scenario_api.ledger.store.read() as r:
        size = r.size()
    index = data.draw(st.integers(0, size - 1), label="index")
    tree = data.draw(st.integers(index + 1, size), label="size")
    first = data.draw(st.integers(1, tree), label="first")
    start = data.draw(st.integers(0, size + 5), label="start")
    width = data.draw(st.integers(0, 40), label="width")
    for url in (
        f"/api/v1/log/proofs/inclusion?index={index}&size={tree}",
        f"/api/v1/log/proofs/consistency?first={first}&second={tree}",
        f"/api/v1/log/entries?start={start}&end={start + width}",
    ):
        _same(scenario_api, url, taken)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/log/proofs/inclusion?index=99999999",
        "/api/v1/log/proofs/inclusion?index=-1",
        "/api/v1/log/proofs/inclusion?index=1&size=99999999",
        "/api/v1/log/proofs/inclusion?index=10&size=10",  # an entry beyond the tree
        "/api/v1/log/proofs/inclusion?index=",
        "/api/v1/log/proofs/consistency?first=0",
        "/api/v1/log/proofs/consistency?first=50&second=10",
        "/api/v1/log/entries?start=10&end=5",
        "/api/v1/log/entries?start=0&end=5000",
        "/log/tile/0/x001",
        "/log/tile/9/000",
        "/api/v1/holdings?by=item",
        "/api/v1/holdings?by=nothing",
        "/api/v1/holdings?at=yesterday",
    ],
)
def test_what_the_hot_routes_refuse_is_the_fastapi_routes_problem(
    scenario_api: Api, taken: Taken, url: str
) -> None:
    """A malformed or out-of-range request gets the FastAPI route's problem document."""
    auth = scenario_api.auth(sorted(scenario_api.tokens)[0])
    answer = scenario_api.client.get(url, headers=auth)
    assert 400 <= answer.status_code < 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == answer.status_code


def test_holdings_need_a_token_within_its_rate(scenario_api: Api) -> None:
    client = scenario_api.client
    assert client.get("/api/v1/holdings").status_code == 401
    bad = client.get("/api/v1/holdings", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.headers["content-type"] == "application/problem+json"
    limited = make_api(
        scenario_api.ledger, ["technical-secretariat"], rate_per_second=0.001, rate_burst=2
    )
    auth = limited.auth("technical-secretariat")
    codes = [limited.client.get("/api/v1/holdings", headers=auth).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_confidential_ledgers_holdings_refuse_an_observer(conf: Ledger) -> None:
    Book(conf).append("declaration.submitted", declaration([item("I-1")], sites=[site("S-1")]))
    api = make_api(conf, ["insp", "obs"])
    refused = api.client.get("/api/v1/holdings?at=2014-01-01", headers=api.auth("obs"))
    assert refused.status_code == 403 and "confidential" in refused.json()["detail"]
    assert api.client.get("/api/v1/holdings", headers=api.auth("insp")).status_code == 200
    # the log stays public
    assert api.client.get("/api/v1/log/proofs/inclusion?index=0").status_code == 200


def test_the_kept_connection_of_a_database_that_went_away_is_a_503_problem(
    tmp_path: Any, pg_new_database: Any
) -> None:
    """The published log reads on a connection kept open: when the database goes away
    under it, the answer is the same 503 problem as anywhere else, not a trace."""
    from tests.conftest import FOUNDING, ORIGIN, pg_connect, pg_drop_database

    url = pg_new_database()
    led = Ledger.init(tmp_path / "l", ORIGIN, founding=FOUNDING, database_url=url)
    gone = make_api(led, ["obs"])
    for path in ("/log/checkpoint", "/api/v1/log/proofs/inclusion?index=0"):
        assert gone.client.get(path).status_code == 200
    led.store.engine.dispose()
    with pg_connect() as admin:
        pg_drop_database(admin, url.rsplit("/", 1)[1])
    for path in ("/log/checkpoint", "/api/v1/log/checkpoint", "/log/tile/0/000.p/1"):
        resp = gone.client.get(path)
        assert resp.status_code == 503 and resp.json()["type"] == "/problems/unavailable", path
        assert "Traceback" not in resp.text and "psycopg" not in resp.text
