"""A realistic chain of custody, as ledger events, for the EPCIS tests (public labels only)."""

from __future__ import annotations

from typing import Any

from cwledger.book.registry import EVENT_TYPES
from cwledger.model.events import Event

PHOTO = "ab" * 32
PHOTO2 = "cd" * 32


def mass(
    kg: float, u_random: float = 5.0, u_systematic: float = 3.0, method: str = "weighing"
) -> dict[str, Any]:
    """A mass as a body writes it."""
    return {"kg": kg, "u_random_kg": u_random, "u_systematic_kg": u_systematic, "method": method}


def site(ident: str, kind: str, lat: float, lon: float, **more: Any) -> dict[str, Any]:
    """A site as a declaration lists it."""
    return {
        "id": ident,
        "name": f"Site {ident}",
        "kind": kind,
        "coordinates": {"lat": lat, "lon": lon},
        "party": "dec",
        **more,
    }


CHEMICALS = [
    {
        "label": "DF",
        "cwc_category": 1,
        "schedule": {"number": 1, "part": "B", "entry": 9},
        "removal_priority": "1",
    },
    {"label": "Chemical B", "cwc_category": 3, "removal_priority": "2"},
]
SITES = [
    site("S-1", "storage", 34.5, 36.7, access="accessible"),
    site("S-2", "port", 35.1, 35.9, parent="S-1"),
    site("S-3", "destruction", 36.0, 14.2),
    site("LAB-1", "laboratory", 52.1, 4.3),
]
ITEMS_1 = [
    {"id": "C-1", "kind": "container", "chemical": "DF", "declared": mass(1000.0), "site": "S-1"},
    {
        "id": "L-1",
        "kind": "bulk_lot",
        "chemical": "Chemical B",
        "declared": mass(12500.0, 50.0, 20.0),
        "site": "S-1",
    },
    {
        "id": "M-1",
        "kind": "munition",
        "munition_type": "rocket",
        "declared": {"kg": 8.5, "method": "declared"},
        "site": "S-1",
    },
]
ITEMS_2 = [
    {
        "id": "C-3",
        "kind": "container",
        "chemical": "DF",
        "tag": "T-9",
        "declared": mass(950.25),
        "site": "S-1",
    }
]


def chain(start: int = 0) -> list[tuple[int, Event]]:
    """The events of one chain of custody with their log indexes (validated bodies)."""
    header = {
        "legal_basis": "EC-M-33/DEC.1",
        "due": "2013-10-27",
        "chemicals": CHEMICALS,
        "sites": SITES,
    }
    amended_items = [
        {**ITEMS_1[0], "declared": mass(1003.5)},
        ITEMS_1[1],
        *ITEMS_2,
    ]
    amended_sites = [SITES[0], {**SITES[1], "name": "Port of departure"}, SITES[2], SITES[3]]
    steps: list[tuple[str, str, str, dict[str, Any]]] = [
        (
            "declaration.submitted",
            "dec",
            "2013-10-20T10:00:00Z",
            {"version": 1, "part": 1, "parts": 2, **header, "items": ITEMS_1},
        ),
        (
            "declaration.submitted",
            "dec",
            "2013-10-20T10:00:01Z",
            {"version": 1, "part": 2, "parts": 2, "items": ITEMS_2},
        ),
        (
            "declaration.amended",
            "dec",
            "2013-11-02T08:30:00.250Z",
            {
                "version": 2,
                "amends": 1,
                "part": 1,
                "parts": 1,
                **header,
                "sites": amended_sites,
                "items": amended_items,
            },
        ),
        (
            "estimate.recorded",
            "obs",
            "2013-11-03T00:00:00Z",
            {
                "estimate": {
                    "party": "obs",
                    "value": 1300.0,
                    "u": 100.0,
                    "unit": "t",
                    "method": "open sources",
                    "scope": "total",
                }
            },
        ),
        (
            "inspection.opened",
            "insp",
            "2013-11-05T07:00:00Z",
            {
                "inspection": "INSP-1",
                "site": "S-1",
                "kind": "initial",
                "notified": "2013-11-04T12:00:00Z",
            },
        ),
        (
            "item.tagged",
            "insp",
            "2013-11-05T08:00:00Z",
            {"item": "C-1", "tag": "T-1", "site": "S-1"},
        ),
        (
            "seal.applied",
            "insp",
            "2013-11-05T08:05:00Z",
            {
                "seal": "SEAL-1",
                "type": "metal_cap",
                "closes": {"kind": "item", "id": "C-1"},
                "photos": [PHOTO],
                "next_check_due": "2013-12-05T08:00:00Z",
            },
        ),
        (
            "seal.applied",
            "insp",
            "2013-11-05T08:10:00Z",
            {
                "seal": "SEAL-2",
                "type": "fibre_optic",
                "closes": {"kind": "site", "id": "S-1"},
                "wire": "W-1",
            },
        ),
        (
            "seal.applied",
            "insp",
            "2013-11-05T08:15:00Z",
            {"seal": "SEAL-3", "type": "tape", "closes": {"kind": "item", "id": "L-1"}},
        ),
        (
            "inventory.taken",
            "insp",
            "2013-11-05T12:00:00Z",
            {
                "site": "S-1",
                "inspection": "INSP-1",
                "complete": True,
                "items": [
                    {"item": "C-1", "measured": mass(1001.0, 2.0, 1.0)},
                    {"item": "L-1", "measured": mass(12480.0)},
                    {"item": "C-3"},
                    {"item": "M-1"},
                ],
            },
        ),
        (
            "seal.checked",
            "insp",
            "2013-11-20T09:00:00Z",
            {
                "seal": "SEAL-1",
                "condition": "intact",
                "method": "identity_match",
                "photos": [PHOTO, PHOTO2],
                "next_check_due": "2013-12-20T09:00:00Z",
            },
        ),
        (
            "seal.checked",
            "insp",
            "2013-11-20T09:05:00Z",
            {"seal": "SEAL-3", "condition": "tampered"},
        ),
        (
            "seal.checked",
            "insp",
            "2013-11-20T09:10:00Z",
            {"seal": "SEAL-2", "condition": "broken", "method": "visual", "at_headquarters": False},
        ),
        (
            "sample.taken",
            "insp",
            "2013-11-21T10:00:00Z",
            {
                "sample": "SMP-1",
                "item": "C-1",
                "site": "S-1",
                "inspection": "INSP-1",
                "seals": ["SEAL-1"],
            },
        ),
        (
            "seal.removed",
            "insp",
            "2013-11-21T09:55:00Z",
            {"seal": "SEAL-1", "reason": "sampling", "photos": [PHOTO2]},
        ),
        (
            "inspection.closed",
            "insp",
            "2013-11-21T18:00:00Z",
            {"inspection": "INSP-1", "summary": "Initial inspection done"},
        ),
        (
            "sample.result",
            "insp",
            "2013-12-01T00:00:00Z",
            {"sample": "SMP-1", "identity_confirmed": True, "laboratory": "LAB-1"},
        ),
        (
            "transfer.shipped",
            "dec",
            "2014-01-07T06:00:00Z",
            {
                "transfer": "TR-1",
                "origin": "S-1",
                "destination": "S-2",
                "due": "2014-01-08T00:00:00Z",
                "consignment": "Convoy 1",
                "items": [
                    {"item": "C-1", "measured": mass(998.0)},
                    {"item": "L-1", "measured": mass(12470.0, 40.0, 10.0)},
                    {"item": "C-3"},
                ],
            },
        ),
        (
            "transfer.received",
            "dec",
            "2014-01-07T18:30:00Z",
            {
                "transfer": "TR-1",
                "site": "S-2",
                "items": [
                    {"item": "C-1", "measured": mass(996.5, 1.0, 0.5, "port scale")},
                    {"item": "L-1", "measured": mass(12455.0)},
                    {"item": "C-3"},
                ],
            },
        ),
        (
            "finding.raised",
            "insp",
            "2014-01-08T00:00:00Z",
            {"title": "Transfer difference", "evidence": ["E-018", "E-019"], "subjects": ["L-1"]},
        ),
        (
            "destruction.batch",
            "dec",
            "2014-06-01T00:00:00Z",
            {
                "batch": "B-1",
                "method": "hydrolysis",
                "venue": "S-3",
                "start": "2014-05-20T00:00:00Z",
                "end": "2014-05-31T23:59:59Z",
                "items": [{"item": "C-1", "kg": 990.5}, {"item": "L-1"}],
                "products": [
                    {"item": "RM-1", "label": "reaction mass", "mass": mass(6100.0, 30.0, 60.0)}
                ],
            },
        ),
        (
            "destruction.verified",
            "insp",
            "2014-06-02T00:00:00Z",
            {"batch": "B-1", "confirmed": True, "remarks": "Witnessed"},
        ),
    ]
    out = []
    for n, (kind, author, time, body) in enumerate(steps):
        EVENT_TYPES[kind].body.model_validate(body)
        out.append(
            (
                start + n,
                Event(type=kind, id=f"E-{start + n:03d}", time=time, author=author, body=body),
            )
        )
    return out
