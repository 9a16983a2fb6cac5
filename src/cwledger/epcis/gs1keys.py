"""GS1 keys in the one form the CBV event hash uses: canonical GS1 Digital Link URIs.

An identifier may be written as an EPC pure identity URN (``urn:epc:id:sgtin:...``), an EPC
class or pattern URN (``urn:epc:class:lgtin:...``, ``urn:epc:idpat:sgtin:...``) or a GS1
Digital Link URI on any domain (``https://example.com/gtin/...?x=1``). All of them become
``https://id.gs1.org/<AI>/<key>[/<qualifier AI>/<value>]`` with the check digit computed, the
finest level of identification only (serial beats lot), and no query string or CPV.
Anything else (our private ``https://id.example.org/cwl/...`` URIs, ``geo:`` URIs, text)
is not a GS1 key: :func:`canonical_gs1_key` returns ``None`` for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["check_digit", "canonical_gs1_key"]

_DL = "https://id.gs1.org/"
# One character of a GS1 AI value as an EPC URN writes it (an escape counts as one).
_C = (
    r"(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]"
    r"|[!')(*+,.0-9:;=A-Za-z_-])"
)
# One character of a component/part reference (CPI).
_P = r"(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])"
_CP = r"([0-9]{6,12})"
_REF = r"([0-9]{0,11})"
_ESCAPE = str.maketrans(
    {"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"}
)


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit (GS1 General Specifications 7.9.1) of a key without it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def _esc(value: str) -> str:
    return value.translate(_ESCAPE)


def _gtin(cp: str, item: str) -> str:
    """GTIN-14 from a company prefix and an item reference (indicator digit first)."""
    raw = item[:1] + cp + item[1:]
    return raw + check_digit(raw)


def _with_cd(raw: str) -> str:
    return raw + check_digit(raw)


# Each rule: the URN body pattern, the total length of company prefix + reference, and how
# the Digital Link path is built from the groups.
_Rule = tuple[str, int, Callable[[tuple[str, ...]], str]]
_RULES: dict[str, _Rule] = {
    "id:sgtin": (
        rf"{_CP}\.{_REF}\.({_C}{{1,20}})",
        13,
        lambda g: f"01/{_gtin(g[0], g[1])}/21/{_esc(g[2])}",
    ),
    "id:sscc": (rf"{_CP}\.{_REF}", 17, lambda g: "00/" + _with_cd(g[1][:1] + g[0] + g[1][1:])),
    "id:sgln": (
        rf"{_CP}\.{_REF}\.({_C}{{1,20}})",
        12,
        lambda g: f"414/{_with_cd(g[0] + g[1])}" + ("" if g[2] == "0" else f"/254/{_esc(g[2])}"),
    ),
    "id:grai": (
        rf"{_CP}\.{_REF}\.({_C}{{1,16}})",
        12,
        lambda g: f"8003/{_with_cd('0' + g[0] + g[1])}{_esc(g[2])}",
    ),
    "id:giai": (rf"{_CP}\.({_C}{{1,24}})", 0, lambda g: f"8004/{g[0]}{_esc(g[1])}"),
    "id:gsrn": (rf"{_CP}\.{_REF}", 17, lambda g: "8018/" + _with_cd(g[0] + g[1])),
    "id:gsrnp": (rf"{_CP}\.{_REF}", 17, lambda g: "8017/" + _with_cd(g[0] + g[1])),
    "id:gdti": (
        rf"{_CP}\.{_REF}\.({_C}{{0,17}})",
        12,
        lambda g: f"253/{_with_cd(g[0] + g[1])}{_esc(g[2])}",
    ),
    "id:cpi": (
        rf"{_CP}\.({_P}{{1,24}})\.([0-9]{{1,12}})",
        0,
        lambda g: f"8010/{_esc(g[0] + g[1])}/8011/{g[2]}",
    ),
    "id:sgcn": (
        rf"{_CP}\.{_REF}\.([0-9]{{1,12}})",
        12,
        lambda g: f"255/{_with_cd(g[0] + g[1])}{g[2]}",
    ),
    "id:ginc": (rf"{_CP}\.({_C}{{1,24}})", 0, lambda g: f"401/{g[0]}{_esc(g[1])}"),
    "id:gsin": (rf"{_CP}\.{_REF}", 16, lambda g: "402/" + _with_cd(g[0] + g[1])),
    "id:itip": (
        rf"{_CP}\.{_REF}\.([0-9]{{2}})\.([0-9]{{2}})\.({_C}{{1,20}})",
        13,
        lambda g: f"8006/{_gtin(g[0], g[1])}{g[2]}{g[3]}/21/{_esc(g[4])}",
    ),
    "id:upui": (
        rf"{_CP}\.{_REF}\.({_C}{{1,28}})",
        13,
        lambda g: f"01/{_gtin(g[0], g[1])}/235/{_esc(g[2])}",
    ),
    "id:pgln": (rf"{_CP}\.{_REF}", 12, lambda g: "417/" + _with_cd(g[0] + g[1])),
    "class:lgtin": (
        rf"{_CP}\.{_REF}\.({_C}{{1,20}})",
        13,
        lambda g: f"01/{_gtin(g[0], g[1])}/10/{_esc(g[2])}",
    ),
    "idpat:sgtin": (rf"{_CP}\.{_REF}\.\*", 13, lambda g: "01/" + _gtin(g[0], g[1])),
    "idpat:grai": (rf"{_CP}\.{_REF}\.\*", 12, lambda g: "8003/" + _with_cd("0" + g[0] + g[1])),
    "idpat:gdti": (rf"{_CP}\.{_REF}\.\*", 12, lambda g: "253/" + _with_cd(g[0] + g[1])),
    "idpat:sgcn": (rf"{_CP}\.{_REF}\.\*", 12, lambda g: "255/" + _with_cd(g[0] + g[1])),
    "idpat:cpi": (rf"{_CP}\.({_P}{{1,24}})\.\*", 0, lambda g: f"8010/{_esc(g[0] + g[1])}"),
    "idpat:itip": (
        rf"{_CP}\.{_REF}\.([0-9]{{2}})\.([0-9]{{2}})\.\*",
        13,
        lambda g: f"8006/{_gtin(g[0], g[1])}{g[2]}{g[3]}",
    ),
    "idpat:upui": (rf"{_CP}\.{_REF}\.\*", 13, lambda g: "01/" + _gtin(g[0], g[1])),
}
_URN = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(.*)", re.DOTALL)
# Variable-length keys (GIAI, GINC, CPI): company prefix plus reference at most 30 characters.
_MAX_VARIABLE = 30


def _from_urn(uri: str) -> str | None:
    m = _URN.fullmatch(uri)
    if m is None or f"{m[1]}:{m[2]}" not in _RULES:
        return None
    pattern, total, build = _RULES[f"{m[1]}:{m[2]}"]
    body = re.fullmatch(pattern, m[3])
    if body is None:
        return None
    groups = body.groups()
    cp, ref = groups[0], groups[1]
    if total and len(cp) + len(ref) != total:
        return None
    unit = _P if m[2] == "cpi" else _C
    if not total and len(cp) + len(re.findall(unit, ref)) > _MAX_VARIABLE:
        return None
    return _DL + build(groups)


_KEYS = (
    "01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253"
    "|gdti|401|ginc|402|gsin|8003|grai|8004|giai"
)
_IS_DL = re.compile(rf"https?:[^?#]*/(?:{_KEYS})/[0-9]{{4}}[^/]")
_SHORT_NAMES = (
    ("gtin", "01"),
    ("itip", "8006"),
    ("cpid", "8010"),
    ("gln", "414"),
    ("party", "417"),
    ("gsrnp", "8017"),
    ("gsrn", "8018"),
    ("gcn", "255"),
    ("sscc", "00"),
    ("gdti", "253"),
    ("ginc", "401"),
    ("gsin", "402"),
    ("grai", "8003"),
    ("giai", "8004"),
    ("cpv", "22"),
    ("lot", "10"),
    ("ser", "21"),
)
_ON_ID_GS1 = re.compile(
    r"https://id\.gs1\.org/(?:01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)"
    r"/[0-9]{4}[^/]"
)
_REBASE = "00 01 253 255 401 402 414 417 8003 8004 8006 8010 8017 8018".split()
# One character of a Digital Link path value (GS1 Digital Link table 7-1, unescaped subset).
_X = r"[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]"
_GTIN_LIKE = r"https://id\.gs1\.org/(?:8006/[0-9]{18}|01/[0-9]{14})"
_CPV_LAST = re.compile(rf"{_GTIN_LIKE}/22/{_X}{{0,20}}")
_CPV_MIDDLE = re.compile(rf"{_GTIN_LIKE}/22/(?:/|{_X}){{0,20}}")
_LOT_AND_SERIAL = re.compile(rf"{_GTIN_LIKE}/10/{_X}{{0,20}}/21/{_X}{{0,20}}")
_VALID = re.compile(
    "https://id\\.gs1\\.org/(?:"
    + "|".join(
        [
            "00/[0-9]{18}",
            f"01/[0-9]{{14}}(?:/21/{_X}{{0,20}}|/10/{_X}{{0,20}}|/235/{_X}{{0,28}})?",
            f"253/[0-9]{{13}}{_X}{{0,17}}",
            "255/[0-9]{13}[0-9]{0,12}",
            f"401/{_X}{{0,30}}",
            "402/[0-9]{17}",
            f"414/[0-9]{{13}}(?:/254/{_X}{{0,20}})?",
            "417/[0-9]{13}",
            f"8003/[0-9]{{14}}{_X}{{0,16}}",
            f"8004/{_X}{{0,30}}",
            f"8006/[0-9]{{18}}(?:/21/{_X}{{0,20}}|/10/{_X}{{0,20}})?",
            "8010/[#/0-9A-Z-]{0,30}(?:/8011/[0-9]{0,12})?",
            "8017/[0-9]{18}",
            "8018/[0-9]{18}",
        ]
    )
    + ")"
)


def _from_digital_link(uri: str) -> str | None:
    if _IS_DL.match(uri) is None:
        return None
    uri = uri.split("?", 1)[0]
    for short, ai in _SHORT_NAMES:
        uri = uri.replace(f"/{short}/", f"/{ai}/")
    if _ON_ID_GS1.match(uri) is None:
        for ai in _REBASE:
            at = uri.find(f"/{ai}/")
            if at != -1:
                uri = "https://id.gs1.org" + uri[at:]
                break
    if re.match(r"https://id\.gs1\.org/01/[0-9]{14}", uri) is None:
        for digits, pad in ((13, "0"), (12, "00"), (8, "000000")):
            if re.match(rf"https://id\.gs1\.org/01/[0-9]{{{digits}}}", uri):
                uri = uri.replace("/01/", "/01/" + pad)
                break
    if _CPV_LAST.fullmatch(uri):
        uri = uri[: uri.find("/22/")]
    elif _CPV_MIDDLE.fullmatch(uri):
        at = uri.find("/22/")
        rest = uri[at + 4 :]
        uri = uri[:at] + rest[rest.find("/") :]
    if _LOT_AND_SERIAL.fullmatch(uri):
        at = uri.find("/10/")
        rest = uri[at + 4 :]
        uri = uri[:at] + rest[rest.find("/") :]
    return uri if _VALID.fullmatch(uri) else None


def canonical_gs1_key(value: str) -> str | None:
    """The canonical GS1 Digital Link URI of a GS1 key, or ``None`` if ``value`` is none.

    >>> canonical_gs1_key("urn:epc:id:sgtin:0614141.107346.2017")
    'https://id.gs1.org/01/10614141073464/21/2017'
    >>> canonical_gs1_key("https://id.example.org/cwl/item/C-1") is None
    True
    """
    if "." not in value:
        return None
    if value.startswith("urn:epc:"):
        return _from_urn(value)
    return _from_digital_link(value)
