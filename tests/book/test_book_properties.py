"""Stateful property test: any sequence of claims and observations, accepted or refused,
leaves a possible book, and the holdings at any moment are the replay of the log up to it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cwledger.book.answers import holdings_from_movements
from cwledger.book.book import Book as MemoryBook
from cwledger.book.book import Context
from cwledger.book.records import HELD, ItemRecord, ItemState
from cwledger.errors import EventRejected
from cwledger.ledger.admission import decode_entry
from cwledger.ledger.authority import Authority
from cwledger.ledger.ledger import Ledger
from cwledger.time import from_rfc3339
from tests.book.builders import declaration, item, mass, site
from tests.conftest import FOUNDING, ORIGIN

ITEMS = [f"I-{n}" for n in range(6)]
SITES = ["S-0", "S-1", "S-2", "PORT"]
AUTHORS = {"transfer.shipped": "dec", "transfer.received": "dec", "destruction.batch": "dec"}


def _time(day: int) -> str:
    return f"2014-{1 + day // 28:02d}-{1 + day % 28:02d}T12:00:00Z"


def replay_until(led: Ledger, at: int) -> dict[tuple[str, str], tuple[int, int]]:
    """Holdings at `at` from scratch: the log's events dated up to `at`, in log order."""
    book, authority = MemoryBook(), Authority()
    with led.store.read() as r:
        entries = [e for chunk in r.iter_entries() for e in chunk]
    for e in entries:
        d = decode_entry(e.envelope, check_canonical=False)
        if d.etype.governance:
            authority.apply(d.body, e.index)
            continue
        when = from_rfc3339(d.event.time)
        if when > at:
            continue
        assert d.body is not None
        role = authority.parties[d.event.author].role
        refused = d.etype.apply(book, Context(d.event, d.body, e.index, when, role))
        assert not refused, refused
    return holdings_from_movements(book.changes.movements)


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        self.led = Ledger.init(
            self.dir / "l", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z"
        )
        self.n = 0
        self.day = 0
        self.transfers: dict[str, tuple[str, str]] = {}  # transfer -> (destination, item)
        self.destroyed: set[str] = set()
        self.sealed: set[str] = set()
        self.times: list[int] = []
        items = [
            item(i, SITES[k % 3], kg=100.0 * (k + 1), chemical=["DF", "HF"][k % 2])
            for k, i in enumerate(ITEMS)
        ]
        sites = [site(s, "port" if s == "PORT" else "storage") for s in SITES]
        self._append("declaration.submitted", declaration(items, sites=sites), "dec", 0)

    def teardown(self) -> None:
        self.led.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _append(self, type_: str, body: dict[str, Any], author: str, step: int) -> bool:
        self.n += 1
        self.day = max(0, self.day + step)
        ev = {"type": type_, "id": f"e{self.n}", "time": _time(self.day), "body": body}
        try:
            self.led.append(self.led.sign([ev], author))
        except EventRejected:
            return False
        self.times.append(from_rfc3339(ev["time"]))
        return True

    steps = st.integers(min_value=-2, max_value=4)

    def _site_of(self, i: str) -> str | None:
        with self.led.store.read() as r:
            rec = r.book.get(ItemRecord, i)
        return None if rec is None else rec.site

    @rule(i=st.sampled_from(ITEMS), step=st.integers(0, 2))
    def seal(self, i: str, step: int) -> None:
        body = {"seal": f"SL-{self.n}", "type": "metal_cap", "closes": {"kind": "item", "id": i}}
        if self._append("seal.applied", body, "insp", step):
            self.sealed.add(i)

    @rule(
        data=st.data(),
        honest=st.booleans(),
        origin=st.sampled_from(SITES),
        dest=st.sampled_from(SITES),
        kg=st.floats(50, 700),
        step=steps,
    )
    def ship(
        self, data: st.DataObject, honest: bool, origin: str, dest: str, kg: float, step: int
    ) -> None:
        # An honest shipper ships a sealed item from its own site; another may name any item
        # and any site (and is refused when the book disagrees).
        pool = sorted(self.sealed) if honest and self.sealed else ITEMS
        i = data.draw(st.sampled_from(pool))
        origin = (self._site_of(i) or origin) if honest else origin
        if origin == dest:
            return
        t = f"T-{self.n}"
        body = {
            "transfer": t,
            "origin": origin,
            "destination": dest,
            "due": "2016-01-01T00:00:00Z",
            "items": [{"item": i, "measured": mass(kg)}],
        }
        if self._append("transfer.shipped", body, "dec", step):
            self.transfers[t] = (dest, i)

    @rule(data=st.data(), honest=st.booleans(), kg=st.floats(50, 700), step=steps)
    def receive(self, data: st.DataObject, honest: bool, kg: float, step: int) -> None:
        if not self.transfers:
            return
        t = data.draw(st.sampled_from(sorted(self.transfers)))
        dest, i = self.transfers[t]
        if not honest:
            i, dest = data.draw(st.sampled_from(ITEMS)), data.draw(st.sampled_from(SITES))
        line = {"item": i, "measured": mass(kg)}
        body = {"transfer": t, "site": dest, "items": [line]}
        self._append("transfer.received", body, "dec", step)

    @rule(
        i=st.sampled_from(ITEMS),
        honest=st.booleans(),
        venue=st.sampled_from(SITES),
        kg=st.none() | st.floats(1, 900),
        step=steps,
    )
    def destroy(self, i: str, honest: bool, venue: str, kg: float | None, step: int) -> None:
        venue = (self._site_of(i) or venue) if honest else venue
        line: dict[str, Any] = {"item": i} if kg is None else {"item": i, "kg": kg}
        body = {
            "batch": f"B-{self.n}",
            "method": "hydrolysis",
            "venue": venue,
            "start": _time(self.day),
            "end": _time(self.day),
            "items": [line],
        }
        self._append("destruction.batch", body, "dec", step)

    @rule(venue=st.sampled_from(SITES), step=steps)
    def inventory(self, venue: str, step: int) -> None:
        self._append("inventory.taken", {"site": venue, "items": [{"item": "I-0"}]}, "insp", step)

    def _items(self) -> dict[str, ItemRecord]:
        with self.led.store.read() as r:
            return {i: rec for i in ITEMS if (rec := r.book.get(ItemRecord, i)) is not None}

    @invariant()
    def no_negative_holdings_and_one_place_per_item(self) -> None:
        items = self._items()
        with self.led.store.read() as r:
            now = r.book.holdings()
        assert all(h.grams >= 0 and h.items >= 0 for h in now)
        counted = sum(h.items for h in now)
        placed = [
            rec for rec in items.values() if rec.state in HELD or rec.state is ItemState.IN_TRANSIT
        ]
        assert counted == len(placed)
        for rec in items.values():  # held at a site, or in transit on one transfer: not both
            moving = rec.state is ItemState.IN_TRANSIT
            assert (rec.site is None) == moving and (rec.transfer is not None) == moving, rec

    @invariant()
    def destroyed_is_terminal(self) -> None:
        items = self._items()
        for i in self.destroyed:
            assert items[i].state is ItemState.DESTROYED and items[i].held_g == 0
        self.destroyed |= {i for i, rec in items.items() if rec.state is ItemState.DESTROYED}

    @invariant()
    def holdings_at_any_moment_are_the_replay_up_to_it(self) -> None:
        moments = sorted(set(self.times))
        for at in [moments[0] - 1, *moments[:: max(1, len(moments) // 4)], moments[-1]]:
            with self.led.store.read() as r:
                stored = {(h.site, h.chemical): (h.grams, h.items) for h in r.book.holdings(at)}
            assert stored == replay_until(self.led, at), at


BookMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBookMachine = BookMachine.TestCase
