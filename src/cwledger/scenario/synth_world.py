"""The world of a synthetic ledger (:mod:`cwledger.scenario.synth`) and every draw of its
story but the seal checks and replacements that fill it: the sites, the items and their
true masses, what each weighing read, the consignments, the destruction batches and the
sampled inventories, all made once from ``random.Random(seed)`` and held per item (the
story's own size, not the ledger's).
"""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from cwledger.model import Declaration

__all__ = [
    "BATCH",
    "Batch",
    "CHECK",
    "CHECKS_PER_SEAL",
    "CHEMICALS",
    "CLOSE",
    "Consignment",
    "DAY",
    "DECLARANT",
    "DECLARED_U",
    "HORIZON",
    "HQ",
    "INSPECTORATE",
    "INVENTORY",
    "INVENTORY_EVERY",
    "Inventory",
    "OFF",
    "ON",
    "OPEN",
    "PORT",
    "RECV1",
    "RECV2",
    "REMOVE",
    "SEAL",
    "SHIP1",
    "SHIP2",
    "SHIP_FROM",
    "SHIP_TO",
    "T0",
    "TAG",
    "VENUE",
    "VERIFY",
    "WEIGHED_U",
    "World",
    "handover_times",
    "iso",
    "mass",
    "plan_lives",
]

DECLARANT, INSPECTORATE = "dec", "insp"
PORT, VENUE = "PORT-1", "VENUE-1"

DAY = 86_400
T0 = 1_382_572_800  # 2013-10-24T00:00:00Z: the declaration
HORIZON = T0 + 700 * DAY  # nothing happens after this moment
SHIP_FROM, SHIP_TO = T0 + 70 * DAY, T0 + 800 * DAY  # consignments leave their site then
INVENTORY_EVERY = 30 * DAY

# (label, CWC category, removal priority, share of the items): generic labels only.
CHEMICALS: list[tuple[str, int, str, float]] = [
    ("CAT1-P1-A", 1, "1", 0.45),
    ("CAT1-P1-B", 1, "1", 0.35),
    ("CAT2-P2-07", 2, "2", 0.20),
]
# Relative standard uncertainties (random, systematic): the declaration, and a weighing.
DECLARED_U = (0.008, 0.005)
WEIGHED_U = (0.002, 0.0015)

# A seal is replaced after this many checks (so that no seal's record grows without bound).
CHECKS_PER_SEAL = 8

# Event kinds of the plan, in the order they sort at the same second. A replacement takes
# the old seal off (OFF), puts the new one on (ON) and verifies the old one at headquarters.
TAG, SEAL, CHECK, OFF, ON, HQ, OPEN, INVENTORY, CLOSE = range(9)
SHIP1, RECV1, SHIP2, RECV2, REMOVE, BATCH, VERIFY = range(9, 16)


def iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _noisy(rng: random.Random, value: float, u: float) -> float:
    """``value`` plus a normal error of standard deviation ``u``, cut at one ``u``."""
    return value + max(-1.0, min(1.0, rng.gauss(0.0, 1.0))) * u


def mass(kg: float, u: tuple[float, float], method: str) -> dict[str, Any]:
    return {"kg": kg, "u_random_kg": u[0], "u_systematic_kg": u[1], "method": method}


@dataclass
class Consignment:
    site: int
    items: list[int]
    ship1: int
    recv1: int
    ship2: int
    recv2: int


@dataclass
class Batch:
    consignment: int
    items: list[int]
    remove: int
    start: int
    end: int
    verify: int


@dataclass
class Inventory:
    site: int
    at: int
    items: list[int]
    measured: list[float]


class World:
    """Every draw of the story, made once from ``random.Random(seed)``."""

    def __init__(self, sites: int, items: int, seed: int) -> None:
        rng = random.Random(seed)
        self.site_ids = [f"S-{n + 1:02d}" for n in range(sites)]
        self.sites = [
            {
                "id": sid,
                "name": f"Storage site {sid[2:]}",
                "kind": "storage",
                "coordinates": self._where(rng),
                "party": DECLARANT,
            }
            for sid in self.site_ids
        ]
        self.sites.append(
            {
                "id": PORT,
                "name": "Port of loading",
                "kind": "port",
                "coordinates": self._where(rng),
                "party": DECLARANT,
            }
        )
        self.sites.append(
            {
                "id": VENUE,
                "name": "Destruction venue",
                "kind": "destruction",
                "coordinates": self._where(rng),
                "party": DECLARANT,
            }
        )
        labels = [c[0] for c in CHEMICALS]
        shares = [c[3] for c in CHEMICALS]
        n = items
        self.item_ids = [f"C-{i + 1:06d}" for i in range(n)]
        self.site_of = [i % sites for i in range(n)]
        self.chemical = rng.choices(labels, shares, k=n)
        self.true_kg = [rng.uniform(150.0, 1000.0) for _ in range(n)]
        self.declared_u = [
            (round(DECLARED_U[0] * m, 3), round(DECLARED_U[1] * m, 3)) for m in self.true_kg
        ]
        self.weighed_u = [
            (round(WEIGHED_U[0] * m, 3), round(WEIGHED_U[1] * m, 3)) for m in self.true_kg
        ]
        self.declared_kg = [
            round(_noisy(rng, m, math.hypot(*u)), 3)
            for m, u in zip(self.true_kg, self.declared_u, strict=True)
        ]
        self.tag_at = [T0 + DAY + rng.randrange(59 * DAY) for _ in range(n)]
        self.seal_at = [t + 600 + rng.randrange(3 * DAY) for t in self.tag_at]
        # Consignments: each site's items, shuffled, in groups of 8 to 40.
        self.consignments: list[Consignment] = []
        self.consignment_of = [0] * n
        by_site: list[list[int]] = [[] for _ in range(sites)]
        for i in range(n):
            by_site[self.site_of[i]].append(i)
        for s, members in enumerate(by_site):
            rng.shuffle(members)
            k = 0
            while k < len(members):
                size = rng.randint(8, 40)
                group = sorted(members[k : k + size])
                k += size
                ship1 = SHIP_FROM + rng.randrange(SHIP_TO - SHIP_FROM)
                recv1 = ship1 + DAY // 4 + rng.randrange(3 * DAY)
                ship2 = recv1 + 2 * DAY + rng.randrange(30 * DAY)
                recv2 = ship2 + 3 * DAY + rng.randrange(10 * DAY)
                for i in group:
                    self.consignment_of[i] = len(self.consignments)
                self.consignments.append(Consignment(s, group, ship1, recv1, ship2, recv2))
        # What each weighing read: (shipper 1, receiver 1, shipper 2, receiver 2) per item.
        self.weighed: list[list[float]] = [[] for _ in range(n)]
        for c in self.consignments:
            for i in c.items:
                u = math.hypot(*self.weighed_u[i])
                self.weighed[i] = [round(_noisy(rng, self.true_kg[i], u), 3) for _ in range(4)]
        # Destruction: each consignment at the venue in batches of 1 to 10 items.
        self.batches: list[Batch] = []
        self.batch_of: list[int | None] = [None] * n
        for ci, c in enumerate(self.consignments):
            k = 0
            while k < len(c.items):
                size = rng.randint(1, 10)
                group = c.items[k : k + size]
                k += size
                remove = c.recv2 + 3600 + rng.randrange(40 * DAY)
                start = remove + 3600 + rng.randrange(12 * 3600)
                end = start + 2 * 3600 + rng.randrange(22 * 3600)
                verify = end + DAY + rng.randrange(6 * DAY)
                for i in group:
                    self.batch_of[i] = len(self.batches)
                self.batches.append(Batch(ci, group, remove, start, end, verify))
        # Inventory rounds at the storage sites (sampled: up to 20 items present).
        present: list[list[int]] = []  # per site: its items by the time they leave
        leave: list[list[int]] = []
        for members in by_site:
            order = sorted(members, key=lambda i: self.consignments[self.consignment_of[i]].ship1)
            present.append(order)
            leave.append([self.consignments[self.consignment_of[i]].ship1 for i in order])
        self.inventories: list[Inventory] = []
        at = T0 + 10 * DAY
        while at < HORIZON - DAY:
            for s in range(sites):
                t = at + rng.randrange(5 * DAY)
                first = bisect_right(leave[s], t + 3 * 3600)
                there = present[s][first:]
                if not there:
                    continue
                chosen = sorted(rng.sample(there, min(20, len(there))))
                measured = [
                    round(_noisy(rng, self.true_kg[i], math.hypot(*self.weighed_u[i])), 3)
                    for i in chosen
                ]
                self.inventories.append(Inventory(s, t, chosen, measured))
            at += INVENTORY_EVERY
        self.padding_rng = random.Random(rng.getrandbits(64))

    @staticmethod
    def _where(rng: random.Random) -> dict[str, float]:
        return {"lat": round(rng.uniform(32.3, 37.3), 4), "lon": round(rng.uniform(35.7, 42.4), 4)}

    def declaration(self) -> Declaration:
        items = [
            {
                "id": self.item_ids[i],
                "kind": "container",
                "chemical": self.chemical[i],
                "declared": mass(self.declared_kg[i], self.declared_u[i], "declared"),
                "site": self.site_ids[self.site_of[i]],
            }
            for i in range(len(self.item_ids))
        ]
        chemicals = [
            {"label": label, "cwc_category": cat, "removal_priority": prio}
            for label, cat, prio, _ in CHEMICALS
        ]
        return Declaration.model_validate(
            {
                "version": 1,
                "legal_basis": "Synthetic declaration: fictional, for demonstration only",
                "due": iso(T0 + 3 * DAY)[:10],
                "chemicals": chemicals,
                "sites": self.sites,
                "items": items,
            }
        )

    def check_windows(self, i: int) -> list[tuple[int, int]]:
        """Open intervals while item i's seal is on and the item is at a site."""
        c = self.consignments[self.consignment_of[i]]
        b = self.batch_of[i]
        remove = self.batches[b].remove if b is not None else HORIZON + 1
        spans = [(self.seal_at[i], c.ship1), (c.recv1, c.ship2), (c.recv2, remove)]
        return [(a, min(z, HORIZON + 1)) for a, z in spans if a <= HORIZON and z - a >= 3]


def plan_lives(world: World) -> list[tuple[int, int, int]]:
    """(time, kind, index) of every event up to the horizon but the seal events."""
    plan: list[tuple[int, int, int]] = []
    for i in range(len(world.item_ids)):
        plan.append((world.tag_at[i], TAG, i))
        plan.append((world.seal_at[i], SEAL, i))
    for ci, c in enumerate(world.consignments):
        plan += [(c.ship1, SHIP1, ci), (c.recv1, RECV1, ci)]
        plan += [(c.ship2, SHIP2, ci), (c.recv2, RECV2, ci)]
    for bi, b in enumerate(world.batches):
        plan += [(b.remove, REMOVE, i) for i in b.items]
        plan += [(b.end, BATCH, bi), (b.verify, VERIFY, bi)]
    for k, inv in enumerate(world.inventories):
        plan += [(inv.at, OPEN, k), (inv.at + 3600, INVENTORY, k), (inv.at + 7200, CLOSE, k)]
    return [p for p in plan if p[0] <= HORIZON]


def handover_times(world: World) -> dict[int, list[int]]:
    """Each item's hand-overs up to the horizon: the moments it is shipped (the road leg,
    then the leg to the venue). Its seal is checked at each, just before it leaves."""
    out: dict[int, list[int]] = {}
    for c in world.consignments:
        for i in c.items:
            out[i] = [t for t in (c.ship1, c.ship2) if t <= HORIZON]
    return out
