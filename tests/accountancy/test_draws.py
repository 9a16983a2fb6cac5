"""Verifiable random selection on the ledger: commit, reveal, and anyone re-checks the draw
from the log alone; a wrong secret is refused, a wrong draw is caught."""

from __future__ import annotations

import json

import pytest

from cwledger.accountancy.draws import draw, draw_inputs
from cwledger.accountancy.selection import commitment
from cwledger.errors import EventRejected
from tests.book.builders import Book
from tests.conftest import estimate
from tests.test_cli import _cli, run


def _pad(book: Book, n: int) -> None:
    for k in range(n):
        book.append("estimate.recorded", estimate(k, "obs"), author="obs")


def test_commit_reveal_and_check(book: Book) -> None:
    where = str(book.ledger.path)
    run(
        "inspect",
        "commit",
        "--site",
        "S-1",
        "--n",
        "1",
        "--plan",
        "P-1",
        "--as",
        "insp",
        "--ahead",
        "3",
        "--ledger",
        where,
    )
    early = _cli("inspect", "reveal", "P-1", "--as", "insp", "--ledger", where)
    assert early.returncode == 1 and "draws on the root of size" in early.stderr
    _pad(book, 3)
    [chosen] = json.loads(
        run("inspect", "reveal", "P-1", "--as", "insp", "--json", "--ledger", where)
    )
    assert chosen in {"I-1", "I-2"}  # the items the book holds at S-1
    assert "selection P-1 verified: 1 of 2 items" in run(
        "inspect", "check-selection", "P-1", "--ledger", where
    )


def test_a_wrong_secret_is_refused_and_a_wrong_draw_is_caught(book: Book) -> None:
    where = str(book.ledger.path)
    secret = bytes(range(32))
    book.append(
        "selection.committed",
        {
            "plan": "P-2",
            "site": "S-1",
            "n": 1,
            "commitment": commitment(secret),
            "randomness_size": 4,
        },
    )
    _pad(book, 2)
    with pytest.raises(EventRejected, match="the secret does not match the commitment"):
        book.append("selection.revealed", {"plan": "P-2", "secret": "ff" * 32, "selected": ["I-1"]})
    with book.ledger.store.read() as r:
        [drawn] = draw(draw_inputs(r, book.ledger.tree(r), "P-2"), secret)
    wrong = "I-2" if drawn == "I-1" else "I-1"
    book.append("selection.revealed", {"plan": "P-2", "secret": secret.hex(), "selected": [wrong]})
    result = _cli("inspect", "check-selection", "P-2", "--ledger", where)
    assert result.returncode == 1
    assert "does not match" in " ".join(result.stderr.split())
