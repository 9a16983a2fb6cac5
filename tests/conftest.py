"""Shared fixtures: real ledgers on real SQLite files in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from cwledger.ledger.ledger import Ledger

# Timings never go in tests: no per-example deadline anywhere (a loaded CI machine must
# not turn a slow example into a failure).
settings.register_profile("cwledger", deadline=None)
settings.load_profile("cwledger")

ORIGIN = "example.org/cwledger/test"
FOUNDING = [("insp", "inspectorate"), ("dec", "declarant"), ("obs", "observer")]


def estimate(n: int, party: str = "insp") -> dict[str, Any]:
    """The body of an estimate.recorded event: a neutral event any party but the operator
    may write, that no rule of the book refuses."""
    return {
        "estimate": {
            "party": party,
            "value": float(n),
            "u": 1.0,
            "unit": "t",
            "method": "open sources",
            "scope": "total",
        }
    }


def event(n: int, type_: str = "estimate.recorded", **body: Any) -> dict[str, Any]:
    """An event with a unique id and a fixed time (an estimate unless told otherwise)."""
    return {
        "type": type_,
        "id": f"ev-{n:06d}",
        "time": f"2014-01-{1 + n % 28:02d}T10:00:00Z",
        "body": body or estimate(n),
    }


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A new ledger with an operator, an inspectorate, a declarant and an observer."""
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    yield led
    led.close()


def row_counts(led: Ledger) -> dict[str, int]:
    """Rows in every table: compared before and after a refused write."""
    with led.store.read() as r:
        return r.row_counts()


@pytest.fixture
def book(ledger: Ledger) -> Any:
    """The ledger with version 1 of a declaration: I-1 (1,000 kg) and I-2 (500 kg) of DF at
    S-1, I-3 (800 kg of HF) at S-2 (see tests/book/builders.py)."""
    from tests.book.builders import Book, item

    b = Book(ledger)
    b.declare([item("I-1"), item("I-2", kg=500), item("I-3", "S-2", kg=800, chemical="HF")])
    return b
