"""Finding entries of the log by type, author, item, site and time, page by page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from cwledger.store.entries import blob
from cwledger.store.schema import custody_link, log_entry, site_link

__all__ = ["EntryFilter", "find_entries"]


@dataclass(frozen=True)
class EntryFilter:
    """Which entries: every condition given must hold (None or empty: any).

    `since` and `until` are moments (microseconds since the epoch, UTC), both included,
    compared with each entry's stored moment (`event_at`): a number on every backend.
    """

    types: Sequence[str] = ()
    authors: Sequence[str] = ()
    item: str | None = None
    site: str | None = None
    since: int | None = None
    until: int | None = None


def find_entries(
    conn: Connection, f: EntryFilter, *, after: int, limit: int
) -> list[tuple[int, str, str, str, str, bytes, bytes]]:
    """Up to `limit` entries with index > `after`, in log order, as rows (index, event_id,
    type, author, time, leaf_hash, envelope). Raises CorruptEntry for a binary column of
    another type, naming the row (`store.entries.blob`)."""
    c = log_entry.c
    q = select(c.idx, c.event_id, c.event_type, c.author, c.event_time, c.leaf_hash, c.envelope)
    q = q.where(c.idx > after)
    if f.types:
        q = q.where(c.event_type.in_(list(f.types)))
    if f.authors:
        q = q.where(c.author.in_(list(f.authors)))
    if f.item is not None:
        q = q.where(c.idx.in_(select(custody_link.c.idx).where(custody_link.c.item == f.item)))
    if f.site is not None:
        q = q.where(c.idx.in_(select(site_link.c.idx).where(site_link.c.site == f.site)))
    if f.since is not None:
        q = q.where(c.event_at >= f.since)
    if f.until is not None:
        q = q.where(c.event_at <= f.until)
    rows = conn.execute(q.order_by(c.idx).limit(limit))
    return [
        (r[0], r[1], r[2], r[3], r[4], blob(r[5], r[0], "leaf hash"), blob(r[6], r[0], "envelope"))
        for r in rows
    ]
