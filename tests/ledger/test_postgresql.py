"""A ledger whose log is in PostgreSQL: where it is found, two writer processes at once, the
audit's worker processes, the book's check, and refused or repeated batches."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cwledger.errors import ConflictError, EventRejected, LedgerNotFound
from cwledger.ledger.audit import audit
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import BookMismatch, check_book
from cwledger.store import Store
from tests.book.builders import Book, mass
from tests.conftest import FOUNDING, ORIGIN, event, execute_sql, row_counts

T0 = "2013-09-14T00:00:00Z"


@pytest.fixture
def ledger(pg_url: str, tmp_path: Path) -> Any:
    """The shared `ledger` (and so `book`), on PostgreSQL only."""
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time=T0, database_url=pg_url)
    yield led
    led.close()


# -- where the ledger is ---------------------------------------------------------------


def test_init_records_the_database_and_open_finds_it(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    Ledger.init(path, ORIGIN, founding=FOUNDING, time=T0, database_url=pg_url).close()
    url_file = path / "database.url"
    assert url_file.read_text() == pg_url + "\n"
    assert stat.S_IMODE(url_file.stat().st_mode) == 0o600  # it may hold a password
    assert not (path / "ledger.db").exists() and (path / "keys" / "operator.json").is_file()
    for led in (Ledger.open(path), Ledger.open(tmp_path / "elsewhere", database_url=pg_url)):
        assert led.store.engine.dialect.name == "postgresql"
        assert led.authority().origin == ORIGIN
        led.close()
    led = Ledger.open(path)  # the keys come from the directory
    [r] = led.append(led.sign([event(1)], "insp"))
    assert r.index == 1
    led.close()


def test_init_refuses_a_database_or_directory_that_holds_a_ledger(
    pg_url: str, tmp_path: Path
) -> None:
    Ledger.init(tmp_path / "a", ORIGIN, time=T0, database_url=pg_url).close()
    with pytest.raises(ConflictError, match=r"already holds a ledger \(1 entries\)"):
        Ledger.init(tmp_path / "b", ORIGIN, time=T0, database_url=pg_url)
    assert not (tmp_path / "b").exists()
    with pytest.raises(ConflictError, match="already holds a ledger"):
        Ledger.init(tmp_path / "a", ORIGIN, time=T0)  # its database.url names one
    assert not (tmp_path / "a" / "ledger.db").exists()


def test_open_finds_no_ledger_in_an_empty_database(pg_url: str, tmp_path: Path) -> None:
    with pytest.raises(LedgerNotFound):
        Ledger.open(tmp_path)  # neither ledger.db nor database.url
    with pytest.raises(LedgerNotFound, match="no ledger in the database"):
        Ledger.open(tmp_path, database_url=pg_url)
    store = Store.open(pg_url, migrate=False)
    assert store.revision() is None  # looking created nothing
    store.migrate()  # a schema, but no entries yet
    store.close()
    (tmp_path / "database.url").write_text(pg_url + "\n")
    with pytest.raises(LedgerNotFound, match="no ledger in the database"):
        Ledger.open(tmp_path)


def test_the_directorys_ledger_db_comes_before_its_database_url(
    pg_url: str, tmp_path: Path
) -> None:
    Ledger.init(tmp_path, ORIGIN, time=T0).close()
    (tmp_path / "database.url").write_text(pg_url + "\n")
    led = Ledger.open(tmp_path)
    assert led.store.engine.dialect.name == "sqlite"
    led.close()


# -- two writer processes --------------------------------------------------------------

# Opens the ledger, says "ready", waits for "go", appends 10 batches of 5 events as one
# party and prints every receipt's index and event id.
WRITER = """
import json, sys
from pathlib import Path
from cwledger.ledger.ledger import Ledger
from tests.conftest import event
led = Ledger.open(Path(sys.argv[1]))
party, type_, base = sys.argv[2], sys.argv[3], int(sys.argv[4])
print("ready", flush=True)
sys.stdin.readline()
for k in range(10):
    batch = []
    for j in range(5):
        n = base + 5 * k + j
        body = {"inspection": f"I-{n}", "site": "S-1", "kind": "routine"}
        batch.append(event(n, type_, **body) if type_ == "inspection.opened" else event(n))
    for r in led.append(led.sign(batch, party)):
        print(json.dumps([r.index, r.event_id]), flush=True)
led.close()
"""


def test_two_writer_processes_append_without_gaps_or_duplicates(ledger: Ledger) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(ledger.path), party, type_, str(base)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for party, type_, base in (("insp", "inspection.opened", 1000), ("dec", "e", 2000))
    ]
    for w in writers:
        assert w.stdout is not None and w.stdout.readline() == "ready\n"
    for w in writers:  # both are connected: let them race
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    receipts: list[tuple[int, str]] = []
    for w in writers:
        out, _ = w.communicate(timeout=120)
        assert w.returncode == 0
        receipts += [tuple(json.loads(line)) for line in out.splitlines()]  # type: ignore[misc]
    indices = sorted(i for i, _ in receipts)
    assert indices == list(range(1, 101))  # no gap, no index twice
    with ledger.store.read() as r:
        stored = {e.index: e.event_id for e in r.entries(0, r.size())}
        assert r.size() == 101 and r.row_counts()["checkpoint"] == 21  # one per batch
    assert all(stored[i] == eid for i, eid in receipts)
    assert len(set(stored.values())) == 101
    assert audit(ledger.store).size == 101
    # the process-pool path: the workers open the same PostgreSQL database themselves
    assert audit(ledger.store, workers=2, chunk=20).root_hash == audit(ledger.store).root_hash
    check_book(ledger.store)


# -- refused and repeated batches, the book ----------------------------------------------


def test_a_refused_batch_writes_nothing(book: Book) -> None:
    led = book.ledger
    before = row_counts(led)
    with led.store.read() as r:
        book_before = r.book.dump()
    assert before["book_record"] and before["item_position"] and before["holding_change"]
    good = led.sign(
        [
            book.event(
                "seal.applied",
                {"seal": "SEAL-I-1", "type": "metal_cap", "closes": {"kind": "item", "id": "I-1"}},
            )
        ],
        "insp",
    )
    ship = book.event(
        "transfer.shipped",
        {
            "transfer": "TR-1",
            "origin": "S-1",
            "destination": "PORT",
            "due": "2015-01-01T00:00:00Z",
            "items": [{"item": "I-1", "measured": mass(990.0)}, {"item": "I-404"}],
        },
    )
    bad = led.sign([{k: v for k, v in ship.items() if k != "author"}], "dec")
    with pytest.raises(EventRejected) as info:
        led.append([*good, *bad])
    assert [p.location.split(".")[0] for p in info.value.problems] == ["event[1]"]
    assert row_counts(led) == before
    with led.store.read() as r:
        assert r.book.dump() == book_before
    check_book(led.store)


def test_a_repeated_batch_returns_the_first_receipts_and_adds_nothing(book: Book) -> None:
    led = book.ledger
    envelopes = led.sign(
        [
            {k: v for k, v in book.event(t, body).items() if k != "author"}
            for t, body in (
                ("inspection.opened", {"inspection": "IN-1", "site": "S-1", "kind": "routine"}),
                ("inspection.opened", {"inspection": "IN-2", "site": "S-2", "kind": "routine"}),
            )
        ],
        "insp",
    )
    first = led.append(envelopes)
    before = row_counts(led)
    again = led.append(envelopes)
    assert [(r.index, r.leaf_hash, r.event_id) for r in again] == [
        (r.index, r.leaf_hash, r.event_id) for r in first
    ]
    assert all(r.duplicate for r in again) and not any(r.duplicate for r in first)
    assert row_counts(led) == before


def test_the_books_check_is_type_exact(book: Book) -> None:
    """PostgreSQL's own types for the same values pass; another value or type fails."""
    led = book.ledger
    check_book(led.store)
    # numeric instead of bigint: Decimals that are the same whole numbers (a right book)
    execute_sql(led, "ALTER TABLE holding_change ALTER COLUMN grams TYPE numeric")
    check_book(led.store)
    execute_sql(led, "UPDATE holding_change SET grams = grams + 0.5 WHERE item = 'I-3'")
    with pytest.raises(BookMismatch, match="in holding_change"):
        check_book(led.store)
    execute_sql(led, "UPDATE holding_change SET grams = grams - 0.5 WHERE item = 'I-3'")
    check_book(led.store)
    # double precision: 800000.0 == 800000 in Python, but a float is not the book's integer
    execute_sql(led, "ALTER TABLE holding_change ALTER COLUMN grams TYPE double precision")
    with pytest.raises(BookMismatch, match="in holding_change"):
        check_book(led.store)
    execute_sql(led, "ALTER TABLE holding_change ALTER COLUMN grams TYPE bigint")
    check_book(led.store)
    # text: "800000" is not 800000
    execute_sql(led, "ALTER TABLE holding_change ALTER COLUMN grams TYPE text")
    with pytest.raises(BookMismatch, match="in holding_change"):
        check_book(led.store)
