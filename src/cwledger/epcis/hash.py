"""The CBV 2.0 "EPCIS Event Hash ID" of an EPCIS 2.0 JSON-LD event.

Any party holding an event can recompute its hash ID, whatever syntax or field order the
event was written in: the event is reduced to a *pre-hash string* (each field as
``key=value`` in a fixed order, lists and parents by bare name, no separators) and that
string's SHA-256 is written as an RFC 6920 ``ni:`` URI,
``ni:///sha-256;<hex>?ver=CBV2.0``.

The rules follow the reference implementation (``epcis-event-hash-generator``, git master
5d2f1c38) and its test vectors; see MAPPING.md section 5:

* fields in the canonical order (:data:`ORDER`), then everything else (``ilmd``,
  ``bizTransactionList``, ``sourceList``, ``destinationList``, user extensions) sorted by
  code point; ``recordTime``, ``eventID``, ``errorDeclaration`` and comments are left out;
* values trimmed; timestamps in UTC with ``Z`` and three fraction digits (rounded half up);
  numbers without trailing zeros; bare CBV words and ``urn:epcglobal:cbv:`` values as
  ``https://ref.gs1.org/cbv/...`` URIs, GS1 measurement types as ``https://gs1.org/voc/...``;
  GS1 keys as canonical Digital Link URIs (:mod:`cwledger.epcis.gs1keys`);
* an extension key ``prefix:name`` becomes ``{namespace}name`` with the namespace the
  document's own ``@context`` maps to ``prefix``; in a business transaction, source or
  destination the ``type`` comes before its value.

Where the reference implementation depends on its input beyond the standard, this module
does not: the hash of an event never depends on the other events of its document, nor on
the order of the keys of a business transaction, source or destination.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cwledger.epcis import vocab as v
from cwledger.epcis.gs1keys import canonical_gs1_key

__all__ = [
    "ORDER",
    "canonical_time",
    "canonical_value",
    "document_events",
    "document_hashes",
    "event_hash",
    "event_prehash",
    "hash_id",
    "namespaces",
]


@dataclass
class _Node:
    """A field of the event: name, text value (maybe empty) and sub-fields."""

    name: str
    value: str = ""
    children: list[_Node] = field(default_factory=list)
    pair: bool = False  # a business transaction, source or destination: type, then value


_Order = tuple[tuple[str, "_Order | None"], ...]
_QUANTITY: _Order = (("quantityElement", (("epcClass", None), ("quantity", None), ("uom", None))),)
_EPC: _Order = (("epc", None),)
_SENSOR_METADATA = "time startTime endTime deviceID deviceMetadata rawData dataProcessingMethod"
_SENSOR_REPORT = (
    "type exception deviceID deviceMetadata rawData dataProcessingMethod time microorganism"
    " chemicalSubstance value component stringValue booleanValue hexBinaryValue uriValue"
    " minValue maxValue meanValue sDev percRank percValue uom coordinateReferenceSystem"
)
_SENSOR_ELEMENT: _Order = (
    ("sensorMetadata", tuple((n, None) for n in (_SENSOR_METADATA + " bizRules").split())),
    ("sensorReport", tuple((n, None) for n in _SENSOR_REPORT.split())),
)
ORDER: _Order = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("certificationInfo", None),
    ("parentID", None),
    ("epcList", _EPC),
    ("inputEPCList", _EPC),
    ("childEPCs", _EPC),
    ("quantityList", _QUANTITY),
    ("childQuantityList", _QUANTITY),
    ("inputQuantityList", _QUANTITY),
    ("outputEPCList", _EPC),
    ("outputQuantityList", _QUANTITY),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", (("set", None), ("unset", None))),
    ("readPoint", (("id", None),)),
    ("bizLocation", (("id", None),)),
    ("sensorElementList", (("sensorElement", _SENSOR_ELEMENT),)),
)
"""The canonical order of the standard fields (with the order of their sub-fields).

Business transactions, sources and destinations are not in it: like ``ilmd`` and the user
extensions they are hashed after these fields, sorted (as the reference implementation does).
"""

_NOT_HASHED = frozenset({"recordTime", "eventID", "type", "errorDeclaration"})
_COMMENTS = frozenset({"#text", "rdfs:comment", "comment"})
# Lists whose items are (type, value) pairs, with the name of the value.
_PAIRS = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}
# JSON names that the XML binding (which the pre-hash rules follow) spells otherwise.
_RENAMED = {
    "inputEPC": "epc",
    "outputEPC": "epc",
    "inputQuantity": "quantityElement",
    "outputQuantity": "quantityElement",
    "childQuantity": "quantityElement",
}
_LEGACY_CBV = (
    ("urn:epcglobal:cbv:bizstep:", v.CBV + "BizStep-"),
    ("urn:epcglobal:cbv:disp:", v.CBV + "Disp-"),
    ("urn:epcglobal:cbv:btt:", v.CBV + "BTT-"),
    ("urn:epcglobal:cbv:sdt:", v.CBV + "SDT-"),
    ("urn:epcglobal:cbv:er:", v.CBV + "ER-"),
)
_EXPANDED = ("https://ref.gs1.org/cbv", "https://gs1.org/voc")


# --- the document's namespaces and the expansion of bare vocabulary words -------------------


def namespaces(context: Any) -> dict[str, str]:
    """The prefixes a document's ``@context`` maps itself (not those of the GS1 context)."""
    entries = context if isinstance(context, list) else [context]
    out: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, Mapping):
            out.update({k: ns for k, ns in entry.items() if isinstance(ns, str)})
    return out


def _curie(value: str, prefixes: Mapping[str, str]) -> str:
    prefix, sep, rest = value.partition(":")
    if sep and prefix in prefixes and not rest.startswith("//"):
        return prefixes[prefix] + rest
    return value


def _dicts(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [i for i in items if isinstance(i, dict)]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _vocabulary_uris(event: Mapping[str, Any], prefixes: Mapping[str, str]) -> set[str]:
    """The CBV and GS1 URIs the event's JSON-LD expansion holds (bare words expanded)."""
    found = {s for s in _strings(event) if s.startswith(_EXPANDED)}

    def add(value: Any, stem: str, words: Collection[str]) -> None:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                found.add(stem + item if item in words else _curie(item, prefixes))

    add(event.get("bizStep"), v.CBV + "BizStep-", v.BIZ_STEPS)
    add(event.get("disposition"), v.CBV + "Disp-", v.DISPOSITIONS)
    for pd in _dicts(event.get("persistentDisposition")):
        add(pd.get("set"), v.CBV + "Disp-", v.DISPOSITIONS)
        add(pd.get("unset"), v.CBV + "Disp-", v.DISPOSITIONS)
    for item in _dicts(event.get("bizTransactionList")):
        add(item.get("type"), v.CBV + "BTT-", v.BIZ_TRANSACTION_TYPES)
    for item in _dicts(event.get("sourceList")) + _dicts(event.get("destinationList")):
        add(item.get("type"), v.CBV + "SDT-", v.SOURCE_DESTINATION_TYPES)
    for element in _dicts(event.get("sensorElementList")):
        for report in _dicts(element.get("sensorReport")):
            add(report.get("type"), v.GS1_VOC, v.MEASUREMENT_TYPES)
            add(report.get("exception"), v.GS1_VOC, v.SENSOR_EXCEPTIONS)
            add(report.get("component"), v.CBV + "Comp-", v.COMPONENTS)
    for error in _dicts(event.get("errorDeclaration")):
        add(error.get("reason"), v.CBV + "ER-", v.ERROR_REASONS)
    return {uri for uri in found if uri.startswith(_EXPANDED)}


def _expand_words(value: Any, uris: Collection[str]) -> Any:
    """Replace each string that is the last word of exactly one of ``uris`` by that URI."""
    if isinstance(value, str):
        hits = [u for u in uris if u.endswith(("-" + value, "/" + value))]
        return hits[0] if len(hits) == 1 else value
    if isinstance(value, dict):
        return {k: _expand_words(item, uris) for k, item in value.items()}
    if isinstance(value, list):
        return [_expand_words(item, uris) for item in value]
    return value


# --- the event as a tree of fields ---------------------------------------------------------


def _text(value: Any, ns: Mapping[str, str]) -> str:
    if isinstance(value, str):
        prefix, sep, rest = value.partition(":")
        return ns[prefix] + rest if sep and prefix in ns else value
    return str(value)  # numbers as Python writes them; true/false as True/False (as reference)


def _tree(name: str, value: Any, ns: Mapping[str, str]) -> _Node:
    if isinstance(value, dict):
        node = _Node(name)
        for key, item in value.items():
            if key in _COMMENTS:
                continue
            prefix, sep, rest = key.partition(":")
            label = f"{{{ns[prefix]}}}{rest}" if sep and prefix in ns else key
            for element in item if isinstance(item, list) else [item]:
                node.children.append(_tree(label, element, ns))
        return node
    if isinstance(value, list):
        return _Node(name, "", [_tree("", element, ns) for element in value])
    return _Node(name, _text(value, ns))


def _pair(item: _Node, value_name: str) -> _Node:
    """A business transaction, source or destination: its type first, then its value."""
    kinds = [c for c in item.children if c.name == "type"][:1]
    values = [c for c in item.children if c.name == value_name][:1]
    return _Node("", "", kinds + values, pair=True)


def _restructure(node: _Node) -> _Node:
    """Give the JSON tree the shape of the XML binding the pre-hash rules are written for."""
    lists: dict[str, list[_Node]] = {}
    rest: list[_Node] = []
    for child in node.children:
        if child.name.endswith("List"):
            item = _Node(child.name[:-4], child.value, child.children)
            lists.setdefault(child.name, []).append(item)
        else:
            rest.append(child)
    for name, items in lists.items():
        if name in _PAIRS:
            rest.append(_Node(name, "", [_pair(i, _PAIRS[name]) for i in items]))
        else:
            rest.append(_Node(name, "", items))
    epcs = [_Node("epc", c.value) for c in rest if c.name == "childEPCs"]
    rest = [c for c in rest if c.name != "childEPCs"] + (
        [_Node("childEPCs", "", epcs)] if epcs else []
    )
    children = [c if c.name in _PAIRS else _restructure(c) for c in rest]
    name = _RENAMED.get(node.name, node.name)
    if node.name == "quantity" and node.children:
        name = "quantityElement"
    return _Node(name, node.value, children)


# --- values ---------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)


def canonical_time(text: str) -> str:
    """An ISO 8601 timestamp in UTC with milliseconds (the 4th fraction digit rounds half up).

    A timestamp without a zone is taken as UTC; text that is no timestamp is returned as is.
    """
    m = _TIMESTAMP.fullmatch(text)
    if m is None:
        return text
    fraction = m[7] or ""
    offset = timedelta(0)
    if m[9]:
        offset = timedelta(hours=int(m[10]), minutes=int(m[11]))
        offset = -offset if m[9] == "-" else offset
    try:
        y, mo, d, h, mi, s = (int(m[i]) for i in range(1, 7))
        moment = datetime(y, mo, d, h, mi, s, tzinfo=timezone(offset))
    except ValueError:
        return text
    millis = int(fraction[:3].ljust(3, "0")) + (len(fraction) > 3 and fraction[3] >= "5")
    utc = (moment + timedelta(milliseconds=millis)).astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def canonical_value(text: str) -> str:
    """A field value in canonical form: CBV URIs, numbers without trailing zeros, GS1 keys."""
    for legacy, uri in _LEGACY_CBV:
        text = text.replace(legacy, uri)
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if number == number and abs(number) != float("inf"):
            text = str(int(number)) if int(number) == number else str(number)
    return canonical_gs1_key(text) or text


# --- the pre-hash string --------------------------------------------------------------------


def _generic(nodes: list[_Node], in_order: bool = False) -> str:
    """Fields outside the canonical order: ``name=value`` and sub-fields, sorted."""
    parts = []
    for node in nodes:
        text = node.value.strip()
        value = "=" + canonical_value(text) if text else ""
        parts.append(node.name + value + _generic(node.children, node.pair))
    return "".join(parts if in_order else sorted(parts))


def _take_extensions(nodes: list[_Node]) -> list[_Node]:
    """Remove and return the user extensions among a standard field's sub-fields."""
    if len(nodes) <= 1 or any("eventTime" in n.name or "action" in n.name for n in nodes):
        return []
    found = [n for n in nodes if "{" in n.name and "/}" in n.name]
    nodes[:] = [n for n in nodes if not any(n is f for f in found)]
    return found


def _field(node: _Node, order: _Order | None) -> str:
    inner = _ordered(node.children, order) if order else ""
    text = node.value.strip() if node.value else ""
    if text:
        lower = node.name.lower()
        text = (
            canonical_time(text)
            if "time" in lower and "offset" not in lower
            else canonical_value(text)
        )
    text = "=" + text if text else ""
    return node.name + text + inner if text or inner else ""


def _ordered(nodes: list[_Node], order: _Order) -> str:
    """The fields named in ``order``, in that order; each is removed once fully consumed."""
    extensions = _take_extensions(nodes)
    out = ""
    for name, sub in order:
        values = []
        for node in [n for n in nodes if n.name == name]:
            text = _field(node, sub)
            if text:
                values.append(text)
            if not node.children:
                nodes[:] = [n for n in nodes if n is not node]
        out += "".join(sorted(values))
    return out + (_generic(extensions) if extensions else "")


def event_prehash(
    event: Mapping[str, Any], context: Any, *, ignore_fields: Collection[str] = ()
) -> str:
    """The canonical pre-hash string of one EPCIS 2.0 JSON-LD event.

    ``context`` is the ``@context`` of the document the event comes from (its prefixes name
    the extension namespaces). ``ignore_fields`` lists top-level extension keys to leave out
    (a non-standard option of the reference implementation; empty for the CBV standard).
    """
    prefixes = namespaces(context)
    body = {k: item for k, item in event.items() if k not in ignore_fields}
    body = _expand_words(body, _vocabulary_uris(body, v.CONTEXT_PREFIXES | prefixes))
    root = _restructure(_tree(str(body.get("type", "")), body, prefixes))
    nodes = root.children
    ordered = _ordered(nodes, ORDER)
    rest = _generic([n for n in nodes if n.name not in _NOT_HASHED])
    return f"eventType={body.get('type', '')}{ordered}{rest}"


def hash_id(prehash: str) -> str:
    """The ``ni:///sha-256;<hex>?ver=CBV2.0`` URI of a pre-hash string."""
    return f"ni:///sha-256;{hashlib.sha256(prehash.encode()).hexdigest()}?ver=CBV2.0"


def event_hash(
    event: Mapping[str, Any], context: Any, *, ignore_fields: Collection[str] = ()
) -> str:
    """The CBV 2.0 event hash ID of one event (see :func:`event_prehash`)."""
    return hash_id(event_prehash(event, context, ignore_fields=ignore_fields))


def document_events(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events of an EPCISDocument or EPCISQueryDocument, in document order."""
    body = doc.get("epcisBody")
    if isinstance(body, dict) and "queryResults" in body:
        results = body["queryResults"]
        body = results.get("resultsBody") if isinstance(results, dict) else None
    if not isinstance(body, dict):
        return []
    events = body.get("eventList", [body["event"]] if "event" in body else [])
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def document_hashes(doc: Mapping[str, Any], *, ignore_fields: Collection[str] = ()) -> list[str]:
    """The event hash ID of every event of an EPCISDocument or EPCISQueryDocument, in order."""
    context = doc.get("@context")
    return [event_hash(e, context, ignore_fields=ignore_fields) for e in document_events(doc)]
