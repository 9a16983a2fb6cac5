"""Synthetic ledgers for scale and detection studies: a fictional stockpile and its removal.

``synth`` writes a signed ledger of exactly ``events`` entries (the genesis included)
through the real append path, deterministic for a seed: the same seed gives the same
keys, entries and root hash. The world is fictional and public-aggregate only: ``sites``
storage sites, a port and a destruction venue (coordinates in 32.3-37.3 N, 35.7-42.4 E),
three generic chemical labels, and ``items`` containers with declared masses.

The life of an item, in time order: declared; tagged and sealed by the inspectorate;
shipped with its consignment from its site to the port (shipper's and receiver's
weighings), then on to the venue; its seal removed and the item destroyed in a batch,
which the inspectorate verifies. Sampled inventories at the storage sites (inside an
inspection) and seal checks fill the ledger up to ``events``: observations, which never
change holdings. A seal is replaced after every 8 checks (taken off, a new one put on,
the old one verified at headquarters), so that no seal's record in the book grows long.
Every measurement is the item's true mass plus an error within one standard
uncertainty, so without a diversion the book raises no finding. The story stops at a
horizon (about 23 months after the declaration): items still at a site, at the port, in
transit or at the venue stay there.

A :class:`Diversion` lowers receivers' masses at the venue: ``abrupt`` one item by 8
standard uncertainties of the shipper-receiver difference (the book raises a finding),
``protracted:AMOUNT`` AMOUNT kg as shortfalls of at most one standard uncertainty each
over many receipts (no finding: only the material balance shows it). The random draws of
the story do not depend on the diversion, so a diverted ledger differs from the plain one
of the same seed only in the diverted receipts.

The generator keeps its own account of what it wrote (grams held per site and chemical,
grams destroyed, each item's final state and site) in the :class:`SynthReport`, to be
compared with the book.

The ledger's clock follows the story: each batch is logged at the time of its latest
event (so nothing is in the future; an entry counts as recorded late only when a batch
spans more than the ledger's `late_after`).

Its memory does not grow with ``events``: the world (:mod:`.synth_world`) is held per
item, and the events are sorted and written a window of the story's time at a time
(about ``WINDOW`` events); the random draws of the seal events that fill the ledger are
replayed for each window rather than held, so the planning time grows as the square of
``events`` over ``WINDOW`` (about a second per window at 1,000,000 events, against
minutes of signing and appending).
"""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, NamedTuple

from cwledger.book.records import ItemState, grams
from cwledger.errors import EventRejected
from cwledger.intake import declaration_parts
from cwledger.ledger.ledger import Ledger
from cwledger.model.bodies import MAX_LINES
from cwledger.scenario.synth_world import (
    BATCH,
    CHECK,
    CHECKS_PER_SEAL,
    CLOSE,
    DAY,
    DECLARANT,
    HORIZON,
    HQ,
    INSPECTORATE,
    INVENTORY,
    OFF,
    ON,
    OPEN,
    PORT,
    RECV1,
    RECV2,
    REMOVE,
    SEAL,
    SHIP1,
    SHIP2,
    T0,
    TAG,
    VENUE,
    VERIFY,
    World,
    handover_times,
    iso,
    mass,
    plan_lives,
)
from cwledger.time import from_rfc3339

__all__ = ["ORIGIN", "Diversion", "ItemEnd", "SynthReport", "synth"]

ORIGIN = "example.org/cwledger/synthetic"
FOUNDING: list[tuple[str, Literal["declarant", "inspectorate"]]] = [
    (DECLARANT, "declarant"),
    (INSPECTORATE, "inspectorate"),
]
ABRUPT_K = 8.0  # an abrupt diversion: this many standard uncertainties of the difference

# Events planned at a time before they are written (the generator's memory: about 130 bytes
# each); the random draws of the seal events are replayed once per window.
WINDOW = 100_000

_TYPES = {
    TAG: ("item.tagged", INSPECTORATE),
    SEAL: ("seal.applied", INSPECTORATE),
    CHECK: ("seal.checked", INSPECTORATE),
    OFF: ("seal.removed", INSPECTORATE),
    ON: ("seal.applied", INSPECTORATE),
    HQ: ("seal.checked", INSPECTORATE),
    OPEN: ("inspection.opened", INSPECTORATE),
    INVENTORY: ("inventory.taken", INSPECTORATE),
    CLOSE: ("inspection.closed", INSPECTORATE),
    SHIP1: ("transfer.shipped", DECLARANT),
    RECV1: ("transfer.received", DECLARANT),
    SHIP2: ("transfer.shipped", DECLARANT),
    RECV2: ("transfer.received", DECLARANT),
    REMOVE: ("seal.removed", INSPECTORATE),
    BATCH: ("destruction.batch", DECLARANT),
    VERIFY: ("destruction.verified", INSPECTORATE),
}

_SPECS = "'abrupt' or 'protracted:AMOUNT' (AMOUNT in kg, more than 0, e.g. protracted:500)"


@dataclass(frozen=True)
class Diversion:
    """A diversion at the venue's receipts: ``abrupt``, or ``protracted`` of ``kg`` in all."""

    kind: Literal["abrupt", "protracted"]
    kg: float | None = None

    def __post_init__(self) -> None:
        protracted = self.kind == "protracted"
        amount = self.kg is not None and math.isfinite(self.kg) and self.kg > 0
        if self.kind not in ("abrupt", "protracted") or protracted != amount:
            raise ValueError(f"diversion {self.kind} {self.kg}: expected {_SPECS}")

    @classmethod
    def parse(cls, spec: str) -> Diversion:
        """``abrupt`` or ``protracted:AMOUNT`` (kg). Raises ValueError naming both forms."""
        text = spec.strip()
        if text == "abrupt":
            return cls("abrupt")
        head, sep, amount = text.partition(":")
        if head == "protracted" and sep:
            try:
                kg = float(amount)
            except ValueError:
                kg = math.nan
            if math.isfinite(kg) and kg > 0:
                return cls("protracted", kg)
        raise ValueError(f"diversion {spec!r}: expected {_SPECS}")

    def __str__(self) -> str:
        return self.kind if self.kg is None else f"{self.kind}:{self.kg:g}"


class ItemEnd(NamedTuple):
    """An item as the generator left it: its state and site (None in transit)."""

    state: ItemState
    site: str | None


@dataclass(frozen=True)
class SynthReport:
    """What ``synth`` wrote, and its own account of it (not read back from the ledger).

    ``held``: grams per (site, chemical) at the end, site "" for in transit, non-zero
    groups only (as ``BookReader.holdings()`` lists them); ``destroyed``: grams consumed
    per (venue, chemical); ``items``: each item's final state and site; ``diverted``:
    grams missing from each diverted item at its receipt at the venue.
    """

    path: Path
    seed: int
    events: int  # entries written, the genesis included (the tree size)
    size: int
    root_hash: str  # hex
    seconds: float
    events_per_second: float
    held: dict[tuple[str, str], int]
    destroyed: dict[tuple[str, str], int]
    items: dict[str, ItemEnd]
    diversion: Diversion | None
    diverted: dict[str, int]

    @property
    def diverted_g(self) -> int:
        """Grams diverted in all."""
        return sum(self.diverted.values())

    @property
    def accounted_g(self) -> int:
        """Grams held plus grams destroyed: the declared stockpile less what was diverted
        and less the measurement differences."""
        return sum(self.held.values()) + sum(self.destroyed.values())


# -- the diversion ----------------------------------------------------------------------


def _divert(
    world: World, diversion: Diversion | None, seed: int
) -> tuple[dict[int, int], dict[int, int]]:
    """(item -> grams short at its venue receipt, item -> diverted receiver grams)."""
    if diversion is None:
        return {}, {}
    rng = random.Random(f"cwledger synthetic diversion: {seed}")
    # The receipts at the venue before the horizon, one line per item.
    lines = [i for c in world.consignments if c.recv2 <= HORIZON for i in c.items]
    if not lines:
        raise ValueError(
            f"diversion {diversion}: no receipt at the venue before the horizon; give more items"
        )
    rng.shuffle(lines)
    short: dict[int, int] = {}

    def u_diff_g(i: int) -> float:
        """The standard uncertainty of a shipper-receiver difference of item i, in grams."""
        return 1000 * math.hypot(*world.weighed_u[i], *world.weighed_u[i])

    if diversion.kind == "abrupt":
        short[lines[0]] = round(ABRUPT_K * u_diff_g(lines[0]))
    else:
        assert diversion.kg is not None
        left = grams(diversion.kg)
        for i in lines:
            if left <= 0:
                break
            g = min(left, max(1, math.floor(u_diff_g(i) * rng.uniform(0.3, 1.0))))
            short[i] = g
            left -= g
        if left > 0:
            hidden = sum(short.values()) / 1000
            raise ValueError(
                f"diversion {diversion}: the {len(lines)} receipts at the venue hide at most"
                f" {hidden:,.3f} kg at one standard uncertainty each; give more items or events"
            )
    received = {i: grams(world.weighed[i][3]) - g for i, g in short.items()}
    return short, received


# -- the seal events --------------------------------------------------------------------


def _pattern(left: int) -> list[bool]:
    """An item's seal moments for ``left`` padding events, in time order: a replacement
    (3 events, after every CHECKS_PER_SEAL checks while 3 are left) or a check (1)."""
    replace: list[bool] = []
    checks = 0
    while left:
        swap = checks >= CHECKS_PER_SEAL and left >= 3
        replace.append(swap)
        left -= 3 if swap else 1
        checks = 0 if swap else checks + 1
    return replace


class _Seals:
    """Every seal of the story by index: item i's first seal is seal i; the replacements
    follow all the first seals, item by item, each item's in the order they go on."""

    def __init__(self, items: int, replacements: list[int]) -> None:
        self.items = items
        self.first = [items]  # item i's replacements are first[i] to first[i + 1] - 1
        for r in replacements:
            self.first.append(self.first[-1] + r)

    def item(self, k: int) -> int:
        """The item seal k closes."""
        return k if k < self.items else bisect_right(self.first, k) - 1

    def id(self, k: int) -> str:
        i = self.item(k)
        if k < self.items:
            return f"SL-{i + 1:06d}"
        return f"SL-{i + 1:06d}-{k - self.first[i] + 2}"

    def last(self, i: int) -> int:
        """The seal on item i at the end of the story."""
        return self.first[i + 1] - 1 if self.first[i + 1] > self.first[i] else i


class _Padding:
    """``count`` events on seals at random moments while the seals are on and the items at
    a site: checks, and after every CHECKS_PER_SEAL checks of a seal, its replacement;
    then, beyond ``count``, a check of the seal on at each of ``handovers``.

    They are drawn item by item, all of an item's moments at once; :meth:`events` replays
    the same draws every time it is called (from the generator's state once the events are
    shared out among the items), so that the ledger can be written in time order a window
    at a time without holding them all. Raises ValueError if an item's seal events do not
    fit in the time its seal is on at a site."""

    def __init__(
        self, world: World, count: int, handovers: dict[int, list[int]] | None = None
    ) -> None:
        rng = world.padding_rng
        n = len(world.item_ids)
        self.budget = [0] * n
        for _ in range(count):
            self.budget[rng.randrange(n)] += 1
        self.state = rng.getstate()
        self.world = world
        self.handovers = handovers or {}
        self.count = count + sum(len(ts) for ts in self.handovers.values())
        replacements = []
        for i, left in enumerate(self.budget):
            replace = _pattern(left)
            _fit(world.check_windows(i), len(replace))
            replacements.append(sum(replace))
        self.seals = _Seals(n, replacements)

    def events(self) -> Iterator[tuple[int, int, int]]:
        """(time, kind, seal) of every padding event, item by item (not in time order)."""
        rng = random.Random()
        rng.setstate(self.state)
        w = self.world
        for i, left in enumerate(self.budget):
            replace = _pattern(left)
            seal, new = i, self.seals.first[i]
            pending = sorted(self.handovers.get(i, []))
            moments = _moments(w.check_windows(i), len(replace), rng)
            for t, swap in zip(moments, replace, strict=True):
                while pending and pending[0] < t:  # checked at the hand-over (sorts before it)
                    yield (pending.pop(0), CHECK, seal)
                if not swap:
                    yield (t, CHECK, seal)
                    continue
                hq = min(t + DAY + rng.randrange(13 * DAY), HORIZON)
                yield (t, OFF, seal)
                yield (t, ON, new)
                yield (hq, HQ, seal)
                seal, new = new, new + 1
            for t in pending:
                yield (t, CHECK, seal)


def _fit(windows: list[tuple[int, int]], count: int) -> int:
    """The whole seconds strictly inside the windows; ValueError if fewer than ``count``."""
    total = sum(z - a - 1 for a, z in windows)
    if count > total:
        raise ValueError(f"{count} seal events do not fit in {total} seconds")
    return total


def _in_order(
    plan: list[tuple[int, int, int]], padding: _Padding, window: int
) -> Iterator[tuple[int, int, int]]:
    """Every event of the plan and the padding, sorted, holding a window of time's events
    at a time (about ``window`` of them: the windows are whole hours of the story)."""
    plan = sorted(plan)
    times = [t for t, _, _ in plan]
    for lo, hi in _windows(times, padding, window):
        chunk = plan[bisect_left(times, lo) : bisect_left(times, hi)]
        chunk += (p for p in padding.events() if lo <= p[0] < hi)
        chunk.sort()
        yield from chunk


def _windows(times: list[int], padding: _Padding, window: int) -> list[tuple[int, int]]:
    """[lo, hi) spans of the story's time, whole hours of at most ``window`` events each
    (or a single hour, when it holds more); one pass over the padding counts them."""
    if len(times) + padding.count <= window:
        return [(0, HORIZON + 1)]
    hours = [0] * ((HORIZON - T0) // 3600 + 1)
    for t in times:
        hours[max(0, (t - T0) // 3600)] += 1
    for t, _, _ in padding.events():
        hours[max(0, (t - T0) // 3600)] += 1
    cuts, held = [0], 0
    for h, n in enumerate(hours):
        if held and held + n > window:
            cuts.append(T0 + h * 3600)
            held = 0
        held += n
    cuts.append(HORIZON + 1)
    return list(pairwise(cuts))


def _moments(windows: list[tuple[int, int]], count: int, rng: random.Random) -> list[int]:
    """``count`` distinct whole seconds strictly inside the windows, sorted."""
    total = _fit(windows, count)
    picked: set[int] = set()
    draw = rng.randrange
    while len(picked) < count:
        picked.add(draw(total))
    out: list[int] = []
    spans = iter(windows)
    base, a, z = 0, 0, 1  # seconds in the windows before the one at a..z
    for k in sorted(picked):
        while k - base >= z - a - 1:
            base += z - a - 1
            a, z = next(spans)
        out.append(a + 1 + k - base)
    return out


# -- the events --------------------------------------------------------------------------


class _Writer:
    """Turns the plan into event bodies."""

    def __init__(self, world: World, seals: _Seals, received: dict[int, int]) -> None:
        self.w = world
        self.seals = seals
        self.received = received

    def _line(self, i: int, reading: int) -> dict[str, Any]:
        w = self.w
        kg = w.weighed[i][reading]
        if reading == 3 and i in self.received:
            kg = self.received[i] / 1000
        return {"item": w.item_ids[i], "measured": mass(kg, w.weighed_u[i], "weighing")}

    def body(self, kind: int, k: int) -> dict[str, Any]:
        w, seals = self.w, self.seals
        if kind == CHECK:
            return {"seal": seals.id(k), "condition": "intact"}
        if kind == OFF:
            return {"seal": seals.id(k), "reason": "replaced at inspection"}
        if kind == HQ:
            return {
                "seal": seals.id(k),
                "condition": "intact",
                "method": "hq_comparison",
                "at_headquarters": True,
            }
        if kind == TAG:
            site = w.site_ids[w.site_of[k]]
            return {"item": w.item_ids[k], "tag": f"T-{k + 1:06d}", "site": site}
        if kind in (SEAL, ON):
            closes = {"kind": "item", "id": w.item_ids[seals.item(k)]}
            return {"seal": seals.id(k), "type": "metal_cap", "closes": closes}
        if kind in (SHIP1, RECV1, SHIP2, RECV2):
            c = w.consignments[k]
            leg = 1 if kind in (SHIP1, RECV1) else 2
            transfer = f"TR-{leg}-{k + 1:05d}"
            origin = w.site_ids[c.site] if leg == 1 else PORT
            destination = PORT if leg == 1 else VENUE
            reading = {SHIP1: 0, RECV1: 1, SHIP2: 2, RECV2: 3}[kind]
            lines = [self._line(i, reading) for i in c.items]
            if kind in (RECV1, RECV2):
                return {"transfer": transfer, "site": destination, "items": lines}
            arrive = c.recv1 if leg == 1 else c.recv2
            return {
                "transfer": transfer,
                "origin": origin,
                "destination": destination,
                "due": iso(arrive + DAY),
                "consignment": f"consignment {k + 1} leg {leg}",
                "items": lines,
            }
        if kind == REMOVE:
            return {"seal": seals.id(seals.last(k)), "reason": "opened for destruction"}
        if kind == BATCH:
            b = w.batches[k]
            return {
                "batch": f"DB-{k + 1:06d}",
                "method": "hydrolysis",
                "venue": VENUE,
                "start": iso(b.start),
                "end": iso(b.end),
                "items": [{"item": w.item_ids[i]} for i in b.items],
            }
        if kind == VERIFY:
            return {"batch": f"DB-{k + 1:06d}"}
        inv = w.inventories[k]
        inspection = f"IN-{k + 1:05d}"
        site = w.site_ids[inv.site]
        if kind == OPEN:
            return {"inspection": inspection, "site": site, "kind": "inventory"}
        if kind == INVENTORY:
            found = [
                {"item": w.item_ids[i], "measured": mass(kg, w.weighed_u[i], "weighing")}
                for i, kg in zip(inv.items, inv.measured, strict=True)
            ]
            return {"site": site, "inspection": inspection, "complete": False, "items": found}
        return {"inspection": inspection, "summary": f"sampled inventory of {len(inv.items)} items"}


# -- the account -------------------------------------------------------------------------


def _account(
    world: World, received: dict[int, int]
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int], dict[str, ItemEnd]]:
    """Held grams per (site, chemical), destroyed grams, and each item's end."""
    held: dict[tuple[str, str], int] = defaultdict(int)
    destroyed: dict[tuple[str, str], int] = defaultdict(int)
    ends: dict[str, ItemEnd] = {}
    for i, item in enumerate(world.item_ids):
        c = world.consignments[world.consignment_of[i]]
        b = world.batch_of[i]
        chem = world.chemical[i]
        g = grams(world.declared_kg[i])
        site: str | None = world.site_ids[c.site]
        state = ItemState.SEALED if world.seal_at[i] <= HORIZON else ItemState.TAGGED
        for at, new_state, new_site, reading in (
            (c.ship1, ItemState.IN_TRANSIT, None, None),
            (c.recv1, ItemState.RECEIVED, PORT, 1),
            (c.ship2, ItemState.IN_TRANSIT, None, None),
            (c.recv2, ItemState.RECEIVED, VENUE, 3),
        ):
            if at > HORIZON:
                break
            state, site = new_state, new_site
            if reading is not None:
                g = grams(world.weighed[i][reading])
                if reading == 3 and i in received:
                    g = received[i]
        if b is not None and world.batches[b].end <= HORIZON:
            destroyed[(VENUE, chem)] += g
            state, g = ItemState.DESTROYED, 0
        if g:
            held[("" if site is None else site, chem)] += g
        ends[item] = ItemEnd(state, site)
    return dict(held), dict(destroyed), ends


# -- writing -------------------------------------------------------------------------------


def _raw_events(
    parts: list[dict[str, Any]], plan: Iterable[tuple[int, int, int]], writer: _Writer
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(author, raw event) in log order after the genesis."""
    n = 0
    decl_time = iso(T0)
    for body in parts:
        n += 1
        raw = {"type": "declaration.submitted", "id": f"syn-{n:07d}", "time": decl_time}
        yield DECLARANT, {**raw, "body": body}
    for t, kind, k in plan:
        n += 1
        etype, author = _TYPES[kind]
        yield (
            author,
            {"type": etype, "id": f"syn-{n:07d}", "time": iso(t), "body": writer.body(kind, k)},
        )


@dataclass
class _Story:
    """What ``synth`` writes, planned: the world, the diversion's receipts (item -> grams
    short, item -> grams received) and the events, which :meth:`raw_events` gives in log
    order a window of time at a time."""

    world: World
    short: dict[int, int]
    received: dict[int, int]
    parts: list[dict[str, Any]]
    plan: list[tuple[int, int, int]]
    padding: _Padding

    @classmethod
    def tell(
        cls, sites: int, items: int, events: int, seed: int, diversion: Diversion | None
    ) -> _Story:
        """The story of ``items`` items at ``sites`` sites in ``events`` entries; raises
        ValueError if it cannot be told (see :func:`synth`)."""
        if sites < 1 or items < 1:
            raise ValueError("sites and items must be at least 1")
        if sites > MAX_LINES - 2:
            raise ValueError(
                f"at most {MAX_LINES - 2} sites: the declaration header lists them all"
            )
        world = World(sites, items, seed)
        short, received = _divert(world, diversion, seed)
        plan = plan_lives(world)
        parts = declaration_parts(world.declaration())
        handovers = handover_times(world)
        fixed = 1 + len(parts) + len(plan) + sum(len(ts) for ts in handovers.values())
        if events < fixed:
            raise ValueError(
                f"{events:,} events are too few for {items:,} items at {sites} sites:"
                f" their lives alone take {fixed:,} (seed {seed})"
            )
        padding = _Padding(world, events - fixed, handovers)
        return cls(world, short, received, parts, plan, padding)

    def raw_events(self, window: int = WINDOW) -> Iterator[tuple[str, dict[str, Any]]]:
        """(author, raw event) in log order after the genesis, about ``window`` events
        planned at a time."""
        writer = _Writer(self.world, self.padding.seals, self.received)
        return _raw_events(self.parts, _in_order(self.plan, self.padding, window), writer)


def synth(
    path: Path,
    *,
    sites: int,
    items: int,
    events: int,
    seed: int,
    diversion: Diversion | None = None,
    batch: int = 1000,
    window: int = WINDOW,
    progress: Callable[[int], None] | None = None,
) -> SynthReport:
    """Write a synthetic ledger of exactly ``events`` entries (the genesis included) at
    ``path`` and return the generator's account of it.

    ``progress`` is called after each appended batch with the number of entries it added.
    The events are planned about ``window`` at a time (a span of the story's time), so the
    memory it takes does not grow with ``events``; the ledger is the same for any window.
    Raises ValueError when ``events`` is too few for the lives of ``items`` items (the
    message gives the least it can be) or when a protracted diversion cannot be hidden at
    one standard uncertainty per receipt; ConflictError if ``path`` holds a ledger.
    """
    if batch < 1 or window < 1:
        raise ValueError("batch and window must be at least 1")
    story = _Story.tell(sites, items, events, seed, diversion)
    held, destroyed, ends = _account(story.world, story.received)

    started = time.perf_counter()
    key_seed = f"cwledger synthetic, demo only: {seed}".encode()
    ledger = Ledger.init(
        path,
        ORIGIN,
        founding=FOUNDING,
        time=iso(T0 - DAY),
        key_seed=key_seed,
        log_clock=lambda: (T0 - DAY) * 1_000_000,
    )
    try:
        written = 1
        chunk: list[tuple[str, dict[str, Any]]] = []
        for pair in story.raw_events(window):
            chunk.append(pair)
            if len(chunk) == batch:
                written += _append(ledger, chunk, written)
                chunk = []
                if progress is not None:
                    progress(batch)
        if chunk:
            written += _append(ledger, chunk, written)
            if progress is not None:
                progress(len(chunk))
        cp = ledger.latest_checkpoint()
    finally:
        ledger.close()
    seconds = time.perf_counter() - started
    assert written == events == cp.size, (written, events, cp.size)
    return SynthReport(
        path=path,
        seed=seed,
        events=written,
        size=cp.size,
        root_hash=cp.root_hash.hex(),
        seconds=seconds,
        events_per_second=written / seconds if seconds > 0 else math.inf,
        held=held,
        destroyed=destroyed,
        items=ends,
        diversion=diversion,
        diverted={story.world.item_ids[i]: g for i, g in sorted(story.short.items())},
    )


def _append(ledger: Ledger, chunk: list[tuple[str, dict[str, Any]]], first: int) -> int:
    """Sign a chunk in bulk per author and append it in order; a refusal is a generator bug."""
    by_author: dict[str, list[int]] = defaultdict(list)
    for k, (author, _) in enumerate(chunk):
        by_author[author].append(k)
    envelopes: list[bytes | str] = [b""] * len(chunk)
    for author, where in by_author.items():
        signed = ledger.sign([chunk[k][1] for k in where], author)
        for k, env in zip(where, signed, strict=True):
            envelopes[k] = env
    told = max(from_rfc3339(raw["time"]) for _, raw in chunk)
    ledger.clock = lambda: told  # the story's clock: the batch's latest event
    try:
        ledger.append(envelopes)
    except EventRejected as e:
        detail = "; ".join(f"{p.location}: {p.message}" for p in e.problems[:5])
        raise RuntimeError(
            f"synth: the ledger refused the batch from entry {first} (a generator bug): {detail}"
        ) from e
    return len(chunk)
