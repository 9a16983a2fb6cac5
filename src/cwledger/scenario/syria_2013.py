"""The scenario `syria-2013`: the 2013-2016 elimination, replayed through the real append path.

Built from the public aggregate facts of ``shared/SCENARIO-2013.md`` (section numbers below
refer to it): its dates and figures; fictional names and coordinates for the sites in
the country; generic codes where the facts name no class. Where sources disagree the
value kept is the one the facts file marks, and the others are noted in ``NOTES``.
Deterministic: keys derive from ``KEY_SEED`` (demo only: anyone can sign with them), and
every time, id and measurement comes from the data or from ``random.Random(2013)``; the
same build gives the same entries and roots.

What it plants on purpose, for the rules to catch on their own: a seal found broken at
one storage facility (a finding, then a reseal), and one container weighed short at the
port of loading, beyond the combined uncertainty (a shipper/receiver difference).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cwledger.intake.parts import declaration_parts
from cwledger.ledger.ledger import Ledger
from cwledger.model import Declaration
from cwledger.model.events import Role

__all__ = ["NAME", "ORIGIN", "KEY_SEED", "PARTIES", "NOTES", "REMOVAL_REPORTED", "build", "load"]

NAME = "syria-2013"
ORIGIN = "example.org/cwledger/syria-2013"
KEY_SEED = b"cwledger scenario syria-2013: demonstration only, never for real use"

DECLARANT = "declaring-state"
TS = "technical-secretariat"
JM = "joint-mission"
PARTIES: list[tuple[str, Role]] = [
    (DECLARANT, "declarant"),
    (TS, "inspectorate"),
    (JM, "inspectorate"),
    ("observer-us", "observer"),
    ("observer-ru", "observer"),
    ("witness-1", "witness"),
    ("witness-2", "witness"),
]

NOTES = [
    "Category 1 about 1,000 t (Oct 2013 [IND-DG1]) kept; about 1,040 t later [OPCW-CAT1].",
    "Category 2 about 290 t (Oct 2013 [IND-DG1]) kept; about 260 t later [OPCW-CAT1].",
    "Isopropanol 122 t [UN-0520] kept; 120 t [ALALAM-ISO] and 133 t [OPCW-CAT1] elsewhere.",
    "Priority 1 is 746.8 t here (DF, HD, B precursors); the facts give about 700 t.",
    "13th consignment dated Monday 14 Apr 2014 (the facts say early/mid April, unverified).",
    "The 3 structures inaccessible in 2015 [INN-12] are left undestroyed: the date they were"
    " destroyed is not in the facts file.",
    "Generic codes CAT1-P2-A and CAT2-P2-07 stand for classes the facts do not name.",
]

# Section 2.3: cumulative share removed (or destroyed in the country) at reported dates.
REMOVAL_REPORTED: list[tuple[str, float]] = [
    ("2014-02-05", 4.0),
    ("2014-03-04", 26.0),
    ("2014-03-07", 29.0),
    ("2014-03-17", 45.6),
    ("2014-03-20", 49.3),
    ("2014-04-14", 65.1),
    ("2014-04-16", 72.3),
    ("2014-04-19", 80.0),
    ("2014-04-24", 92.5),
    ("2014-06-23", 100.0),
]

# The 19 consignments (section 2.3, item 7 of section 6): loading date at the port and
# the cumulative tonnes shipped out after it, chosen with the in-country destruction of
# isopropanol so that the cumulative shares above come out as reported.
CONSIGNMENTS: list[tuple[str, float]] = [
    ("2014-01-07", 15.5),
    ("2014-01-27", 50.0),
    ("2014-02-10", 95.0),
    ("2014-02-24", 160.0),
    ("2014-03-01", 222.0),
    ("2014-03-07", 260.6),
    ("2014-03-11", 330.0),
    ("2014-03-13", 390.0),
    ("2014-03-14", 430.0),
    ("2014-03-17", 474.7),
    ("2014-03-20", 522.5),
    ("2014-04-04", 620.0),
    ("2014-04-14", 726.3),
    ("2014-04-15", 770.0),
    ("2014-04-16", 819.2),
    ("2014-04-19", 918.5),
    ("2014-04-22", 1000.0),
    ("2014-04-24", 1079.7),
    ("2014-06-23", 1168.0),
]

CHEMICALS = [
    {
        "label": "DF",
        "cwc_category": 1,
        "schedule": {"number": 1, "part": "B", "entry": 9},
        "removal_priority": "1",
    },
    {
        "label": "HD",
        "cwc_category": 1,
        "schedule": {"number": 1, "part": "A", "entry": 4},
        "removal_priority": "1",
    },
    {"label": "B precursors", "cwc_category": 1, "removal_priority": "1"},
    {"label": "CAT1-P2-A", "cwc_category": 1, "removal_priority": "2"},
    {"label": "isopropanol", "cwc_category": 1, "removal_priority": "in-country"},
    {"label": "HCl", "cwc_category": 2, "removal_priority": "2"},
    {"label": "HF", "cwc_category": 2, "removal_priority": "2"},
    {"label": "CAT2-P2-07", "cwc_category": 2, "removal_priority": "2"},
]
# (label, containers, tonnes each, kind, destination venue); section 2.2 and 2.4.
STOCK = [
    ("CAT2-P2-07", 26, 186.0 / 26, "container", "V-EKOKEM"),
    ("HD", 5, 3.96, "container", "V-CAPE-RAY"),
    ("HCl", 8, 5.5, "container", "V-ELLESMERE"),
    ("CAT1-P2-A", 18, 131.2 / 18, "container", "V-EKOKEM"),
    ("B precursors", 20, 7.3, "container", "V-ELLESMERE"),
    ("HF", 280, 60.0 / 280, "container", "V-PORT-ARTHUR"),
    ("DF", 73, 581.0 / 73, "container", "V-CAPE-RAY"),
]
ISOPROPANOL_LOTS, ISOPROPANOL_T = 8, 122.0


def _t(day: str, hour: int = 10) -> str:
    return f"{day}T{hour:02d}:00:00Z"


def _days(day: str, n: int) -> str:
    d = datetime.fromisoformat(day) + timedelta(days=n)
    return d.strftime("%Y-%m-%d")


def _mass(kg: float, rel_random: float, rel_sys: float, method: str) -> dict[str, Any]:
    return {
        "kg": round(kg, 3),
        "u_random_kg": round(kg * rel_random, 3),
        "u_systematic_kg": round(kg * rel_sys, 3),
        "method": method,
    }


@dataclass
class _Event:
    author: str
    type: str
    id: str
    time: str
    body: dict[str, Any]


@dataclass
class _Builder:
    events: list[_Event] = field(default_factory=list)
    n: int = 0

    def add(self, author: str, type_: str, time: str, body: dict[str, Any]) -> str:
        self.n += 1
        eid = f"{type_.split('.')[0]}-{self.n:05d}"
        self.events.append(_Event(author, type_, eid, time, body))
        return eid


# -- the world ----------------------------------------------------------------------------------


def _sites(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """23 sites with 41 facilities (18 production, 12 storage, 8 mobile filling units,
    3 related; section 2.1); fictional names and coordinates inside the country."""
    kinds = ["production"] * 18 + ["storage"] * 12 + ["mobile_filling_unit"] * 8 + ["related"] * 3
    sites: list[dict[str, Any]] = []
    facilities: dict[str, list[str]] = {}
    for s in range(23):
        sid = f"S-{s + 1:02d}"
        lat, lon = round(rng.uniform(32.6, 37.0), 4), round(rng.uniform(35.9, 41.8), 4)
        sites.append(
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
        parent = f"S-{(f % 23) + 1:02d}"
        fid = f"{parent}-F{len(facilities[parent]) + 1}"
        facilities[parent].append(fid)
        base = next(x for x in sites if x["id"] == parent)["coordinates"]
        sites.append(
            {
                "id": fid,
                "name": f"Site {parent[2:]} facility {fid[-1]} ({kind})",
                "kind": kind,
                "parent": parent,
                "coordinates": {
                    "lat": round(base["lat"] + 0.01 * len(facilities[parent]), 4),
                    "lon": base["lon"],
                },
                "party": DECLARANT,
            }
        )
    return sites, facilities


ABANDONED = ["S-22", "S-23"]  # unsafe at initial inspection (section 6 item 4)
STUCK_AT = "S-05-F2"  # the last ~100 t, packed at a single site (section 2.3, May 2014)


def _storage(sites: list[dict[str, Any]]) -> list[str]:
    return [s["id"] for s in sites if s["kind"] == "storage" and s.get("parent") not in ABANDONED]


def _items(sites: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The declared items, and the order in which the chemicals for removal leave."""
    stores = [s for s in _storage(sites) if s != STUCK_AT]
    items: list[dict[str, Any]] = []
    order: list[str] = []
    k = 0
    for label, count, tonnes, kind, _venue in STOCK:
        cylinder = label == "HF"
        for n in range(count):
            iid = f"{label.replace(' ', '')[:6].upper()}-{n + 1:03d}"
            last_df = label == "DF" and n >= count - 11
            site = STUCK_AT if last_df else stores[k % len(stores)]
            k += 1
            rel = (0.01, 0.005) if cylinder else (0.004, 0.002)
            items.append(
                {
                    "id": iid,
                    "kind": kind,
                    "chemical": label,
                    "site": site,
                    "declared": _mass(tonnes * 1000, *rel, "weighing"),
                }
            )
            order.append(iid)
    for n in range(ISOPROPANOL_LOTS):
        items.append(
            {
                "id": f"ISO-{n + 1:02d}",
                "kind": "bulk_lot",
                "chemical": "isopropanol",
                "site": stores[n % len(stores)],
                "declared": _mass(
                    ISOPROPANOL_T * 1000 / ISOPROPANOL_LOTS, 0.01, 0.005, "tank level gauge"
                ),
            }
        )
    production = [
        s["id"]
        for s in sites
        if s["kind"] in ("production", "mobile_filling_unit") and s.get("parent") not in ABANDONED
    ]
    for n, fac in enumerate(production):
        kind = "production equipment" if "production" in fac or n < 18 else "filling equipment"
        items.append(
            {
                "id": f"EQ-{n + 1:02d}",
                "kind": "equipment",
                "equipment_type": kind,
                "site": fac,
                "declared": _mass(0, 0, 0, "counted"),
            }
        )
    structures = ["hangar"] * 7 + ["underground structure"] * 5
    for n, what in enumerate(structures):
        items.append(
            {
                "id": f"ST-{n + 1:02d}",
                "kind": "equipment",
                "equipment_type": "structure",
                "site": production[n % len(production)],
                "declared": _mass(0, 0, 0, f"counted ({what})"),
            }
        )
    for n in range(1230):  # Category 3: unfilled munitions (section 2.1)
        items.append(
            {
                "id": f"M-{n + 1:04d}",
                "kind": "munition",
                "munition_type": [
                    "unfilled aerial bomb",
                    "unfilled rocket warhead",
                    "unfilled projectile",
                ][n % 3],
                "site": stores[n % len(stores)],
                "declared": _mass(0, 0, 0, "counted"),
            }
        )
    return items, order


def _declaration(
    version: int, sites: list[dict[str, Any]], items: list[dict[str, Any]], basis: str, due: str
) -> list[dict[str, Any]]:
    decl = Declaration.model_validate(
        {
            "version": version,
            "amends": version - 1 if version > 1 else None,
            "legal_basis": basis,
            "due": due,
            "chemicals": CHEMICALS,
            "sites": sites,
            "items": items,
        }
    )
    return declaration_parts(decl)


# -- the story ----------------------------------------------------------------------------------


def build() -> list[_Event]:
    """Every event of the scenario, in log order."""
    rng = random.Random(2013)
    b = _Builder()
    sites, facilities = _sites(rng)
    items, removal_order = _items(sites)
    by_id = {i["id"]: i for i in items}
    _instruments(b)
    _estimates(b)
    _milestones(b)
    # Declarations: the listing (v1, some munitions at the two sites found unsafe later),
    # further information (v2: three masses corrected), the formal declaration with the
    # contents of the unsafe sites moved to inspected ones (v3).
    listed = [dict(i) for i in items]
    for n, i in enumerate(listed):
        if i["kind"] == "munition" and n % 40 == 0:
            i["site"] = facilities[ABANDONED[n % 2]][0]
    for body in _declaration(1, sites, listed, "Framework (14 Sep 2013)", "2013-09-21"):
        b.add(DECLARANT, "declaration.submitted", _t("2013-09-20"), body)
    for i in [x for x in items if x.get("chemical") == "DF"][:3]:
        i["declared"] = _mass(i["declared"]["kg"] * 1.005, 0.004, 0.002, "weighing")
    further = [dict(i, site=x["site"]) for i, x in zip(items, listed, strict=True)]
    for body in _declaration(2, sites, further, "EC-M-33/DEC.1", "2013-10-04"):
        b.add(DECLARANT, "declaration.amended", _t("2013-10-03"), body)
    _inspections(b, sites, facilities, items)
    v3_sites = [dict(s, access="abandoned") if s["id"] in ABANDONED else s for s in sites]
    for body in _declaration(3, v3_sites, items, "CWC Article III", "2013-10-27"):
        b.add(DECLARANT, "declaration.amended", _t("2013-10-24"), body)
    _equipment_and_munitions(b, items)
    _seal_checks(b, items)
    _isopropanol(b, items)
    _removal(b, by_id, removal_order, rng)
    _onward(b, items)
    _later_declarations(b, v3_sites, items)
    _findings(b)
    return b.events


def _instruments(b: _Builder) -> None:
    docs = [
        (
            DECLARANT,
            "2013-09-14",
            "accession",
            "Instrument of accession to the CWC",
            "UN depositary",
        ),
        (
            TS,
            "2013-09-14",
            "framework",
            "Framework for Elimination of Syrian Chemical Weapons",
            "United States and Russian Federation",
        ),
        (
            TS,
            "2013-09-27",
            "ec-decision",
            "Destruction of Syrian chemical weapons (EC-M-33/DEC.1)",
            "OPCW Executive Council",
        ),
        (TS, "2013-09-27", "unsc-resolution", "Resolution 2118 (2013)", "UN Security Council"),
        (
            TS,
            "2013-10-25",
            "dg-report",
            "First monthly report of the Director-General",
            "OPCW Director-General",
        ),
        (
            TS,
            "2013-11-15",
            "ec-milestones-decision",
            "Detailed requirements for the destruction (EC-M-34/DEC.1)",
            "OPCW Executive Council",
        ),
        (
            DECLARANT,
            "2013-12-16",
            "in-country-destruction-plan",
            "Plan for the destruction of isopropanol and residual material in the country",
            "Declaring state",
        ),
        (
            DECLARANT,
            "2013-12-20",
            "national-report",
            "First monthly national report",
            "Declaring state",
        ),
        (
            TS,
            "2015-09-25",
            "dat-report",
            "Declaration Assessment Team report, Apr 2014 - Sep 2015",
            "OPCW Technical Secretariat",
        ),
    ]
    for n, (author, day, kind, title, issuer) in enumerate(docs, start=1):
        b.add(
            author,
            "document.filed",
            _t(day, 9),
            {"document": f"DOC-{n:02d}", "kind": kind, "title": title, "issued_by": issuer},
        )


def _estimates(b: _Builder) -> None:
    day = _t("2013-09-14", 12)
    b.add(
        "observer-us",
        "estimate.recorded",
        day,
        {
            "estimate": {
                "party": "observer-us",
                "value": 1000.0,
                "u": 100.0,
                "unit": "t",
                "scope": "total",
                "method": "national assessment, accepted at Geneva (about 1,000 t of agents and"
                " precursors)",
            }
        },
    )
    b.add(
        "observer-us",
        "estimate.recorded",
        day,
        {
            "estimate": {
                "party": "observer-us",
                "value": 45.0,
                "u": 5.0,
                "unit": "sites",
                "scope": "sites",
                "method": "national assessment (about 45 sites associated with the programme)",
            }
        },
    )
    b.add(
        "observer-ru",
        "estimate.recorded",
        day,
        {
            "estimate": {
                "party": "observer-ru",
                "value": None,
                "u": None,
                "unit": "sites",
                "scope": "sites",
                "method": "national assessment",
                "remark": "considerably lower than 45 (not quantified)",
            }
        },
    )


def _milestone(
    b: _Builder,
    day: str,
    mid: str,
    description: str,
    instrument: str,
    due: str | None,
    predicate: dict[str, Any],
    note: str | None = None,
) -> None:
    body: dict[str, Any] = {
        "milestone": mid,
        "description": description,
        "instrument": instrument,
        "due": due,
        "predicate": predicate,
    }
    if note:
        body["note"] = note
    b.add(TS, "milestone.set", _t(day, 8), body)


def _doc(kind: str) -> dict[str, Any]:
    return {"kind": "document", "document_kind": kind}


def _prio(*priorities: str) -> dict[str, Any]:
    return {"priority": list(priorities)}


def _milestones(b: _Builder) -> None:
    """The 24 milestones of section 1, as data with a predicate each."""
    fw, ec33, ec34 = "Framework (14 Sep 2013)", "EC-M-33/DEC.1", "EC-M-34/DEC.1"
    day = "2013-09-14"
    _milestone(
        b,
        day,
        "M01",
        "Accession and provisional application of the CWC",
        "CWC accession",
        "2013-09-14",
        _doc("accession"),
    )
    _milestone(
        b,
        day,
        "M02",
        "Comprehensive listing, within a week",
        fw,
        "2013-09-21",
        {"kind": "declaration", "version": 1},
    )
    _milestone(
        b,
        day,
        "M03",
        "EC special procedures decision",
        fw,
        "2013-09-30",
        _doc("ec-decision"),
        "'in the next few days': due taken as 30 Sep 2013",
    )
    _milestone(
        b,
        day,
        "M04",
        "UNSC resolution endorsing the EC decision",
        fw,
        "2013-09-30",
        _doc("unsc-resolution"),
        "'prompt': due taken as 30 Sep 2013",
    )
    day = "2013-09-27"
    _milestone(
        b,
        day,
        "M05",
        "Further information (names, designators, quantities)",
        ec33,
        "2013-10-04",
        {"kind": "declaration", "version": 2},
    )
    _milestone(
        b,
        day,
        "M06",
        "Inspections begin",
        "UNSCR 2118",
        "2013-10-01",
        {"kind": "inspections_begun"},
    )
    _milestone(
        b,
        day,
        "M07",
        "Initial inspection of all declared sites",
        fw,
        "2013-11-01",
        {"kind": "initial_inspections"},
        "'by November': due taken as 1 Nov 2013",
    )
    _milestone(
        b,
        day,
        "M08",
        "Formal initial declaration and general plan of destruction",
        ec33,
        "2013-10-27",
        {"kind": "declaration", "version": 3},
    )
    _milestone(
        b,
        day,
        "M09",
        "Functional destruction of production, mixing and filling equipment",
        ec33,
        "2013-11-01",
        {
            "kind": "destroyed",
            "select": {
                "item_kind": ["equipment"],
                "equipment_type": ["production equipment", "filling equipment"],
            },
        },
    )
    _milestone(
        b,
        day,
        "M10",
        "First monthly report of the Director-General",
        "UNSCR 2118",
        "2013-10-27",
        _doc("dg-report"),
    )
    day = "2013-11-15"
    _milestone(
        b,
        day,
        "M11",
        "EC fixes intermediate destruction milestones",
        ec33,
        "2013-11-15",
        _doc("ec-milestones-decision"),
    )
    _milestone(
        b,
        day,
        "M12",
        "Plan to destroy isopropanol and residual material in country",
        ec34,
        "2014-01-01",
        _doc("in-country-destruction-plan"),
    )
    _milestone(
        b,
        day,
        "M13",
        "First monthly national report",
        ec34,
        "2013-12-31",
        _doc("national-report"),
        "'monthly': first due taken as 31 Dec 2013",
    )
    _milestone(
        b,
        day,
        "M14",
        "Removal of Priority 1 chemicals",
        ec34,
        "2013-12-31",
        {"kind": "removed", "select": _prio("1")},
    )
    _milestone(
        b,
        day,
        "M15",
        "Destruction of unfilled munitions (Category 3) in country",
        ec34,
        "2014-01-31",
        {"kind": "destroyed", "select": {"item_kind": ["munition"]}},
        "due date unverified in the facts file",
    )
    _milestone(
        b,
        day,
        "M16",
        "Sequenced destruction of production facilities",
        ec34,
        "2014-03-15",
        {
            "kind": "destroyed",
            "select": {"item_kind": ["equipment"], "equipment_type": ["structure"]},
        },
    )
    _milestone(
        b,
        day,
        "M17",
        "Removal of all other chemicals except isopropanol",
        ec34,
        "2014-02-05",
        {"kind": "removed", "select": _prio("1", "2")},
    )
    _milestone(
        b,
        day,
        "M18",
        "Destruction of isopropanol in country",
        ec34,
        "2014-03-01",
        {"kind": "destroyed", "select": _prio("in-country")},
    )
    _milestone(
        b,
        day,
        "M19",
        "Removal under the revised removal plans",
        "Revised plans",
        "2014-04-27",
        {"kind": "removed", "select": _prio("1", "2")},
    )
    _milestone(
        b,
        day,
        "M20",
        "Destruction of Priority 1 chemicals outside the country",
        ec34,
        "2014-03-31",
        {"kind": "destroyed", "select": _prio("1")},
    )
    _milestone(
        b,
        day,
        "M21",
        "Destruction of all other declared chemicals",
        ec34,
        "2014-06-30",
        {"kind": "destroyed", "select": {"category": [1, 2]}},
    )
    _milestone(
        b,
        day,
        "M22",
        "Disposal of the effluent of at-sea hydrolysis",
        ec34,
        "2014-12-31",
        {"kind": "destroyed", "select": {"products": True}},
    )
    _milestone(
        b,
        day,
        "M23",
        "Complete elimination, first half of 2014",
        fw,
        "2014-06-30",
        {"kind": "all_of", "milestones": [f"M{n}" for n in range(14, 23)]},
    )
    _milestone(
        b,
        day,
        "M24",
        "Declaration accurate and complete",
        "CWC, EC-M-33, UNSCR 2118",
        None,
        {"kind": "findings_closed", "rule": "raised"},
        "open-ended: the Declaration Assessment Team closes its outstanding issues",
    )


def _inspections(
    b: _Builder,
    sites: list[dict[str, Any]],
    facilities: dict[str, list[str]],
    items: list[dict[str, Any]],
) -> None:
    """Initial inspections of 21 of 23 sites in October 2013, tagging and sealing what
    is to be removed (section 1, M06-M07; section 2.1: all under seal by 31 Oct)."""
    inspected = [s["id"] for s in sites if "parent" not in s and s["id"] not in ABANDONED]
    removable = [i for i in items if i["kind"] in ("container", "bulk_lot")]
    for n, site in enumerate(inspected):
        day = _days("2013-10-01", n + (1 if n else 0) + (n // 3))
        if n == len(inspected) - 1:
            day = "2013-10-31"
        iid = f"INS-{n + 1:02d}"
        b.add(
            TS,
            "inspection.opened",
            _t(day, 8),
            {"inspection": iid, "site": site, "kind": "initial"},
        )
        for fac in facilities[site]:
            for item in (i for i in removable if i["site"] == fac):
                b.add(
                    TS,
                    "item.tagged",
                    _t(day, 11),
                    {"item": item["id"], "tag": f"TAG-{item['id']}", "site": fac},
                )
                b.add(
                    TS,
                    "seal.applied",
                    _t(day, 12),
                    {
                        "seal": f"SEAL-{item['id']}",
                        "type": "metal_cap",
                        "closes": {"kind": "item", "id": item["id"]},
                        "next_check_due": _t("2013-12-15"),
                    },
                )
        b.add(
            TS,
            "inspection.closed",
            _t(day, 17),
            {"inspection": iid, "summary": "initial inspection completed"},
        )


def _equipment_and_munitions(b: _Builder, items: list[dict[str, Any]]) -> None:
    """Equipment functionally destroyed by 31 Oct 2013 (M09); unfilled munitions over 60 %
    by 15 Nov and all by 20 Dec 2013 (M15)."""
    equipment = [
        i for i in items if i["kind"] == "equipment" and i["equipment_type"] != "structure"
    ]
    for n, item in enumerate(equipment):
        day = _days("2013-10-06", n) if n < len(equipment) - 1 else "2013-10-31"
        _batch(
            b,
            f"EQ-B{n + 1:02d}",
            item["site"],
            day,
            "functional destruction",
            [{"item": item["id"]}],
            author=DECLARANT,
        )
    munitions = [i for i in items if i["kind"] == "munition"]
    by_site: dict[str, list[str]] = {}
    for m in munitions:
        by_site.setdefault(m["site"], []).append(m["id"])
    chunks = [
        (site, ids[k : k + 150])
        for site, ids in sorted(by_site.items())
        for k in range(0, len(ids), 150)
    ]
    for n, (site, ids) in enumerate(chunks):
        day = _days("2013-11-02", n) if n < 6 else _days("2013-11-25", 2 * (n - 6))
        if n == len(chunks) - 1:
            day = "2013-12-20"
        _batch(
            b,
            f"MU-B{n + 1:02d}",
            site,
            day,
            "crushing and cutting",
            [{"item": i} for i in ids],
            author=DECLARANT,
        )


BROKEN_SEAL_ITEM = "CAT2-P-004"  # planted: found broken at the December check


def _seal_checks(b: _Builder, items: list[dict[str, Any]]) -> None:
    """A check of every seal in mid-December 2013; one is found broken, the item is
    re-verified and resealed (a finding is raised by the book on its own)."""
    sealed = [i for i in items if i["kind"] in ("container", "bulk_lot")]
    for item in sealed:
        broken = item["id"] == BROKEN_SEAL_ITEM
        b.add(
            TS,
            "seal.checked",
            _t("2013-12-15", 11),
            {
                "seal": f"SEAL-{item['id']}",
                "condition": "broken" if broken else "intact",
                "method": "visual",
                "next_check_due": _t("2014-03-15"),
            },
        )
    b.add(
        TS,
        "seal.applied",
        _t("2013-12-17", 10),
        {
            "seal": f"SEAL-{BROKEN_SEAL_ITEM}-2",
            "type": "fibre_optic",
            "closes": {"kind": "item", "id": BROKEN_SEAL_ITEM},
        },
    )
    b.add(
        TS,
        "seal.removed",
        _t("2013-12-17", 11),
        {
            "seal": f"SEAL-{BROKEN_SEAL_ITEM}",
            "reason": "found broken; replaced after the contents were re-verified",
        },
    )


def _isopropanol(b: _Builder, items: list[dict[str, Any]]) -> None:
    """Destroyed in the country: 93.1 % by 4 Mar 2014, all by 20 May 2014 (M18)."""
    lots = [i for i in items if i.get("chemical") == "isopropanol"]
    each = ISOPROPANOL_T / ISOPROPANOL_LOTS
    days = [
        "2014-02-10",
        "2014-02-13",
        "2014-02-17",
        "2014-02-20",
        "2014-02-24",
        "2014-02-26",
        "2014-02-28",
    ]
    for n, lot in enumerate(lots[:7]):
        _in_country(b, f"ISO-B{n + 1}", days[n], lot["site"], [{"item": lot["id"]}])
    last = lots[7]
    part = round(ISOPROPANOL_T * 0.931 - 7 * each, 3)
    _in_country(b, "ISO-B8", "2014-03-03", last["site"], [{"item": last["id"], "kg": part * 1000}])
    _in_country(b, "ISO-B9", "2014-05-20", last["site"], [{"item": last["id"]}])


def _in_country(b: _Builder, batch: str, day: str, site: str, lines: list[dict[str, Any]]) -> None:
    _batch(
        b, batch, site, day, "neutralisation and incineration in country", lines, author=DECLARANT
    )


PORT = "PORT-LOADING"
SHORT_ITEM = "CAT2-P-010"  # planted: weighed short at the port, beyond the uncertainty


def _removal(
    b: _Builder,
    by_id: dict[str, dict[str, Any]],
    order: list[str],
    rng: random.Random,
) -> None:
    """The 19 consignments: by road to the port of loading, weighed at both ends, loaded on
    a Danish (Priority 1) or Norwegian (Priority 2) cargo ship (section 2.3)."""
    b.add(
        DECLARANT,
        "site.declared",
        _t("2013-12-20"),
        {
            "site": {
                "id": PORT,
                "name": "Port of loading",
                "kind": "port",
                "coordinates": {"lat": 35.52, "lon": 35.78},
                "party": DECLARANT,
            }
        },
    )
    for vessel, name in (("VESSEL-DK", "Danish cargo ship"), ("VESSEL-NO", "Norwegian cargo ship")):
        b.add(
            JM,
            "site.declared",
            _t("2013-12-20"),
            {
                "site": {
                    "id": vessel,
                    "name": name,
                    "kind": "vessel",
                    "coordinates": {"lat": 35.6, "lon": 35.6},
                    "party": JM,
                }
            },
        )
    priority: dict[str, str] = {str(c["label"]): str(c["removal_priority"]) for c in CHEMICALS}
    queue = _interleave(order, by_id, priority)
    shipped_t = 0.0
    for n, (day, target) in enumerate(CONSIGNMENTS, start=1):
        batch: list[str] = []
        while queue and (
            n == len(CONSIGNMENTS)
            or shipped_t + by_id[queue[0]]["declared"]["kg"] / 1000 <= target + 2.0
        ):
            iid = queue.pop(0)
            batch.append(iid)
            shipped_t += by_id[iid]["declared"]["kg"] / 1000
        _consignment(b, n, day, batch, by_id, priority, rng)


def _interleave(
    order: list[str], by_id: dict[str, dict[str, Any]], priority: dict[str, str]
) -> list[str]:
    """The order of loading: Priority 2 and 1 alternating, all HD by mid-March, the items at
    the one site that could not be reached last."""
    p1 = [
        i for i in order if priority[by_id[i]["chemical"]] == "1" and by_id[i]["site"] != STUCK_AT
    ]
    p2 = [i for i in order if priority[by_id[i]["chemical"]] == "2"]
    stuck = [i for i in order if by_id[i]["site"] == STUCK_AT]
    out: list[str] = []
    while p1 or p2:
        out += p1[:2]
        out += p2[:3]
        p1, p2 = p1[2:], p2[3:]
    return out + stuck


def _consignment(
    b: _Builder,
    n: int,
    day: str,
    batch: list[str],
    by_id: dict[str, dict[str, Any]],
    priority: dict[str, str],
    rng: random.Random,
) -> None:
    if not batch:
        return
    road = _days(day, -2)
    origins: dict[str, list[str]] = {}
    for iid in batch:
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
            _t(road, 6),
            {
                "transfer": tr,
                "origin": origin,
                "destination": PORT,
                "due": _t(day, 6),
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
            _t(_days(road, 1), 15),
            {"transfer": tr, "site": PORT, "items": got},
        )
    for vessel in ("VESSEL-DK", "VESSEL-NO"):
        aboard = [
            i for i in batch if (priority[by_id[i]["chemical"]] == "1") == (vessel == "VESSEL-DK")
        ]
        for j in range(0, len(aboard), 150):
            ids = aboard[j : j + 150]
            tr = f"LOAD-{n:02d}-{vessel[-2:]}-{j // 150 + 1}"
            b.add(
                DECLARANT,
                "transfer.shipped",
                _t(day, 9),
                {
                    "transfer": tr,
                    "origin": PORT,
                    "destination": vessel,
                    "due": _t(day, 20),
                    "consignment": f"consignment {n}",
                    "items": [{"item": i} for i in ids],
                },
            )
            b.add(
                JM,
                "transfer.received",
                _t(day, 18),
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


def _onward(b: _Builder, items: list[dict[str, Any]]) -> None:
    """Transhipment and destruction abroad (section 2.4), effluent as its own product."""
    venues = [
        ("TRANSHIP", "Transhipment port (Italy)", "port", 38.44, 15.9),
        ("V-CAPE-RAY", "MV Cape Ray, hydrolysis at sea", "vessel", 35.0, 18.0),
        ("V-ELLESMERE", "Veolia, Ellesmere Port (UK)", "destruction", 53.28, -2.9),
        ("V-EKOKEM", "Ekokem, Riihimaki (FI)", "destruction", 60.74, 24.77),
        ("V-PORT-ARTHUR", "Veolia, Port Arthur (US)", "destruction", 29.88, -93.93),
        ("V-GEKA", "GEKA, Munster (DE)", "destruction", 52.98, 10.09),
    ]
    for sid, name, kind, lat, lon in venues:
        b.add(
            TS,
            "site.declared",
            _t("2014-06-01"),
            {
                "site": {
                    "id": sid,
                    "name": name,
                    "kind": kind,
                    "coordinates": {"lat": lat, "lon": lon},
                    "party": TS,
                }
            },
        )
    venue_of = {label: venue for label, _c, _t, _k, venue in STOCK}
    chem = {i["id"]: i for i in items if i.get("chemical") in venue_of}
    p1 = sorted(i for i, x in chem.items() if venue_of[x["chemical"]] == "V-CAPE-RAY")
    # Priority 1 for the ship: Danish vessel -> transhipment port -> Cape Ray, 2 Jul 2014.
    _move(b, "ONWARD-1", "VESSEL-DK", "TRANSHIP", p1, "2014-06-29", "2014-07-01", JM)
    _move(b, "ONWARD-2", "TRANSHIP", "V-CAPE-RAY", p1, "2014-07-02", "2014-07-02", JM)
    for venue, leg, arrive in (
        ("V-ELLESMERE", "ONWARD-3", "2014-07-15"),
        ("V-EKOKEM", "ONWARD-4", "2014-06-25"),
        ("V-PORT-ARTHUR", "ONWARD-5", "2014-07-20"),
    ):
        ids = sorted(i for i, x in chem.items() if venue_of[x["chemical"]] == venue)
        by_vessel: dict[str, list[str]] = {"VESSEL-DK": [], "VESSEL-NO": []}
        priority: dict[str, str] = {str(c["label"]): str(c["removal_priority"]) for c in CHEMICALS}
        for i in ids:
            by_vessel["VESSEL-DK" if priority[chem[i]["chemical"]] == "1" else "VESSEL-NO"].append(
                i
            )
        for vessel, group in by_vessel.items():
            if group:
                _move(
                    b, f"{leg}-{vessel[-2:]}", vessel, venue, group, _days(arrive, -10), arrive, JM
                )
    _cape_ray(b, chem, p1)
    _land(b, chem, "V-ELLESMERE", "incineration", "2014-07-16", "2014-08-06")
    _land(b, chem, "V-EKOKEM", "incineration", "2014-06-28", "2014-11-20")
    _hf(b, chem)


def _move(
    b: _Builder, tr: str, origin: str, dest: str, ids: list[str], day: str, arrive: str, author: str
) -> None:
    for k in range(0, len(ids), 150):
        part = ids[k : k + 150]
        t = f"{tr}-{k // 150 + 1}"
        b.add(
            author,
            "transfer.shipped",
            _t(day, 7),
            {
                "transfer": t,
                "origin": origin,
                "destination": dest,
                "due": _t(_days(arrive, 3)),
                "items": [{"item": i} for i in part],
            },
        )
        b.add(
            author,
            "transfer.received",
            _t(arrive, 19),
            {"transfer": t, "site": dest, "items": [{"item": i} for i in part]},
        )


def _batch(
    b: _Builder,
    batch: str,
    venue: str,
    day: str,
    method: str,
    lines: list[dict[str, Any]],
    products: list[dict[str, Any]] | None = None,
    author: str = JM,
) -> None:
    body: dict[str, Any] = {
        "batch": batch,
        "method": method,
        "venue": venue,
        "start": _t(day, 6),
        "end": _t(day, 18),
        "items": lines,
    }
    if products:
        body["products"] = products
    b.add(author, "destruction.batch", _t(day, 18), body)
    b.add(TS, "destruction.verified", _t(day, 20), {"batch": batch})


def _cape_ray(b: _Builder, chem: dict[str, dict[str, Any]], p1: list[str]) -> None:
    """581 t DF and 19.8 t HD hydrolysed at sea, 7 Jul - 18 Aug 2014; 5,463 t and 335.5 t
    of effluent, disposed of in Finland and Germany by 11-12 Jun 2015 (M22)."""
    df = [i for i in p1 if chem[i]["chemical"] == "DF"]
    hd = [i for i in p1 if chem[i]["chemical"] == "HD"]
    days = [_days("2014-07-07", 2 * k) for k in range(19)] + ["2014-08-13"]
    per = -(-len(df) // len(days))
    effluent: list[tuple[str, str]] = []
    for k, day in enumerate(days):
        ids = df[k * per : (k + 1) * per]
        if not ids:
            continue
        lot = f"EFF-DF-{k + 1:02d}"
        effluent.append((lot, "V-EKOKEM"))
        _batch(
            b,
            f"CR-DF-{k + 1:02d}",
            "V-CAPE-RAY",
            day,
            "hydrolysis at sea",
            [{"item": i} for i in ids],
            [
                {
                    "item": lot,
                    "label": "DF hydrolysis effluent",
                    "mass": _mass(5_463_000 * len(ids) / len(df), 0.01, 0.005, "tank gauge"),
                }
            ],
        )
    _batch(
        b,
        "CR-HD-01",
        "V-CAPE-RAY",
        "2014-08-18",
        "hydrolysis at sea",
        [{"item": i} for i in hd],
        [
            {
                "item": "EFF-HD-01",
                "label": "HD hydrolysis effluent",
                "mass": _mass(335_500, 0.01, 0.005, "tank gauge"),
            }
        ],
    )
    effluent.append(("EFF-HD-01", "V-GEKA"))
    for venue, day, done in (
        ("V-EKOKEM", "2014-09-20", "2015-06-11"),
        ("V-GEKA", "2014-10-10", "2015-06-12"),
    ):
        lots = [lot for lot, v in effluent if v == venue]
        for lot in lots:
            b.add(
                TS,
                "seal.applied",
                _t("2014-08-20", 9),
                {
                    "seal": f"SEAL-{lot}",
                    "type": "electronic",
                    "closes": {"kind": "item", "id": lot},
                },
            )
        _move(b, f"EFF-{venue[2:]}", "V-CAPE-RAY", venue, lots, _days(day, -7), day, JM)
        span = (datetime.fromisoformat(done) - datetime.fromisoformat("2014-11-01")).days
        for k, lot in enumerate(lots):
            when = done if k == len(lots) - 1 else _days("2014-11-01", span * k // len(lots))
            _batch(
                b,
                f"EFF-B-{lot}",
                venue,
                when,
                "incineration of effluent",
                [{"item": lot}],
                author=TS,
            )


def _land(
    b: _Builder, chem: dict[str, dict[str, Any]], venue: str, method: str, first: str, last: str
) -> None:
    ids = sorted(i for i, x in chem.items() if _venue(x) == venue)
    span = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).days
    per = max(1, -(-len(ids) // 10))
    chunks = [ids[k : k + per] for k in range(0, len(ids), per)]
    for k, part in enumerate(chunks):
        day = last if k == len(chunks) - 1 else _days(first, span * k // len(chunks))
        _batch(b, f"{venue[2:5]}-{k + 1:02d}", venue, day, method, [{"item": i} for i in part])


def _venue(item: dict[str, Any]) -> str:
    return next(v for label, _c, _t, _k, v in STOCK if label == item["chemical"])


def _hf(b: _Builder, chem: dict[str, dict[str, Any]]) -> None:
    """HF cylinders at Port Arthur from August 2014; the last 75, some badly corroded,
    destroyed on 4 Jan 2016 (section 2.4)."""
    ids = sorted(i for i, x in chem.items() if x["chemical"] == "HF")
    early, last = ids[:-75], ids[-75:]
    for k in range(0, len(early), 41):
        day = _days("2014-08-10", 45 * (k // 41))
        _batch(
            b,
            f"ART-{k // 41 + 1:02d}",
            "V-PORT-ARTHUR",
            day,
            "neutralisation",
            [{"item": i} for i in early[k : k + 41]],
        )
    _batch(
        b, "ART-LAST", "V-PORT-ARTHUR", "2016-01-04", "neutralisation", [{"item": i} for i in last]
    )


def _later_declarations(
    b: _Builder, sites: list[dict[str, Any]], items: list[dict[str, Any]]
) -> None:
    """July 2014: three more facilities, one in an area the declarant does not control
    (section 2.7); the structures left for a separate plan, destroyed from 31 Jan 2015."""
    new = [
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
    for body in _declaration(4, [*sites, *new], items, "CWC Article III (amendment)", "2014-07-31"):
        b.add(DECLARANT, "declaration.amended", _t("2014-07-20"), body)
    structures = [i for i in items if i.get("equipment_type") == "structure"]
    for k, item in enumerate(structures[:9]):  # 3 stay inaccessible (see NOTES)
        day = "2015-01-31" if k == 0 else _days("2015-03-01", 30 * k)
        _batch(
            b,
            f"STR-{k + 1:02d}",
            item["site"],
            day,
            "demolition",
            [{"item": item["id"]}],
            author=DECLARANT,
        )


def _findings(b: _Builder) -> None:
    """The Declaration Assessment Team's outstanding issues (section 2.7): 24 by 2022, 26 by
    Sep 2024, 7 of them closed; and the book's own two findings closed after follow-up."""
    b.add(
        TS,
        "finding.resolved",
        _t("2014-01-20"),
        {"finding": 1, "status": "resolved", "remarks": "contents re-verified and resealed"},
    )
    themes = [
        "declared facility history",
        "quantities of precursors consumed",
        "production records",
        "munitions declared and found",
        "research and development",
        "documentation gap",
    ]
    for n in range(26):  # the team was set up in April 2014; 2 more issues in Sep 2024
        day = _days("2014-05-15", 120 * n) if n < 24 else "2024-09-12"
        b.add(
            TS,
            "finding.raised",
            _t(day, 12),
            {
                "title": f"Outstanding issue {n + 1}: {themes[n % len(themes)]}",
                "subjects": [f"S-{(n % 23) + 1:02d}"],
            },
        )
    # Findings 1 and 2 are the book's own (the broken seal, the short weighing), so the
    # team's issues are numbered from 3; seven of them are closed over the years.
    for n in range(7):
        b.add(
            TS,
            "finding.resolved",
            _t(f"{2016 + n}-06-30", 12),
            {
                "finding": 3 + n * 3,
                "status": "resolved",
                "remarks": "resolved in consultations with the declarant",
            },
        )


# -- loading --------------------------------------------------------------------------------


def _batches(events: list[_Event], size: int = 400) -> Iterator[list[_Event]]:
    for k in range(0, len(events), size):
        yield events[k : k + size]


def load(path: Path, *, progress: Any = None, database_url: str | None = None) -> Ledger:
    """Build the scenario into a new ledger at `path` (refused if one is there), in the
    directory's own SQLite database or in the one `database_url` names."""
    events = sorted(build(), key=lambda e: e.time)
    ledger = Ledger.init(
        path,
        ORIGIN,
        founding=PARTIES,
        time="2013-09-14T00:00:00Z",
        key_seed=KEY_SEED,
        database_url=database_url,
    )
    for chunk in _batches(events):
        envelopes: list[bytes | str] = []
        for e in chunk:
            raw = {"type": e.type, "id": e.id, "time": e.time, "body": e.body}
            envelopes += ledger.sign([raw], e.author)
        ledger.append(envelopes)
        if progress is not None:
            progress(len(chunk))
    return ledger
