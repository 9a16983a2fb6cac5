"""The world of the scenario: its log, its parties, sites, chemicals and declared items.

Names and coordinates of the sites in the country are fictional (inside its bounding box),
their numbers those of the facts (``facts``); generic codes stand where the facts name no
class. Masses are declared with the relative uncertainties of the method that gives them.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from cwledger.intake.parts import BODY_BUDGET, declaration_parts
from cwledger.model import Declaration
from cwledger.model.events import Role
from cwledger.scenario.syria_2013.facts.declaration import (
    CHEMICALS,
    FACILITIES,
    ISOPROPANOL_T,
    JOINT_MISSION,
    SITES,
    STOCK,
    STRUCTURES,
    UNFILLED_MUNITIONS,
    UNSAFE_SITES,
    Chemical,
)
from cwledger.scenario.syria_2013.facts.in_country import STUCK_CONTAINERS, Place

NAME = "syria-2013"
ORIGIN = "example.org/cwledger/syria-2013"
KEY_SEED = b"cwledger scenario syria-2013: demonstration only, never for real use"

DECLARANT = "declaring-state"
TS = "technical-secretariat"
JM = "joint-mission"
# The five destruction venues abroad (section 6 item 1): each records its own batches and
# the shipments it sends; the secretariat verifies them.
VENUE_PARTY: dict[str, str] = {
    "V-CAPE-RAY": "venue-cape-ray",
    "V-ELLESMERE": "venue-ellesmere-port",
    "V-EKOKEM": "venue-riihimaki",
    "V-PORT-ARTHUR": "venue-port-arthur",
    "V-GEKA": "venue-munster",
}
PARTIES: list[tuple[str, Role]] = [
    (DECLARANT, "declarant"),
    (TS, "inspectorate"),
    (JM, "inspectorate"),
    ("observer-us", "observer"),
    ("observer-ru", "observer"),
    ("witness-1", "witness"),
    ("witness-2", "witness"),
    *((party, "destruction_facility") for party in VENUE_PARTY.values()),
]
# The joint mission's mandate, by event time: from its first day to the end of its last
# (the mandate's end is the first moment outside it).
_MANDATE_ENDS = date.fromisoformat(JOINT_MISSION.last) + timedelta(days=1)
MANDATES: dict[str, tuple[str | None, str | None]] = {
    JM: (f"{JOINT_MISSION.first}T00:00:00Z", f"{_MANDATE_ENDS.isoformat()}T00:00:00Z"),
}


def _declared(c: Chemical) -> dict[str, Any]:
    out: dict[str, Any] = {"label": c.label, "cwc_category": c.category}
    if c.schedule is not None:
        number, part, entry = c.schedule
        out["schedule"] = {"number": number, "part": part, "entry": entry}
    out["removal_priority"] = c.priority
    return out


# The chemicals as declared, each chemical's removal priority, and the venue of the
# chemicals for removal.
DECLARED_CHEMICALS = [_declared(c) for c in CHEMICALS]
PRIORITY: dict[str, str] = {c.label: c.priority for c in CHEMICALS}
VENUE_OF: dict[str, str] = {s.label: s.venue for s in STOCK}
ISOPROPANOL_LOTS = 8

# The last sites, unsafe at initial inspection, declared abandoned (section 6 item 4), and
# the facility where the last ~100 t were packed, unreachable for weeks (section 2.3).
ABANDONED = [f"S-{n:02d}" for n in range(SITES.value - UNSAFE_SITES.value + 1, SITES.value + 1)]
STUCK_AT = "S-05-F2"

# Three facilities declared in July 2014 (section 2.7): the former one in an area the
# declarant does not control, and two related ones.
LATE_SITES: list[dict[str, Any]] = [
    {
        "id": "S-24",
        "name": "Site 24 (former facility, declared July 2014)",
        "kind": "production",
        "coordinates": {"lat": 35.9, "lon": 38.9},
        "party": DECLARANT,
        "access": "inaccessible",
    },
    {
        "id": "S-25",
        "name": "Site 25 (related facility)",
        "kind": "related",
        "coordinates": {"lat": 34.9, "lon": 36.8},
        "party": DECLARANT,
    },
    {
        "id": "S-26",
        "name": "Site 26 (related facility)",
        "kind": "related",
        "coordinates": {"lat": 33.8, "lon": 36.4},
        "party": DECLARANT,
    },
]


def mass(kg: float, rel_random: float, rel_sys: float, method: str) -> dict[str, Any]:
    """A measured mass with its random and systematic standard uncertainties."""
    return {
        "kg": round(kg, 3),
        "u_random_kg": round(kg * rel_random, 3),
        "u_systematic_kg": round(kg * rel_sys, 3),
        "method": method,
    }


def place(p: Place, party: str) -> dict[str, Any]:
    """The site a place of the facts is declared as, by `party`."""
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind,
        "coordinates": {"lat": p.lat, "lon": p.lon},
        "party": party,
    }


def sites(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The declared sites, then their facilities (section 2.1), and each site's facilities."""
    kinds = [kind for kind, count in FACILITIES.value for _ in range(count)]
    out: list[dict[str, Any]] = []
    facilities: dict[str, list[str]] = {}
    for s in range(SITES.value):
        sid = f"S-{s + 1:02d}"
        lat, lon = round(rng.uniform(32.6, 37.0), 4), round(rng.uniform(35.9, 41.8), 4)
        out.append(
            {
                "id": sid,
                "name": f"Site {s + 1:02d}",
                "kind": "related",
                "coordinates": {"lat": lat, "lon": lon},
                "party": DECLARANT,
            }
        )
        facilities[sid] = []
    for f, kind in enumerate(kinds):
        parent = f"S-{(f % SITES.value) + 1:02d}"
        fid = f"{parent}-F{len(facilities[parent]) + 1}"
        facilities[parent].append(fid)
        base = next(x for x in out if x["id"] == parent)["coordinates"]
        out.append(
            {
                "id": fid,
                "name": f"Site {parent[2:]} facility {fid[-1]} ({kind.replace('_', ' ')})",
                "kind": kind,
                "parent": parent,
                "coordinates": {
                    "lat": round(base["lat"] + 0.01 * len(facilities[parent]), 4),
                    "lon": base["lon"],
                },
                "party": DECLARANT,
            }
        )
    # The structures to destroy physically (section 2.6), at the first production facilities.
    structures = [what for what, count in STRUCTURES.value for _ in range(count)]
    production = [x for x in out if x["kind"] == "production"]
    for fac, what in zip(production, structures, strict=False):
        fac["structure"] = what
    return out, facilities


def _storage(all_sites: list[dict[str, Any]]) -> list[str]:
    return [
        s["id"]
        for s in all_sites
        if s["kind"] == "storage" and s.get("parent") not in ABANDONED and s["id"] != STUCK_AT
    ]


def items(all_sites: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The declared items, and the order in which the chemicals for removal leave."""
    stores = _storage(all_sites)
    out: list[dict[str, Any]] = []
    order: list[str] = []
    k = 0
    for stock in STOCK:
        cylinder = stock.label == "HF"
        for n in range(stock.containers):
            iid = f"{stock.label.replace(' ', '')[:6].upper()}-{n + 1:03d}"
            stuck = n >= stock.containers - STUCK_CONTAINERS.value.get(stock.label, 0)
            site = STUCK_AT if stuck else stores[k % len(stores)]
            k += 1
            rel = (0.01, 0.005) if cylinder else (0.004, 0.002)
            out.append(
                {
                    "id": iid,
                    "kind": "container",
                    "chemical": stock.label,
                    "site": site,
                    "declared": mass(stock.tonnes_each * 1000, *rel, "weighing"),
                }
            )
            order.append(iid)
    for n in range(ISOPROPANOL_LOTS):
        out.append(
            {
                "id": f"ISO-{n + 1:02d}",
                "kind": "bulk_lot",
                "chemical": "isopropanol",
                "site": stores[n % len(stores)],
                "declared": mass(
                    ISOPROPANOL_T.value * 1000 / ISOPROPANOL_LOTS, 0.01, 0.005, "tank level gauge"
                ),
            }
        )
    production = [
        s["id"]
        for s in all_sites
        if s["kind"] in ("production", "mobile_filling_unit") and s.get("parent") not in ABANDONED
    ]
    for n, fac in enumerate(production):
        kind = "production equipment" if "production" in fac or n < 18 else "filling equipment"
        out.append(
            {
                "id": f"EQ-{n + 1:02d}",
                "kind": "equipment",
                "equipment_type": kind,
                "site": fac,
                "declared": mass(0, 0, 0, "counted"),
            }
        )
    munitions = ["unfilled aerial bomb", "unfilled rocket warhead", "unfilled projectile"]
    for n in range(UNFILLED_MUNITIONS.value):  # Category 3
        out.append(
            {
                "id": f"M-{n + 1:04d}",
                "kind": "munition",
                "munition_type": munitions[n % 3],
                "site": stores[n % len(stores)],
                "declared": mass(0, 0, 0, "counted"),
            }
        )
    return out, order


def declared_document(
    version: int,
    all_sites: list[dict[str, Any]],
    declared: list[dict[str, Any]],
    basis: str,
    due: str,
) -> Declaration:
    """Version `version` of the declaration."""
    return Declaration.model_validate(
        {
            "version": version,
            "amends": version - 1 if version > 1 else None,
            "legal_basis": basis,
            "due": due,
            "chemicals": DECLARED_CHEMICALS,
            "sites": all_sites,
            "items": declared,
        }
    )


def declaration(decl: Declaration, budget: int = BODY_BUDGET) -> list[dict[str, Any]]:
    """The bodies of the events that declare `decl`, in parts of at most `budget` bytes
    (a confidential ledger's are smaller: its parts are sealed to every reader)."""
    return declaration_parts(decl, budget)
