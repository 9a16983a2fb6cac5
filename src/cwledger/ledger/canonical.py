"""Canonical JSON (RFC 8785, JCS) for event payloads and envelopes.

Payloads may hold any JSON (numbers included), so they go through the ``rfc8785``
library. A DSSE envelope holds only ASCII strings, and for an object of strings the
JCS output equals ``json.dumps`` with sorted keys and no whitespace (JCS escapes the
same characters, in the same lowercase ``\\u00xx`` form); the fast path is used there
and a property test holds the two equal.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from cwledger.errors import MalformedInput

__all__ = ["canonical_json", "canonical_string_object", "parse_json_object"]


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value. Raises MalformedInput for values JCS cannot encode."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise MalformedInput(f"cannot canonicalise JSON (RFC 8785): {e}") from e


def canonical_string_object(value: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of an object whose leaves are strings, lists and objects of strings.

    Raises MalformedInput if a number, boolean or null is present (use canonical_json).
    """
    _require_strings(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _require_strings(value: Any, where: str) -> None:
    if isinstance(value, str):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not k.isascii():
                raise MalformedInput(f"{where}: non-ASCII key {k!r}")
            _require_strings(v, f"{where}.{k}")
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _require_strings(v, f"{where}[{i}]")
        return
    raise MalformedInput(f"{where}: expected a string, got {type(value).__name__}")


def parse_json_object(data: bytes | str, what: str) -> dict[str, Any]:
    """Parse untrusted JSON that must be an object. Raises MalformedInput, naming `what`."""
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise MalformedInput(f"{what} is not valid JSON: {e}") from e
    if not isinstance(value, dict):
        raise MalformedInput(f"{what} must be a JSON object, got {type(value).__name__}")
    return value
