"""The book's replay holds no per-event state: `rebuild` and `check_book` of a 50,000-event
ledger run under a memory cap that a 5,000-event ledger fits in comfortably.

The cap is ``RLIMIT_DATA`` (the process's heap and private mappings), set in a child
process (never the test runner's) after it has rebuilt and checked a 5,000-event ledger
(imports, caches and one chunk's worth of work all in place): what it then uses plus
`HEADROOM`. A replay keeping a dictionary entry (or a list item) per event needs more than
that for 45,000 more events: the replay of the whole log in memory, as it was before the
book was flushed a chunk at a time, fails here with MemoryError.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine

from cwledger.ledger import projections
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import SealedUnread, rebuild
from cwledger.scenario.synth import synth
from cwledger.store.book import BookWriter
from cwledger.store.schema import BOOK_TABLES, metadata
from tests.book.builders import Book, item, site
from tests.book.test_projection import _busy
from tests.memory_cap import PRELUDE, dies_of_memory, run_child

SMALL, LARGE = 5_000, 50_000
HEADROOM_MB = 24
"""Above what the child uses once it has handled the small ledger; the changes of the whole
large ledger held at once take about 1 KB per event (50 MB), a chunk's about 2 MB."""

CHILD = (
    PRELUDE
    + """
from cwledger.ledger.projections import check_book, rebuild

def run(ledger, large):
    rebuild(ledger.store)
    check_book(ledger.store)
    return []

small_then_large(run)
"""
)


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bounded")
    for name, events in (("small", SMALL), ("large", LARGE)):
        synth(root / name, sites=4, items=300, events=events, seed=17)
    return root / "small", root / "large"


def test_rebuild_and_check_of_a_long_log_fit_the_memory_of_a_short_one(
    ledgers: tuple[Path, Path],
) -> None:
    done = run_child(CHILD, *ledgers, HEADROOM_MB)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["small", "large"]


def test_the_cap_is_tight_enough_to_catch_a_per_event_dictionary(
    ledgers: tuple[Path, Path],
) -> None:
    """The same child, keeping three small dictionaries per event of the large ledger as it
    goes (about what a replay in memory held: a position, a movement and a custody link),
    runs out of memory under the cap."""
    leaky = CHILD.replace(
        "    rebuild(ledger.store)",
        "    kept = [] if large else None\n"
        "    def keep(n):\n"
        "        for i in range(n if kept is not None else 0):\n"
        "            kept.extend({'item': f'I-{i:07d}', 'at': i, 'k': k} for k in 'pmc')\n"
        "    rebuild(ledger.store, keep)",
    )
    assert dies_of_memory(leaky, *ledgers, HEADROOM_MB)


_ROWS = st.dictionaries(
    st.tuples(st.integers(0, 5), st.text("ab", max_size=2)), st.integers(0, 2), max_size=12
)


@given(_ROWS, _ROWS)
def test_the_streamed_comparison_counts_and_names_as_the_multiset_one_did(
    replayed: dict[tuple[int, str], int], stored: dict[tuple[int, str], int]
) -> None:
    """`_walk` over two tables in key order finds the missing and unexpected rows the
    comparison of the two as multisets (the whole tables in memory) found, and names the
    same first one."""

    def typed(rows: dict[tuple[int, str], int]) -> list[Any]:
        return [projections._typed((*k, v)) for k, v in sorted(rows.items())]

    def keyed(rows: dict[tuple[int, str], int]) -> Iterator[Any]:
        return ((tuple(projections._rank(c) for c in t[:2]), t) for t in typed(rows))

    want, got = Counter(typed(replayed)), Counter(typed(stored))
    missing, extra = sorted((want - got).elements()), sorted((got - want).elements())
    counts, first = projections._walk(keyed(replayed), keyed(stored))
    assert counts == (len(missing), len(extra))
    assert first == (missing or extra or [()])[0]


def test_rows_out_of_key_order_are_noticed_not_misjudged() -> None:
    rows = [((0, 1),), ((0, 0),)]
    with pytest.raises(projections._Unordered):
        projections._walk(iter([(k, ()) for (k,) in rows]), iter([]))


def test_a_rebuild_that_stops_leaves_the_stored_book_as_it_was(conf: Ledger) -> None:
    """The rebuild empties the book's tables before it replays into them, a chunk at a
    time: when it stops (here at a sealed entry it has no key for), nothing of that is
    kept."""
    b = Book(conf)
    b.declare([item("I-1"), item("I-2", kg=500)])
    b.append("site.declared", {"site": site("S-3")})
    with conf.store.read() as r:
        before = r.book.dump()
    assert before["book_record"] and before["item_position"]
    with pytest.raises(SealedUnread):
        rebuild(conf.store, None, None)
    with conf.store.read() as r:
        assert r.book.dump() == before


@pytest.mark.parametrize("chunk", [7, 500])
def test_a_replay_in_chunks_is_the_book_the_append_path_wrote(tmp_path: Path, chunk: int) -> None:
    """Replayed into an empty book a few entries at a time, a synthetic ledger's book is
    row for row the one the append path wrote, batch by batch."""
    synth(tmp_path / "l", sites=3, items=60, events=2500, seed=5)
    led = Ledger.open(tmp_path / "l")
    scratch = create_engine(f"sqlite:///{tmp_path / 'book.db'}")
    metadata.create_all(scratch, tables=list(BOOK_TABLES))
    with led.store.read() as r, scratch.begin() as conn:
        done = projections.replay_book(r, BookWriter(conn), chunk=chunk)
        assert done.records == r.book.count_records() > 0
        assert BookWriter(conn).dump() == r.book.dump()
    scratch.dispose()
    led.close()


def test_a_replay_one_entry_at_a_time_is_the_book_the_append_path_wrote(
    book: Book, tmp_path: Path
) -> None:
    """Claims and observations of every kind (tests/book/test_projection.py), flushed
    after every entry."""
    _busy(book)
    scratch = create_engine(f"sqlite:///{tmp_path / 'book.db'}")
    metadata.create_all(scratch, tables=list(BOOK_TABLES))
    with book.ledger.store.read() as r, scratch.begin() as conn:
        projections.replay_book(r, BookWriter(conn), chunk=1)
        stored = r.book.dump()
        assert stored["holding_change"] and stored["item_position"]
        assert BookWriter(conn).dump() == stored
    scratch.dispose()
