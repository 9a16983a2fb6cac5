"""Canonical JSON (RFC 8785, JCS) for event payloads and envelopes.

For JSON made of objects with ASCII keys, arrays, strings, booleans, null, integers
within +-(2**53 - 1) and numbers with a fraction between 1e-4 and 1e16 in magnitude (a
mass of 12.5 kg), the JCS output equals ``json.dumps`` with sorted keys, no whitespace
and no ASCII escaping: JCS escapes the same characters in the same lowercase ``\\u00xx``
form, such integers print alike, and such a number prints as ECMAScript prints it,
Python's shortest round-trip digits with no exponent (`plain_number`). That covers
almost every event and is several times faster than the pure-Python ``rfc8785`` library,
which handles the rest (other numbers, non-ASCII keys, whose ordering is by UTF-16 code
units). A property test holds the two paths equal.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785
from pydantic_core import PydanticSerializationError, from_json, to_json

from cwledger.errors import MalformedInput, echo

__all__ = [
    "canonical_json",
    "in_canonical_form",
    "is_canonical",
    "parse_json_object",
    "plain_json",
    "plain_number",
]

_MAX_SAFE = 2**53 - 1
_TOO_DEEP = "is nested too deeply"
_SURROGATE = "holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text"


def plain_number(x: float) -> bool:
    """Whether a float prints alike in Python (``repr``, json.dumps), in pydantic's
    serializer (ryu) and in RFC 8785 (ECMAScript's Number::toString): a number with a
    fraction, between 1e-4 and 1e16 in magnitude. All three write the shortest digits that
    read back as the same double, and there without an exponent (Python from 1e-4 to 1e16,
    ryu from 1e-5 to 1e16, ECMAScript from 1e-6 to 1e21). Not a whole number, which
    Python writes as ``1.0`` and RFC 8785 as ``1``; not NaN or an infinity."""
    return 1e-4 <= abs(x) < 1e16 and not x.is_integer()


def plain_json(value: Any, in_order: bool = False) -> bool:
    """Whether `value` is JSON that json.dumps renders exactly as RFC 8785 does: objects
    with ASCII keys, arrays, strings, booleans, null, integers within +-(2**53 - 1),
    numbers with a fraction that print alike (`plain_number`).

    With `in_order`, also every object's keys already in RFC 8785 order (ASCII keys sort by
    code point): JSON that a serializer keeping the order it was given (pydantic's
    ``to_json``) writes exactly as RFC 8785 does.

    This runs on every event the log takes and every entry the audit reads: loops rather
    than all() over a generator, and a string, the commonest value, is passed over where
    it is met, without a call of its own."""
    t = type(value)
    if t is str or t is bool or value is None:
        return True
    if t is int:
        return bool(-_MAX_SAFE <= value <= _MAX_SAFE)
    if t is float:
        return plain_number(value)
    if t is dict:
        previous = ""  # below every other key; a dict holds each key once
        for k, v in value.items():
            if type(k) is not str or not k.isascii():
                return False
            if in_order:
                if k < previous:
                    return False
                previous = k
            tv = type(v)
            if tv is str or tv is int and -_MAX_SAFE <= v <= _MAX_SAFE:
                continue
            if not plain_json(v, in_order):
                return False
        return True
    if t is list:
        for v in value:
            if type(v) is not str and not plain_json(v, in_order):
                return False
        return True
    return False


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value. Raises MalformedInput for values JCS cannot encode."""
    try:
        if plain_json(value):
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            return text.encode()
        return rfc8785.dumps(value)
    except UnicodeEncodeError as e:
        raise MalformedInput(f"cannot canonicalise JSON (RFC 8785): {_SURROGATE}") from e
    except RecursionError as e:
        raise MalformedInput(f"cannot canonicalise JSON (RFC 8785): {_TOO_DEEP}") from e
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise MalformedInput(f"cannot canonicalise JSON (RFC 8785): {e}") from e


def is_canonical(data: bytes, what: str) -> tuple[dict[str, Any], bool]:
    """Parse a JSON object and say whether `data` is its RFC 8785 form.

    The parser's hooks note numbers that do not print alike (`plain_number`) and integers
    beyond +-(2**53 - 1) as they are read, and ASCII input has ASCII keys: then the fast
    path applies without walking the object again. Raises MalformedInput for what is not
    a JSON object.
    """
    plain = data.isascii()

    def on_float(text: str) -> float:
        nonlocal plain
        value = float(text)
        if not plain_number(value):
            plain = False
        return value

    def on_int(text: str) -> int | float:
        nonlocal plain
        value = int(text)
        if -_MAX_SAFE <= value <= _MAX_SAFE:
            return value
        plain = False
        # JCS numbers are IEEE 754 doubles: a large integer is canonical only as a double.
        try:
            return float(value)
        except OverflowError:
            raise MalformedInput(f"{what} holds a number beyond any double") from None

    value = _loads(data, what, parse_float=on_float, parse_int=on_int)
    try:
        if plain:
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            return value, text.encode() == data
        return value, rfc8785.dumps(value) == data
    except UnicodeEncodeError as e:  # an escaped lone surrogate: no UTF-8 text holds it
        raise MalformedInput(f"{what} {_SURROGATE}") from e
    except RecursionError as e:
        raise MalformedInput(f"{what} {_TOO_DEEP}") from e
    except (rfc8785.CanonicalizationError, ValueError):
        return value, False


def in_canonical_form(data: bytes) -> bool:
    """Whether `data` is a JSON object in its RFC 8785 form: `is_canonical`'s verdict,
    False for what is no JSON object.

    For readers of stored entries (the audit's workers), where each pass counts: the JSON
    is parsed by pydantic's parser, which keeps each object's keys in the order they came,
    and written back by its serializer, which writes them in that order, text beyond ASCII
    as it is and the rest escaped as RFC 8785 escapes it (`admission._canonical_event`
    takes the same shortcut for ASCII). When every key is ASCII and in order, every value
    plain (`plain_json`) and the bytes come back the same, the object is canonical: the
    serializer never writes as it is what RFC 8785 escapes, so it can only disagree the
    other way. Anything else (a key given twice, which that parser keeps the last of, an
    escape RFC 8785 does not write, a number it writes otherwise, a key beyond ASCII,
    whose order is by UTF-16 code units) is judged by `is_canonical`."""
    try:
        value = from_json(data)
        if type(value) is dict and plain_json(value, in_order=True) and to_json(value) == data:
            return True
    except (ValueError, RecursionError, PydanticSerializationError):
        pass
    try:
        return is_canonical(data, "payload")[1]
    except MalformedInput:
        return False


def _no_constant(name: str) -> Any:
    """Python's JSON parser reads NaN, Infinity and -Infinity, which are no JSON (RFC 8259)
    and which RFC 8785 cannot write: refused."""
    raise ValueError(f"{name} is no JSON number (JSON has no NaN or Infinity)")


def _loads(data: bytes | str, what: str, **hooks: Any) -> dict[str, Any]:
    try:
        value = json.loads(data, parse_constant=_no_constant, **hooks)
    except RecursionError as e:
        raise MalformedInput(f"{what} {_TOO_DEEP}") from e
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError, OverflowError) as e:
        raise MalformedInput(f"{what} is not valid JSON: {e}") from e
    if not isinstance(value, dict):
        raise MalformedInput(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def parse_json_object(data: bytes | str, what: str) -> dict[str, Any]:
    """Parse untrusted JSON that must be an object, with no member name given twice in any
    object (JSON parsers differ on which one they keep). Raises MalformedInput, naming
    `what`."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            names = [name for name, _ in pairs]
            twice = next(name for i, name in enumerate(names) if name in names[:i])
            raise MalformedInput(f"{what} gives the member {echo(twice)} twice")
        return obj

    return _loads(data, what, object_pairs_hook=unique)
