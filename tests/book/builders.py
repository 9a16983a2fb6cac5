"""Small builders for book tests: a declaration, and events signed by the right party."""

from __future__ import annotations

from typing import Any

from cwledger.ledger.admission import Receipt
from cwledger.ledger.ledger import Ledger

# Who writes each event type in these tests.
AUTHOR = {
    "site.declared": "dec",
    "declaration.submitted": "dec",
    "declaration.amended": "dec",
    "transfer.shipped": "dec",
    "transfer.received": "dec",
    "destruction.batch": "dec",
    "estimate.recorded": "obs",
}


def mass(kg: float, u: float = 1.0, method: str = "weighing") -> dict[str, Any]:
    """A measured mass with a random standard uncertainty."""
    return {"kg": kg, "u_random_kg": u, "u_systematic_kg": 0.0, "method": method}


def site(site_id: str, kind: str = "storage", party: str = "dec") -> dict[str, Any]:
    """A site in the country."""
    return {
        "id": site_id,
        "name": f"Site {site_id}",
        "kind": kind,
        "coordinates": {"lat": 34.5, "lon": 36.7},
        "party": party,
    }


def item(
    item_id: str, site_id: str = "S-1", kg: float = 1000.0, chemical: str = "DF"
) -> dict[str, Any]:
    """A container of a declared chemical."""
    return {
        "id": item_id,
        "kind": "container",
        "chemical": chemical,
        "declared": mass(kg, u=2.0),
        "site": site_id,
    }


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
    {"label": "isopropanol", "cwc_category": 1, "removal_priority": "in-country"},
    {"label": "HF", "cwc_category": 2, "removal_priority": "2"},
]


def declaration(
    items: list[dict[str, Any]],
    sites: list[dict[str, Any]] | None = None,
    version: int = 1,
    part: int = 1,
    parts: int = 1,
) -> dict[str, Any]:
    """A declaration part body (part 1 carries the header)."""
    body: dict[str, Any] = {"version": version, "part": part, "parts": parts, "items": items}
    if version > 1:
        body["amends"] = version - 1
    if part == 1:
        body |= {
            "legal_basis": "EC-M-33/DEC.1",
            "due": "2013-10-27",
            "chemicals": CHEMICALS,
            "sites": sites
            if sites is not None
            else [site("S-1"), site("S-2"), site("PORT", "port")],
        }
    return body


class Book:
    """Appends events to a ledger as the right party, with ids and times in sequence."""

    def __init__(self, ledger: Ledger, start_day: int = 1) -> None:
        self.ledger = ledger
        self.n = 0
        self.day = start_day

    def event(
        self,
        type_: str,
        body: dict[str, Any],
        *,
        time: str | None = None,
        author: str | None = None,
    ) -> dict[str, Any]:
        self.n += 1
        self.day += 1
        when = time or f"2014-{1 + (self.day // 28) % 12:02d}-{1 + self.day % 28:02d}T12:00:00Z"
        return {
            "type": type_,
            "id": f"e{self.n:05d}",
            "time": when,
            "body": body,
            "author": author or AUTHOR.get(type_, "insp"),
        }

    def append(self, type_: str, body: dict[str, Any], **kw: Any) -> Receipt:
        ev = self.event(type_, body, **kw)
        author = ev.pop("author")
        [r] = self.ledger.append(self.ledger.sign([ev], author))
        return r

    def declare(self, items: list[dict[str, Any]], **kw: Any) -> Receipt:
        return self.append("declaration.submitted", declaration(items, **kw))
