"""Whole-log passes over the store without holding what they read: the checkpoints, their
sizes, the witnesses' cosignatures and the tile set, each read in key order a page at a
time (what the audit reads beside the entries; its entries come from
`LogReader.iter_entries`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Select, and_, func, or_, select

from cwledger.store.schema import checkpoint, cosignature, tree_tile
from cwledger.store.store import (
    LogReader,
    StoredCheckpoint,
    StoredCosignature,
    checkpoint_from_row,
    cosignature_from_row,
)

__all__ = [
    "checkpoint_sizes",
    "checkpoints_by_size",
    "cosignatures_by_size",
    "cosigned_sizes",
    "tile_widths",
    "witness_cosignatures",
]


def _pages(conn: Connection, q: Select[Any], key: Any, chunk: int) -> Iterator[Any]:
    """The rows of `q` by increasing `key` (its first column, from 0), a page of `chunk` at
    a time: one statement per page, nothing held beyond it."""
    after = -1
    while rows := list(conn.execute(q.where(key > after).order_by(key).limit(chunk))):
        yield from rows
        after = rows[-1][0]


def checkpoints_by_size(reader: LogReader, chunk: int = 1000) -> Iterator[StoredCheckpoint]:
    """Every stored checkpoint, by size (without its cosignatures)."""
    c = checkpoint.c
    q = select(c.size, c.root_hash, c.note, c.signed_at, c.quorum)
    for r in _pages(reader.conn, q, c.size, chunk):
        yield checkpoint_from_row(r)


def checkpoint_sizes(reader: LogReader, chunk: int = 20_000) -> Iterator[int]:
    """The size of every stored checkpoint, in increasing order."""
    for r in _pages(reader.conn, select(checkpoint.c.size), checkpoint.c.size, chunk):
        yield int(r[0])


_COSIGNATURE = (
    cosignature.c.checkpoint_size,
    cosignature.c.witness,
    cosignature.c.line,
    cosignature.c.cosigned_at,
    cosignature.c.chain,
)


def cosignatures_by_size(reader: LogReader, chunk: int = 1000) -> Iterator[StoredCosignature]:
    """Every stored cosignature, by checkpoint size then witness (the table's key), a page
    of `chunk` at a time."""
    c = cosignature.c
    q = select(*_COSIGNATURE).order_by(c.checkpoint_size, c.witness).limit(chunk)
    rows = list(reader.conn.execute(q))
    while rows:
        yield from map(cosignature_from_row, rows)
        size, witness = rows[-1][0], rows[-1][1]
        after = or_(c.checkpoint_size > size, and_(c.checkpoint_size == size, c.witness > witness))
        rows = list(reader.conn.execute(q.where(after)))


def witness_cosignatures(
    reader: LogReader, witness: str, chunk: int = 1000
) -> Iterator[StoredCosignature]:
    """The cosignatures by `witness` (its verifier key), by checkpoint size."""
    c = cosignature.c
    q = select(*_COSIGNATURE).where(c.witness == witness)
    for r in _pages(reader.conn, q, c.checkpoint_size, chunk):
        yield cosignature_from_row(r)


def cosigned_sizes(reader: LogReader, chunk: int = 20_000) -> Iterator[tuple[int, str]]:
    """(size, its first witness's verifier key) of every checkpoint some stored cosignature
    names, in increasing order of size."""
    c = cosignature.c
    q = select(c.checkpoint_size, func.min(c.witness)).group_by(c.checkpoint_size)
    for r in _pages(reader.conn, q, c.checkpoint_size, chunk):
        yield int(r[0]), r[1]


def tile_widths(reader: LogReader) -> Iterator[tuple[int, int, int]]:
    """(level, index, length in bytes) of every stored tile, by level then index: the tile
    set without its hashes (SQLite streams the rows; psycopg holds three integers a tile)."""
    t = tree_tile.c
    q = select(t.level, t.idx, func.length(t.hashes)).order_by(t.level, t.idx)
    for r in reader.conn.execute(q):
        yield int(r[0]), int(r[1]), int(r[2])
