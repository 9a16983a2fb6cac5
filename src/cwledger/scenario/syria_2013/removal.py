"""The story of the removal (section 2.3): the 19 consignments by road to the port of
loading, weighed at both ends, and aboard the two cargo ships."""

from __future__ import annotations

import random
from typing import Any

from cwledger.scenario.syria_2013.builder import Builder, at, days
from cwledger.scenario.syria_2013.facts.in_country import CONSIGNMENTS, PORT, VESSELS
from cwledger.scenario.syria_2013.in_country import BROKEN_SEAL_ITEM
from cwledger.scenario.syria_2013.world import DECLARANT, JM, PRIORITY, STUCK_AT, TS, place

SHORT_ITEM = "CAT2-P-010"  # planted: weighed short at the port, beyond the uncertainty
SHORT_KG = 250.0
# The Danish ship takes Priority 1, the Norwegian one the rest.
P1_SHIP, P2_SHIP = (v.id for v in VESSELS)


def ship_of(item: dict[str, Any]) -> str:
    """The cargo ship that carries a chemical for removal."""
    return P1_SHIP if PRIORITY[item["chemical"]] == "1" else P2_SHIP


def removal(
    b: Builder,
    by_id: dict[str, dict[str, Any]],
    order: list[str],
    rng: random.Random,
) -> None:
    """The port and the ships declared, then the consignments, each loaded until the
    cumulative tonnes of each priority of ``facts.CONSIGNMENTS`` are reached (to the
    nearest container; the last takes what is left)."""
    b.add(DECLARANT, "site.declared", at("2013-12-20"), {"site": place(PORT, DECLARANT)})
    for vessel in VESSELS:
        b.add(JM, "site.declared", at("2013-12-20"), {"site": place(vessel, JM)})
    queues = _queues(order, by_id)
    shipped = {"1": 0.0, "2": 0.0}
    for c in CONSIGNMENTS:
        loaded: list[str] = []
        for priority, target in (("1", c.p1_t), ("2", c.p2_t)):
            queue = queues[priority]
            while queue and (
                c.number == len(CONSIGNMENTS)
                or shipped[priority] + _tonnes(by_id[queue[0]]) / 2 <= target
            ):
                iid = queue.pop(0)
                loaded.append(iid)
                shipped[priority] += _tonnes(by_id[iid])
        _consignment(b, c.number, c.day, loaded, by_id, rng)


def _tonnes(item: dict[str, Any]) -> float:
    return float(item["declared"]["kg"]) / 1000


def _queues(order: list[str], by_id: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """The order of loading of each priority: all HD first (all of it out by mid-March),
    then the rest as declared, the items at the one site that could not be reached last."""
    queues: dict[str, list[str]] = {"1": [], "2": []}
    for stuck in (False, True):
        for first in (True, False):
            for i in order:
                item = by_id[i]
                if (item["chemical"] == "HD") == first and (item["site"] == STUCK_AT) == stuck:
                    queues[PRIORITY[item["chemical"]]].append(i)
    return queues


def _consignment(
    b: Builder,
    n: int,
    day: str,
    loaded: list[str],
    by_id: dict[str, dict[str, Any]],
    rng: random.Random,
) -> None:
    """By road from each storage site two days before, weighed when shipped and when
    received at the port; then aboard the ships on `day`, by 150, the loading verified
    (every seal checked at the port) and every item weighed aboard (section 3)."""
    if not loaded:
        return
    road = days(day, -2)
    origins: dict[str, list[str]] = {}
    for iid in loaded:
        origins.setdefault(by_id[iid]["site"], []).append(iid)
    legs = [
        (o, ids[j : j + 150]) for o, ids in sorted(origins.items()) for j in range(0, len(ids), 150)
    ]
    for k, (origin, ids) in enumerate(legs):
        tr = f"ROAD-{n:02d}-{k + 1:02d}"
        lines = [{"item": i, "measured": _weighed(by_id[i], rng, 0.0)} for i in ids]
        b.add(
            DECLARANT,
            "transfer.shipped",
            at(road, 6),
            {
                "transfer": tr,
                "origin": origin,
                "destination": PORT.id,
                "due": at(day, 6),
                "consignment": f"consignment {n}",
                "items": lines,
            },
        )
        got = [
            {
                "item": i,
                "measured": _weighed(by_id[i], rng, -SHORT_KG / 1000 if i == SHORT_ITEM else 0.0),
            }
            for i in ids
        ]
        b.add(
            DECLARANT,
            "transfer.received",
            at(days(road, 1), 15),
            {"transfer": tr, "site": PORT.id, "items": got},
        )
    for vessel in (P1_SHIP, P2_SHIP):
        aboard = [i for i in loaded if ship_of(by_id[i]) == vessel]
        for j in range(0, len(aboard), 150):
            ids = aboard[j : j + 150]
            tr = f"LOAD-{n:02d}-{vessel[-2:]}-{j // 150 + 1}"
            for i in ids:
                seal = f"SEAL-{i}" + ("-2" if i == BROKEN_SEAL_ITEM else "")
                b.add(
                    TS,
                    "seal.checked",
                    at(day, 8),
                    {"seal": seal, "condition": "intact", "method": "visual"},
                )
            b.add(
                DECLARANT,
                "transfer.shipped",
                at(day, 9),
                {
                    "transfer": tr,
                    "origin": PORT.id,
                    "destination": vessel,
                    "due": at(day, 20),
                    "consignment": f"consignment {n}",
                    "items": [{"item": i} for i in ids],
                },
            )
            b.add(
                JM,
                "transfer.received",
                at(day, 18),
                {"transfer": tr, "site": vessel, "items": [_aboard(by_id[i]) for i in ids]},
            )


def _aboard(item: dict[str, Any]) -> dict[str, Any]:
    """An item received aboard, weighed: the mass the port weighed (its declared mass, less
    what the planted short item lacks)."""
    d = item["declared"]
    kg = d["kg"] - (SHORT_KG if item["id"] == SHORT_ITEM else 0.0)
    mass = {"kg": round(kg, 3), "u_random_kg": d["u_random_kg"], "u_systematic_kg": 0.0}
    return {"item": item["id"], "measured": mass | {"method": "weighing aboard"}}


def _weighed(item: dict[str, Any], rng: random.Random, short_t: float) -> dict[str, Any]:
    d = item["declared"]
    kg = d["kg"] + rng.gauss(0, d["u_random_kg"] * 0.3) + short_t * 1000
    return {
        "kg": round(kg, 3),
        "u_random_kg": d["u_random_kg"],
        "u_systematic_kg": 0.0,
        "method": "weighbridge",
    }
