"""What each chain-of-custody event becomes in EPCIS 2.0 (MAPPING.md section 4), type by type.

Each exporter takes one of our events and what the exported events tell about each other
(:class:`Chain`) and returns its EPCIS events, before they are stamped with our envelope
fields and their CBV hash (:mod:`cwledger.epcis._export`). The registry
(``cwledger.book.registry``) names the exporter of each event type.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cwledger.epcis._names import Names, to_ext
from cwledger.model.events import Event

BUSINESS_LOCATION = "urn:epcglobal:epcis:vtype:BusinessLocation"
MDA_NAME = "urn:epcglobal:cbv:mda:name"
MDA_LATITUDE = "urn:epcglobal:cbv:mda:latitude"
MDA_LONGITUDE = "urn:epcglobal:cbv:mda:longitude"
_CONDITION = {
    "intact": "conformant",
    "broken": "container_open",
    "tampered": "non_conformant",
    "missing": "mismatch_instance",
    "indeterminate": "unknown",
}


@dataclass
class Chain:
    """What the exported events tell about each other (kinds, seal targets, sites)."""

    names: Names
    kinds: dict[str, str] = field(default_factory=dict)
    seal_targets: dict[str, dict[str, str]] = field(default_factory=dict)
    inspection_sites: dict[str, str] = field(default_factory=dict)
    chemicals: dict[tuple[str, int], dict[str, dict[str, Any]]] = field(default_factory=dict)
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)
    declarations: list[dict[str, Any]] = field(default_factory=list)

    def learn(self, event: Event) -> None:
        body = event.body
        if event.type.startswith("declaration."):
            for item in body.get("items", []):
                self.kinds[item["id"]] = item["kind"]
            for chem in body.get("chemicals", []):
                key = (event.author, body["version"])
                self.chemicals.setdefault(key, {})[chem["label"]] = chem
        elif event.type == "seal.applied":
            self.seal_targets[body["seal"]] = body["closes"]
        elif event.type == "inspection.opened":
            self.inspection_sites[body["inspection"]] = body["site"]

    def material(self, item: str) -> str:
        """The URI of an item as an EPC: a lot's class URI, else the instance URI."""
        kind = "lot" if self.kinds.get(item) == "bulk_lot" else "item"
        return self.names.uri(kind, item)

    def target(self, closes: dict[str, str]) -> str:
        """The URI of what a seal closes."""
        if closes["kind"] == "site":
            return self.names.uri("site", closes["id"])
        return self.material(closes["id"])


def _head(kind: str, event: Event) -> dict[str, Any]:
    return {"type": kind, "eventTime": event.time, "eventTimeZoneOffset": "+00:00"}


def _tx(kind: str, uri: str) -> dict[str, Any]:
    return {"bizTransactionList": [{"type": kind, "bizTransaction": uri}]}


def _place(chain: Chain, site: str | None, key: str = "bizLocation") -> dict[str, Any]:
    return {key: {"id": chain.names.uri("site", site)}} if site else {}


def _ext(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``cwl:`` fields for the named body keys that are present."""
    out: dict[str, Any] = to_ext({k: body[k] for k in keys if k in body})
    return out


def _what(chain: Chain, items: list[str], kg: dict[str, float]) -> dict[str, Any]:
    """Instances in ``epcList``, lots in ``quantityList`` (in KGM where a mass is known).

    ``cwl:lineOrder`` keeps the ledger's order when instances and lots are interleaved.
    """
    uris = [chain.material(i) for i in items]
    epcs = [u for u in uris if u.startswith(chain.names.base + "item/")]
    lots = [u for u in uris if u not in epcs]
    out: dict[str, Any] = {"epcList": epcs} if epcs or not lots else {}
    if lots:
        quantities = []
        for item, uri in zip(items, uris, strict=True):
            if uri in lots:
                known = {"quantity": kg[item], "uom": "KGM"} if item in kg else {}
                quantities.append({"epcClass": uri, **known})
        out["quantityList"] = quantities
    if epcs + lots != uris:
        out["cwl:lineOrder"] = uris
    return out


def _lines(chain: Chain, lines: list[dict[str, Any]], measured: str) -> dict[str, Any]:
    """Items of a transfer or inventory with their measured masses as ``Mass`` reports."""
    masses = {ln["item"]: ln[measured] for ln in lines if ln.get(measured) is not None}
    out = _what(chain, [ln["item"] for ln in lines], {i: m["kg"] for i, m in masses.items()})
    reports = []
    for item, mass in masses.items():
        u = math.hypot(mass.get("u_random_kg", 0.0), mass.get("u_systematic_kg", 0.0))
        report = {"type": "Mass", "value": mass["kg"], "uom": "KGM", "sDev": u}
        report["cwl:item"] = chain.material(item)
        reports.append(report | to_ext({k: v for k, v in mass.items() if k != "kg"}))
    return {
        "what": out,
        "how": {"sensorElementList": [{"sensorReport": reports}]} if reports else {},
    }


def declared_uri(names: Names, item: dict[str, Any]) -> str:
    return names.uri("lot" if item["kind"] == "bulk_lot" else "item", item["id"])


def declaration(event: Event, chain: Chain) -> list[dict[str, Any]]:
    body, names = event.body, chain.names
    table = chain.chemicals.get((event.author, body["version"]), {})
    out = []
    for item in body.get("items", []):
        e = _head("ObjectEvent", event)
        uri = declared_uri(names, item)
        if item["kind"] == "bulk_lot":
            e["quantityList"] = [
                {"epcClass": uri, "quantity": item["declared"]["kg"], "uom": "KGM"}
            ]
        else:
            e["epcList"] = [uri]
        e |= {"action": "ADD", "bizStep": "commissioning", "disposition": "active"}
        e |= _place(chain, item["site"])
        e |= _tx(names.btt_declaration, names.declaration(event.author, body["version"]))
        ilmd = to_ext({k: v for k, v in item.items() if k not in ("id", "site")})
        chem = table.get(item.get("chemical") or "")
        if chem:
            ilmd["cwl:cwcCategory"] = chem["cwc_category"]
            if chem.get("schedule"):
                s = chem["schedule"]
                ilmd["cwl:cwcSchedule"] = f"{s['number']}.{s['part']}.{s['entry']}"
        e["ilmd"] = ilmd
        out.append(e)
    return out


def tagged(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b = event.body
    e = _head("AssociationEvent", event) | {"parentID": chain.material(b["item"])}
    e |= {"childEPCs": [chain.names.uri("tag", b["tag"])], "action": "ADD"}
    return [e | {"bizStep": "installing"} | _place(chain, b["site"])]


def seal_applied(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b = event.body
    e = _head("AssociationEvent", event) | {"parentID": chain.target(b["closes"])}
    e |= {"childEPCs": [chain.names.uri("seal", b["seal"])], "action": "ADD"}
    e |= {"bizStep": "installing", "disposition": "container_closed"}
    site = b["closes"]["id"] if b["closes"]["kind"] == "site" else None
    return [e | _place(chain, site) | _ext(b, "type", "wire", "photos", "next_check_due")]


def seal_checked(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b = event.body
    closes = chain.seal_targets.get(b["seal"])
    seal = chain.names.uri("seal", b["seal"])
    target = chain.target(closes) if closes else None
    e = _head("ObjectEvent", event)
    if target and closes and closes["kind"] == "item" and "/lot/" not in target:
        e["epcList"] = [target, seal]
    else:
        e["epcList"] = [seal]
        if target and "/lot/" in target:
            e["quantityList"] = [{"epcClass": target}]
    e |= {"action": "OBSERVE", "bizStep": "inspecting", "disposition": _CONDITION[b["condition"]]}
    site = closes["id"] if closes and closes["kind"] == "site" else None
    check = {k: v for k, v in b.items() if k != "seal"}
    return [e | _place(chain, site) | {"cwl:sealCheck": to_ext(check)}]


def seal_removed(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b = event.body
    closes = chain.seal_targets.get(b["seal"])
    seal = chain.names.uri("seal", b["seal"])
    e = _head("AssociationEvent", event)
    # The seal's target is unknown when its seal.applied is not exported: then the seal
    # itself is the parent whose associations end.
    e |= {"parentID": chain.target(closes), "childEPCs": [seal]} if closes else {"parentID": seal}
    e |= {"action": "DELETE", "bizStep": "removing", "disposition": "container_open"}
    return [e | _ext(b, "reason", "photos")]


def shipped(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    lines = _lines(chain, b["items"], "measured")
    e = _head("ObjectEvent", event) | lines["what"] | {"action": "OBSERVE"}
    e |= {"bizStep": "shipping", "disposition": "in_transit"}
    e |= _place(chain, b["origin"], "readPoint")
    e |= _tx(names.btt_transfer, names.uri("transfer", b["transfer"]))
    e["sourceList"] = [{"type": "location", "source": names.uri("site", b["origin"])}]
    dest = names.uri("site", b["destination"])
    e["destinationList"] = [{"type": "location", "destination": dest}]
    return [e | lines["how"] | _ext(b, "due", "consignment")]


def received(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    lines = _lines(chain, b["items"], "measured")
    e = _head("ObjectEvent", event) | lines["what"] | {"action": "OBSERVE"}
    e |= {"bizStep": "receiving", "disposition": "in_progress"}
    e |= _place(chain, b["site"], "readPoint") | _place(chain, b["site"])
    e |= _tx(names.btt_transfer, names.uri("transfer", b["transfer"]))
    return [e | lines["how"]]


def inventory(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    lines = _lines(chain, b["items"], "measured")
    e = _head("ObjectEvent", event) | lines["what"] | {"action": "OBSERVE"}
    e |= {"bizStep": "stock_taking"} | _place(chain, b["site"])
    if b.get("inspection"):
        e |= _tx(names.btt_inspection, names.uri("inspection", b["inspection"]))
    return [e | lines["how"] | _ext(b, "complete")]


def inspection(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    e = _head("ObjectEvent", event) | {"epcList": [], "action": "OBSERVE", "bizStep": "inspecting"}
    e |= _place(chain, b.get("site") or chain.inspection_sites.get(b["inspection"]))
    e |= _tx(names.btt_inspection, names.uri("inspection", b["inspection"]))
    return [e | _ext(b, "kind", "notified", "summary")]


def sample_taken(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    e = _head("TransformationEvent", event)
    e["inputQuantityList"] = [{"epcClass": names.uri("lot", b["item"])}]
    e["outputEPCList"] = [names.uri("sample", b["sample"])]
    e |= {"bizStep": "sampling"} | _place(chain, b["site"])
    if b.get("inspection"):
        e |= _tx(names.btt_inspection, names.uri("inspection", b["inspection"]))
    return [e | _ext(b, "seals")]


def sample_result(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b = event.body
    e = _head("ObjectEvent", event) | {"epcList": [chain.names.uri("sample", b["sample"])]}
    verdict = "conformant" if b["identity_confirmed"] else "non_conformant"
    e |= {"action": "OBSERVE", "bizStep": "inspecting", "disposition": verdict}
    return [e | _place(chain, b["laboratory"]) | _ext(b, "identity_confirmed")]


def destroyed(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    e = _head("TransformationEvent", event)
    inputs = []
    for line in b["items"]:
        kg = {"quantity": line["kg"], "uom": "KGM"} if line.get("kg") is not None else {}
        inputs.append({"epcClass": names.uri("lot", line["item"]), **kg})
    e["inputQuantityList"] = inputs
    products = b.get("products", [])
    if products:
        e["outputQuantityList"] = [
            {"epcClass": names.uri("lot", p["item"]), "quantity": p["mass"]["kg"], "uom": "KGM"}
            for p in products
        ]
    e |= {"transformationID": names.uri("batch", b["batch"]), "bizStep": "destroying"}
    e |= _place(chain, b["venue"])
    if "products" in b:
        e["cwl:products"] = [to_ext({k: v for k, v in p.items() if k != "item"}) for p in products]
    return [e | _ext(b, "method", "start", "end")]


def verified(event: Event, chain: Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    verdict = "conformant" if b.get("confirmed", True) else "non_conformant"
    e = _head("ObjectEvent", event) | {"epcList": [], "action": "OBSERVE"}
    e |= {"bizStep": "inspecting", "disposition": verdict}
    e |= _tx(names.btt_batch, names.uri("batch", b["batch"]))
    return [e | _ext(b, "confirmed", "remarks")]


Exporter = Callable[[Event, Chain], list[dict[str, Any]]]
