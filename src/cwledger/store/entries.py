"""A stored entry of the log: the row the store writes for it, and the row read back as an
entry, strictly (SQLite keeps a value of any type in any column: a row changed outside
cwledger is `CorruptEntry`, naming it, not a crash further on); a stored tile's hashes
and the other rows' binary columns read back as strictly (`CorruptTile`, `CorruptRow`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cwledger.errors import CorruptEntry, CorruptRow, CorruptTile, echo, echo_key
from cwledger.time import from_rfc3339

__all__ = [
    "StoredEntry",
    "blob",
    "checked_row",
    "entry_from_row",
    "entry_row",
    "row_bytes",
    "tile_hashes",
]


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One row of the log as stored. `logged_at` is when the log took the entry, by its own
    clock (a moment; None: unknown, for entries appended before the log recorded it)."""

    index: int
    leaf_hash: bytes
    event_id: str
    event_type: str
    author: str
    event_time: str
    envelope: bytes
    logged_at: int | None = None

    @property
    def event_at(self) -> int:
        """The event's time as a moment."""
        return from_rfc3339(self.event_time)

    def recorded_late(self, late_after: int) -> bool:
        """Whether the log took the entry more than `late_after` microseconds after the time
        the event gives itself (False when the log time is unknown)."""
        return self.logged_at is not None and self.logged_at - self.event_at > late_after


_EntryRow = tuple[int, bytes, str, str, str, str, bytes, int | None, int, int | None]


def entry_row(e: StoredEntry, checkpoint_size: int | None) -> _EntryRow:
    """The row the store inserts for `e`, signed with the checkpoint for `checkpoint_size`."""
    return (
        e.index,
        e.leaf_hash,
        e.event_id,
        e.event_type,
        e.author,
        e.event_time,
        e.envelope,
        e.logged_at,
        e.event_at,
        checkpoint_size,
    )


def entry_from_row(row: Sequence[Any]) -> StoredEntry:
    """A row (idx, leaf_hash, event_id, event_type, author, event_time, envelope,
    logged_at) as an entry. Raises CorruptEntry, naming the row, for a column of another
    type than the log writes."""
    return StoredEntry(*checked_row(row)[:8])


def checked_row(row: Sequence[Any]) -> Sequence[Any]:
    """A row that begins (idx, leaf_hash, event_id, event_type, author, event_time,
    envelope, logged_at), as it is if those columns hold what the log writes (binary
    columns as bytes, of any binary type). Raises CorruptEntry, naming the row, for
    another type. (The audit reads every entry's row by it, with no StoredEntry.)"""
    index, leaf, _, _, _, _, envelope, logged_at = row[:8]
    # Each check is a call only for a value of another type: every entry read has them.
    if type(leaf) is bytes and type(envelope) is bytes:
        if logged_at is None or type(logged_at) is int:
            return row
    out = list(row)
    out[1] = blob(leaf, index, "leaf hash")
    out[6] = blob(envelope, index, "envelope")
    out[7] = _logged_at(logged_at, index)
    return out


def _strict_bytes(value: object) -> bytes | None:
    """A stored binary value as bytes; None for a value of another type (`bytes()` would
    make a number that many zero bytes, and refuse text)."""
    if type(value) is bytes:
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return None


def _not_bytes(value: object, column: str, verb: str = "is") -> str:
    return f"the stored {column} {verb} {type(value).__name__} {echo(value)}, not bytes"


def blob(value: object, index: int, column: str) -> bytes:
    """A stored binary column of entry `index` as bytes. Raises CorruptEntry otherwise."""
    if type(value) is bytes:  # no further call: every entry read has two of these
        return value
    data = _strict_bytes(value)
    if data is None:
        raise CorruptEntry(index, _not_bytes(value, column))
    return data


def tile_hashes(value: object, level: int, index: int) -> bytes:
    """The stored hashes of tile `index` of `level` as bytes. Raises CorruptTile otherwise."""
    if type(value) is bytes:  # no further call: every proof reads tiles
        return value
    data = _strict_bytes(value)
    if data is None:
        raise CorruptTile(level, index, _not_bytes(value, "hashes", "are"))
    return data


def row_bytes(value: object, column: str, row: str, *keys: object) -> bytes:
    """A stored binary column of another row as bytes. Raises CorruptRow otherwise, naming
    the row: `row` with its `keys` in place of its ``{}`` ("the checkpoint for size {}"),
    formatted only then, each through `echo_key`."""
    data = _strict_bytes(value)
    if data is None:
        named = row.format(*(echo_key(k) for k in keys))
        raise CorruptRow(named, _not_bytes(value, column))
    return data


def _logged_at(value: object, index: int) -> int | None:
    if value is None or (type(value) is int):
        return value
    raise CorruptEntry(index, f"the stored log time is {echo(value)}, not a moment (an integer)")
