"""The book's tables: records by kind and key, holdings with running totals, positions, custody.

`BookReader` answers the rules (it is a ``BookSource``) and the read commands; `BookWriter`
writes a run of changes inside the caller's write transaction. The holdings at a moment
are one index seek per (site, chemical) group into `holding_change`, whose rows carry the
running totals of their group in (at, idx, item) order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, delete, insert, select, update

from cwledger.book.book import Changes, Movement, Position
from cwledger.book.records import RECORD_KINDS, ItemState, Record
from cwledger.store import driver
from cwledger.store.schema import (
    BOOK_TABLES,
    book_record,
    custody_link,
    holding_change,
    item_position,
    site_link,
)
from cwledger.time import month_text

__all__ = ["BookReader", "BookWriter", "Holding"]

R = TypeVar("R", bound=Record)
_FOREVER = 2**62
RECORDS_AT_ONCE = 2_000
"""Book records serialised and upserted per statement run."""


@dataclass(frozen=True, slots=True)
class Holding:
    """What the book holds of one chemical at one site ("" for in transit) at a moment."""

    site: str
    chemical: str
    grams: int
    items: int


class BookReader:
    """Reads the book inside one transaction.

    The lookups the rules make once per event (a record by key, the overdue deadlines) and
    the running totals run as plain SQL on the driver's cursor: building a SQLAlchemy
    statement costs more than running it.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Run `sql` (with ? placeholders) on the driver's cursor in this transaction."""
        return driver.rows(self.conn, sql, params)

    # -- records (the BookSource protocol) -----------------------------------------------

    def record(self, kind: str, key: str) -> Record | None:
        """The stored record of that kind and key, or None."""
        rows = self._rows("SELECT doc FROM book_record WHERE kind = ? AND key = ?", (kind, key))
        return RECORD_KINDS[kind].model_validate_json(rows[0][0]) if rows else None

    def keys(self, kind: str, *, status: str | None = None, place: str | None = None) -> list[str]:
        """Keys of records of `kind` with that status and place (None: any), sorted."""
        q = select(book_record.c.key).where(book_record.c.kind == kind)
        if status is not None:
            q = q.where(book_record.c.status == status)
        if place is not None:
            q = q.where(book_record.c.place == place)
        return [r[0] for r in self.conn.execute(q.order_by(book_record.c.key))]

    def overdue(self, kind: str, at: int) -> list[str]:
        """Keys of "open" records of `kind` whose deadline is before `at`, sorted."""
        rows = self._rows(
            "SELECT key FROM book_record WHERE kind = ? AND status = 'open' AND due_at < ?"
            " ORDER BY key",
            (kind, at),
        )
        return [r[0] for r in rows]

    def earliest_deadline(self, kind: str) -> int | None:
        """The earliest deadline of an "open" record of `kind`, or None."""
        rows = self._rows(
            "SELECT min(due_at) FROM book_record WHERE kind = ? AND status = 'open'", (kind,)
        )
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def count_records(self) -> int:
        """How many records the book holds, of every kind."""
        return int(self._rows("SELECT count(*) FROM book_record", ())[0][0])

    def records(
        self, cls: type[R], *, status: str | None = None, place: str | None = None
    ) -> list[R]:
        """Every record of that class (with that status and place), by key."""
        q = select(book_record.c.doc).where(book_record.c.kind == cls.kind)
        if status is not None:
            q = q.where(book_record.c.status == status)
        if place is not None:
            q = q.where(book_record.c.place == place)
        q = q.order_by(book_record.c.key)
        return [cls.model_validate_json(r[0]) for r in self.conn.execute(q)]

    def get(self, cls: type[R], key: str) -> R | None:
        """One record of that class, or None."""
        rec = self.record(cls.kind, key)
        assert rec is None or isinstance(rec, cls)
        return rec

    # -- holdings, positions, custody ----------------------------------------------------

    def holdings(self, at: int | None = None) -> list[Holding]:
        """Holdings of every (site, chemical) group at moment `at` (µs; None: now), non-zero:
        one index seek per group for its last change dated up to `at`."""
        rows = self._rows(_HOLDINGS + " FROM holding_group g", (_FOREVER if at is None else at,))
        return _holdings(rows)

    def last_change(self, at: int | None = None) -> tuple[int, int | None]:
        """The log's size and the moment of the book's last holdings change dated up to
        `at` (µs; None: any), None if there is none, read together in one statement.

        `holdings(at)` is `holdings(moment)` for every `at` from that moment to the next
        change: the log's size and this moment name the answer (one index seek each)."""
        ((top, moment),) = self._rows(_AS_OF, (_FOREVER if at is None else at,))
        return _size(top), (None if moment is None else int(moment))

    def holdings_as_of(self, at: int | None = None) -> tuple[int, int | None, list[Holding]]:
        """`last_change(at)` and `holdings(at)` together, in one statement: one snapshot
        of the log and its book without a transaction around it (on PostgreSQL one round
        trip, where a read transaction takes at least three)."""
        at = _FOREVER if at is None else at
        rows = self._rows(
            f"{_HOLDINGS}, s.top, s.moment FROM ({_AS_OF}) s LEFT JOIN holding_group g ON 1 = 1",
            (at, at),
        )
        top, moment = rows[0][3:]
        return _size(top), (None if moment is None else int(moment)), _holdings(rows)

    def positions(self, item: str) -> list[Position]:
        """Every position of an item, in time order."""
        q = (
            select(item_position)
            .where(item_position.c.item == item)
            .order_by(item_position.c.at, item_position.c.idx)
        )
        return [_position(r) for r in self.conn.execute(q)]

    def every_position(self) -> list[Position]:
        """Every position of every item, by item, then in time order (one read, for the
        answers that follow every item through time: progress, the burn-down)."""
        q = select(item_position).order_by(
            item_position.c.item, item_position.c.at, item_position.c.idx
        )
        return [_position(r) for r in self.conn.execute(q)]

    def position(self, item: str, at: int | None = None) -> Position | None:
        """Where the item was at moment `at` (None: now), or None before it entered the book."""
        q = (
            select(item_position)
            .where(item_position.c.item == item, item_position.c.at <= (at or _FOREVER))
            .order_by(item_position.c.at.desc(), item_position.c.idx.desc())
            .limit(1)
        )
        r = self.conn.execute(q).first()
        return None if r is None else _position(r)

    def items_at(self, site: str, at: int | None = None) -> list[Position]:
        """The items held at a site at moment `at` (None: now), by item id."""
        q = select(item_position.c.item).where(item_position.c.site == site).distinct()
        found = [self.position(r[0], at) for r in self.conn.execute(q)]
        return sorted(
            (p for p in found if p is not None and p.site == site and p.state in _HELD),
            key=lambda p: p.item,
        )

    def changes_by_event(self, site: str | None = None) -> list[tuple[str, int, str, int, int]]:
        """Every holdings change (site, at, event type, grams, items), of one site or all,
        with the type of the event that made it (for material balances)."""
        sql = (
            "SELECT h.site, h.at, e.event_type, h.grams, h.items FROM holding_change h"
            " JOIN log_entry e ON e.idx = h.idx"
        )
        params: tuple[str, ...] = ()
        if site is not None:
            sql += " WHERE h.site = ?"
            params = (site,)
        rows = self._rows(sql + " ORDER BY h.site, h.at, h.idx", params)
        return [(r[0], int(r[1]), r[2], int(r[3]), int(r[4])) for r in rows]

    def monthly_flows(self, site: str | None = None) -> list[tuple[str, str, str, int, int]]:
        """(site, month, flow, grams, items) of every site (or one), by site and month."""
        sql = "SELECT site, month, flow, grams, items FROM balance_flow"
        params: tuple[str, ...] = ()
        if site is not None:
            sql += " WHERE site = ?"
            params = (site,)
        rows = self._rows(sql + " ORDER BY site, month, flow", params)
        return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]

    def site_entries(self, site: str) -> list[int]:
        """The entries that name a site, in log order."""
        q = select(site_link.c.idx).where(site_link.c.site == site).order_by("idx")
        return [int(r[0]) for r in self.conn.execute(q)]

    def custody(self, item: str) -> list[int]:
        """The entries of an item's chain of custody, in log order."""
        q = select(custody_link.c.idx).where(custody_link.c.item == item).order_by("idx")
        return [int(r[0]) for r in self.conn.execute(q)]

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every book table, sorted (to compare a rebuild with the stored book)."""
        return {t.name: sorted(tuple(r) for r in self.conn.execute(select(t))) for t in BOOK_TABLES}


# Each (site, chemical) group and its running totals as of a moment (the one parameter):
# one index seek for the group's last change dated up to it, whose two totals come back as
# one text value (two scalar subqueries would seek twice).
_HOLDINGS = (
    "SELECT g.site, g.chemical, (SELECT h.grams_total || ' ' || h.items_total"
    " FROM holding_change h WHERE h.site = g.site AND h.chemical = g.chemical"
    " AND h.at <= ? ORDER BY h.at DESC, h.idx DESC, h.item DESC LIMIT 1)"
)


# The log's size less one (its highest index) and the moment of the book's last holdings
# change dated up to a moment (the one parameter): an index seek each.
_AS_OF = (
    "SELECT (SELECT max(idx) FROM log_entry) AS top,"
    " (SELECT max(at) FROM holding_change WHERE at <= ?) AS moment"
)


def _size(top: Any) -> int:
    """The log's size from its highest index (None: empty)."""
    return 0 if top is None else int(top) + 1


def _holdings(rows: Sequence[Any]) -> list[Holding]:
    """The non-zero holdings of (site, chemical, totals, ...) rows."""
    out = []
    for site, chemical, totals, *_ in rows:
        if totals is None:
            continue
        grams, items = map(int, totals.split(" "))
        if grams or items:
            out.append(Holding(site, chemical, grams, items))
    return out


_HELD = {s for s in ItemState if s not in (ItemState.DESTROYED, ItemState.WITHDRAWN)} - {
    ItemState.IN_TRANSIT
}


def _position(r: Any) -> Position:
    return Position(r.item, int(r.at), int(r.idx), r.site, ItemState(r.state), int(r.held_g))


class BookWriter(BookReader):
    """Writes the book inside the one write transaction."""

    def clear(self) -> None:
        """Drop every row of the book (before a rebuild)."""
        for t in BOOK_TABLES:
            self.conn.execute(delete(t))

    def write(self, changes: Changes) -> None:
        """Write a run of changes: records, holdings with running totals, positions, custody."""
        self._put_records(changes.records.values())
        self._put_movements(changes.movements)
        self._put_flows(changes.movements)
        positions = {(p.item, p.at, p.entry): p for p in changes.positions}
        if positions:
            self.conn.execute(
                insert(item_position),
                [
                    {
                        "item": p.item,
                        "at": p.at,
                        "idx": p.entry,
                        "site": p.site,
                        "state": p.state.value,
                        "held_g": p.held_g,
                    }
                    for p in positions.values()
                ],
            )
        links = sorted({(c.item, c.entry) for c in changes.custody})
        if links:
            self.conn.execute(insert(custody_link), [{"item": i, "idx": e} for i, e in links])
        named = sorted({(s.site, s.entry) for s in changes.sites})
        if named:
            self._execute_many("INSERT INTO site_link (site, idx) VALUES (?, ?)", named)

    def _put_records(self, records: Collection[Record]) -> None:
        # One upsert statement (the same on SQLite and PostgreSQL), run on slices of
        # RECORDS_AT_ONCE so that the JSON documents of a large batch (a declaration of
        # 100,000 items) are not all in memory at once.
        sql = (
            "INSERT INTO book_record (kind, key, status, place, due_at, doc)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET"
            " status = excluded.status, place = excluded.place, due_at = excluded.due_at,"
            " doc = excluded.doc"
        )
        todo = list(records)
        for start in range(0, len(todo), RECORDS_AT_ONCE):
            part = todo[start : start + RECORDS_AT_ONCE]
            rows = [(r.kind, r.key, r.status, r.place, r.due_at, r.model_dump_json()) for r in part]
            self._execute_many(sql, rows)

    def _put_flows(self, movements: Sequence[Movement]) -> None:
        sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        for m in movements:
            if not m.site:
                continue
            flow = "produced" if m.flow == "destroyed" and m.grams > 0 else m.flow
            month = month_text(m.at)
            acc = sums[(m.site, month, flow)]
            acc[0] += m.grams
            acc[1] += m.items
        if sums:
            self._execute_many(
                "INSERT INTO balance_flow (site, month, flow, grams, items) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (site, month, flow) DO UPDATE SET"
                " grams = balance_flow.grams + excluded.grams,"
                " items = balance_flow.items + excluded.items",
                [(*k, g, n) for k, (g, n) in sums.items()],
            )

    def _put_movements(self, movements: Sequence[Movement]) -> None:
        groups: dict[tuple[str, str], list[Movement]] = defaultdict(list)
        for m in movements:
            groups[(m.site, m.chemical)].append(m)
        for (site, chemical), group in groups.items():
            group.sort(key=lambda m: (m.at, m.entry, m.item))
            self._put_group(site, chemical, group)

    def _put_group(self, site: str, chemical: str, moves: list[Movement]) -> None:
        group = (site, chemical)
        first_at = moves[0].at
        later = self._rows(
            "SELECT 1 FROM holding_change WHERE site = ? AND chemical = ? AND at > ? LIMIT 1",
            (*group, first_at),
        )
        base = self._total_before(site, chemical, first_at if later else _FOREVER)
        if base is None:
            known = self._rows("SELECT 1 FROM holding_group WHERE site = ? AND chemical = ?", group)
            if not known:
                self._execute_many(
                    "INSERT INTO holding_group (site, chemical) VALUES (?, ?)", [group]
                )
        g, n = base or (0, 0)
        rows = []
        for m in moves:
            g, n = g + m.grams, n + m.items
            rows.append((site, chemical, m.at, m.entry, m.item, m.grams, m.items, g, n))
        self._execute_many(
            "INSERT INTO holding_change (site, chemical, at, idx, item, grams, items,"
            " grams_total, items_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if later:  # a change dated before changes already booked: recount the group from it
            in_group = and_(holding_change.c.site == site, holding_change.c.chemical == chemical)
            self._recount(in_group, first_at, base or (0, 0))

    def _total_before(self, site: str, chemical: str, at: int) -> tuple[int, int] | None:
        """Running totals of the group's last row dated before `at` (all rows: _FOREVER)."""
        rows = self._rows(
            "SELECT grams_total, items_total FROM holding_change"
            " WHERE site = ? AND chemical = ? AND at " + ("<=" if at == _FOREVER else "<") + " ?"
            " ORDER BY at DESC, idx DESC, item DESC LIMIT 1",
            (site, chemical, at),
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run `sql` (with ? placeholders) once per row, on the driver's cursor."""
        driver.execute_many(self.conn, sql, rows)

    def _recount(self, in_group: Any, from_at: int, base: tuple[int, int]) -> None:
        h = holding_change.c
        q = (
            select(h.at, h.idx, h.item, h.grams, h["items"])
            .where(in_group, h.at >= from_at)
            .order_by(h.at, h.idx, h.item)
        )
        g, n = base
        for at, idx, item, grams_, items_ in self.conn.execute(q).all():
            g, n = g + grams_, n + items_
            self.conn.execute(
                update(holding_change)
                .where(in_group, h.at == at, h.idx == idx, h.item == item)
                .values(grams_total=g, items_total=n)
            )
