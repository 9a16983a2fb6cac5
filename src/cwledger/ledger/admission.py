"""From bytes to an entry the log may take: decode, validate, authorise (pure, no I/O).

Decoding collects every problem it can find at once; authorisation asks the replayed
``Authority``. A body with a sealed part (``"sealed"``: ``cwledger.ledger.confidential``)
decodes without its typed body: only its opening (with the operator's key) gives one.
Signature checks and storage are the caller's (``cwledger.ledger.ledger``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError, create_model
from pydantic_core import PydanticSerializationError, to_json

from cwledger.book.registry import EVENT_TYPES, EventType
from cwledger.errors import EventRejected, MalformedInput, Problem, echo
from cwledger.ledger.authority import Authority, KeyRecord
from cwledger.ledger.canonical import is_canonical, parse_json_object, plain_json
from cwledger.ledger.envelope import PAYLOAD_TYPE, Envelope
from cwledger.model.events import Event

__all__ = [
    "DecodedEntry",
    "Receipt",
    "MAX_ENTRY_BYTES",
    "SEALED",
    "RECIPIENTS",
    "decode_entry",
    "typed_event",
    "pydantic_problems",
    "authorise",
    "replay_authority",
]

MAX_ENTRY_BYTES = 0xFFFF
"""The largest entry the log takes: a C2SP tlog-tiles entry bundle prefixes each entry
with its length as a big-endian uint16."""


SEALED = "sealed"
"""The body's reserved key for its sealed part (docs/sealing.md)."""

RECIPIENTS = "recipients"
"""The body's reserved key, beside ``"sealed"`` and public, for the parties its author names
as further readers of its sealed part (docs/sealing.md, "Named recipients")."""


@dataclass(frozen=True, slots=True)
class DecodedEntry:
    """An envelope with its validated event and typed body.

    `sealed` is the body's sealed part as sent, if it has one; `body` is then None until
    the entry is opened (``cwledger.ledger.confidential.unseal``), which gives an entry
    whose event holds the whole body again."""

    envelope: Envelope
    leaf: bytes
    event: Event
    etype: EventType[Any]
    body: BaseModel | None
    sealed: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the log answers for an accepted (or already present) event."""

    index: int
    leaf_hash: bytes
    event_id: str
    duplicate: bool = False

    def to_json(self) -> dict[str, object]:
        """The receipt as a JSON object."""
        return {
            "index": self.index,
            "leaf_hash": self.leaf_hash.hex(),
            "event_id": self.event_id,
            "duplicate": self.duplicate,
        }


def pydantic_problems(err: ValidationError, prefix: str) -> list[Problem]:
    """Each error of a pydantic validation as a Problem located under `prefix`."""
    out = []
    for e in err.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        out.append(Problem(loc, e["msg"]))
    return out


_validate_event_json: Callable[[bytes], Event] = Event.__pydantic_validator__.validate_json
"""`Event.model_validate_json` without its Python wrapper (on every event decoded)."""


def _event_from_json(payload: bytes) -> Event:
    try:
        return _validate_event_json(payload)
    except ValidationError as e:
        if any(err["type"] == "json_invalid" for err in e.errors()):
            parse_json_object(payload, "payload")  # raises MalformedInput, worded as elsewhere
        raise


def _canonical_event(payload: bytes) -> Event | None:
    """The event, if `payload` is a valid event in the RFC 8785 form (ASCII keys, no number
    but integers within +-(2**53 - 1) and numbers with a fraction that every serializer
    prints alike, `canonical.plain_number`); else None, and the caller takes the general
    path, which reports what is wrong.

    One pass of pydantic's parser (JSON and the event's shape in Rust), one walk of the
    body, and the event written back by pydantic's serializer, compared with the payload.
    The parser keeps each object's keys in the order they came and the serializer writes
    them in that order, text beyond ASCII as it is and the rest escaped as RFC 8785
    escapes it: so when the walk finds every key ASCII and in RFC 8785 order and the bytes
    come back the same, the payload is canonical (``cwledger.ledger.canonical``), and
    every payload this accepts the general path accepts with the same event. A key given
    twice, an escape RFC 8785 does not write, or whitespace comes back different. (Text
    beyond ASCII took the general path until 2026-12: RFC 8785 in pure Python, some ten
    times slower.)
    """
    try:
        event = _validate_event_json(payload)
    except ValidationError:
        return None
    try:
        if not plain_json(event.body, in_order=True):
            return None
        # The members in RFC 8785 order: author, body, id, time, type.
        text = to_json(
            {
                "author": event.author,
                "body": event.body,
                "id": event.id,
                "time": event.time,
                "type": event.type,
            }
        )
    except (RecursionError, PydanticSerializationError, ValueError):
        return None
    return event if text == payload else None


def decode_entry(data: bytes | str, *, check_canonical: bool = True) -> DecodedEntry:
    """Parse and validate one DSSE envelope. Raises EventRejected listing every problem.

    `check_canonical` refuses a payload that is not RFC 8785 canonical JSON (the append
    path does; replaying stored entries, whose signatures fix their bytes, need not).
    """
    try:
        envelope = Envelope.from_bytes(data)
    except MalformedInput as e:
        raise EventRejected([Problem("envelope", str(e))]) from e
    problems: list[Problem] = []
    if envelope.payload_type != PAYLOAD_TYPE:
        problems.append(
            Problem("payloadType", f"want {PAYLOAD_TYPE!r}, got {echo(envelope.payload_type)}")
        )
    try:
        if check_canonical:
            event = _canonical_event(envelope.payload)
            if event is None:  # not the common case: the parser that names every problem
                obj, canonical = is_canonical(envelope.payload, "payload")
                if not canonical:
                    problems.append(Problem("payload", "not RFC 8785 canonical JSON"))
                event = Event.model_validate(obj)
        else:
            # Replaying stored entries: pydantic parses and validates in one pass.
            event = _event_from_json(envelope.payload)
    except MalformedInput as e:
        raise EventRejected([*problems, Problem("payload", str(e))]) from e
    except ValidationError as e:
        raise EventRejected([*problems, *pydantic_problems(e, "payload")]) from e
    etype = EVENT_TYPES.get(event.type)
    body: BaseModel | None = None
    sealed = event.body.get(SEALED)
    if etype is None:
        problems.append(Problem("payload.type", f"unknown event type {echo(event.type)}"))
    elif SEALED in event.body:
        if etype.governance:
            problems.append(Problem(f"payload.body.{SEALED}", "a governance event is never sealed"))
        elif not isinstance(sealed, dict):
            problems.append(Problem(f"payload.body.{SEALED}", "a sealed part is a JSON object"))
    elif RECIPIENTS in event.body:
        problems.append(
            Problem(
                f"payload.body.{RECIPIENTS}",
                "names further readers of a sealed part, and this body has none",
            )
        )
    else:
        try:
            # `model_validate` without its Python wrapper: on every event the log takes
            body = etype.body.__pydantic_validator__.validate_python(event.body)
        except ValidationError as e:
            problems += pydantic_problems(e, "payload.body")
    leaf = envelope.to_bytes()
    if check_canonical and len(leaf) > MAX_ENTRY_BYTES:
        problems.append(
            Problem(
                "envelope",
                f"the entry is {len(leaf):,} bytes; the log takes at most {MAX_ENTRY_BYTES:,}"
                " (split it into parts)",
            )
        )
    if problems or etype is None:
        raise EventRejected(problems)
    return DecodedEntry(envelope, leaf, event, etype, body, sealed)


@functools.cache
def _typed_event_validator(name: str) -> Callable[[bytes], Any]:
    etype = EVENT_TYPES[name]
    model = create_model(
        f"{etype.body.__name__}Event",
        __base__=Event,
        type=(Literal[name], ...),  # type: ignore[arg-type]  # one type per model
        body=(etype.body, ...),
    )
    return model.__pydantic_validator__.validate_json


def typed_event(payload: bytes, event_type: str) -> Any | None:
    """The event of type `event_type` in `payload`, its body typed, in one pass of
    pydantic's JSON parser; None when it is not one (another type, an unknown type, a
    sealed body, any problem at all: `decode_entry` then says what).

    `decode_entry` takes two passes: the event with its body as a dict, then the body's
    type from that dict. This one accepts what those two accept, with the same values: a
    body's types validate JSON's values alike from JSON and from the Python values a JSON
    parser gives (a test holds the two equal on every event type's bodies, changed a
    field at a time), and the body's type refuses the reserved keys of a sealed part.
    The event's `body` is its typed body, whose `model_fields_set` are the keys it was
    given. For readers of stored entries (the audit's workers), where each pass counts."""
    if event_type not in EVENT_TYPES:
        return None
    try:
        return _typed_event_validator(event_type)(payload)
    except ValidationError:
        return None


def authorise(
    entry: DecodedEntry, authority: Authority, index: int
) -> tuple[KeyRecord | None, list[Problem]]:
    """The key that must verify the entry's signature, and every reason it may not go in."""
    key = authority.key_for(entry.event, entry.body, entry.envelope.keyid, index)
    problems = authority.check(entry.event, entry.etype, entry.body, index)
    if isinstance(key, Problem):
        return None, [key, *problems]
    return key, problems


def replay_authority(entries: Iterable[tuple[int, bytes]]) -> Authority:
    """Replay governance entries (index, envelope) already in the log into an Authority."""
    authority = Authority()
    for index, data in entries:
        d = decode_entry(data, check_canonical=False)
        authority.apply(d.body, index)
    return authority
