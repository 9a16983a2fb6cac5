"""The book: the state the rules read, loaded on demand, changed one event at a time.

A ``Book`` caches the records a batch touches, reading misses from a ``BookSource`` (the
store inside the append transaction or the replay's, or nothing for a book in memory).
Each event is applied inside its own overlay: if the rules refuse it, the overlay is
dropped and the book is exactly as before; if not, the overlay is merged. What changed
(records, holdings movements, item positions, chain-of-custody links) is kept for the
store to write in the same transaction as the log entries. A replay of a whole log hands
them over to the store a chunk at a time (`Book.flush`), its cache bounded.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from pydantic import BaseModel

from cwledger.book.records import CounterRecord, ItemState, Record
from cwledger.errors import Problem
from cwledger.model.events import Event, Role

__all__ = [
    "Book",
    "BookSource",
    "Context",
    "Movement",
    "Position",
    "Custody",
    "Changes",
]

R = TypeVar("R", bound=Record)

CACHE_RECORDS = 5_000
"""Records a book keeps cached across a `Book.flush` (a replay's bounded working set)."""


class BookSource(Protocol):
    """Where a book reads the records it does not hold yet."""

    def record(self, kind: str, key: str) -> Record | None:
        """The stored record, or None."""
        ...

    def keys(self, kind: str, *, status: str | None = None, place: str | None = None) -> list[str]:
        """Keys of stored records of `kind` with that status and place (None: any)."""
        ...

    def overdue(self, kind: str, at: int) -> list[str]:
        """Keys of stored "open" records of `kind` whose deadline is before `at`."""
        ...

    def earliest_deadline(self, kind: str) -> int | None:
        """The earliest deadline of a stored "open" record of `kind`, or None."""
        ...


class _NoSource:
    def record(self, kind: str, key: str) -> Record | None:  # noqa: ARG002
        return None

    def keys(
        self,
        kind: str,  # noqa: ARG002
        *,
        status: str | None = None,  # noqa: ARG002
        place: str | None = None,  # noqa: ARG002
    ) -> list[str]:
        return []

    def overdue(self, kind: str, at: int) -> list[str]:  # noqa: ARG002
        return []

    def earliest_deadline(self, kind: str) -> int | None:  # noqa: ARG002
        return None


@dataclass(frozen=True, slots=True)
class Movement:
    """A change of holdings: ``grams`` and ``items`` added to (site, chemical) at a moment.

    ``site`` is "" for material in transit. ``flow`` is what the change is in a material
    balance: receipts, shipments, destroyed, or other (declarations, amendments, products).
    """

    entry: int
    at: int
    item: str
    site: str
    chemical: str
    grams: int
    items: int
    flow: str = "other"


@dataclass(frozen=True, slots=True)
class Position:
    """Where an item is after an entry: its state, site (None in transit) and grams held."""

    item: str
    at: int
    entry: int
    site: str | None
    state: ItemState
    held_g: int


@dataclass(frozen=True, slots=True)
class Custody:
    """An entry that belongs to an item's chain of custody."""

    item: str
    entry: int


@dataclass(frozen=True, slots=True)
class SiteLink:
    """An entry that names a site (declares it, ships from or to it, inspects it...)."""

    site: str
    entry: int


_SITE_FIELDS = ("site", "origin", "destination", "sites", "facility")


@functools.cache
def _site_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """Those of `_SITE_FIELDS` a body type has, in that order (asked once per type: a
    missing attribute of a pydantic model costs an exception)."""
    return tuple(n for n in _SITE_FIELDS if n in cls.model_fields)


def sites_named(body: BaseModel) -> list[str]:
    """The sites an event body names: its `site`, `origin`, `destination`, `facility`, the ids of
    the sites it declares, in that order, each once."""
    found: list[str] = []
    for name in _site_fields(type(body)):
        value = getattr(body, name, None)
        for v in value if isinstance(value, list) else [value]:
            site = v if isinstance(v, str) else getattr(v, "id", None)
            if isinstance(site, str) and site not in found:
                found.append(site)
    return found


@dataclass
class Changes:
    """Everything a run of events changed, for the store to write."""

    records: dict[tuple[str, str], Record] = field(default_factory=dict)
    movements: list[Movement] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    custody: list[Custody] = field(default_factory=list)
    sites: list[SiteLink] = field(default_factory=list)

    def merge(self, other: Changes) -> None:
        """Add `other` (later) on top of these changes."""
        self.records.update(other.records)
        self.movements += other.movements
        self.positions += other.positions
        self.custody += other.custody
        self.sites += other.sites


@dataclass
class Context:
    """One event being applied: the event, its typed body, entry, moment and author role."""

    event: Event
    body: BaseModel
    entry: int
    at: int
    role: Role
    problems: list[Problem] = field(default_factory=list)
    # What the holdings changes this event makes are in a material balance (receipts,
    # shipments, destroyed, other): its type's, set by the registry when it applies it.
    flow: str = "other"

    def refuse(self, location: str, message: str) -> None:
        """Refuse the event (a claim that contradicts the book, or a bad reference)."""
        self.problems.append(Problem(f"payload.body.{location}" if location else "", message))


def _deadline(rec: Record | None) -> int | None:
    """The deadline of an "open" record, if it has one."""
    if rec is None or rec.status != "open":
        return None
    return rec.due_at


class Book:
    """The book of a stockpile elimination, as far as a run of events needs it."""

    def __init__(self, source: BookSource | None = None, *, empty: bool = False) -> None:
        self._source: BookSource = source or _NoSource()
        # The source was empty when the book opened, and the cache holds everything put
        # since (until a flush forgets it): a miss is then an answer, not a query.
        self._whole = empty or source is None
        self._cache: dict[tuple[str, str], Record | None] = {}
        # Keys of cached records by (kind, status) and (kind, place): the rules ask for
        # "open transfers" or "items at this site" once per event.
        self._by_status: dict[tuple[str, str | None], set[str]] = {}
        self._by_place: dict[tuple[str, str | None], set[str]] = {}
        # (deadline, kind, key) of cached "open" records with a deadline, sorted.
        self._deadlines: list[tuple[int, str, str]] = []
        # The store does not change while a book is open: its earliest open deadline per
        # kind, asked once, spares a query per event until that moment has passed.
        self._stored_deadline: dict[str, int | None] = {}
        self._tx: Changes | None = None
        self.changes = Changes()

    def _remember(self, k: tuple[str, str], rec: Record | None) -> None:
        old = self._cache.get(k)
        if old is not None:
            self._by_status.get((k[0], old.status), set()).discard(k[1])
            self._by_place.get((k[0], old.place), set()).discard(k[1])
            if (due := _deadline(old)) is not None:
                i = bisect_left(self._deadlines, (due, *k))
                if i < len(self._deadlines) and self._deadlines[i] == (due, *k):
                    del self._deadlines[i]
        self._cache[k] = rec
        if rec is not None:
            self._by_status.setdefault((k[0], rec.status), set()).add(k[1])
            self._by_place.setdefault((k[0], rec.place), set()).add(k[1])
            if (due := _deadline(rec)) is not None:
                insort(self._deadlines, (due, *k))

    # -- reading -------------------------------------------------------------------------

    def get(self, cls: type[R], key: str) -> R | None:
        """The record of that class and key, or None."""
        k = (cls.kind, key)
        if self._tx is not None and k in self._tx.records:
            rec: Record | None = self._tx.records[k]
        elif k in self._cache:
            rec = self._cache[k]
        elif self._whole:
            rec = None
        else:
            rec = self._source.record(*k)
            self._remember(k, rec)
        assert rec is None or isinstance(rec, cls)
        return rec

    def keys(
        self, cls: type[Record], *, status: str | None = None, place: str | None = None
    ) -> list[str]:
        """Keys of records of that class with that status and place, as the book has them now."""

        def fits(rec: Record | None) -> bool:
            return (
                rec is not None
                and (status is None or rec.status == status)
                and (place is None or rec.place == place)
            )

        kind = cls.kind
        pending = (
            {}
            if self._tx is None
            else {k[1]: r for k, r in self._tx.records.items() if k[0] == kind}
        )
        stored = [] if self._whole else self._source.keys(kind, status=status, place=place)
        found = {key for key in stored if key not in pending and (kind, key) not in self._cache}
        if status is not None:
            cached = self._by_status.get((kind, status), set())
        elif place is not None:
            cached = self._by_place.get((kind, place), set())
        else:
            cached = {k[1] for k, r in self._cache.items() if k[0] == kind and r is not None}
        found |= {key for key in cached if key not in pending and fits(self._cache[(kind, key)])}
        found |= {key for key, rec in pending.items() if fits(rec)}
        return sorted(found)

    def overdue(self, cls: type[Record], at: int) -> list[str]:
        """Keys of "open" records of that class whose deadline is before `at`, as of now."""
        kind = cls.kind
        pending = (
            {}
            if self._tx is None
            else {k[1]: r for k, r in self._tx.records.items() if k[0] == kind}
        )
        if kind not in self._stored_deadline:
            earliest = None if self._whole else self._source.earliest_deadline(kind)
            self._stored_deadline[kind] = earliest
        first = self._stored_deadline[kind]
        end = bisect_left(self._deadlines, (at,))
        if not pending and not end and (first is None or first >= at):
            return []  # every event asks this: most of the time, no deadline has passed
        stored = self._source.overdue(kind, at) if first is not None and first < at else []
        found = {key for key in stored if key not in pending and (kind, key) not in self._cache}
        found |= {key for _, k, key in self._deadlines[:end] if k == kind and key not in pending}
        found |= {
            key for key, rec in pending.items() if (d := _deadline(rec)) is not None and d < at
        }
        return sorted(found)

    def records(self, cls: type[R], keys: Iterable[str]) -> list[R]:
        """The records of those keys that exist."""
        return [r for k in keys if (r := self.get(cls, k)) is not None]

    # -- changing (inside apply) ---------------------------------------------------------

    def _changes(self) -> Changes:
        if self._tx is None:
            raise RuntimeError("the book changes only inside Book.apply")
        return self._tx

    def put(self, rec: Record) -> None:
        """Store a new or changed record."""
        self._changes().records[(rec.kind, rec.key)] = rec

    def move(self, m: Movement) -> None:
        """Record a change of holdings."""
        self._changes().movements.append(m)

    def position(self, p: Position) -> None:
        """Record where an item is after this entry."""
        self._changes().positions.append(p)

    def link(self, item: str, entry: int) -> None:
        """Add an entry to an item's chain of custody (once)."""
        tx = self._changes()
        c = Custody(item, entry)
        if not tx.custody or tx.custody[-1] != c:
            tx.custody.append(c)

    def next_value(self, counter: str) -> int:
        """Increment a named counter and return its new value."""
        rec = self.get(CounterRecord, counter)
        value = 1 if rec is None else rec.value + 1
        self.put(CounterRecord(name=counter, value=value))
        return value

    def counter(self, counter: str) -> int:
        """A named counter's value (0 when never incremented)."""
        rec = self.get(CounterRecord, counter)
        return 0 if rec is None else rec.value

    # -- handing over ---------------------------------------------------------------------

    def flush(self, write: Callable[[Changes], None], *, keep: int = CACHE_RECORDS) -> None:
        """Hand the changes made so far to `write`, which stores them in this book's source,
        and start afresh: a replay of a long log flushes a chunk at a time, so that its
        working set is the store's and only a chunk of changes is ever in memory.

        The cached records stay (they are what the source now holds) unless there are more
        than `keep`: then they are all forgotten, to be read again from the source.
        """
        if self._tx is not None:
            raise RuntimeError("the book cannot be flushed inside Book.apply")
        write(self.changes)
        self.changes = Changes()
        # The source has changed: its earliest open deadline is asked again.
        self._stored_deadline.clear()
        if len(self._cache) > keep:
            self._whole = False
            self._cache.clear()
            self._by_status.clear()
            self._by_place.clear()
            self._deadlines.clear()

    # -- applying ------------------------------------------------------------------------

    def apply(self, ctx: Context, rule: Callable[[Book, Context], None]) -> list[Problem]:
        """Apply one event by its rule. Returns the refusals; when there are any, nothing changed.

        The rule of each event type is in ``cwledger.book.registry``: apply an event with
        ``registry.apply_event`` (or its type's ``apply``).
        """
        self._tx = Changes()
        try:
            rule(self, ctx)
            if not ctx.problems:
                self._tx.sites += [SiteLink(s, ctx.entry) for s in sites_named(ctx.body)]
                for k, rec in self._tx.records.items():
                    self._remember(k, rec)
                self.changes.merge(self._tx)
        finally:
            self._tx = None
        return ctx.problems
