"""Export: the chain of custody recorded in the ledger as an EPCIS 2.0 JSON-LD document.

What each event type becomes is MAPPING.md section 4; every exported EPCIS event carries
its CBV event hash as ``eventID`` and, in ``cwl:`` fields, our event id, type, author and
log index and whatever the body says beyond the standard fields, so that
:func:`cwledger.epcis.mapping.from_epcis` gives the same events back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from cwledger.epcis._names import DEFAULT_BASE, Names, camel, to_ext
from cwledger.epcis.hash import event_hash
from cwledger.model.bodies import BODIES
from cwledger.model.events import Event

__all__ = ["EXPORTED", "to_epcis", "MDA_NAME", "MDA_LATITUDE", "MDA_LONGITUDE", "BUSINESS_LOCATION"]

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
class _Chain:
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


def _place(chain: _Chain, site: str | None, key: str = "bizLocation") -> dict[str, Any]:
    return {key: {"id": chain.names.uri("site", site)}} if site else {}


def _ext(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``cwl:`` fields for the named body keys that are present."""
    out: dict[str, Any] = to_ext({k: body[k] for k in keys if k in body})
    return out


def _what(chain: _Chain, items: list[str], kg: dict[str, float]) -> dict[str, Any]:
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


def _lines(chain: _Chain, lines: list[dict[str, Any]], measured: str) -> dict[str, Any]:
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


def _declared_uri(names: Names, item: dict[str, Any]) -> str:
    return names.uri("lot" if item["kind"] == "bulk_lot" else "item", item["id"])


def _declaration(event: Event, chain: _Chain) -> list[dict[str, Any]]:
    body, names = event.body, chain.names
    table = chain.chemicals.get((event.author, body["version"]), {})
    out = []
    for item in body.get("items", []):
        e = _head("ObjectEvent", event)
        uri = _declared_uri(names, item)
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


def _tagged(event: Event, chain: _Chain) -> list[dict[str, Any]]:
    b = event.body
    e = _head("AssociationEvent", event) | {"parentID": chain.material(b["item"])}
    e |= {"childEPCs": [chain.names.uri("tag", b["tag"])], "action": "ADD"}
    return [e | {"bizStep": "installing"} | _place(chain, b["site"])]


def _seal_applied(event: Event, chain: _Chain) -> list[dict[str, Any]]:
    b = event.body
    e = _head("AssociationEvent", event) | {"parentID": chain.target(b["closes"])}
    e |= {"childEPCs": [chain.names.uri("seal", b["seal"])], "action": "ADD"}
    e |= {"bizStep": "installing", "disposition": "container_closed"}
    site = b["closes"]["id"] if b["closes"]["kind"] == "site" else None
    return [e | _place(chain, site) | _ext(b, "type", "wire", "photos", "next_check_due")]


def _seal_checked(event: Event, chain: _Chain) -> list[dict[str, Any]]:
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


def _seal_removed(event: Event, chain: _Chain) -> list[dict[str, Any]]:
    b = event.body
    closes = chain.seal_targets.get(b["seal"])
    seal = chain.names.uri("seal", b["seal"])
    e = _head("AssociationEvent", event)
    # The seal's target is unknown when its seal.applied is not exported: then the seal
    # itself is the parent whose associations end.
    e |= {"parentID": chain.target(closes), "childEPCs": [seal]} if closes else {"parentID": seal}
    e |= {"action": "DELETE", "bizStep": "removing", "disposition": "container_open"}
    return [e | _ext(b, "reason", "photos")]


def _shipped(event: Event, chain: _Chain) -> list[dict[str, Any]]:
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


def _received(event: Event, chain: _Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    lines = _lines(chain, b["items"], "measured")
    e = _head("ObjectEvent", event) | lines["what"] | {"action": "OBSERVE"}
    e |= {"bizStep": "receiving", "disposition": "in_progress"}
    e |= _place(chain, b["site"], "readPoint") | _place(chain, b["site"])
    e |= _tx(names.btt_transfer, names.uri("transfer", b["transfer"]))
    return [e | lines["how"]]


def _inventory(event: Event, chain: _Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    lines = _lines(chain, b["items"], "measured")
    e = _head("ObjectEvent", event) | lines["what"] | {"action": "OBSERVE"}
    e |= {"bizStep": "stock_taking"} | _place(chain, b["site"])
    if b.get("inspection"):
        e |= _tx(names.btt_inspection, names.uri("inspection", b["inspection"]))
    return [e | lines["how"] | _ext(b, "complete")]


def _inspection(event: Event, chain: _Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    e = _head("ObjectEvent", event) | {"epcList": [], "action": "OBSERVE", "bizStep": "inspecting"}
    e |= _place(chain, b.get("site") or chain.inspection_sites.get(b["inspection"]))
    e |= _tx(names.btt_inspection, names.uri("inspection", b["inspection"]))
    return [e | _ext(b, "kind", "notified", "summary")]


def _sample_taken(event: Event, chain: _Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    e = _head("TransformationEvent", event)
    e["inputQuantityList"] = [{"epcClass": names.uri("lot", b["item"])}]
    e["outputEPCList"] = [names.uri("sample", b["sample"])]
    e |= {"bizStep": "sampling"} | _place(chain, b["site"])
    if b.get("inspection"):
        e |= _tx(names.btt_inspection, names.uri("inspection", b["inspection"]))
    return [e | _ext(b, "seals")]


def _sample_result(event: Event, chain: _Chain) -> list[dict[str, Any]]:
    b = event.body
    e = _head("ObjectEvent", event) | {"epcList": [chain.names.uri("sample", b["sample"])]}
    verdict = "conformant" if b["identity_confirmed"] else "non_conformant"
    e |= {"action": "OBSERVE", "bizStep": "inspecting", "disposition": verdict}
    return [e | _place(chain, b["laboratory"]) | _ext(b, "identity_confirmed")]


def _destroyed(event: Event, chain: _Chain) -> list[dict[str, Any]]:
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


def _verified(event: Event, chain: _Chain) -> list[dict[str, Any]]:
    b, names = event.body, chain.names
    verdict = "conformant" if b.get("confirmed", True) else "non_conformant"
    e = _head("ObjectEvent", event) | {"epcList": [], "action": "OBSERVE"}
    e |= {"bizStep": "inspecting", "disposition": verdict}
    e |= _tx(names.btt_batch, names.uri("batch", b["batch"]))
    return [e | _ext(b, "confirmed", "remarks")]


_Exporter = Callable[[Event, _Chain], list[dict[str, Any]]]
_EXPORTERS: dict[str, _Exporter] = {
    "declaration.submitted": _declaration,
    "declaration.amended": _declaration,
    "item.tagged": _tagged,
    "seal.applied": _seal_applied,
    "seal.checked": _seal_checked,
    "seal.removed": _seal_removed,
    "transfer.shipped": _shipped,
    "transfer.received": _received,
    "inventory.taken": _inventory,
    "inspection.opened": _inspection,
    "inspection.closed": _inspection,
    "sample.taken": _sample_taken,
    "sample.result": _sample_result,
    "destruction.batch": _destroyed,
    "destruction.verified": _verified,
}
EXPORTED = frozenset(_EXPORTERS)
"""The event types of the chain of custody; the others (estimates, findings, site access,
governance) have no EPCIS counterpart and are not exported."""


# --- master data: sites and declaration headers ----------------------------------------------


def _attrs(pairs: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": k, "attribute": v} for k, v in pairs]


def _site_element(names: Names, site: dict[str, Any]) -> dict[str, Any]:
    pairs: list[tuple[str, Any]] = [(MDA_NAME, site["name"])]
    pairs += [(MDA_LATITUDE, site["coordinates"]["lat"])]
    pairs += [(MDA_LONGITUDE, site["coordinates"]["lon"])]
    for key, value in site.items():
        if key == "parent" and value is not None:
            pairs.append((names.ns + key, names.uri("site", value)))
        elif key not in ("id", "name", "coordinates", "parent") and value is not None:
            pairs.append((names.ns + camel(key), value))
    return {"id": names.uri("site", site["id"]), "attributes": _attrs(pairs)}


def _declaration_element(index: int, event: Event, chain: _Chain) -> dict[str, Any]:
    """The header of one declaration part (and its lists of chemicals, sites, items)."""
    names, body = chain.names, event.body
    ns = names.ns
    pairs: list[tuple[str, Any]] = [(ns + "eventID", event.id), (ns + "eventType", event.type)]
    pairs += [(ns + "author", event.author), (ns + "logIndex", index), (ns + "time", event.time)]
    for key, value in body.items():
        if key not in ("chemicals", "sites", "items") and value is not None:
            pairs.append((ns + camel(key), value))
    if "chemicals" in body:
        pairs.append((ns + "chemicals", {"cwl:chemical": to_ext(body["chemicals"])}))
    if "sites" in body:
        refs: list[Any] = []
        for site in body["sites"]:
            known = chain.sites.setdefault(site["id"], site)
            refs.append(names.uri("site", site["id"]) if known == site else to_ext(site))
        pairs.append((ns + "sites", {"cwl:site": refs}))
    if "items" in body:
        items = [_declared_uri(names, i) for i in body["items"]]
        pairs.append((ns + "items", {"cwl:item": items}))
    return {"id": names.uri("event", event.id), "attributes": _attrs(pairs)}


def _master_data(chain: _Chain) -> dict[str, Any]:
    vocabularies = []
    if chain.sites:
        sites = [_site_element(chain.names, s) for s in chain.sites.values()]
        vocabularies.append({"type": BUSINESS_LOCATION, "vocabularyElementList": sites})
    if chain.declarations:
        kind = chain.names.declaration_vocabulary
        vocabularies.append({"type": kind, "vocabularyElementList": chain.declarations})
    return (
        {"epcisHeader": {"epcisMasterData": {"vocabularyList": vocabularies}}}
        if vocabularies
        else {}
    )


# --- amendments as error declarations ---------------------------------------------------------


@dataclass
class _Part:
    event: Event
    items: dict[str, tuple[dict[str, Any], dict[str, Any]]]  # id -> (item, EPCIS event)


def _declare_errors(parts: list[_Part]) -> None:
    """Mark each declared item a later version changed or dropped (MAPPING.md section 4).

    The original commissioning event gets an ``errorDeclaration`` (``incorrect_data`` with
    the corrective event, or ``did_not_occur``); the event hash leaves it out, so the
    eventID stays valid. Only a later version whose every part is exported counts.
    """
    versions: dict[tuple[str, int], list[_Part]] = {}
    for part in parts:
        versions.setdefault((part.event.author, part.event.body["version"]), []).append(part)
    for (author, version), old in versions.items():
        new = versions.get((author, version + 1), [])
        if not new or len({p.event.body["part"] for p in new}) != new[0].event.body["parts"]:
            continue
        later = {i: (p.event, e) for p in new for i, (_, e) in p.items.items()}
        items = {i: item for p in new for i, (item, _) in p.items.items()}
        when = new[0].event.time
        for part in old:
            for ident, (item, epcis) in part.items.items():
                if ident not in later:
                    epcis["errorDeclaration"] = {"declarationTime": when, "reason": "did_not_occur"}
                elif items[ident] != item:
                    event, corrective = later[ident]
                    epcis["errorDeclaration"] = {
                        "declarationTime": event.time,
                        "reason": "incorrect_data",
                        "correctiveEventIDs": [corrective["eventID"]],
                    }


# --- the document ---------------------------------------------------------------------------


def to_epcis(
    events: Sequence[tuple[int, Event]], *, base: str = DEFAULT_BASE, created: str
) -> dict[str, Any]:
    """An EPCISDocument for the chain of custody in ``events`` (``(log index, event)`` pairs).

    Declarations, tags, seals, transfers, inventories, inspections, samples and destruction
    are exported (MAPPING.md section 4), other event types are left out. ``created`` is the
    document's creationDate. Raises ValueError for an event whose body is not valid.
    """
    names = Names(base)
    chain = _Chain(names)
    chosen = [(i, e) for i, e in events if e.type in _EXPORTERS]
    for index, event in chosen:
        try:
            BODIES[event.type].model_validate(event.body)
        except ValidationError as err:
            raise ValueError(f"event {event.id} (log index {index}): invalid body: {err}") from err
        chain.learn(event)
    out: list[dict[str, Any]] = []
    parts: list[_Part] = []
    for index, event in chosen:
        stamped = [_stamp_one(e, index, event, names) for e in _EXPORTERS[event.type](event, chain)]
        if event.type.startswith("declaration."):
            chain.declarations.append(_declaration_element(index, event, chain))
            items = event.body.get("items", [])
            parts.append(
                _Part(event, {i["id"]: (i, e) for i, e in zip(items, stamped, strict=True)})
            )
        out += stamped
    _declare_errors(parts)
    doc: dict[str, Any] = {"@context": names.context, "type": "EPCISDocument"}
    doc |= {"schemaVersion": "2.0", "creationDate": created}
    return doc | _master_data(chain) | {"epcisBody": {"eventList": out}}


def _stamp_one(e: dict[str, Any], index: int, event: Event, names: Names) -> dict[str, Any]:
    """The event with our envelope fields and, first after its type, its CBV hash as eventID."""
    e = e | {"cwl:eventID": event.id, "cwl:eventType": event.type}
    e |= {"cwl:author": event.author, "cwl:logIndex": index}
    return {"type": e["type"], "eventID": event_hash(e, names.context)} | e
