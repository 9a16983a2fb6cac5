"""Entries recorded late, by two bounds on when the log took them.

**The log's clock.** The log records the moment it took each entry (`logged_at`, by its own
clock); an entry whose event time is more than `late_after` before that was recorded late.
This rests on the operator's clock.

**Witnessed.** A witness's cosignature carries the witness's own timestamp
(c2sp.org/tlog-cosignature): a cosigned checkpoint of size s says that a tree of s entries,
without entry s and those after it, was what the log showed by that moment, whatever the
operator's clock says. Entry i is in no tree of size <= i, so its witnessed bound T(i) is
the latest, over the cosigned checkpoints of size <= i that hold their quorum's K
cosignatures, of each one's earliest cosignature: an entry whose event time is more than
`late_after` before T(i) was logged after a witness saw the tree without it, late by at
least T(i) minus its event time. Only checkpoints holding their quorum count, and only
their earliest cosignature: fewer than K witnesses whose clocks run ahead (the trust model
allows K-1 bad ones) can then not make an honest entry look late.

(A cosignature collected while the next batch was being appended can put T(i) after the
moment that batch was taken, by the round trip to the witness: seconds, against a
threshold of days.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from cwledger.store import LogReader, StoredEntry

__all__ = ["LOG_CLOCK", "WITNESSED", "Bound", "LateEntry", "late_entries", "witnessed_late"]

Bound = Literal["log clock", "witnessed"]
LOG_CLOCK: Bound = "log clock"
WITNESSED: Bound = "witnessed"
SECOND = 1_000_000  # a cosignature's timestamp is in seconds; a moment in microseconds


@dataclass(frozen=True)
class LateEntry:
    """An entry recorded late by one bound: the log took it after `taken_after`, by that
    bound (its log time, or its witnessed bound T(i))."""

    entry: StoredEntry
    bound: Bound
    taken_after: int

    @property
    def late_by(self) -> int:
        """How late (µs): at least this long after the time the event gives itself."""
        return self.taken_after - self.entry.event_at


def witnessed_late(
    moments: Iterable[tuple[int, int]], cosigned: Iterable[tuple[int, int]], late_after: int
) -> Iterator[tuple[int, int]]:
    """(index, witnessed bound T(i) as a moment) of each entry whose event time is more than
    `late_after` µs before its bound.

    `moments`: (index, event time as a moment) of the entries, in log order; `cosigned`:
    (checkpoint size, earliest cosignature timestamp in POSIX seconds) of the cosigned
    checkpoints (`LogReader.cosignature_times`). Both are read once, in order."""
    checkpoints = iter(sorted(cosigned))
    pending = next(checkpoints, None)
    bound: int | None = None
    for index, at in moments:
        while pending is not None and pending[0] <= index:  # a tree without entry `index`
            seen = pending[1] * SECOND
            bound = seen if bound is None else max(bound, seen)
            pending = next(checkpoints, None)
        if bound is not None and bound - at > late_after:
            yield index, bound


def late_entries(reader: LogReader, late_after: int) -> list[LateEntry]:
    """The entries recorded late by either bound (an entry late by both is there twice,
    the log's clock first), in log order. The entries are read as a stream of (index,
    event time), from the first cosigned checkpoint's size on; only the late ones whole."""
    found = [
        LateEntry(e, LOG_CLOCK, e.logged_at)
        for e in reader.late_entries(late_after)
        if e.logged_at is not None  # always: entries of unknown log time are never listed
    ]
    cosigned = reader.cosignature_times()
    if cosigned:
        start = min(size for size, _ in cosigned)
        bounds = dict(witnessed_late(reader.event_moments(start), cosigned, late_after))
        found += [LateEntry(e, WITNESSED, bounds[e.index]) for e in reader.entries_at(bounds)]
    return sorted(found, key=lambda x: (x.entry.index, x.bound != LOG_CLOCK))
