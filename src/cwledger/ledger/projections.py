"""The book as a projection of the log: replay it, rebuild its tables, check them.

``replay_book`` runs every entry of the log through the book's rules in memory, in log
order, with the authority (parties and roles) as it stood at each entry. ``rebuild``
replaces the stored book with the replay; ``check_book`` replays into a scratch database
and compares it, table by table, with the stored book.

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
the inspectorate declares), in a scratch database. Nothing the operator opened is in it.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, create_engine

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


def replay_book(
    reader: LogReader,
    progress: Progress | None = None,
    operator_key: KeyLookup | None = None,
    *,
    public_only: bool = False,
    opener: Opener | None = None,
) -> Changes:
    """Every change the log's entries make to the book, replayed in memory in log order.

    Raises BookMismatch naming the first entry the rules (or the judgement of a sealed
    body) refuse (a log that the append path would not have written); SealedUnread at the
    first sealed entry that `operator_key` cannot open. With `public_only`, the entries
    with a sealed part are left out (never opened) and an entry the rules refuse without
    them is left out too: the book of what the public reads. `opener`, when given, opens
    the sealed entries instead of `operator_key` (a party's reading).
    """
    book = Book()
    authority = Authority()
    for chunk in reader.iter_entries():
        for e in chunk:
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
        if progress is not None:
            progress(len(chunk))
    return book.changes


def _reasons(problems: Iterable[Problem]) -> str:
    return "; ".join(f"{p.location}: {p.message}" for p in problems)


def _no_key(kid: str) -> None:  # noqa: ARG001 (a KeyLookup that has no key)
    return None


def rebuild(
    store: Store, progress: Progress | None = None, operator_key: KeyLookup | None = None
) -> Changes:
    """Drop the stored book and write the replay of the log in its place (one transaction).
    `operator_key` opens sealed bodies (SealedUnread without it when the log holds one)."""
    with store.write() as w:
        changes = replay_book(w, progress, operator_key)
        w.book.clear()
        w.book.write(changes)
    return changes


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
    `replay_book`.
    """
    with store.read() as r:
        changes = replay_book(r, progress, operator_key, opener=opener)
        stored = r.book.dump()
    scratch = create_engine("sqlite://")
    metadata.create_all(scratch, tables=list(BOOK_TABLES))
    with scratch.begin() as conn:
        BookWriter(conn).write(changes)
        rebuilt = BookWriter(conn).dump()
    scratch.dispose()
    for table in rebuilt:
        want = Counter(_typed(row) for row in rebuilt[table])
        got = Counter(_typed(row) for row in stored.get(table, []))
        if want == got:
            continue
        missing = _ordered((want - got).elements())
        extra = _ordered((got - want).elements())
        detail = (
            f"missing {_plain(missing[0])!r}" if missing else f"unexpected {_plain(extra[0])!r}"
        )
        raise BookMismatch(
            f"the stored book differs from the replay of the log in {table}:"
            f" {plural(len(missing), 'row')} missing, {len(extra)} unexpected; first {detail}"
        )


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
    changes = replay_book(reader, public_only=True)
    scratch = create_engine("sqlite://")
    try:
        metadata.create_all(scratch, tables=list(BOOK_TABLES))
        with scratch.begin() as conn:
            BookWriter(conn).write(changes)
            yield PublicReader(reader.conn, conn)
    finally:
        scratch.dispose()


_Typed = tuple[tuple[str, Any], ...]


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
