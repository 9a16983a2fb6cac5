"""Holdings at a moment are the holdings at the book's last change up to it: the store
names that change with the log's size in one statement (`BookReader.last_change`) and
answers both in one (`BookReader.holdings_as_of`); the API keeps one answer for every
moment between two changes, and a new entry (a back-dated change included) makes it
answer anew. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwledger.book import answers
from cwledger.book.answers import Grouping
from cwledger.ledger.ledger import Ledger
from cwledger.time import from_rfc3339, rfc3339
from tests.api.conftest import Api, make_api
from tests.book.builders import Book, mass
from tests.book.test_rules import _ship

GROUPINGS: tuple[Grouping, ...] = ("site", "chemical", "category", "priority")
SECOND = 1_000_000
"""µs: the API's moments are whole seconds, and so are the events' times here."""


@pytest.fixture
def ledger(any_ledger: Ledger) -> Ledger:
    """The shared `ledger` (under `book`), on each backend in turn."""
    return any_ledger


@pytest.fixture
def moved(book: Book) -> Book:
    """The declared book, then I-1 shipped on 1 March 2014 and received on 5 March, and
    I-3 shipped on 20 March (each event at noon)."""
    _ship(book, "I-1", time="2014-03-01T12:00:00Z")
    book.append(
        "transfer.received",
        {"transfer": "TR-1", "site": "PORT", "items": [{"item": "I-1", "measured": mass(990.0)}]},
        time="2014-03-05T12:00:00Z",
    )
    _ship(book, "I-3", transfer="TR-3", origin="S-2", time="2014-03-20T12:00:00Z")
    return book


def _changes(led: Ledger) -> list[int]:
    """The moments of the book's holdings changes, in order."""
    with led.store.read() as r:
        return sorted({int(row[2]) for row in r.book.dump()["holding_change"]})


def _reference(led: Ledger, at: int | None, by: Grouping, site: str | None = None) -> Any:
    """The holdings document computed in a read transaction, as the CLI computes it."""
    with led.store.read() as r:
        lines = answers.holdings(r.book, at=at, site=site, by=by)
    return [{"key": x.key, "kg": x.grams / 1000, "items": x.items} for x in lines]


def test_the_store_names_the_holdings_at_a_moment_by_the_last_change_up_to_it(
    moved: Book,
) -> None:
    led = moved.ledger
    changes = _changes(led)
    assert len(changes) >= 3
    near = {m + d for m in changes for d in (-1, 0, 1)}
    with led.store.read() as r:
        size = r.size()
        for at in sorted(near) + [None]:
            last = max((m for m in changes if at is None or m <= at), default=None)
            assert r.book.last_change(at) == (size, last), at
            held = r.book.holdings(at)
            assert r.book.holdings_as_of(at) == (size, last, held), at
            if last is not None:
                assert r.book.holdings(last) == held, at


def test_an_empty_book_has_no_last_change(ledger: Ledger) -> None:
    with ledger.store.read() as r:
        size = r.size()
        assert r.book.last_change() == (size, None)
        assert r.book.holdings_as_of(10**15) == (size, None, [])


def _holdings(api: Api, at: int | None, by: Grouping = "site", site: str | None = None) -> Any:
    query = [f"by={by}"] + ([] if at is None else [f"at={rfc3339(at)}"])
    query += [] if site is None else [f"site={site}"]
    answer = api.client.get("/api/v1/holdings?" + "&".join(query), headers=api.auth("insp"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _kept(api: Api) -> list[tuple[Any, ...]]:
    """The keys of the holdings answers the app keeps."""
    return [k for k in api.app.state.answers._answers if k[1] == "holdings-since"]


def test_every_moment_between_two_changes_is_one_kept_answer(moved: Book) -> None:
    led = moved.ledger
    api = make_api(led, ["insp"])
    shipped, received = _changes(led)[-3:-1]
    between = [shipped, shipped + SECOND, received - 86_400 * SECOND, received - SECOND]
    for at in between:
        assert _holdings(api, at) == _reference(led, at, "site"), at
    assert len(_kept(api)) == 1
    assert _holdings(api, received) == _reference(led, received, "site")
    assert len(_kept(api)) == 2


def test_a_back_dated_change_is_answered_at_once(moved: Book) -> None:
    """A shipment logged after the others but dated between two of them: the answer kept
    for that stretch belongs to the log's former size, and is not given again."""
    led = moved.ledger
    api = make_api(led, ["insp"])
    received = from_rfc3339("2014-03-05T12:00:00Z")
    later = from_rfc3339("2014-03-10T00:00:00Z")
    before = _holdings(api, later)
    _ship(moved, "I-2", transfer="TR-2", time="2014-03-08T12:00:00Z")
    after = _holdings(api, later)
    assert after != before and after == _reference(led, later, "site")
    assert _holdings(api, received + SECOND) == _reference(led, received + SECOND, "site")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_moment_grouping_and_site_is_the_reference_answer(
    moved: Book, data: st.DataObject
) -> None:
    led = moved.ledger
    api = make_api(led, ["insp"])
    changes = _changes(led)
    day = 86_400 * SECOND
    seconds = st.integers((changes[0] - day) // SECOND, (changes[-1] + day) // SECOND)
    at = data.draw(st.none() | seconds.map(lambda s: s * SECOND), label="at")
    by = data.draw(st.sampled_from(GROUPINGS), label="by")
    site = data.draw(st.sampled_from([None, "S-1", "S-2", "PORT"]), label="site")
    for _ in range(2):  # computed, then kept
        assert _holdings(api, at, by, site) == _reference(led, at, by, site)


def test_the_answer_is_the_bytes_of_the_response_model(moved: Book) -> None:
    """By site or chemical the answer is computed without the read transaction; its bytes
    are still those of the documented response model (kg as JSON numbers)."""
    api = make_api(moved.ledger, ["insp"])
    body = api.client.get("/api/v1/holdings?by=chemical", headers=api.auth("insp")).content
    assert json.loads(body) == _reference(moved.ledger, None, "chemical")
    assert body.startswith(b'[{"key":') and b" " not in body
