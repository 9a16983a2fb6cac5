"""Our event bodies rebuilt from exported EPCIS 2.0 events, type by type (the inverse of
:mod:`cwledger.epcis.exporters`).

Each importer reads one EPCIS event through a :class:`Reader` and returns the body of our
event; it raises :class:`Refused` when the event lacks what the body needs. The registry
(``cwledger.book.registry``) names the importer of each event type; declarations have
none: they are rebuilt from the master data (:mod:`cwledger.epcis._import`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cwledger.epcis._foreign import Refused
from cwledger.epcis._names import Names, camel, from_ext


def one(value: Any, what: str) -> Any:
    if not isinstance(value, list) or len(value) != 1:
        raise Refused(f"expected exactly one {what}, found {value!r}")
    return value[0]


class Reader:
    """Our identifiers and ``cwl:`` fields in one exported event."""

    def __init__(self, names: Names, e: dict[str, Any]) -> None:
        self.names, self.e = names, e

    def ident(self, uri: Any, *kinds: str) -> str:
        found = self.names.ident(uri, *kinds)
        if found is None:
            raise Refused(f"{uri!r} is not a {' or '.join(kinds)} URI under {self.names.base}")
        return found

    def place(self, key: str = "bizLocation") -> str:
        return self.ident((self.e.get(key) or {}).get("id"), "site")

    def tx(self, kind: str, what: str, required: bool = True) -> str | None:
        for t in self.e.get("bizTransactionList", []):
            if t.get("type") == kind:
                return self.ident(t.get("bizTransaction"), what)
        if required:
            raise Refused(f"no business transaction of type {kind}")
        return None

    def cwl(self, *keys: str) -> dict[str, Any]:
        """The body keys whose ``cwl:`` fields are present."""
        return {k: from_ext(self.e[f"cwl:{camel(k)}"]) for k in keys if f"cwl:{camel(k)}" in self.e}

    def lines(self) -> list[dict[str, Any]]:
        """Transfer or inventory lines: the items in order with their measured masses."""
        e = self.e
        order = e.get("cwl:lineOrder") or [*e.get("epcList", [])]
        if "cwl:lineOrder" not in e:
            order += [q["epcClass"] for q in e.get("quantityList", [])]
        masses: dict[str, dict[str, Any]] = {}
        for element in e.get("sensorElementList", []):
            for r in element.get("sensorReport", []):
                if "cwl:item" in r:
                    rest = {k: v for k, v in r.items() if k.startswith("cwl:") and k != "cwl:item"}
                    masses[r["cwl:item"]] = {"kg": r["value"], **from_ext(rest)}
        out = []
        for uri in order:
            line: dict[str, Any] = {"item": self.ident(uri, "item", "lot")}
            out.append(line | ({"measured": masses[uri]} if uri in masses else {}))
        return out


def tagged(r: Reader) -> dict[str, Any]:
    tag = r.ident(one(r.e.get("childEPCs"), "tag"), "tag")
    return {"item": r.ident(r.e.get("parentID"), "item", "lot"), "tag": tag, "site": r.place()}


def _closes(r: Reader, uri: Any) -> dict[str, str]:
    parsed = r.names.parse(uri)
    if parsed and parsed[0] in ("item", "lot", "site"):
        return {"kind": "site" if parsed[0] == "site" else "item", "id": parsed[1]}
    raise Refused(f"parentID {uri!r} is neither an item nor a site of ours")


def seal_applied(r: Reader) -> dict[str, Any]:
    seal = r.ident(one(r.e.get("childEPCs"), "seal"), "seal")
    body = {"seal": seal, "closes": _closes(r, r.e.get("parentID"))}
    return body | r.cwl("type", "wire", "photos", "next_check_due")


def seal_checked(r: Reader) -> dict[str, Any]:
    seals = [u for u in r.e.get("epcList", []) if r.names.ident(u, "seal")]
    return {"seal": r.ident(one(seals, "seal"), "seal"), **from_ext(r.e.get("cwl:sealCheck", {}))}


def seal_removed(r: Reader) -> dict[str, Any]:
    seal = one(r.e["childEPCs"], "seal") if "childEPCs" in r.e else r.e.get("parentID")
    return {"seal": r.ident(seal, "seal")} | r.cwl("reason", "photos")


def shipped(r: Reader) -> dict[str, Any]:
    src = one(r.e.get("sourceList"), "source")
    dst = one(r.e.get("destinationList"), "destination")
    body = {"transfer": r.tx(r.names.btt_transfer, "transfer")}
    body |= {"origin": r.ident(src.get("source"), "site")}
    body |= {"destination": r.ident(dst.get("destination"), "site")}
    return body | r.cwl("due", "consignment") | {"items": r.lines()}


def received(r: Reader) -> dict[str, Any]:
    body = {"transfer": r.tx(r.names.btt_transfer, "transfer"), "site": r.place()}
    return body | {"items": r.lines()}


def inventory(r: Reader) -> dict[str, Any]:
    body: dict[str, Any] = {"site": r.place()}
    inspection = r.tx(r.names.btt_inspection, "inspection", required=False)
    body |= {"inspection": inspection} if inspection else {}
    return body | r.cwl("complete") | {"items": r.lines()}


def opened(r: Reader) -> dict[str, Any]:
    body = {"inspection": r.tx(r.names.btt_inspection, "inspection"), "site": r.place()}
    return body | r.cwl("kind", "notified")


def closed(r: Reader) -> dict[str, Any]:
    return {"inspection": r.tx(r.names.btt_inspection, "inspection")} | r.cwl("summary")


def sample_taken(r: Reader) -> dict[str, Any]:
    sample = r.ident(one(r.e.get("outputEPCList"), "sample"), "sample")
    item = r.ident(one(r.e.get("inputQuantityList"), "input").get("epcClass"), "lot")
    body: dict[str, Any] = {"sample": sample, "item": item, "site": r.place()}
    inspection = r.tx(r.names.btt_inspection, "inspection", required=False)
    body |= {"inspection": inspection} if inspection else {}
    return body | r.cwl("seals")


def sample_result(r: Reader) -> dict[str, Any]:
    sample = r.ident(one(r.e.get("epcList"), "sample"), "sample")
    return {"sample": sample, "laboratory": r.place()} | r.cwl("identity_confirmed")


def destroyed(r: Reader) -> dict[str, Any]:
    e = r.e
    items = []
    for q in e.get("inputQuantityList", []):
        line: dict[str, Any] = {"item": r.ident(q.get("epcClass"), "lot")}
        items.append(line | ({"kg": q["quantity"]} if "quantity" in q else {}))
    body: dict[str, Any] = {"batch": r.ident(e.get("transformationID"), "batch")}
    body["venue"] = r.place()
    body |= r.cwl("method", "start", "end") | {"items": items}
    if "cwl:products" in e:
        outputs = e.get("outputQuantityList", [])
        if len(outputs) != len(e["cwl:products"]):
            raise Refused("cwl:products does not match outputQuantityList")
        body["products"] = [
            {"item": r.ident(q.get("epcClass"), "lot"), **from_ext(p)}
            for q, p in zip(outputs, e["cwl:products"], strict=True)
        ]
    return body


def verified(r: Reader) -> dict[str, Any]:
    return {"batch": r.tx(r.names.btt_batch, "batch")} | r.cwl("confirmed", "remarks")


Importer = Callable[[Reader], dict[str, Any]]
