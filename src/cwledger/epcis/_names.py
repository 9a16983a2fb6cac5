"""Our identifiers and extension fields in EPCIS: private HTTP URIs under a base, ``cwl:`` keys.

We hold no GS1 company prefix, so every object is named by a URI under a configurable base
(MAPPING.md section 4): ``<base>item/<id>`` for a container or munition (an EPC instance),
``<base>lot/<id>`` for the material an item holds (an EPC class: bulk lots, sampled and
destroyed quantities), ``<base>site/<id>`` for a site, and so on. Our own fields travel as
extension keys with the prefix ``cwl``, bound to ``<base>voc/``; a body's ``snake_case``
key ``k`` becomes ``cwl:<camelCase k>`` and back.
"""

from __future__ import annotations

import re
from typing import Any

from cwledger.epcis.vocab import CONTEXT_URL

__all__ = ["DEFAULT_BASE", "Names", "to_ext", "from_ext", "camel", "snake", "KINDS"]

DEFAULT_BASE = "https://id.example.org/cwl/"
# The path segment of each kind of object under the base.
KINDS = frozenset("item lot site seal tag sample transfer inspection batch event decl".split())


class Names:
    """The URIs of our objects and vocabulary under ``base`` (which ends with ``/``)."""

    def __init__(self, base: str) -> None:
        if not re.fullmatch(r"https?://[^\s?#]+/", base):
            raise ValueError(f"base must be an http(s) URI ending with '/', got {base!r}")
        self.base = base
        self.ns = base + "voc/"
        self.context: list[Any] = [CONTEXT_URL, {"cwl": self.ns}]
        self.btt_declaration = self.ns + "BTT-declaration"
        self.btt_transfer = self.ns + "BTT-transfer"
        self.btt_inspection = self.ns + "BTT-inspection"
        self.btt_batch = self.ns + "BTT-destructionBatch"
        self.declaration_vocabulary = self.ns + "Declaration"

    @classmethod
    def of_document(cls, doc: dict[str, Any]) -> Names | None:
        """The names a document of ours uses: from the namespace its ``cwl`` prefix maps."""
        context = doc.get("@context")
        for entry in context if isinstance(context, list) else [context]:
            ns = entry.get("cwl") if isinstance(entry, dict) else None
            if isinstance(ns, str) and ns.endswith("/voc/"):
                try:
                    return cls(ns[: -len("voc/")])
                except ValueError:
                    return None
        return None

    def uri(self, kind: str, ident: str) -> str:
        """``<base><kind>/<ident>``."""
        return f"{self.base}{kind}/{ident}"

    def declaration(self, author: str, version: int) -> str:
        """The business transaction of version ``version`` of ``author``'s declaration."""
        return f"{self.base}decl/{author}/v{version}"

    def parse(self, uri: Any) -> tuple[str, str] | None:
        """``(kind, id)`` of a URI of ours, else ``None``."""
        if not isinstance(uri, str) or not uri.startswith(self.base):
            return None
        kind, sep, ident = uri[len(self.base) :].partition("/")
        return (kind, ident) if sep and kind in KINDS and ident else None

    def ident(self, uri: Any, *kinds: str) -> str | None:
        """The id of a URI of ours of one of ``kinds``, else ``None``."""
        parsed = self.parse(uri)
        return parsed[1] if parsed and parsed[0] in kinds else None


def camel(name: str) -> str:
    """``next_check_due`` -> ``nextCheckDue``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``nextCheckDue`` -> ``next_check_due``."""
    return re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), name)


def to_ext(value: Any) -> Any:
    """A body fragment as extension JSON: keys ``cwl:<camelCase>``; null values left out."""
    if isinstance(value, dict):
        return {f"cwl:{camel(k)}": to_ext(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [to_ext(v) for v in value]
    return value


def from_ext(value: Any) -> Any:
    """The inverse of :func:`to_ext` (keys without the ``cwl:`` prefix are dropped)."""
    if isinstance(value, dict):
        return {snake(k[4:]): from_ext(v) for k, v in value.items() if k.startswith("cwl:")}
    if isinstance(value, list):
        return [from_ext(v) for v in value]
    return value
