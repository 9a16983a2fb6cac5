"""Sealed payloads in the log: how a confidential ledger seals an event's body, and how
the log opens and judges it (issue 16, section 2; docs/sealing.md).

A ledger is confidential when its genesis says so (``"confidential": true``). Each domain
event's body is then split by the classes of its fields (``cwledger.model.classes``,
with its author's role): the public fields stay in the clear and the rest is sealed
(``cwledger.ledger.sealing``) under the body's one reserved key::

    {...public fields..., "sealed": {"commitment": ..., "boxes": [...]}}

A body with nothing above `public` has no ``sealed`` key. The boxes go to the
*readers* of the part: the operator (the server runs the book's rules), the author,
every party whose role's clearance reads the part's highest class (``may_read``), and
the parties the author names under the body's other reserved key, ``"recipients"``
(public, beside ``"sealed"``), each to its encryption key in force at the entry. A
reader without an encryption key (a party that never set one) is left out; the operator
must have one, and so must every party named, who must also be cleared for the part
(an observer reads ``public`` only). A party added later reads earlier entries through
a share (``cwledger.ledger.sharing``).

The log opens each sealed body with the operator's key and takes it only when the whole
body is what the author would have sealed: the opened part matches its commitment, every
box holds the same payload under its party's key in force, the merged body validates,
every field sent in the clear is public and every sealed field is not, and every reader
has a box (``unseal``). In a confidential ledger a body that holds a field above
`public` in the clear is refused (``unsealed``); a ledger that is not confidential takes
no sealed part.

Pure functions, the keys passed in (``KeyLookup``); `BoxChecks` keeps the box checks of
the append path's batch and their problems.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from cwledger.book.registry import EVENT_TYPES
from cwledger.errors import MalformedInput, NotEntitled, Problem, SealBroken, echo
from cwledger.ledger.admission import (
    MAX_ENTRY_BYTES,
    RECIPIENTS,
    SEALED,
    DecodedEntry,
    pydantic_problems,
)
from cwledger.ledger.authority import Authority
from cwledger.ledger.sealing import (
    CIPHERTEXT_OVERHEAD,
    MIN_BUCKET,
    BoxCheck,
    SealGroup,
    open_checked,
    opening,
    seal,
)
from cwledger.model.classes import (
    CLEARANCE,
    Class,
    Unclassified,
    field_class,
    may_read,
    merge,
    split,
)
from cwledger.model.enckeys import DecryptionKey, EncryptionKey

__all__ = [
    "OPERATOR",
    "KeyLookup",
    "readers",
    "keys_at",
    "named_problems",
    "seal_body",
    "operator_box_key",
    "sealed_body_budget",
    "part_budget",
    "whole_body",
    "unseal",
    "unsealed",
]

OPERATOR = "operator"
"""The party whose key the log opens sealed bodies with (the server's own party)."""

KeyLookup = Callable[[str], DecryptionKey | None]
"""The operator's decryption key of a hex key id, or None when it is not at hand."""

_WHERE = f"payload.body.{SEALED}"


def _role(authority: Authority, author: str) -> str | None:
    party = authority.parties.get(author)
    return None if party is None else party.role


def readers(
    authority: Authority, author: str, level: Class, named: Iterable[str] = ()
) -> list[str]:
    """Who must read a confidential part of class `level` written by `author`: the
    operator, the author, every party whose clearance reads `level` and the parties the
    body names (`named`, its ``"recipients"``), by name.

    The declaring state always reads its own declaration: only a party of role
    declarant may write one (the registry's authors), so it is the author."""
    cleared = {p.name for p in authority.parties.values() if may_read(p.role, level)}
    return sorted({OPERATOR, author, *named} | cleared)


def never_named(authority: Authority, name: str) -> str | None:
    """Why party `name` may not be named a recipient of a sealed part, nor be shared one
    later (None when it may): a recipient is a party whose clearance is above public, so
    naming lifts it, for that event, to the part's class (a destruction facility named on
    an inspection's details, say); an observer or a witness reads public only, always."""
    party = authority.parties.get(name)
    if party is None:
        return f"{echo(name)} is not a party of this ledger"
    if not may_read(party.role, Class.RESTRICTED):
        clearance = CLEARANCE.get(party.role, Class.PUBLIC)
        return f"{name} is {party.role}, whose clearance ({clearance}) reads public only"
    return None


def named_problems(
    authority: Authority, named: object, keys: Mapping[str, EncryptionKey]
) -> list[Problem]:
    """Why the recipients a body names (its ``"recipients"``) may not read its sealed
    part (empty when they all may): a non-empty list of names in order, each once, each a
    party cleared above public (`never_named`) with an encryption key in `keys` (those in
    force at the entry)."""
    where = f"payload.body.{RECIPIENTS}"
    if not isinstance(named, list) or not named or not all(isinstance(n, str) for n in named):
        return [Problem(where, "a non-empty list of party names")]
    if named != sorted(set(named)):
        return [Problem(where, "in the order of their names, each once")]
    problems = []
    for name in named:
        why = never_named(authority, name)
        if why is not None:
            problems.append(Problem(where, why))
        elif name not in keys:
            problems.append(
                Problem(where, f"{name} has no encryption key: nothing can be sealed to it")
            )
    return problems


def sealed_body_budget(readers: int) -> int:
    """The most canonical JSON bytes of a body's confidential part that, sealed to `readers`
    parties, keeps its entry within MAX_ENTRY_BYTES: the ciphertext carries the seed, the
    salt, the part padded to its bucket and a tag (80 + bucket bytes, base64 in the
    payload, which DSSE base64-encodes again), each reader a box of 48 bytes (at most 160
    characters with its names), so the budget is the largest bucket that fits, less its
    0x80 marker. For splitting a declaration into parts (`intake.parts.declaration_parts`)."""
    room = MAX_ENTRY_BYTES * 3 // 4 - 2_000  # the payload, less the event's own fields

    def fits(size: int) -> bool:
        ciphertext = 4 * ((CIPHERTEXT_OVERHEAD + size + 2) // 3)
        return ciphertext + 200 + readers * 160 <= room  # 200: v, commitment, epk

    size = MIN_BUCKET
    while fits(2 * size):
        size *= 2
    return size - 1


def part_budget(authority: Authority, author: str, default: int) -> int:
    """The bytes a part of a body split across events (a declaration's) may hold when
    `author` writes it: `default`, or in a confidential ledger at most what sealed to the
    most readers any non-public class has keeps the entry within its limit."""
    if not authority.confidential:
        return default
    most = len(readers(authority, author, Class.RESTRICTED))
    return min(default, sealed_body_budget(most))


def keys_at(authority: Authority, index: int | None) -> dict[str, EncryptionKey]:
    """Every party's encryption key in force at `index` (None: now), for those with one."""
    out = {}
    for name in authority.parties:
        rec = authority.encryption_key(name, index)
        if rec is not None:
            out[name] = rec.key
    return out


def _level(body_type: Any, confidential: Mapping[str, Any], role: str | None) -> Class:
    return max(field_class(body_type, name, role) for name in confidential)


def seal_body(
    authority: Authority,
    event_type: str,
    author: str,
    body: Mapping[str, Any],
    recipients: Sequence[str] = (),
    *,
    group: SealGroup | None = None,
) -> dict[str, Any]:
    """The body as a confidential ledger logs it: its public fields, and the rest sealed
    to its readers' keys in force now under ``"sealed"`` (no ``"sealed"`` when nothing is
    above public). `recipients` (and any the body names under ``"recipients"``) are
    further readers of the sealed part, named in the body (`named_problems`); a body with
    nothing sealed names none (those the body itself names are refused). A governance
    event, an unknown type or a body that already holds a sealed part or a field its type
    does not have is returned as it is (the log judges it). `group`: the batch's
    `SealGroup` (the seals of a batch to exactly the same readers share their ephemeral
    key: fewer X25519 for the author and the log). Raises MalformedInput when the operator
    has no encryption key, or recipients are named that cannot read the sealed part (or
    there is none)."""
    etype = EVENT_TYPES.get(event_type)
    if etype is None or etype.governance or SEALED in body:
        return dict(body)
    given = body.get(RECIPIENTS, [])
    if not isinstance(given, list) or not all(isinstance(n, str) for n in given):
        raise MalformedInput(f"{RECIPIENTS}: a list of party names")
    named = sorted({*recipients, *given})
    role = _role(authority, author)
    try:
        public, confidential = split(
            etype.body, {k: v for k, v in body.items() if k != RECIPIENTS}, author_role=role
        )
    except Unclassified:
        return dict(body)
    if not confidential:
        if given:
            raise MalformedInput(
                f"nothing of this {event_type} is above public: it is not sealed, so it names"
                " no recipients"
            )
        return public
    keys = keys_at(authority, None)
    if OPERATOR not in keys:
        raise MalformedInput(
            f"the {OPERATOR} has no encryption key: this ledger cannot seal an event"
        )
    level = _level(etype.body, confidential, role)
    if named and (refused := named_problems(authority, named, keys)):
        raise MalformedInput("; ".join(f"{p.location}: {p.message}" for p in refused))
    to = {name: keys[name] for name in readers(authority, author, level, named) if name in keys}
    sealed = {**public, SEALED: seal(confidential, to, group=group)}
    return {**sealed, RECIPIENTS: named} if named else sealed


def operator_box_key(sealed: object) -> str | None:
    """The key id of the operator's box in a sealed part, or None if it has none (or the
    part is not even a list of boxes: `unseal` says why)."""
    boxes = sealed.get("boxes") if isinstance(sealed, Mapping) else None
    if not isinstance(boxes, list):
        return None
    for box in boxes:
        if isinstance(box, Mapping) and box.get("to") == OPERATOR:
            kid = box.get("key")
            return kid if isinstance(kid, str) else None
    return None


def whole_body(d: DecodedEntry, key: KeyLookup | None) -> dict[str, Any] | None:
    """The entry's whole body: as sent when it has no sealed part, else its public fields
    merged with what the operator's box holds; None if that box does not open. (Compares
    two envelopes of one event; `unseal` is the judgement.)"""
    if d.sealed is None:
        return d.event.body
    kid = operator_box_key(d.sealed)
    dk = None if kid is None or key is None else key(kid)
    if dk is None:
        return None
    try:
        confidential = opening(d.sealed, OPERATOR, dk).confidential
        public = {k: v for k, v in d.event.body.items() if k != SEALED}
        return merge(public, confidential)
    except (SealBroken, NotEntitled, ValueError):
        return None


def unseal(
    d: DecodedEntry,
    authority: Authority,
    index: int,
    key: KeyLookup,
) -> tuple[DecodedEntry | None, list[Problem]]:
    """Open a sealed entry at `index` with the operator's key and judge it (module doc).

    Returns the entry with its whole body (event and typed body) and no problem, or None
    and every problem found (locations as `decode_entry` gives them). `authority` is the
    one in force at the entry; its author must be a party of it. Every box is rebuilt
    (the costliest part: one X25519 a box, unless its seal shares its ephemeral key with
    one checked before; docs/sealing.md, "What admission computes").
    """
    assert d.sealed is not None
    if not authority.confidential:
        return None, [
            Problem(_WHERE, "this ledger is not confidential: an event's body holds no sealed part")
        ]
    kid = operator_box_key(d.sealed)
    if kid is None:
        return None, [
            Problem(_WHERE, f"no box for the {OPERATOR}: the log could not run the book's rules")
        ]
    dk = key(kid)
    if dk is None:
        return None, [
            Problem(_WHERE, f"the {OPERATOR}'s encryption key {echo(kid)} is not at hand")
        ]
    keys = keys_at(authority, index)
    try:
        opened, check = open_checked(d.sealed, OPERATOR, dk, keys)
    except (SealBroken, NotEntitled) as e:
        return None, [Problem(_WHERE, str(e))]
    boxes = functools.partial(_located, check)
    public = {k: v for k, v in d.event.body.items() if k not in (SEALED, RECIPIENTS)}
    try:
        whole = merge(public, opened.confidential)
    except ValueError as e:
        return None, [Problem(_WHERE, str(e))]
    body_type = d.etype.body
    try:
        typed = body_type.model_validate(whole)
    except ValidationError as e:
        return None, pydantic_problems(e, "payload.body")
    role = _role(authority, d.event.author)
    clear, hidden = split(body_type, whole, author_role=role)
    problems = [
        Problem(
            f"payload.body.{name}",
            f"is {field_class(body_type, name, role)}: it is sealed, not sent in the clear",
        )
        for name in sorted(set(public) - set(clear))
    ]
    problems += [
        Problem(_WHERE, f"{name} is public: it is sent in the clear, not sealed")
        for name in sorted(set(opened.confidential) - set(hidden))
    ]
    if not hidden:
        problems.append(Problem(_WHERE, "nothing of this body is above public: nothing to seal"))
    problems += boxes()
    if hidden:
        level = _level(body_type, hidden, role)
        boxed = {b["to"] for b in d.sealed["boxes"]}
        cleared = readers(authority, d.event.author, level)
        problems += [
            Problem(f"{_WHERE}.boxes", f"no box for {name}, whose clearance reads {level}")
            for name in cleared
            if name in keys and name not in boxed
        ]
        named = d.event.body.get(RECIPIENTS)
        if named is not None:
            refused = named_problems(authority, named, keys)
            problems += refused or [
                Problem(f"{_WHERE}.boxes", f"no box for {name}, a recipient the body names")
                for name in named
                if name not in boxed and name not in cleared
            ]
    if problems:
        return None, problems
    event = d.event.model_copy(update={"body": whole})
    return dataclasses.replace(d, event=event, body=typed), []


def _located(check: BoxCheck) -> list[Problem]:
    return [Problem(f"payload.body.{p.location}", p.message) for p in check()]


def unsealed(d: DecodedEntry, authority: Authority) -> list[Problem]:
    """Every field above public that an entry of a confidential ledger sends in the clear
    (each must be sealed); none for a ledger that is not confidential, a governance event
    or a sealed body (`unseal` judges that)."""
    if not authority.confidential or d.etype.governance or d.sealed is not None:
        return []
    role = _role(authority, d.event.author)
    _, confidential = split(d.etype.body, d.event.body, author_role=role)
    return [
        Problem(
            f"payload.body.{name}",
            f"is {field_class(d.etype.body, name, role)}: in a confidential ledger it must be"
            " sealed",
        )
        for name in sorted(confidential)
    ]
