"""What one party reads of a confidential ledger, checked with its own keys: `cwledger
verify --as PARTY` (issue 16; docs/sealing.md, "Verifying as a party").

For every sealed entry, the party looks for its own box, then for the boxes shared with
it later (``payload.shared``, `cwledger.ledger.sharing`). One that its keys open is
checked as the log checked it at admission (`unseal`), from that party's side: the box
holds what the commitment commits to, every other box holds the same payload under its
party's key in force at the entry (the party knows the salt, so it rebuilds them), the
merged body validates, the fields in the clear are exactly the public ones, and every
reader and named recipient has a box. An entry with no box and no share for the party is
one it is not entitled to read; one with a box whose key is not in its keystore (a lost
key) is one it cannot read.

When the party reads every sealed entry, the book is replayed from its openings and
compared with the stored one (`projections.check_book` with an `Opener`): the party then
knows the operator's book is the one its own reading gives. When it cannot, nothing is
replayed, and the reading says how many entries and why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from cwledger.errors import NotEntitled, Problem, SealBroken
from cwledger.ledger.admission import RECIPIENTS, SEALED, DecodedEntry, decode_entry
from cwledger.ledger.authority import Authority
from cwledger.ledger.confidential import KeyLookup, keys_at, named_problems, readers
from cwledger.ledger.projections import Progress, check_book
from cwledger.ledger.sealing import Opened, check_boxes, opening
from cwledger.ledger.sharing import shared_boxes, shared_part
from cwledger.model.classes import field_class, merge, split
from cwledger.model.enckeys import EncryptionKey
from cwledger.model.events import PAYLOAD_SHARED
from cwledger.store import LogReader, Store

__all__ = ["Reading", "PartyOpener", "read_as", "verify_as"]

Status = Literal["opened", "shared", "not-entitled", "no-key", "broken"]
_WHERE = f"payload.body.{SEALED}"


@dataclass
class Reading:
    """What `party` read of the sealed entries of a log."""

    party: str
    sealed: int = 0  # entries with a sealed part
    opened: int = 0  # opened from the party's own box and checked
    shared: int = 0  # opened from a box shared with it later and checked
    not_entitled: list[int] = field(default_factory=list)  # no box, no share
    no_key: list[int] = field(default_factory=list)  # a box, but no key here opens it
    broken: list[tuple[int, str]] = field(default_factory=list)  # opened, and refused
    replayed: bool = False  # the book replayed from the party's openings, and it agrees

    @property
    def unread(self) -> int:
        """The sealed entries the party could not read (not entitled, or no key)."""
        return len(self.not_entitled) + len(self.no_key)

    @property
    def complete(self) -> bool:
        """Whether the party read every sealed entry and found nothing wrong."""
        return not self.unread and not self.broken


class PartyOpener:
    """Opens sealed entries as `party` with `key` (its decryption keys by key id) and the
    boxes `shares` shared with it (by entry), judging each as the log did (module doc).
    Callable as a `projections.Opener`."""

    def __init__(
        self, party: str, key: KeyLookup, shares: Mapping[int, list[dict[str, Any]]]
    ) -> None:
        self.party = party
        self.key = key
        self.shares = shares

    def read(
        self, d: DecodedEntry, authority: Authority, index: int
    ) -> tuple[Status, DecodedEntry | None, list[Problem]]:
        """How the party reads the sealed entry `d` at `index`: its status, the entry with
        its whole body when opened and sound, and the problems."""
        assert d.sealed is not None
        boxes = d.sealed.get("boxes")
        own = [b for b in (boxes if isinstance(boxes, list) else []) if isinstance(b, Mapping)]
        candidates: list[tuple[Status, dict[str, Any]]] = [
            ("opened", d.sealed) for b in own if b.get("to") == self.party
        ]
        candidates += [
            ("shared", shared_part(d.sealed, self.party, b["key"], b["box"]))
            for b in self.shares.get(index, [])
        ]
        if not candidates:
            return "not-entitled", None, []
        keys = keys_at(authority, index)
        for status, part in candidates:
            kid = part["boxes"][0]["key"] if status == "shared" else _box_key(part, self.party)
            dk = None if kid is None else self.key(kid)
            if dk is None:
                continue
            try:
                opened = opening(part, self.party, dk)
            except (SealBroken, NotEntitled) as e:
                return "broken", None, [Problem(_WHERE, str(e))]
            whole, problems = self._judge(d, authority, opened, keys, status == "shared")
            return (status, whole, []) if whole is not None else ("broken", None, problems)
        return "no-key", None, []

    def __call__(
        self, d: DecodedEntry, authority: Authority, index: int
    ) -> tuple[DecodedEntry | None, list[Problem]]:
        status, whole, problems = self.read(d, authority, index)
        if whole is None and not problems:
            why = "it is not sealed to" if status == "not-entitled" else "no key here opens it for"
            problems = [Problem(_WHERE, f"{why} {self.party}")]
        return whole, problems

    def _judge(
        self,
        d: DecodedEntry,
        authority: Authority,
        opened: Opened,
        keys: Mapping[str, EncryptionKey],
        shared: bool,
    ) -> tuple[DecodedEntry | None, list[Problem]]:
        """`unseal`'s judgement of an opened entry, from the party's side. A copy shared
        with the party holds its own seed, not the entry's: the entry's other boxes are
        not rebuilt from it (the log rebuilt the copy from its own box at the share)."""
        assert d.sealed is not None
        problems = [
            Problem(f"payload.body.{p.location}", p.message)
            for p in ([] if shared else check_boxes(d.sealed, opened, keys))
        ]
        public = {k: v for k, v in d.event.body.items() if k not in (SEALED, RECIPIENTS)}
        try:
            whole = merge(public, opened.confidential)
            typed = d.etype.body.model_validate(whole)
        except ValueError as e:  # pydantic's ValidationError is one
            detail = e.errors()[0]["msg"] if isinstance(e, ValidationError) else str(e)
            return None, [*problems, Problem("payload.body", detail)]
        author = authority.parties.get(d.event.author)
        role = None if author is None else author.role
        clear, hidden = split(d.etype.body, whole, author_role=role)
        if set(clear) != set(public) or set(hidden) != set(opened.confidential) or not hidden:
            problems.append(Problem(_WHERE, "the fields sealed are not exactly those above public"))
        else:
            level = max(field_class(d.etype.body, n, role) for n in hidden)
            boxed = {b["to"] for b in d.sealed["boxes"]}
            named = d.event.body.get(RECIPIENTS)
            problems += named_problems(authority, named, keys) if named else []
            problems += [
                Problem(f"{_WHERE}.boxes", f"no box for {name}")
                for name in readers(authority, d.event.author, level, named or [])
                if name in keys and name not in boxed
            ]
        if problems:
            return None, problems
        event = d.event.model_copy(update={"body": whole})
        return dataclasses.replace(d, event=event, body=typed), []


def _box_key(sealed: Mapping[str, Any], party: str) -> str | None:
    for b in sealed["boxes"]:
        if isinstance(b, Mapping) and b.get("to") == party:
            kid = b.get("key")
            return kid if isinstance(kid, str) else None
    return None


def _opener(reader: LogReader, party: str, key: KeyLookup) -> PartyOpener:
    shares = shared_boxes((e.envelope for e in reader.entries_of_types([PAYLOAD_SHARED])), party)
    return PartyOpener(party, key, shares)


def read_as(reader: LogReader, party: str, key: KeyLookup) -> Reading:
    """Open and check every sealed entry of the log `party` can (module doc)."""
    opener = _opener(reader, party, key)
    reading = Reading(party)
    authority = Authority()
    for chunk in reader.iter_entries():
        for e in chunk:
            d = decode_entry(e.envelope, check_canonical=False)
            if d.etype.governance:
                authority.apply(d.body, e.index)
                continue
            if d.sealed is None:
                continue
            reading.sealed += 1
            status, _, problems = opener.read(d, authority, e.index)
            if status == "opened":
                reading.opened += 1
            elif status == "shared":
                reading.shared += 1
            elif status == "not-entitled":
                reading.not_entitled.append(e.index)
            elif status == "no-key":
                reading.no_key.append(e.index)
            else:
                why = "; ".join(f"{p.location}: {p.message}" for p in problems)
                reading.broken.append((e.index, why))
    return reading


def verify_as(
    store: Store, party: str, key: KeyLookup, progress: Progress | None = None
) -> Reading:
    """`read_as`, then, when the party read every sealed entry, the book replayed from its
    openings and compared with the stored one (raises BookMismatch if they differ)."""
    with store.read() as r:
        reading = read_as(r, party, key)
        opener = _opener(r, party, key)
    if reading.complete:
        check_book(store, progress, opener=opener)
        reading.replayed = True
    return reading
