"""The book is a projection of the log: rebuilt identically, checked against a replay, on
SQLite and on PostgreSQL (whose stored book is compared with a replay into SQLite)."""

from __future__ import annotations

import pytest

from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import BookMismatch, check_book, rebuild
from tests.book.builders import Book, declaration, item, mass
from tests.book.test_rules import _ship
from tests.conftest import execute_sql


@pytest.fixture
def ledger(any_ledger: Ledger) -> Ledger:
    """The shared `ledger` (under `book`), on each backend in turn."""
    return any_ledger


def _busy(book: Book) -> None:
    """Claims and observations of every kind, a finding among them."""
    _ship(book, "I-1", measured=1000.0)
    book.append(
        "transfer.received",
        {"transfer": "TR-1", "site": "PORT", "items": [{"item": "I-1", "measured": mass(990.0)}]},
    )
    book.append("inventory.taken", {"site": "S-1", "items": []})
    book.append(
        "destruction.batch",
        {
            "batch": "B-1",
            "method": "hydrolysis",
            "venue": "S-2",
            "start": "2014-03-01T00:00:00Z",
            "end": "2014-03-02T00:00:00Z",
            "items": [{"item": "I-3", "kg": 100}],
            "products": [{"item": "RM-1", "label": "reaction mass", "mass": mass(900.0)}],
        },
    )
    book.append(
        "declaration.amended",
        declaration(
            [item("I-1"), item("I-3", "S-2", kg=800, chemical="HF"), item("I-9", "S-2")], version=2
        ),
    )


def test_rebuild_gives_back_the_same_book(book: Book) -> None:
    _busy(book)
    store = book.ledger.store
    with store.read() as r:
        before = r.book.dump()
    assert before["holding_change"] and before["custody_link"] and before["item_position"]
    rebuild(store)
    with store.read() as r:
        assert r.book.dump() == before
    check_book(store)


@pytest.mark.parametrize(
    ("sql", "table"),
    [
        ("UPDATE holding_change SET grams = grams + 1 WHERE item = 'I-3'", "holding_change"),
        ("DELETE FROM custody_link WHERE item = 'I-1' AND idx = 2", "custody_link"),
        (
            "UPDATE book_record SET doc = replace(doc, '\"open\"', '\"resolved\"')"
            " WHERE kind = 'finding'",
            "book_record",
        ),
        ("UPDATE item_position SET site = 'S-2' WHERE item = 'I-2'", "item_position"),
        ("DELETE FROM balance_flow WHERE site = 'S-2' AND flow = 'destroyed'", "balance_flow"),
    ],
)
def test_check_names_the_table_that_differs_from_the_replay(
    book: Book, sql: str, table: str
) -> None:
    _busy(book)
    assert execute_sql(book.ledger, sql) >= 1
    with pytest.raises(BookMismatch, match=f"differs from the replay of the log in {table}"):
        check_book(book.ledger.store)
    rebuild(book.ledger.store)
    check_book(book.ledger.store)
