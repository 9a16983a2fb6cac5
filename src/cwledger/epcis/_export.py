"""Export: the chain of custody recorded in the ledger as an EPCIS 2.0 JSON-LD document.

What each event type becomes is MAPPING.md section 4; every exported EPCIS event carries
its CBV event hash as ``eventID`` and, in ``cwl:`` fields, our event id, type, author and
log index and whatever the body says beyond the standard fields, so that
:func:`cwledger.epcis.mapping.from_epcis` gives the same events back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from cwledger.book.registry import EVENT_TYPES
from cwledger.epcis._names import DEFAULT_BASE, Names, camel, to_ext
from cwledger.epcis.exporters import (
    BUSINESS_LOCATION,
    MDA_LATITUDE,
    MDA_LONGITUDE,
    MDA_NAME,
    Chain,
    Exporter,
    declared_uri,
)
from cwledger.epcis.hash import event_hash
from cwledger.model.events import Event

__all__ = ["EXPORTED", "to_epcis"]

_EXPORTERS: dict[str, Exporter] = {
    name: t.epcis.export for name, t in EVENT_TYPES.items() if t.epcis is not None
}
EXPORTED = frozenset(_EXPORTERS)
"""The event types of the chain of custody (those with an EPCIS mapping in the registry);
the others (estimates, findings, site access, governance) are not exported."""

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


def _declaration_element(index: int, event: Event, chain: Chain) -> dict[str, Any]:
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
        items = [declared_uri(names, i) for i in body["items"]]
        pairs.append((ns + "items", {"cwl:item": items}))
    return {"id": names.uri("event", event.id), "attributes": _attrs(pairs)}


def _master_data(chain: Chain) -> dict[str, Any]:
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


def _declare_errors(parts: list[_Part], *, whole: bool = True) -> None:
    """Mark each declared item a later version changed or dropped (MAPPING.md section 4).

    The original commissioning event gets an ``errorDeclaration`` (``incorrect_data`` with
    the corrective event, or ``did_not_occur``); the event hash leaves it out, so the
    eventID stays valid. Only a later version whose every part is exported counts; in one
    item's export (not `whole`), a later version that lists the item counts for it.
    """
    versions: dict[tuple[str, int], list[_Part]] = {}
    for part in parts:
        versions.setdefault((part.event.author, part.event.body["version"]), []).append(part)
    for (author, version), old in versions.items():
        new = versions.get((author, version + 1), [])
        if not new:
            continue
        if whole and len({p.event.body["part"] for p in new}) != new[0].event.body["parts"]:
            continue
        later = {i: (p.event, e) for p in new for i, (_, e) in p.items.items()}
        items = {i: item for p in new for i, (item, _) in p.items.items()}
        when = new[0].event.time
        for part in old:
            for ident, (item, epcis) in part.items.items():
                if ident not in later:
                    if not whole:  # the part that dropped it is not in the item's chain
                        continue
                    epcis["errorDeclaration"] = {"declarationTime": when, "reason": "did_not_occur"}
                elif items[ident] != item:
                    event, corrective = later[ident]
                    epcis["errorDeclaration"] = {
                        "declarationTime": event.time,
                        "reason": "incorrect_data",
                        "correctiveEventIDs": [corrective["eventID"]],
                    }


# --- the document ---------------------------------------------------------------------------


def _only(event: Event, item: str) -> Event:
    """The event as one item's chain of custody tells it: of its lines (declared items,
    transfer, inventory and destruction lines) only the item's; of a declaration's sites
    and chemicals only the item's; a batch's products (of every line together) left out."""
    body = event.body
    if event.type.startswith("declaration."):
        items = [i for i in body.get("items", []) if i.get("id") == item]
        sites = {i.get("site") for i in items}
        chems = {i.get("chemical") for i in items}
        body = body | {"items": items} if "items" in body else body
        if "sites" in body:
            body = body | {"sites": [s for s in body["sites"] if s.get("id") in sites]}
        if "chemicals" in body:
            body = body | {"chemicals": [c for c in body["chemicals"] if c.get("label") in chems]}
    elif isinstance(body.get("items"), list):
        lines = [ln for ln in body["items"] if isinstance(ln, dict) and ln.get("item") == item]
        body = body | {"items": lines}
        if "products" in body:
            body = {k: v for k, v in body.items() if k != "products"}
    if body is event.body:
        return event
    return event.model_copy(update={"body": body})


def to_epcis(
    events: Sequence[tuple[int, Event]],
    *,
    base: str = DEFAULT_BASE,
    created: str,
    item: str | None = None,
) -> dict[str, Any]:
    """An EPCISDocument for the chain of custody in ``events`` (``(log index, event)`` pairs).

    Declarations, tags, seals, transfers, inventories, inspections, samples and destruction
    are exported (MAPPING.md section 4), other event types are left out. ``created`` is the
    document's creationDate. With ``item``, the document is that item's chain of custody:
    each event holds only the item's lines (a transfer of 150 items shows the item's line;
    a declaration part, the item and its site and chemical), and says so in
    ``cwl:onlyItem``; its eventID is the hash of what is shown. Raises ValueError for an
    event whose body is not valid.
    """
    names = Names(base)
    chain = Chain(names)
    chosen = [(i, e) for i, e in events if e.type in _EXPORTERS]
    if item is not None:
        chosen = [(i, _only(e, item)) for i, e in chosen]
    for index, event in chosen:
        try:
            EVENT_TYPES[event.type].body.model_validate(event.body)
        except ValidationError as err:
            raise ValueError(f"event {event.id} (log index {index}): invalid body: {err}") from err
        chain.learn(event)
    out: list[dict[str, Any]] = []
    parts: list[_Part] = []
    only = {} if item is None else {"cwl:onlyItem": item}
    for index, event in chosen:
        exported = [e | only for e in _EXPORTERS[event.type](event, chain)]
        stamped = [_stamp_one(e, index, event, names) for e in exported]
        if event.type.startswith("declaration."):
            chain.declarations.append(_declaration_element(index, event, chain))
            items = event.body.get("items", [])
            parts.append(
                _Part(event, {i["id"]: (i, e) for i, e in zip(items, stamped, strict=True)})
            )
        out += stamped
    _declare_errors(parts, whole=item is None)
    doc: dict[str, Any] = {"@context": names.context, "type": "EPCISDocument"}
    doc |= {"schemaVersion": "2.0", "creationDate": created}
    return doc | _master_data(chain) | {"epcisBody": {"eventList": out}}


def _stamp_one(e: dict[str, Any], index: int, event: Event, names: Names) -> dict[str, Any]:
    """The event with our envelope fields and, first after its type, its CBV hash as eventID."""
    e = e | {"cwl:eventID": event.id, "cwl:eventType": event.type}
    e |= {"cwl:author": event.author, "cwl:logIndex": index}
    return {"type": e["type"], "eventID": event_hash(e, names.context)} | e
