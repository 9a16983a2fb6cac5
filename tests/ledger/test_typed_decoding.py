"""`typed_event` (one pass of pydantic's JSON parser, the body typed) accepts exactly what
`decode_entry`'s two passes (the event with a dict body, then the body's type in Python
mode) accept, with the same values: the audit's workers decode by it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from cwledger.book.registry import EVENT_TYPES
from cwledger.ledger.admission import typed_event
from cwledger.ledger.envelope import Envelope
from cwledger.ledger.ledger import Ledger
from cwledger.model.events import Event

# Values JSON gives: what a stored body's field may hold instead of its own.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
    | st.sampled_from(["", "kg", "2014-01-07T00:00:00Z", "AA", "open", "a" * 64])
    # what a lax mode would turn into another type: strict refuses each of them
    | st.sampled_from([0, 1, 1.0, 2.5, "1", "true", "1.5", [], {}]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


def _two_passes(payload: bytes) -> tuple[Event, BaseModel] | None:
    """`decode_entry`'s passes: the event with its body as a dict, then the body's type."""
    try:
        event = Event.model_validate_json(payload)
        return event, EVENT_TYPES[event.type].body.model_validate(event.body)
    except ValidationError:
        return None


@pytest.fixture(scope="module")
def payloads(syria_2013_built: Callable[[bool], Path]) -> list[bytes]:
    """Up to four plain payloads of each event type the scenario's public ledger holds."""
    led = Ledger.open(syria_2013_built(False))
    seen: dict[str, list[bytes]] = {}
    with led.store.read() as r:
        for chunk in r.iter_entries():
            for e in chunk:
                kept = seen.setdefault(e.event_type, [])
                if len(kept) < 4:
                    kept.append(Envelope.from_bytes(e.envelope).payload)
    led.close()
    assert len(seen) >= 20  # most of the registry: the rest meet the schema test below
    return [p for kept in seen.values() for p in kept]


def test_every_stored_payload_decodes_alike(payloads: list[bytes]) -> None:
    for payload in payloads:
        two = _two_passes(payload)
        assert two is not None
        event, body = two
        one = typed_event(payload, event.type)
        assert one is not None, payload
        assert (one.type, one.id, one.time, one.author) == (
            event.type,
            event.id,
            event.time,
            event.author,
        )
        assert type(one.body) is type(body) and one.body == body
        assert one.body.model_fields_set == set(event.body)
        assert (
            typed_event(
                payload,
                "estimate.recorded" if event.type != "estimate.recorded" else "finding.opened",
            )
            is None
        )  # another type's: refused


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a JSON value, its own included."""
    out = [at]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*at, i))
    return out


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_changed_body_is_refused_or_taken_alike(
    payloads: list[bytes], data: st.DataObject
) -> None:
    """A stored body with one place changed (to any JSON value, or taken out, or a key
    added), and the event around it: both decodings refuse it, or both take it with the
    same values."""
    doc = json.loads(data.draw(st.sampled_from(payloads)))
    body = copy.deepcopy(doc["body"])
    where = data.draw(st.sampled_from(_paths(body)))
    how = data.draw(st.sampled_from(["set", "drop", "add"]))
    if not where:
        body = data.draw(json_values) if how == "set" else body
    else:
        parent = body
        for step in where[:-1]:
            parent = parent[step]
        last = where[-1]
        if how == "set":
            parent[last] = data.draw(json_values)
        elif how == "drop":
            del parent[last]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=5))] = data.draw(json_values)
    changed = json.dumps({**doc, "body": body}).encode()
    two = _two_passes(changed)
    one = typed_event(changed, doc["type"])
    assert (one is None) == (two is None), changed
    if one is not None and two is not None:
        assert one.body == two[1] and one.body.model_dump() == two[1].model_dump()


ALIKE = {
    # what pydantic-core validates from JSON's values alike in JSON and in Python mode
    "str",
    "int",
    "float",
    "bool",
    "none",
    "nullable",
    "list",
    "literal",
    "model",
    "model-fields",
    "default",
    "function-after",
    "function-before",
    "function-plain",
    "tagged-union",
    "union",
    "definitions",
    "definition-ref",
    "any",
    "dict",
    "model-field",  # a field of a model, and the kinds of function a validator is
    "no-info",
    "with-info",
}
LAX_ONLY = {"enum", "tuple"}  # alike only when not strict (strict Python wants the type)


def _kinds(schema: Any, strict: bool, out: set[tuple[str, bool]]) -> None:
    if isinstance(schema, dict):
        kind = schema.get("type")
        if isinstance(kind, str):
            out.add((kind, bool(schema.get("strict", strict))))
        for key, value in schema.items():
            if key not in ("metadata", "serialization", "ref"):
                _kinds(value, strict, out)
    elif isinstance(schema, list | tuple):
        for value in schema:
            _kinds(value, strict, out)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_body_type_is_made_of_what_validates_json_alike_in_both_modes(name: str) -> None:
    """The test above changes the bodies the scenario holds; this one holds every body
    type, those too that it lacks, to the kinds of field the argument for one pass covers.
    A new kind (a date, a strict tuple, bytes...) fails here first: Python mode refuses,
    or takes, another value than JSON mode, and `typed_event` must be looked at again."""
    body = EVENT_TYPES[name].body
    kinds: set[tuple[str, bool]] = set()
    _kinds(body.__pydantic_core_schema__, bool(body.model_config.get("strict")), kinds)
    odd = {
        (kind, strict)
        for kind, strict in kinds
        if kind not in ALIKE and not (kind in LAX_ONLY and not strict)
    }
    assert not odd, f"{name}: {sorted(odd)}"
