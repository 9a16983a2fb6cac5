"""The published aggregates are public in any ledger (issue 16 section 3): the API answers
them without a token, and the dashboard's overview of a confidential ledger shows them to
a viewer not cleared to read the book, with none of the sealed fields."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cwledger.book.aggregates import AGGREGATE_PUBLISHED
from cwledger.ledger.ledger import Ledger
from tests.api.conftest import Api, make_api
from tests.api.test_web_session import _log_in
from tests.book.builders import Book, declaration, item, site
from tests.conftest import FOUNDING, ORIGIN
from tests.escrow.test_aggregates import _event, _proven_body, _setup

MARK = "Marker-Site-Name-9d3e"


def _published(led: Ledger) -> dict[str, Any]:
    """Escrow version 1, proofs of removal and destruction, and the aggregate of them
    published by the inspectorate; returns its body as logged."""
    _setup(led)
    body = _proven_body(led)
    led.append(led.sign([_event(AGGREGATE_PUBLISHED, "agg-1", body)], "insp"))
    return body


@pytest.fixture
def conf(tmp_path: Path) -> Iterator[tuple[Api, dict[str, Any]]]:
    led = Ledger.init(
        tmp_path / "ledger",
        ORIGIN,
        founding=FOUNDING,
        time="2013-09-14T00:00:00Z",
        confidential=True,
    )
    Book(led).append(
        "declaration.submitted",
        declaration([item("I-1")], sites=[{**site("S-1"), "name": MARK}]),
    )
    body = _published(led)
    yield make_api(led, ["insp", "dec", "obs"], public_pages=True), body
    led.close()


def _tonnes(grams: int) -> str:
    return f"{grams / 1_000_000:,.3f}"


def test_the_aggregates_are_answered_without_a_token(conf: tuple[Api, dict[str, Any]]) -> None:
    api, body = conf
    answer = api.client.get("/api/v1/aggregates")
    assert answer.status_code == 200
    [doc] = answer.json()
    assert doc["categories"] == body["categories"] and doc["version"] == 1
    assert doc["at"] == body["at"] and doc["author"] == "insp"
    assert MARK not in answer.text
    # before the aggregate's moment, none; a malformed moment is a problem, not a 500
    assert api.client.get("/api/v1/aggregates?at=2014-06-29").json() == []
    assert api.client.get("/api/v1/aggregates?at=2014-06-30").json() == [doc]
    assert api.client.get("/api/v1/aggregates?at=June").status_code == 422
    # an observer's token changes nothing, and the book itself stays closed to it
    assert api.client.get("/api/v1/aggregates", headers=api.auth("obs")).json() == [doc]
    assert api.client.get("/api/v1/status", headers=api.auth("obs")).status_code == 403


def test_the_aggregates_are_public_in_an_open_ledger_too(api: Api) -> None:
    body = _published(api.ledger)
    [doc] = api.client.get("/api/v1/aggregates").json()
    assert doc["categories"] == body["categories"]


def test_the_anonymous_overview_shows_the_proven_aggregates_only(
    conf: tuple[Api, dict[str, Any]],
) -> None:
    api, body = conf
    page = api.client.get("/")
    assert page.status_code == 200
    html = page.text
    assert MARK not in html and "S-1" not in html and "I-1" not in html
    assert "confidential" in html
    for row in body["categories"]:
        for kind in ("committed", "removed", "destroyed", "remaining"):
            assert _tonnes(row[f"{kind}_grams"]) in html, (row["category"], kind)
        for entry in row["removed_proofs"] + row["destroyed_proofs"]:
            assert f'href="/log?entry={entry}"' in html
    [c1, c2] = body["categories"]
    total = sum(c["destroyed_grams"] for c in (c1, c2))
    assert f'data-figure="destroyed_t">{_tonnes(total)} t<' in html  # under 10 t: 3 places
    # before the aggregate's moment there is nothing to show, and it says so
    before = api.client.get("/?at=2014-06-29").text
    assert "No aggregate has been published as of Jun 29, 2014" in before


def test_an_observer_sees_the_public_overview_and_a_cleared_party_the_book(
    conf: tuple[Api, dict[str, Any]],
) -> None:
    api, body = conf
    client = api.client
    assert _log_in(client, api.tokens["obs"]) == 303
    observer = client.get("/")
    assert observer.status_code == 200 and 'id="aggregates"' in observer.text
    assert MARK not in observer.text and "obs (observer)" in observer.text
    client.cookies.clear()
    assert _log_in(client, api.tokens["dec"]) == 303
    cleared = client.get("/")
    assert cleared.status_code == 200
    assert 'id="tallies"' in cleared.text and 'id="aggregates"' not in cleared.text
