"""Import: events of ours from an EPCIS 2.0 JSON-LD document (the inverse of the export).

An EPCIS event is ours when it carries ``cwl:eventType`` and the document binds the ``cwl``
prefix to ``<base>voc/``. Its ``eventID`` must be its CBV event hash (else it was changed
after export and is refused); its body is rebuilt from the standard fields and the ``cwl:``
fields and must be valid for its type. A declaration part is rebuilt from its header in the
master data and its items' commissioning events. Other events go to
:mod:`cwledger.epcis._foreign`. Nothing raises: each event is imported or refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from cwledger.book.registry import EVENT_TYPES
from cwledger.epcis._foreign import Refused, foreign_event
from cwledger.epcis._names import Names, from_ext, snake
from cwledger.epcis.exporters import MDA_LATITUDE, MDA_LONGITUDE, MDA_NAME
from cwledger.epcis.hash import event_hash
from cwledger.epcis.importers import Reader, one
from cwledger.errors import Problem
from cwledger.model.events import Event

__all__ = ["ImportResult", "from_epcis"]


@dataclass
class ImportResult:
    """The events rebuilt from a document (in log order, then foreign ones in document order)
    and every EPCIS event refused, with where it is and why."""

    events: list[dict[str, Any]] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)


_MAPPINGS = {name: t.epcis for name, t in EVENT_TYPES.items() if t.epcis is not None}
# What a foreign event may become: any domain event type (governance is never imported).
_BODIES = {name: t.body for name, t in EVENT_TYPES.items() if not t.governance}
_INFORMATIVE_ILMD = ("cwl:cwcCategory", "cwl:cwcSchedule")


def _checked(event: dict[str, Any]) -> dict[str, Any]:
    """The event if it and its body are valid, else :class:`Refused` with pydantic's reasons."""
    try:
        Event.model_validate(event)
        _BODIES[event["type"]].model_validate(event["body"])
    except ValidationError as err:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in err.errors()
        )
        raise Refused(f"{event['type']} {event['id']}: not a valid event ({reasons})") from err
    return event


# --- master data ------------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _vocabularies(doc: dict[str, Any]) -> list[dict[str, Any]]:
    master = _dict(_dict(doc.get("epcisHeader")).get("epcisMasterData"))
    results = _dict(_dict(_dict(doc.get("epcisBody")).get("queryResults")).get("resultsBody"))
    found = _list(master.get("vocabularyList")) + _list(results.get("vocabularyList"))
    return [v for v in found if isinstance(v, dict)]


def _elements(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The master data elements of one vocabulary type: id -> {attribute id: value}.

    Malformed elements and attributes are skipped (what needs them is refused later).
    """
    out: dict[str, dict[str, Any]] = {}
    for vocabulary in _vocabularies(doc):
        if vocabulary.get("type") != kind:
            continue
        for element in _list(vocabulary.get("vocabularyElementList")):
            if isinstance(element, dict) and isinstance(element.get("id"), str):
                attrs = [a for a in _list(element.get("attributes")) if isinstance(a, dict)]
                out[element["id"]] = {
                    a["id"]: a.get("attribute") for a in attrs if isinstance(a.get("id"), str)
                }
    return out


@dataclass
class _Declarations:
    """Declaration parts: headers from the master data, item events grouped by event id."""

    names: Names
    headers: dict[str, dict[str, Any]]
    sites: dict[str, dict[str, Any]]
    items: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)

    def site(self, ref: Any) -> dict[str, Any]:
        if not isinstance(ref, str):
            return dict(from_ext(ref))
        if ref not in self.sites:
            raise Refused(f"site {ref} is not in the master data")
        attrs, ns = self.sites[ref], self.names.ns
        site = {"id": self.names.ident(ref, "site"), "name": attrs[MDA_NAME]}
        site["coordinates"] = {"lat": attrs[MDA_LATITUDE], "lon": attrs[MDA_LONGITUDE]}
        for key, value in attrs.items():
            if key.startswith(ns):
                name = snake(key[len(ns) :])
                site[name] = self.names.ident(value, "site") if name == "parent" else value
        return site

    def item(self, uri: str, e: dict[str, Any]) -> dict[str, Any]:
        r = Reader(self.names, e)
        ilmd = {k: v for k, v in (e.get("ilmd") or {}).items() if k not in _INFORMATIVE_ILMD}
        return {"id": r.ident(uri, "item", "lot"), "site": r.place(), **from_ext(ilmd)}

    def part(self, uri: str) -> tuple[int | None, dict[str, Any]]:
        """The declaration event recorded in master data element ``uri``, with its items."""
        attrs, ns = self.headers[uri], self.names.ns
        envelope = ("eventID", "eventType", "author", "logIndex", "time")
        head = {k: attrs.get(ns + k) for k in envelope}
        events = dict(self.items.pop(str(head["eventID"]), []))
        body: dict[str, Any] = {}
        for key, value in attrs.items():
            name = key[len(ns) :] if key.startswith(ns) else ""
            if name and name not in envelope and name not in ("chemicals", "sites", "items"):
                body[snake(name)] = value
        if ns + "chemicals" in attrs:
            body["chemicals"] = from_ext(attrs[ns + "chemicals"]["cwl:chemical"])
        if ns + "sites" in attrs:
            body["sites"] = [self.site(ref) for ref in attrs[ns + "sites"]["cwl:site"]]
        if ns + "items" in attrs:
            body["items"] = []
            for item_uri in attrs[ns + "items"]["cwl:item"]:
                if item_uri not in events:
                    raise Refused(f"declared item {item_uri} has no commissioning event")
                e = events.pop(item_uri)
                if e.get("cwl:author") != head["author"] or e.get("eventTime") != head["time"]:
                    raise Refused(
                        f"the commissioning event of {item_uri} disagrees with its header"
                    )
                body["items"].append(self.item(item_uri, e))
        if events:
            raise Refused(f"commissioning events not in the declaration header: {sorted(events)}")
        event = {"type": head["eventType"], "id": head["eventID"], "time": head["time"]}
        event |= {"author": head["author"], "body": body}
        index = head["logIndex"]
        return (index if isinstance(index, int) else None), _checked(event)


# --- the document -----------------------------------------------------------------------------


def _event_list(doc: dict[str, Any]) -> tuple[str, list[Any] | None]:
    body = doc.get("epcisBody")
    body = body if isinstance(body, dict) else {}
    if doc.get("type") == "EPCISQueryDocument":
        results = (body.get("queryResults") or {}).get("resultsBody") or {}
        where, events = "epcisBody.queryResults.resultsBody.eventList", results.get("eventList")
    else:
        where, events = "epcisBody.eventList", body.get("eventList")
    return where, events if isinstance(events, list) else None


def _material(e: dict[str, Any]) -> str:
    """The one item a commissioning event declares (an instance or a lot)."""
    if e.get("epcList"):
        return str(one(e["epcList"], "declared item"))
    return str(one(e.get("quantityList"), "declared lot")["epcClass"])


def from_epcis(doc: Any, *, author: str | None = None) -> ImportResult:
    """Our events from an EPCISDocument or EPCISQueryDocument, and every refusal with its reason.

    Events we exported come back exactly. A foreign event is mapped when it carries enough
    for a valid event of ours, with ``author`` (the importing party) as its author, else
    refused naming what the ledger does not model or what is missing.
    """
    result = ImportResult()
    if not isinstance(doc, dict) or doc.get("type") not in ("EPCISDocument", "EPCISQueryDocument"):
        result.refused.append(Problem("type", "not an EPCISDocument or EPCISQueryDocument"))
        return result
    names = Names.of_document(doc)
    where, raw = _event_list(doc)
    if raw is None:
        result.refused.append(Problem(where, "no event list"))
        return result
    context = doc.get("@context")
    ours: list[tuple[int | None, dict[str, Any]]] = []
    decl = _Declarations(
        names or Names("https://invalid.example/"),
        _elements(doc, names.declaration_vocabulary) if names else {},
        _elements(doc, "urn:epcglobal:epcis:vtype:BusinessLocation"),
    )
    first_seen: dict[str, str] = {}
    for i, e in enumerate(raw):
        loc = f"{where}[{i}]"
        try:
            if not isinstance(e, dict):
                raise Refused("not a JSON object")
            hash_id = event_hash(e, context)
            if names is None or "cwl:eventType" not in e:
                result.events.append(_checked(foreign_event(e, names, hash_id, author)))
                continue
            if e.get("eventID") != hash_id:
                raise Refused(
                    f"eventID is not the event's CBV hash {hash_id}: changed after export"
                )
            kind = e["cwl:eventType"]
            mapping = _MAPPINGS.get(kind)
            if mapping is None:
                raise Refused(f"cwl:eventType {kind!r} is not a chain-of-custody event type")
            if mapping.import_ is None:  # a declaration: rebuilt from the master data
                ident = str(e.get("cwl:eventID"))
                first_seen.setdefault(ident, loc)
                decl.items.setdefault(ident, []).append((_material(e), e))
                continue
            event = {"type": kind, "id": e.get("cwl:eventID"), "time": e.get("eventTime")}
            event |= {"author": e.get("cwl:author"), "body": mapping.import_(Reader(names, e))}
            index = e.get("cwl:logIndex")
            ours.append((index if isinstance(index, int) else None, _checked(event)))
        except Refused as why:
            result.refused.append(Problem(loc, str(why)))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
            result.refused.append(Problem(loc, f"malformed event: {type(err).__name__}: {err}"))
    for uri, attrs in decl.headers.items():
        # A refused part is reported where its first item is, else at its header.
        loc = first_seen.get(str(attrs.get(decl.names.ns + "eventID")), f"master data {uri}")
        try:
            ours.append(decl.part(uri))
        except Refused as why:
            result.refused.append(Problem(loc, f"declaration part {uri}: {why}"))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
            result.refused.append(Problem(loc, f"declaration part {uri}: malformed: {err!r}"))
    for ident in decl.items:
        result.refused.append(
            Problem(first_seen[ident], f"declaration part {ident}: no header in the master data")
        )
    ours.sort(key=lambda pair: -1 if pair[0] is None else pair[0])
    result.events[:0] = [event for _, event in ours]
    return result
