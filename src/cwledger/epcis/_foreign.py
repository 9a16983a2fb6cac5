"""Foreign EPCIS events (without our ``cwl:`` fields): what the ledger can take, and why not.

A foreign event becomes an event of ours only when it carries everything that event needs:
a goods receipt (``receiving``) with a business transaction naming the transfer, a stock
count (``stock_taking``, recorded as an incomplete inventory) or a sampling. Identifiers must
be valid ledger ids (an EPC URN is; a Digital Link URI, with its ``/``, is not). Anything
else is refused with the reason: what the ledger does not model, or what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cwledger.epcis._names import Names

__all__ = ["Refused", "foreign_event", "bare_word"]

_OBJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_KG_PER = {"KGM": 1.0, "TNE": 1000.0, "GRM": 0.001}
_WHY_NOT = {
    "retail_selling": "the ledger records no sales",
    "commissioning": "items enter the ledger only through a declaration"
    " (declaration.submitted), which a foreign event does not carry",
    "shipping": "a shipment record needs the transfer id, the origin and destination sites and"
    " a due time (cwl:due), which a foreign event does not carry",
    "installing": "a seal application needs the seal type and what it closes (cwl:type),"
    " which a foreign event does not carry",
    "removing": "a seal removal needs the reason (cwl:reason), which a foreign event does"
    " not carry",
    "assembling": "the ledger does not record assembly",
    "disassembling": "the ledger does not record disassembly",
    "inspecting": "the ledger records an inspection only as a seal check, an inventory, a"
    " sample result or an inspection opened or closed, each with its cwl: fields",
    "sensor_reporting": "the ledger records measurements only within a transfer, an"
    " inventory or a destruction batch",
    "destroying": "a destruction batch needs its method, start and end (cwl:method,"
    " cwl:start, cwl:end), which a foreign event does not carry",
    "packing": "the ledger does not record packing",
    "unpacking": "the ledger does not record unpacking",
}


class Refused(Exception):
    """An EPCIS event the ledger cannot take, with the reason."""


def bare_word(value: Any) -> str:
    """A CBV value as its bare word (``https://ref.gs1.org/cbv/BizStep-x`` -> ``x``)."""
    if not isinstance(value, str):
        return ""
    for stem in ("https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:", "cbv:BizStep-"):
        if value.startswith(stem):
            return value[len(stem) :]
    return value


def _ident(names: Names | None, uri: Any, what: str) -> str:
    parsed = names.parse(uri) if names else None
    if parsed:
        return parsed[1]
    if isinstance(uri, str) and _OBJECT_ID.fullmatch(uri):
        return uri
    raise Refused(
        f"the {what} {uri!r} is not a ledger id (up to 128 letters, digits and '.', '_', ':',"
        " '-'; a GS1 Digital Link URI is not one)"
    )


def _site(names: Names | None, e: dict[str, Any]) -> str:
    place = e.get("bizLocation")
    if not isinstance(place, dict) or "id" not in place:
        raise Refused("no bizLocation: the ledger needs the site where it happened")
    return _ident(names, place["id"], "site")


def _items(names: Names | None, e: dict[str, Any]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = [{"item": _ident(names, u, "item")} for u in e.get("epcList", [])]
    for q in e.get("quantityList", []):
        line: dict[str, Any] = {"item": _ident(names, q.get("epcClass"), "item class")}
        if "quantity" in q and q.get("uom") in _KG_PER:
            kg = float(q["quantity"]) * _KG_PER[q["uom"]]
            line["measured"] = {"kg": kg, "method": f"EPCIS quantity in {q['uom']}"}
        lines.append(line)
    if not lines:
        raise Refused("no items (epcList and quantityList are empty)")
    return lines


def _receiving(names: Names | None, e: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    txs = [t for t in e.get("bizTransactionList", []) if isinstance(t, dict)]
    txs.sort(key=lambda t: bare_word(t.get("type")) not in ("desadv", "bol", "BTT-desadv"))
    if not txs:
        raise Refused("receiving without a business transaction: nothing names the transfer")
    body = {"transfer": _ident(names, txs[0].get("bizTransaction"), "transfer")}
    return "transfer.received", body | {"site": _site(names, e), "items": _items(names, e)}


def _stock_taking(names: Names | None, e: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # A foreign count cannot vouch that every item at the site was seen: not complete.
    body = {"site": _site(names, e), "complete": False, "items": _items(names, e)}
    return "inventory.taken", body


def _sampling(names: Names | None, e: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    outputs = e.get("outputEPCList") or []
    inputs = list(e.get("inputEPCList") or [])
    inputs += [q.get("epcClass") for q in e.get("inputQuantityList") or []]
    if len(outputs) != 1 or len(inputs) != 1:
        raise Refused("sampling needs exactly one input (the item) and one output (the sample)")
    body = {"sample": _ident(names, outputs[0], "sample"), "item": _ident(names, inputs[0], "item")}
    return "sample.taken", body | {"site": _site(names, e)}


_Mapper = Callable[[Names | None, dict[str, Any]], tuple[str, dict[str, Any]]]
_MAPPERS: dict[tuple[str, str], _Mapper] = {
    ("ObjectEvent", "receiving"): _receiving,
    ("ObjectEvent", "stock_taking"): _stock_taking,
    ("TransformationEvent", "sampling"): _sampling,
}


def _utc(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as err:
        raise Refused(f"eventTime {value!r} is not an RFC 3339 timestamp") from err
    if moment.tzinfo is None:
        raise Refused(f"eventTime {value!r} has no time zone")
    spec = "milliseconds" if moment.microsecond % 1000 == 0 else "microseconds"
    text = moment.astimezone(UTC).isoformat(timespec=spec if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def foreign_event(
    e: dict[str, Any], names: Names | None, hash_id: str, author: str | None
) -> dict[str, Any]:
    """The ledger event for a foreign EPCIS event, or :class:`Refused` with the reason.

    Its id is ``epcis-`` and the hex of its CBV event hash ``hash_id``; its author is the
    importing party ``author`` (a foreign event names none).
    """
    kind, step = str(e.get("type")), bare_word(e.get("bizStep"))
    if kind == "TransactionEvent":
        raise Refused("TransactionEvent: the ledger records custody, not business transactions")
    if kind == "AggregationEvent":
        raise Refused(
            f"AggregationEvent ({step or 'no bizStep'}): the ledger does not record"
            " packing items into containers"
        )
    mapper = _MAPPERS.get((kind, step))
    if mapper is None:
        if not step:
            raise Refused(f"{kind} without a bizStep: the ledger cannot tell what happened")
        why = _WHY_NOT.get(step, "it has no counterpart in the ledger's chain of custody")
        raise Refused(f"{kind} with bizStep {step!r}: {why}")
    event_type, body = mapper(names, e)
    if author is None:
        raise Refused(
            f"{kind} {step}: no author (a foreign event names none; pass the"
            " importing party as author)"
        )
    digest = hash_id.removeprefix("ni:///sha-256;").removesuffix("?ver=CBV2.0")
    return {
        "type": event_type,
        "id": f"epcis-{digest}",
        "time": _utc(e.get("eventTime")),
        "author": author,
        "body": body,
    }
