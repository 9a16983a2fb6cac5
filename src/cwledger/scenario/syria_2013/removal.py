"""The story of the removal (section 2.3): the 19 consignments by road to the port of
loading, weighed at both ends, and aboard the two cargo ships."""

from __future__ import annotations

import random
from typing import Any

from cwledger.scenario.syria_2013.builder import Builder, at, days
from cwledger.scenario.syria_2013.facts.in_country import CONSIGNMENTS, PORT, VESSELS
from cwledger.scenario.syria_2013.world import DECLARANT, JM, PRIORITY, STUCK_AT, place

SHORT_ITEM = "CAT2-P-010"  # planted: weighed short at the port, beyond the uncertainty
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
    cumulative tonnes of ``facts.CONSIGNMENTS`` are reached (the last takes what is left)."""
    b.add(DECLARANT, "site.declared", at("2013-12-20"), {"site": place(PORT, DECLARANT)})
    for vessel in VESSELS:
        b.add(JM, "site.declared", at("2013-12-20"), {"site": place(vessel, JM)})
    queue = _interleave(order, by_id)
    shipped_t = 0.0
    for c in CONSIGNMENTS:
        loaded: list[str] = []
        while queue and (
            c.number == len(CONSIGNMENTS)
            or shipped_t + by_id[queue[0]]["declared"]["kg"] / 1000 <= c.cumulative_t + 2.0
        ):
            iid = queue.pop(0)
            loaded.append(iid)
            shipped_t += by_id[iid]["declared"]["kg"] / 1000
        _consignment(b, c.number, c.day, loaded, by_id, rng)


def _interleave(order: list[str], by_id: dict[str, dict[str, Any]]) -> list[str]:
    """The order of loading: Priority 2 and 1 alternating, all HD by mid-March, the items at
    the one site that could not be reached last."""
    p1 = [
        i for i in order if PRIORITY[by_id[i]["chemical"]] == "1" and by_id[i]["site"] != STUCK_AT
    ]
    p2 = [i for i in order if PRIORITY[by_id[i]["chemical"]] == "2"]
    stuck = [i for i in order if by_id[i]["site"] == STUCK_AT]
    out: list[str] = []
    while p1 or p2:
        out += p1[:2]
        out += p2[:3]
        p1, p2 = p1[2:], p2[3:]
    return out + stuck


def _consignment(
    b: Builder,
    n: int,
    day: str,
    loaded: list[str],
    by_id: dict[str, dict[str, Any]],
    rng: random.Random,
) -> None:
    """By road from each storage site two days before, weighed when shipped and when
    received at the port; then aboard the ships on `day`, by 150."""
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
            {"item": i, "measured": _weighed(by_id[i], rng, -0.25 if i == SHORT_ITEM else 0.0)}
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
                {"transfer": tr, "site": vessel, "items": [{"item": i} for i in ids]},
            )


def _weighed(item: dict[str, Any], rng: random.Random, short_t: float) -> dict[str, Any]:
    d = item["declared"]
    kg = d["kg"] + rng.gauss(0, d["u_random_kg"] * 0.3) + short_t * 1000
    return {
        "kg": round(kg, 3),
        "u_random_kg": d["u_random_kg"],
        "u_systematic_kg": 0.0,
        "method": "weighbridge",
    }
