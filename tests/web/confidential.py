"""A small confidential ledger for the pages' tests (issue 16): a declaration whose sites
and items are sealed (their ids, names and coordinates are markers no public page may
hold), a vessel and a venue abroad the inspectorate declares (public), a shipment to the
vessel and its receipt, a destruction batch, and the day-one escrow with removal and
destruction proofs and a published aggregate of them (tests/escrow/test_aggregates.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cwledger.ledger.ledger import Ledger
from tests.api.test_public_aggregates import _published
from tests.book.builders import Book, declaration, item, mass
from tests.conftest import FOUNDING, ORIGIN

SITE, DEPOT = "CONF-SITE-A1", "CONF-DEPOT-D2"
ITEMS = ("CONF-ITEM-C1", "CONF-ITEM-C2", "CONF-ITEM-C3")
# Sealed: found in no byte of a page an anonymous visitor or an observer reads.
SECRETS = [
    SITE,
    DEPOT,
    *ITEMS,
    "Hidden Depot Qxv7731",
    "Hidden Store Wkp5512",
    "34.123457",
    "36.765432",
    "35.246813",
    "38.135792",
    "CONF-TR-1",
    "CONF-BATCH-1",
    "CONF-SEAL-1",
    "1234.567",
]
VESSEL = {
    "id": "V-ARK",
    "name": "Ark Futura",
    "kind": "vessel",
    "coordinates": {"lat": 35.55, "lon": 35.3},
    "party": "insp",
}
VENUE = {
    "id": "V-EKOKEM",
    "name": "Ekokem, Riihimäki",
    "kind": "destruction",
    "coordinates": {"lat": 60.74, "lon": 24.77},
    "party": "insp",
}


def _site(ident: str, name: str, lat: float, lon: float) -> dict[str, Any]:
    coords = {"lat": lat, "lon": lon}
    return {"id": ident, "name": name, "kind": "storage", "coordinates": coords, "party": "dec"}


def build(path: Path) -> Ledger:
    """The confidential ledger at `path` (closed by the caller)."""
    led = Ledger.init(
        path, ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z", confidential=True
    )
    b = Book(led)
    sites = [
        _site(SITE, "Hidden Depot Qxv7731", 34.123457, 36.765432),
        _site(DEPOT, "Hidden Store Wkp5512", 35.246813, 38.135792),
    ]
    items = [item(ITEMS[0], SITE, 1234.567), item(ITEMS[1], SITE), item(ITEMS[2], DEPOT)]
    b.append("declaration.submitted", declaration(items, sites=sites))
    b.append("site.declared", {"site": VESSEL}, author="insp")
    b.append("site.declared", {"site": VENUE}, author="insp")
    closes = {"kind": "item", "id": ITEMS[0]}
    b.append("seal.applied", {"seal": "CONF-SEAL-1", "type": "metal_cap", "closes": closes})
    b.append(
        "transfer.shipped",
        {
            "transfer": "CONF-TR-1",
            "origin": SITE,
            "destination": VESSEL["id"],
            "due": "2014-02-01T00:00:00Z",
            "items": [{"item": ITEMS[0], "measured": mass(1234.567)}],
        },
    )
    b.append(
        "transfer.received",
        {"transfer": "CONF-TR-1", "site": VESSEL["id"], "items": [{"item": ITEMS[0]}]},
        author="insp",
    )
    b.append(
        "destruction.batch",
        {
            "batch": "CONF-BATCH-1",
            "method": "hydrolysis",
            "venue": DEPOT,
            "start": "2014-02-10T00:00:00Z",
            "end": "2014-02-11T00:00:00Z",
            "items": [{"item": ITEMS[2]}],
        },
    )
    _published(led)
    return led
