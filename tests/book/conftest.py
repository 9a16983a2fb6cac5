"""A ledger with a declared stockpile: sites S-1, S-2, PORT; items I-1..I-3 (DF, DF, HF)."""

from __future__ import annotations

import pytest

from cwledger.ledger.ledger import Ledger
from tests.book.builders import Book, item


@pytest.fixture
def book(ledger: Ledger) -> Book:
    """The ledger with version 1 of a declaration: I-1 (1,000 kg) and I-2 (500 kg) of DF at
    S-1, I-3 (800 kg of HF) at S-2."""
    b = Book(ledger)
    b.declare([item("I-1"), item("I-2", kg=500), item("I-3", "S-2", kg=800, chemical="HF")])
    return b
