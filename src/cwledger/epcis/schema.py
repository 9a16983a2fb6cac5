"""Validation of EPCIS 2.0 JSON documents against GS1's JSON Schema (draft-07, vendored).

The schema checks the syntax of an EPCISDocument or EPCISQueryDocument: required fields,
CBV words or URIs for business steps and dispositions, UN/CEFACT units, RFC 3339 times. It
does not check JSON-LD (a document may redefine a protected term and still pass).
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft7Validator

__all__ = ["SCHEMA_FILE", "schema", "validate_document"]

SCHEMA_FILE = "EPCIS-JSON-Schema.json"


@cache
def schema() -> dict[str, Any]:
    """GS1's EPCIS 2.0 JSON Schema, from the copy shipped in this package."""
    text = files("cwledger.epcis").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Any:
    Draft7Validator.check_schema(schema())
    return Draft7Validator(schema(), format_checker=Draft7Validator.FORMAT_CHECKER)


def _path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate_document(doc: Any) -> list[str]:
    """Every schema violation of an EPCIS 2.0 JSON document, each as ``<JSON path>: <reason>``.

    An empty list means the document is valid. Paths look like
    ``$.epcisBody.eventList[0].eventTime``. Date-time and URI formats are checked (this
    needs ``rfc3339-validator`` and ``rfc3986-validator``, which the project installs).
    """
    errors = sorted(_validator().iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{_path(e.absolute_path)}: {e.message}" for e in errors]
