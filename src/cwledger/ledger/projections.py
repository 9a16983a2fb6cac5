"""The book as a projection of the log: replay it, rebuild its tables, check them.

``replay_book`` runs every entry of the log through the book's rules, in log order, with
the authority (parties and roles) as it stood at each entry, into book tables: a chunk of
entries at a time, their changes written at the end of each chunk and the records the
rules read kept in a bounded cache in front of those tables, so that its memory does not
grow with the log (docs/performance.md, "Replaying the book"). ``rebuild`` replaces the
stored book with the replay; ``check_book`` replays into a scratch SQLite file and compares
it, table by table, with the stored book, both streamed in key order.

In a confidential ledger the replay opens each sealed body with the operator's keys
(`operator_key`, e.g. ``Ledger.operator_keys()``) and judges it exactly as the append path
did (``cwledger.ledger.confidential.unseal``), and each ``payload.shared`` entry as well
(``cwledger.ledger.sharing.check_share``). Without the key it cannot apply the rules: it
raises SealedUnread, never a replay of a part of the log.

`opener` replays instead with another party's reading (``cwledger.ledger.reading``:
`verify --as PARTY`), judged the same way from that party's boxes.

``public_view`` is what an observer may be shown of a confidential ledger: the log as it
is (its bodies are sealed) with, as its book, the replay of the entries that hold nothing
sealed (governance, milestones, documents, estimates, the escrow's commitments, the sites
the inspectorate declares), in a scratch SQLite file. Nothing the operator opened is in it.
"""

from __future__ import annotations

import functools
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, create_engine, select

from cwledger.book.book import Book, Changes, Context
from cwledger.errors import NotEntitled, Problem, VerificationError
from cwledger.ledger.admission import DecodedEntry, decode_entry
from cwledger.ledger.authority import Authority
from cwledger.ledger.confidential import OPERATOR, KeyLookup, operator_box_key, unseal, unsealed
from cwledger.ledger.sharing import check_share, entry_at
from cwledger.store import LogReader, Store
from cwledger.store.book import BookReader, BookWriter
from cwledger.store.schema import BOOK_TABLES, metadata
from cwledger.time import from_rfc3339
from cwledger.words import plural

__all__ = [
    "replay_book",
    "Replayed",
    "rebuild",
    "check_book",
    "public_view",
    "PublicReader",
    "BookMismatch",
    "SealedUnread",
    "Opener",
]

Progress = Callable[[int], None]

Opener = Callable[[DecodedEntry, Authority, int], tuple[DecodedEntry | None, list[Problem]]]
"""Opens a sealed entry at an index, with the authority in force there, and judges it as
`unseal` does: the entry with its whole body, or None and the problems."""


class BookMismatch(VerificationError):
    """The stored book is not what the log replays to."""

    code = "book-mismatch"


class SealedUnread(NotEntitled):
    """The log holds a sealed body and the operator's key that opens it is not at hand:
    the book cannot be replayed here."""

    def __init__(self, index: int, kid: str | None) -> None:
        self.index = index
        key = f"its encryption key {kid}" if kid else "an encryption key"
        super().__init__(
            f"entry {index} is sealed and this keystore lacks {key} of the {OPERATOR}: "
            "the book's rules cannot be replayed without opening it"
        )


REPLAY_CHUNK = 2_000
"""Entries replayed between two flushes of the book's changes into the store."""


@dataclass(frozen=True, slots=True)
class Replayed:
    """What a replay wrote: the book's records and its holdings changes."""

    records: int
    movements: int


def replay_book(
    reader: LogReader,
    into: BookWriter,
    progress: Progress | None = None,
    operator_key: KeyLookup | None = None,
    *,
    public_only: bool = False,
    opener: Opener | None = None,
    chunk: int = REPLAY_CHUNK,
) -> Replayed:
    """Replay every entry of the log through the book's rules, in log order, into the book
    tables `into` writes (empty at the start; the log's own store or a scratch database).

    The log is read and the changes written a chunk of `chunk` entries at a time, and the
    rules read the records they need from `into` through a bounded cache: the replay holds
    no per-entry state, whatever the log's length.

    Raises BookMismatch naming the first entry the rules (or the judgement of a sealed
    body) refuse (a log that the append path would not have written); SealedUnread at the
    first sealed entry that `operator_key` cannot open. With `public_only`, the entries
    with a sealed part are left out (never opened) and an entry the rules refuse without
    them is left out too: the book of what the public reads. `opener`, when given, opens
    the sealed entries instead of `operator_key` (a party's reading).
    """
    book = Book(into, empty=True)
    authority = Authority()
    movements = 0

    def write(changes: Changes) -> None:
        nonlocal movements
        movements += len(changes.movements)
        into.write(changes)

    for entries in reader.iter_entries(chunk=chunk):
        for e in entries:
            d = decode_entry(e.envelope, check_canonical=False)
            if d.etype.governance:
                if operator_key is not None and opener is None and not public_only:
                    at = functools.partial(entry_at, reader, e.index, ())
                    if refused := check_share(d, authority, e.index, at, operator_key):
                        raise BookMismatch(f"entry {e.index}: {_reasons(refused)}")
                authority.apply(d.body, e.index)
                continue
            if d.sealed is not None and public_only:
                continue
            if d.sealed is not None and opener is not None:
                opened, refused = opener(d, authority, e.index)
                if opened is None:
                    raise BookMismatch(f"entry {e.index}: {_reasons(refused)}")
                d = opened
            elif d.sealed is not None:
                kid = operator_box_key(d.sealed)
                closed = operator_key is None or kid is None or operator_key(kid) is None
                if authority.confidential and closed and kid is not None:
                    raise SealedUnread(e.index, kid)
                opened, refused = unseal(d, authority, e.index, operator_key or _no_key)
                if opened is None:
                    raise BookMismatch(f"entry {e.index}: {_reasons(refused)}")
                d = opened
            elif refused := unsealed(d, authority):
                raise BookMismatch(f"entry {e.index}: {_reasons(refused)}")
            assert d.body is not None
            role = authority.parties[d.event.author].role
            refused = d.etype.apply(
                book, Context(d.event, d.body, e.index, from_rfc3339(d.event.time), role)
            )
            if refused and public_only:
                continue
            if refused:
                why = _reasons(refused)
                raise BookMismatch(f"entry {e.index}: the book's rules refuse it: {why}")
        book.flush(write)
        if progress is not None:
            progress(len(entries))
    return Replayed(into.count_records(), movements)


def _reasons(problems: Iterable[Problem]) -> str:
    return "; ".join(f"{p.location}: {p.message}" for p in problems)


def _no_key(kid: str) -> None:  # noqa: ARG001 (a KeyLookup that has no key)
    return None


def rebuild(
    store: Store, progress: Progress | None = None, operator_key: KeyLookup | None = None
) -> Replayed:
    """Drop the stored book and write the replay of the log in its place (one transaction),
    a chunk at a time. `operator_key` opens sealed bodies (SealedUnread without it when the
    log holds one)."""
    with store.write() as w:
        w.book.clear()
        return replay_book(w, w.book, progress, operator_key)


@contextmanager
def _scratch_book() -> Iterator[Connection]:
    """A transaction on an empty book in a scratch SQLite file (on disk, not in memory: the
    book of a long log is as long), removed at the end."""
    with tempfile.TemporaryDirectory(prefix="cwledger-book-") as where:
        scratch = create_engine(f"sqlite:///{Path(where) / 'book.db'}")
        try:
            metadata.create_all(scratch, tables=list(BOOK_TABLES))
            with scratch.begin() as conn:
                yield conn
        finally:
            scratch.dispose()


def check_book(
    store: Store,
    progress: Progress | None = None,
    operator_key: KeyLookup | None = None,
    *,
    opener: Opener | None = None,
) -> None:
    """Replay the log into a scratch database and compare with the stored book.

    Raises BookMismatch naming the first table and row that differ; SealedUnread when a
    sealed body does not open with `operator_key` (or there is none). `opener`: as for
    `replay_book`. The tables are compared as two streams in key order, a page at a time.
    """
    with store.read() as r, _scratch_book() as conn:
        replay_book(r, BookWriter(conn), progress, operator_key, opener=opener)
        for table in BOOK_TABLES:
            _compare(table, conn, r.conn)


PAGE_ROWS = 2_000
"""Rows of a book table read at a time when the stored book is compared with the replay."""


def _compare(table: Table, replayed: Connection, stored: Connection) -> None:
    """Raise BookMismatch if a book table differs between the replay and the stored book:
    the counts of missing and unexpected rows, and the first missing one (else the first
    unexpected). A row whose key is in both but whose other values differ counts as one of
    each. The two are walked side by side in key order; if either turns out not to be in
    that order (a value of another type in a stored column), they are compared as two
    multisets instead."""
    try:
        counts, first = _walk(_rows(replayed, table), _rows(stored, table))
    except _Unordered:
        counts, first = _multisets(table, replayed, stored)
    n_missing, n_extra = counts
    if n_missing or n_extra:
        what = "missing" if n_missing else "unexpected"
        raise BookMismatch(
            f"the stored book differs from the replay of the log in {table.name}:"
            f" {plural(n_missing, 'row')} missing, {n_extra} unexpected;"
            f" first {what} {_plain(first)!r}"
        )


class _Unordered(Exception):
    """A stream of rows that is not in key order (`_walk`)."""


_Typed = tuple[tuple[str, Any], ...]
_Keyed = tuple[tuple[Any, ...], _Typed]


def _rows(conn: Connection, table: Table) -> Iterator[_Keyed]:
    """The rows of a book table with their keys, in the primary key's order (code point
    order for text on every backend: ``schema._string``), streamed a page at a time."""
    keys = list(table.primary_key.columns)
    at = [list(table.columns).index(c) for c in keys]
    q = select(table).order_by(*keys)
    for row in conn.execution_options(yield_per=PAGE_ROWS).execute(q):
        typed = _typed(row)
        yield tuple(_rank(typed[i]) for i in at), typed


def _rank(cell: tuple[str, Any]) -> tuple[int, Any]:
    """A key value as the databases order it: numbers, then text, then bytes."""
    name, value = cell
    return {"int": 0, "float": 0, "str": 1, "bytes": 2}.get(name, 3), value


def _walk(want: Iterator[_Keyed], got: Iterator[_Keyed]) -> tuple[tuple[int, int], _Typed]:
    """(missing, unexpected): the counts of the rows of `want` not in `got` and the other
    way round, both in strictly increasing key order; and the first missing row (else the
    first unexpected, else an empty row)."""
    n_missing = n_extra = 0
    first_missing: _Typed | None = None
    first_extra: _Typed | None = None
    a, b = _next(want, None), _next(got, None)
    while a is not None or b is not None:
        if a is not None and b is not None and a[0] == b[0]:
            if a[1] != b[1]:
                n_missing, n_extra = n_missing + 1, n_extra + 1
                first_missing = first_missing or a[1]
                first_extra = first_extra or b[1]
            a, b = _next(want, a), _next(got, b)
        elif a is not None and (b is None or a[0] < b[0]):
            n_missing += 1
            first_missing = first_missing or a[1]
            a = _next(want, a)
        elif b is not None:
            n_extra += 1
            first_extra = first_extra or b[1]
            b = _next(got, b)
    return (n_missing, n_extra), first_missing or first_extra or ()


def _next(rows: Iterator[_Keyed], last: _Keyed | None) -> _Keyed | None:
    """The next row, checked to come after `last` in key order (else _Unordered)."""
    row = next(rows, None)
    if row is not None and last is not None:
        try:
            ordered = last[0] < row[0]
        except TypeError:
            ordered = False
        if not ordered:
            raise _Unordered
    return row


def _multisets(
    table: Table, replayed: Connection, stored: Connection
) -> tuple[tuple[int, int], _Typed]:
    """`_walk`'s answer for rows in no usable order: the two tables as multisets, in memory."""
    want = Counter(_typed(row) for row in replayed.execute(select(table)))
    got = Counter(_typed(row) for row in stored.execute(select(table)))
    missing = _ordered((want - got).elements())
    extra = _ordered((got - want).elements())
    return (len(missing), len(extra)), (missing or extra or [()])[0]


class PublicReader(LogReader):
    """A reader of the log whose book is another one (the public replay, `public_view`)."""

    def __init__(self, conn: Connection, book_conn: Connection) -> None:
        super().__init__(conn)
        self._book_conn = book_conn

    @property
    def book(self) -> BookReader:
        return BookReader(self._book_conn)


@contextmanager
def public_view(reader: LogReader) -> Iterator[PublicReader]:
    """The log `reader` reads with, as its book, the replay of its entries that hold
    nothing sealed (module doc), in a scratch database dropped at the end."""
    with _scratch_book() as conn:
        replay_book(reader, BookWriter(conn), public_only=True)
        yield PublicReader(reader.conn, conn)


def _cell(value: Any) -> tuple[str, Any]:
    """A stored value tagged with its type, so that rows compare type-exactly (1, 1.0, True
    and "1" all differ) whatever the backend. Only the drivers' ways of returning the same
    value are made one: bytes-like values (memoryview, bytearray) as bytes, and a Decimal
    that is a whole number (PostgreSQL's numeric) as an int."""
    if isinstance(value, memoryview | bytearray):
        value = bytes(value)
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    return type(value).__name__, value


def _typed(row: Iterable[Any]) -> _Typed:
    return tuple(_cell(v) for v in row)


def _plain(row: _Typed) -> tuple[Any, ...]:
    return tuple(v for _, v in row)


def _ordered(rows: Iterable[_Typed]) -> list[_Typed]:
    """Rows in their natural order when they have one, else by their text."""
    out = list(rows)
    try:
        return sorted(out)
    except TypeError:
        return sorted(out, key=repr)
