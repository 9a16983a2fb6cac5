"""The store: one interface over the SQL backends (SQLite embedded, PostgreSQL via psycopg 3).

The store owns transactions. Readers get a consistent snapshot (SQLite: one ``BEGIN``;
PostgreSQL: ``REPEATABLE READ, READ ONLY``); a writer gets one transaction serialised by
the database (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: ``READ COMMITTED`` whose first
statement takes the ledger's transaction-level advisory lock, so every later statement
sees the previous writer's commit) that commits durably (SQLite: WAL with
``synchronous=FULL``; PostgreSQL: ``synchronous_commit`` as configured, ``on`` by default)
when the block ends, or writes nothing if it raises. Ledger code never sees SQL.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    create_engine,
    event,
    func,
    insert,
    make_url,
    or_,
    select,
    update,
)

from cwledger.errors import ConflictError
from cwledger.store import driver
from cwledger.store.access import AccessList
from cwledger.store.book import BookReader, BookWriter
from cwledger.store.entries import (
    StoredEntry,
    blob,
    checked_row,
    entry_from_row,
    entry_row,
    row_bytes,
    tile_hashes,
)
from cwledger.store.schema import (
    SCHEMA_REVISION,
    checkpoint,
    cosignature,
    ledger_meta,
    log_entry,
    metadata,
    tree_tile,
    witness_state,
)

__all__ = [
    "Store",
    "LogReader",
    "LogWriter",
    "StoredEntry",
    "StoredCheckpoint",
    "StoredCosignature",
    "WitnessState",
    "cosignature_chain",
    "disk_full",
]

NO_CHAIN = bytes(32)
"""The chain value before a witness's first cosignature."""


def cosignature_chain(previous: bytes, size: int, line: str) -> bytes:
    """The chain value after a witness's cosignature `line` of the checkpoint for `size`:
    SHA-256 over the previous value, the size (8 bytes, big-endian) and the line (UTF-8)."""
    return hashlib.sha256(previous + size.to_bytes(8, "big") + line.encode()).digest()


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint as stored."""

    size: int
    root_hash: bytes
    note: str  # as the log signed it
    signed_at: str
    quorum: int = 0  # the cosignatures the witness policy in force asks for
    cosignatures: tuple[str, ...] = ()  # the witnesses' lines collected (where read)

    @property
    def cosigned_note(self) -> str:
        """The note with every cosignature collected: what the log serves."""
        return self.note + "".join(line + "\n" for line in self.cosignatures)


@dataclass(frozen=True, slots=True)
class StoredCosignature:
    """A witness's cosignature of a stored checkpoint, as collected."""

    checkpoint_size: int
    witness: str  # its verifier key
    line: str
    cosigned_at: int  # the cosignature's timestamp, POSIX seconds
    chain: bytes


@dataclass(frozen=True, slots=True)
class WitnessState:
    """What the log knows of one witness: the size it last cosigned, the head of its
    cosignatures' chain and how many there are, and its last attempt and failure."""

    witness: str
    size: int
    chain: bytes
    cosignatures: int
    attempted_at: int | None
    failure: str | None


def checkpoint_from_row(r: Any) -> StoredCheckpoint:
    """A checkpoint's row (size, root hash, note, signed at, quorum), read strictly:
    CorruptRow for a root hash that is not bytes."""
    root = row_bytes(r[1], "root hash", "the checkpoint for size {}", r[0])
    return StoredCheckpoint(r[0], root, r[2], r[3], r[4])


def cosignature_from_row(r: Any) -> StoredCosignature:
    """A cosignature's row (checkpoint size, witness, line, cosigned at, chain hash), read
    strictly: CorruptRow for a chain hash that is not bytes."""
    chain = row_bytes(r[4], "chain hash", "the cosignature for size {} by {}", r[0], r[1])
    return StoredCosignature(int(r[0]), r[1], r[2], int(r[3]), chain)


_ENTRY_COLUMNS = (
    log_entry.c.idx,
    log_entry.c.leaf_hash,
    log_entry.c.event_id,
    log_entry.c.event_type,
    log_entry.c.author,
    log_entry.c.event_time,
    log_entry.c.envelope,
    log_entry.c.logged_at,
)
_INSERT_COLUMNS = (*_ENTRY_COLUMNS, log_entry.c.event_at, log_entry.c.checkpoint_size)


_INSERT_ENTRY = (
    "INSERT INTO log_entry (" + ", ".join(c.name for c in _INSERT_COLUMNS) + ") VALUES ({})"
)


# Statements built once: every read of the API runs some of these (building a statement
# costs more than SQLite running it).
_SIZE = "SELECT max(idx) FROM log_entry"
_ENTRY_SELECT = "SELECT " + ", ".join(c.name for c in _ENTRY_COLUMNS)  # entry_from_row's
_RANGE = _ENTRY_SELECT + " FROM log_entry WHERE idx >= ? AND idx < ? ORDER BY idx"
_WHERE_IN = _ENTRY_SELECT + " FROM log_entry WHERE {} IN ({})"
_OF_TYPES = _ENTRY_SELECT + " FROM log_entry WHERE event_type IN ({}) ORDER BY idx"
_INSERT_TILE = "INSERT INTO tree_tile (level, idx, hashes) VALUES (?, ?, ?)"
_UPDATE_TILE = "UPDATE tree_tile SET hashes = ? WHERE level = ? AND idx = ?"
_INSERT_CHECKPOINT = (
    "INSERT INTO checkpoint (size, root_hash, note, signed_at, quorum) VALUES (?, ?, ?, ?, ?)"
)
_ENVELOPES = "SELECT idx, envelope FROM log_entry WHERE idx >= ? AND idx < ? ORDER BY idx"
_RANGE_AS_STORED = (
    _ENTRY_SELECT
    + ", event_at, checkpoint_size FROM log_entry WHERE idx >= ? AND idx < ? ORDER BY idx"
)
# The checkpoint the log publishes: the newest one holding the cosignatures its quorum asks.
_LATEST_CHECKPOINT = (
    "SELECT size, root_hash, note, signed_at, quorum FROM checkpoint c WHERE quorum = 0"
    " OR quorum <= (SELECT count(*) FROM cosignature s WHERE s.checkpoint_size = c.size)"
    " ORDER BY size DESC LIMIT 1"
)
_NEWEST_CHECKPOINT = (
    "SELECT size, root_hash, note, signed_at, quorum FROM checkpoint ORDER BY size DESC LIMIT 1"
)
_COSIGNATURE_LINES = "SELECT line FROM cosignature WHERE checkpoint_size = ? ORDER BY witness"
_WITH_LINES = (
    "SELECT k.size, k.root_hash, k.note, k.signed_at, k.quorum, w.line FROM ({}) k"
    " LEFT JOIN cosignature w ON w.checkpoint_size = k.size ORDER BY w.witness"
)


class LogReader:
    """Reads inside one transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @property
    def book(self) -> BookReader:
        """The book's tables, in this transaction."""
        return BookReader(self.conn)

    @property
    def access(self) -> AccessList:
        """The server's access list (API tokens), in this transaction."""
        return AccessList(self.conn)

    def size(self) -> int:
        """Number of entries: one past the highest stored index."""
        ((top,),) = driver.rows(self.conn, _SIZE)
        return 0 if top is None else int(top) + 1

    def entries(self, start: int, end: int) -> list[StoredEntry]:
        """Entries with start <= index < end, in log order."""
        return [entry_from_row(r) for r in driver.rows(self.conn, _RANGE, (start, end))]

    def envelopes(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """(index, stored envelope) of the entries with start <= index < end, in log order:
        only these two columns (an entry bundle needs no more)."""
        return [
            (r[0], blob(r[1], r[0], "envelope"))
            for r in driver.rows(self.conn, _ENVELOPES, (start, end))
        ]

    def iter_entries(self, start: int = 0, chunk: int = 5000) -> Iterator[list[StoredEntry]]:
        """All entries from `start` in log order, in chunks (rows as stored, gaps included)."""
        last = start - 1
        while True:
            q = (
                select(*_ENTRY_COLUMNS)
                .where(log_entry.c.idx > last)
                .order_by(log_entry.c.idx)
                .limit(chunk)
            )
            rows = [entry_from_row(r) for r in self.conn.execute(q)]
            if not rows:
                return
            yield rows
            last = rows[-1].index

    def event_times(self, chunk: int = 20_000) -> Iterator[tuple[int, str]]:
        """(index, event time as written) of every entry, in log order, a chunk at a time:
        only these two columns, not the envelopes."""
        c = log_entry.c
        after = -1
        while True:
            q = select(c.idx, c.event_time).where(c.idx > after).order_by(c.idx).limit(chunk)
            rows = [(int(r[0]), str(r[1])) for r in self.conn.execute(q)]
            if not rows:
                return
            yield from rows
            after = rows[-1][0]

    def audited_rows(self, start: int, end: int) -> list[Sequence[Any]]:
        """The rows of the entries with start <= index < end, in log order, as stored: (index,
        leaf hash, event id, event type, author, event time, envelope, log time, the stored
        moment of the event time, the size of the checkpoint its batch signed). One
        statement; the binary columns and the log time checked as `entry_from_row` checks
        them (CorruptEntry). The moment and the size are as the database holds them, not
        converted: the audit compares them with the entry's time and with the stored
        checkpoints, so a value that is no number (SQLite keeps what it is given) is named
        as a bad entry or batch, not a crash."""
        return [checked_row(r) for r in driver.rows(self.conn, _RANGE_AS_STORED, (start, end))]

    def entries_by_leaf_hash(self, leaf_hashes: Iterable[bytes]) -> dict[bytes, StoredEntry]:
        """The stored entries with any of these leaf hashes, by leaf hash."""
        return {e.leaf_hash: e for e in self._entries_where("leaf_hash", leaf_hashes)}

    def entries_by_event_id(self, event_ids: Iterable[str]) -> dict[str, StoredEntry]:
        """The stored entries with any of these event ids, by event id."""
        return {e.event_id: e for e in self._entries_where("event_id", event_ids)}

    def _entries_where(self, column: str, values: Iterable[Any]) -> list[StoredEntry]:
        """Plain SQL on the driver (the append path asks once per chunk of a batch)."""
        wanted = list(set(values))
        out: list[StoredEntry] = []
        for i in range(0, len(wanted), 500):  # stay far below any backend's parameter limit
            part = wanted[i : i + 500]
            sql = _WHERE_IN.format(column, ", ".join("?" * len(part)))
            out += [entry_from_row(r) for r in driver.rows(self.conn, sql, part)]
        return out

    def late_entries(
        self, late_after: int, within: tuple[int, int] | None = None
    ) -> list[StoredEntry]:
        """Entries the log took more than `late_after` microseconds after their event time,
        in log order; with `within` (start, end), only those whose event time or log time
        is in [start, end). Entries whose log time is unknown are never listed."""
        c = log_entry.c
        q = select(*_ENTRY_COLUMNS).where(
            c.logged_at.is_not(None), c.logged_at - c.event_at > late_after
        )
        if within is not None:
            start, end = within
            q = q.where(
                or_(
                    and_(c.event_at >= start, c.event_at < end),
                    and_(c.logged_at >= start, c.logged_at < end),
                )
            )
        return [entry_from_row(r) for r in self.conn.execute(q.order_by(c.idx))]

    def late_among(self, event_ids: Iterable[str], late_after: int) -> set[str]:
        """Those of these event ids whose entries the log took more than `late_after`
        microseconds after their event time (only these two columns are read)."""
        c = log_entry.c
        wanted = sorted(set(event_ids))
        out: set[str] = set()
        for i in range(0, len(wanted), 500):  # stay far below any backend's parameter limit
            q = select(c.event_id).where(
                c.event_id.in_(wanted[i : i + 500]),
                c.logged_at.is_not(None),
                c.logged_at - c.event_at > late_after,
            )
            out.update(str(r[0]) for r in self.conn.execute(q))
        return out

    def unknown_log_times(self) -> int:
        """How many entries were appended before the log recorded its own time."""
        q = select(func.count()).select_from(log_entry).where(log_entry.c.logged_at.is_(None))
        return int(self.conn.execute(q).scalar_one())

    def entries_of_types(self, types: Iterable[str]) -> list[StoredEntry]:
        """Entries of the given event types, in log order. Plain SQL on the driver: every
        append's transaction replays the governance by it, and building the statement
        with SQLAlchemy (an IN of a dozen types) took most of a replay's time."""
        wanted = list(types)
        if not wanted:
            return []
        sql = _OF_TYPES.format(", ".join("?" * len(wanted)))
        return [entry_from_row(r) for r in driver.rows(self.conn, sql, wanted)]

    def tiles(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored rows of the tiles (level, index) asked for; absent tiles are left out.
        Raises CorruptTile for a row that holds no bytes."""
        by_level: dict[int, set[int]] = {}
        for level, idx in keys:
            by_level.setdefault(level, set()).add(idx)
        if not by_level:
            return {}
        # One (level = ? AND idx IN (...)) term per level: each one a primary-key lookup
        # (a row-value IN over (level, idx) makes SQLite scan the table). Plain SQL to the
        # driver: this is the hot path of every proof, and building the statement with
        # SQLAlchemy costs more than running it.
        mark = driver.mark(self.conn)
        if mark is None:  # another driver: let SQLAlchemy build it
            q = select(tree_tile.c.level, tree_tile.c.idx, tree_tile.c.hashes).where(
                or_(
                    *(
                        and_(tree_tile.c.level == level, tree_tile.c.idx.in_(sorted(idxs)))
                        for level, idxs in by_level.items()
                    )
                )
            )
            return {(r[0], r[1]): tile_hashes(r[2], r[0], r[1]) for r in self.conn.execute(q)}
        terms, params = [], []
        for level, idxs in by_level.items():
            terms.append(f"(level = {mark} AND idx IN ({', '.join([mark] * len(idxs))}))")
            params += [level, *idxs]
        sql = f"SELECT level, idx, hashes FROM tree_tile WHERE {' OR '.join(terms)}"
        cursor = self._driver_cursor()
        try:
            cursor.execute(sql, params)
            return {(r[0], r[1]): tile_hashes(r[2], r[0], r[1]) for r in cursor.fetchall()}
        finally:
            cursor.close()

    def _driver_cursor(self) -> Any:
        """A cursor of the DB-API connection under this transaction."""
        return self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def all_tiles(self) -> Iterator[tuple[int, int, bytes]]:
        """Every stored tile, by level then index."""
        q = select(tree_tile.c.level, tree_tile.c.idx, tree_tile.c.hashes).order_by(
            tree_tile.c.level, tree_tile.c.idx
        )
        for r in self.conn.execute(q):
            yield r[0], r[1], tile_hashes(r[2], r[0], r[1])

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, by size (without its cosignatures: `cosignatures`)."""
        c = checkpoint.c
        q = select(c.size, c.root_hash, c.note, c.signed_at, c.quorum).order_by(c.size)
        return [checkpoint_from_row(r) for r in self.conn.execute(q)]

    def cosignatures(self) -> list[StoredCosignature]:
        """Every stored cosignature, by witness, then by checkpoint size."""
        c = cosignature.c
        q = select(c.checkpoint_size, c.witness, c.line, c.cosigned_at, c.chain).order_by(
            c.witness, c.checkpoint_size
        )
        return [cosignature_from_row(r) for r in self.conn.execute(q)]

    def cosignature_times(self) -> list[tuple[int, int]]:
        """(checkpoint size, earliest cosignature timestamp), by size, of the checkpoints
        that hold the cosignatures their quorum asks: the moment (POSIX seconds) by which
        some witness saw each tree. A checkpoint short of its quorum counts for nothing
        here: its earliest cosignature could be a lone witness's clock; with the quorum's
        K, fewer than K witnesses with clocks ahead cannot move the earliest."""
        c, k = cosignature.c, checkpoint.c
        q = (
            select(c.checkpoint_size, func.min(c.cosigned_at))
            .join(checkpoint, k.size == c.checkpoint_size)
            .group_by(c.checkpoint_size, k.quorum)
            .having(and_(k.quorum > 0, func.count() >= k.quorum))
            .order_by(c.checkpoint_size)
        )
        return [(int(r[0]), int(r[1])) for r in self.conn.execute(q)]

    def witness_states(self) -> dict[str, WitnessState]:
        """What the log knows of each witness it asked, by verifier key."""
        return {
            r[0]: WitnessState(
                r[0],
                int(r[1]),
                row_bytes(r[2], "chain hash", "the state of witness {}", r[0]),
                int(r[3]),
                r[4],
                r[5],
            )
            for r in self.conn.execute(select(witness_state))
        }

    def batches(self) -> Iterator[tuple[int | None, int, int, int]]:
        """The entries grouped by the checkpoint their batch signed: (checkpoint size or None,
        first index, last index, count), by checkpoint size (None first); streamed (a
        server-side cursor where the database has them)."""
        c = log_entry.c
        q = (
            select(c.checkpoint_size, func.min(c.idx), func.max(c.idx), func.count())
            .group_by(c.checkpoint_size)
            .order_by(c.checkpoint_size.is_not(None), c.checkpoint_size)
        )
        for r in self.conn.execute(q.execution_options(stream_results=True)):
            yield (r[0], int(r[1]), int(r[2]), int(r[3]))

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint the log publishes, with its cosignatures: the largest that holds
        as many as its quorum asks (every one, with no witness policy); None if none does."""
        return self._checkpoint(_LATEST_CHECKPOINT)

    def newest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size, with its cosignatures so far, if any."""
        return self._checkpoint(_NEWEST_CHECKPOINT)

    def _checkpoint(self, sql: str) -> StoredCheckpoint | None:
        # the checkpoint and its cosignature lines in one statement (one round trip)
        found = driver.rows(self.conn, _WITH_LINES.format(sql))
        if not found:
            return None
        size, root, note, signed_at, quorum, _ = found[0]
        lines = tuple(row[5] for row in found if row[5] is not None)
        root = row_bytes(root, "root hash", "the checkpoint for size {}", size)
        return StoredCheckpoint(int(size), root, note, signed_at, int(quorum), lines)

    def cosignature_lines(self, size: int) -> tuple[str, ...]:
        """The witnesses' cosignature lines of the checkpoint for `size` (by witness key)."""
        return tuple(x[0] for x in driver.rows(self.conn, _COSIGNATURE_LINES, (size,)))

    def meta(self) -> dict[str, str]:
        """The ledger's name-value settings."""
        return {r[0]: r[1] for r in self.conn.execute(select(ledger_meta))}

    def row_counts(self) -> dict[str, int]:
        """Rows in every table of the schema (tests compare these before and after)."""
        return {
            t.name: int(self.conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }

    def event_moments(self, start: int = 0, chunk: int = 20_000) -> Iterator[tuple[int, int]]:
        """(index, event time as a moment) of every entry from `start`, in log order, a
        chunk at a time: only these two columns."""
        c = log_entry.c
        after = start - 1
        while True:
            q = select(c.idx, c.event_at).where(c.idx > after).order_by(c.idx).limit(chunk)
            rows = [(int(r[0]), int(r[1])) for r in self.conn.execute(q)]
            if not rows:
                return
            yield from rows
            after = rows[-1][0]

    def entries_at(self, indexes: Iterable[int]) -> list[StoredEntry]:
        """The stored entries at these indexes, in log order."""
        return sorted(self._entries_where("idx", indexes), key=lambda e: e.index)


class LogWriter(LogReader):
    """Writes inside the one serialised write transaction."""

    @property
    def book(self) -> BookWriter:
        """The book's tables, writable, in this transaction."""
        return BookWriter(self.conn)

    def adopt_unsigned_entries(self, checkpoint_size: int) -> int:
        """Record `checkpoint_size` on the entries whose recorded checkpoint is not stored
        (a mirror's run interrupted before its checkpoint); how many."""
        stored = select(checkpoint.c.size)
        result = self.conn.execute(
            update(log_entry)
            .where(log_entry.c.checkpoint_size.not_in(stored))
            .values(checkpoint_size=checkpoint_size)
        )
        return int(result.rowcount)

    def insert_entries(
        self, entries: Sequence[StoredEntry], checkpoint_size: int | None = None
    ) -> None:
        """Append entries (their indices are the caller's to get right; the PK refuses reuse),
        recording `checkpoint_size`, the size of the checkpoint their batch signs."""
        if not entries:
            return
        # The hot path of append: plain tuples to the driver's executemany, inside this
        # same transaction (SQLAlchemy's per-row parameter processing costs more than
        # the insert itself here).
        rows = [entry_row(e, checkpoint_size) for e in entries]
        mark = driver.mark(self.conn)
        if mark is None:  # another driver: let SQLAlchemy bind the parameters
            names = [c.name for c in _INSERT_COLUMNS]
            self.conn.execute(insert(log_entry), [dict(zip(names, r, strict=True)) for r in rows])
            return
        sql = _INSERT_ENTRY.format(", ".join([mark] * len(_INSERT_COLUMNS)))
        cursor = self._driver_cursor()
        try:
            cursor.executemany(sql, rows)
        except self.conn.dialect.loaded_dbapi.IntegrityError as e:
            first, last = entries[0].index, entries[-1].index
            raise ConflictError(
                f"entries {first}..{last}: an index, leaf hash or event id is already stored ({e})"
            ) from e
        finally:
            cursor.close()

    def put_tiles(
        self, tiles: Mapping[tuple[int, int], bytes], existing: Iterable[tuple[int, int]]
    ) -> None:
        """Write tiles: update those in `existing`, insert the others. Plain SQL on the
        driver, as `insert_entries`: every batch appended writes a few, and building their
        statements with SQLAlchemy cost more than writing them (a single-event append
        spent a fifth of its time there)."""
        old = set(existing)
        added = [(level, idx, h) for (level, idx), h in tiles.items() if (level, idx) not in old]
        grown = [(h, level, idx) for (level, idx), h in tiles.items() if (level, idx) in old]
        if added:
            driver.execute_many(self.conn, _INSERT_TILE, added)
        if grown:
            driver.execute_many(self.conn, _UPDATE_TILE, grown)

    def insert_checkpoint(self, cp: StoredCheckpoint) -> None:
        """Store a signed checkpoint (one per size) with its quorum (plain SQL: one per
        batch appended)."""
        params = (cp.size, cp.root_hash, cp.note, cp.signed_at, cp.quorum)
        driver.rows(self.conn, _INSERT_CHECKPOINT, params)

    def add_cosignature(self, size: int, witness: str, line: str, cosigned_at: int) -> bool:
        """Store `witness`'s cosignature `line` of the stored checkpoint for `size` (checked
        by the caller) and advance what the log knows of the witness. False (nothing
        written) if that witness's cosignature of that checkpoint is already stored, or it
        cosigned a larger one already."""
        states = self.witness_states()
        state = states.get(witness)
        if state is not None and state.size >= size:
            return False
        chain = cosignature_chain(state.chain if state else NO_CHAIN, size, line)
        self.conn.execute(
            insert(cosignature).values(
                checkpoint_size=size,
                witness=witness,
                line=line,
                cosigned_at=cosigned_at,
                chain=chain,
            )
        )
        count = (state.cosignatures if state else 0) + 1
        values = {"size": size, "chain": chain, "cosignatures": count, "failure": None}
        if state is None:
            self.conn.execute(insert(witness_state).values(witness=witness, **values))
        else:
            self.conn.execute(
                update(witness_state).where(witness_state.c.witness == witness).values(**values)
            )
        return True

    def witness_attempted(self, witness: str, at: int, failure: str | None) -> None:
        """Record an attempt to reach `witness` (µs, the log's clock) and how it failed."""
        values = {"attempted_at": at, "failure": failure}
        done = self.conn.execute(
            update(witness_state).where(witness_state.c.witness == witness).values(**values)
        )
        if not done.rowcount:
            self.conn.execute(
                insert(witness_state).values(
                    witness=witness, size=0, chain=NO_CHAIN, cosignatures=0, **values
                )
            )

    def set_meta(self, values: Mapping[str, str]) -> None:
        """Insert name-value settings (written once, at init)."""
        self.conn.execute(insert(ledger_meta), [{"name": k, "value": v} for k, v in values.items()])


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level: the "begin" hook below issues BEGIN itself, so a
    # writer can take the write lock up front (BEGIN IMMEDIATE) instead of on first write.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get("cwledger_statements", False):  # read(snapshot=False): no transaction
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("cwledger_write", False) else "BEGIN")


# PostgreSQL: the key of the transaction-level advisory lock that serialises the writers
# (and the migrations) of a ledger database: "cwledger" in ASCII, as a signed 64-bit int.
WRITE_LOCK_KEY = int.from_bytes(b"cwledger", "big", signed=True)
_PG_WRITE_LOCK = f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"
# A snapshot for the whole read transaction, and no writes through it.
_PG_READ_OPTIONS: dict[str, Any] = {
    "isolation_level": "REPEATABLE READ",
    "postgresql_readonly": True,
}


# Connections kept open for reuse (an overflow connection is closed when it is given back,
# and opening one costs more than most reads), and room beyond them for every thread of a
# server worker besides its read snapshots, so that the event loop never waits for one.
# Opened on demand: a command-line run opens one.
_POOL: dict[str, Any] = {"pool_size": 20, "max_overflow": 40}


class Store:
    """A ledger's database. Build with `Store.open(url)` or `Store.for_directory(path)`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # PostgreSQL: the first statement of every write transaction (None: SQLite, whose
        # BEGIN IMMEDIATE already serialises the writers).
        self._write_lock = _PG_WRITE_LOCK if engine.dialect.name == "postgresql" else None
        # This process's writers queue here first: waiting on a lock, a thread is woken as
        # soon as the writer before it ends, where SQLite's busy handler would sleep and
        # retry (up to 100 ms a time; the server's appends and its witness collection,
        # in threads of one process). Other processes still queue in the database.
        self._writers = threading.Lock()

    @property
    def url(self) -> str:
        """The URL this store is connected to, password included (for worker processes)."""
        return self.engine.url.render_as_string(hide_password=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to `url` (``sqlite:///...`` or ``postgresql+psycopg://...``); bring the
        schema to the current revision when `migrate`."""
        if make_url(url).get_backend_name() == "postgresql":
            # READ COMMITTED whatever the server's default: a writer's statements after the
            # advisory lock must see the commit of the writer before it.
            engine = create_engine(url, isolation_level="READ COMMITTED", **_POOL)
        else:
            engine = create_engine(url, **_POOL)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        store = cls(engine)
        if migrate and store.revision() != SCHEMA_REVISION:
            store.migrate()
        return store

    @classmethod
    def for_directory(cls, path: Path, *, migrate: bool = True) -> Store:
        """The embedded SQLite store of a ledger directory. A new `ledger.db` is created
        0600, as the keystore's files are (it holds the tokens' hashes); SQLite gives its
        -wal and -shm files the database's permissions."""
        db = path / "ledger.db"
        if not db.exists():
            try:
                os.close(os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
        return cls.open(f"sqlite:///{db}", migrate=migrate)

    def revision(self) -> str | None:
        """The schema revision recorded in the database (None when it has no schema)."""
        with self.engine.connect() as conn:
            if not self.engine.dialect.has_table(conn, "alembic_version"):
                return None
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    def migrate(self) -> None:
        """Run the Alembic migrations up to head."""
        # Imported here for start-up time: Alembic loads in 0.1 s and most opens need no
        # migration.
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as conn:
            if self._write_lock is not None:
                # One migrating process at a time; Alembic then reads the revision that
                # the one before committed (PostgreSQL's DDL is transactional).
                conn.exec_driver_sql(self._write_lock)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def size(self) -> int:
        """The log's size now, in one statement outside any transaction (on PostgreSQL one
        round trip, where a read transaction takes three)."""
        with self.read(snapshot=False) as r:
            return r.size()

    @contextmanager
    def read(self, *, snapshot: bool = True) -> Iterator[LogReader]:
        """A read transaction: one consistent snapshot for all its statements.

        `snapshot=False` runs each statement on its own, each seeing the latest commit: for
        reading what never changes once written, such as the entries and tiles below a
        checkpoint's size (on PostgreSQL autocommit: one round trip, where a transaction
        adds two; on SQLite no BEGIN and COMMIT around them)."""
        with self.engine.connect() as conn:
            if not snapshot:
                if self._write_lock is not None:  # PostgreSQL (reset when the pool takes it)
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                else:
                    conn.execution_options(cwledger_statements=True)
                yield LogReader(conn)
                return
            if self._write_lock is not None:  # PostgreSQL (reset when the pool takes it back)
                conn.execution_options(**_PG_READ_OPTIONS)
            with conn.begin():
                yield LogReader(conn)

    @contextmanager
    def write(self) -> Iterator[LogWriter]:
        """The write transaction: serialised, durable on exit, nothing written on error."""
        with (
            self._writers,
            self.engine.connect().execution_options(cwledger_write=True) as conn,
            conn.begin(),
        ):
            if self._write_lock is not None:
                conn.exec_driver_sql(self._write_lock)
            yield LogWriter(conn)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()


_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"
_PG_DISK_FULL = "53100"  # SQLSTATE disk_full


def disk_full(exc: BaseException) -> bool:
    """Whether a database error (or an OSError) says the disk is full: SQLite's SQLITE_FULL,
    PostgreSQL's disk_full, or ENOSPC."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
        return True
    if getattr(cause, "sqlite_errorcode", None) == _SQLITE_FULL:
        return True
    if getattr(cause, "sqlstate", None) == _PG_DISK_FULL:
        return True
    text = str(cause).lower()
    return "database or disk is full" in text or "no space left on device" in text
