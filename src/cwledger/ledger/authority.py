"""Who is who in the log, replayed from its governance entries.

The genesis names the founding parties, their roles and keys, the log's origin and
checkpoint key, and the registrars; ``party.registered``, ``key.rotated`` and
``key.revoked`` change that. Validity is by log position: a key is valid from the
entry that adds it up to and including the entry that rotates or revokes it. The same
replay serves the append path and the full audit, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from cwledger.book.registry import EventType
from cwledger.errors import Problem
from cwledger.model.events import (
    GENESIS,
    GenesisBody,
    KeyRevokedBody,
    KeyRotatedBody,
    PartyEntry,
    PartyRegisteredBody,
    Role,
)
from cwledger.tlog.note import Verifier

__all__ = ["Authority", "EventHead", "KeyRecord", "PartyRecord"]


class EventHead(Protocol):
    """What authorisation reads of an event: its type and its author."""

    @property
    def type(self) -> str: ...

    @property
    def author(self) -> str: ...


@dataclass
class KeyRecord:
    """One Ed25519 key of a party; it may sign entries added_at ..= retired_by (if retired)."""

    party: str
    vkey: str
    key_id: str
    public_key: bytes
    added_at: int
    retired_by: int | None = None
    retired_how: str | None = None

    def valid_at(self, index: int) -> bool:
        """Whether an entry at log index `index` may be signed with this key."""
        return self.added_at <= index and (self.retired_by is None or index <= self.retired_by)

    @property
    def status(self) -> str:
        """`valid`, `rotated` or `revoked`."""
        return self.retired_how or "valid"


@dataclass
class PartyRecord:
    """A party of the ledger and its role."""

    name: str
    role: Role
    registered_at: int


@dataclass
class Authority:
    """The parties, roles and keys in force, as replayed up to some log size."""

    origin: str | None = None
    log_vkey: str | None = None
    registrars: frozenset[str] = frozenset()
    parties: dict[str, PartyRecord] = field(default_factory=dict)
    keys: dict[tuple[str, str], KeyRecord] = field(default_factory=dict)

    @property
    def has_genesis(self) -> bool:
        """Whether the genesis entry has been applied."""
        return self.origin is not None

    def key_for(
        self, event: EventHead, body: BaseModel | None, keyid: str, index: int
    ) -> KeyRecord | Problem:
        """The key that must have signed this entry, or the reason there is none."""
        if isinstance(body, GenesisBody):  # the genesis is signed by a key it declares
            for p in body.parties:
                if p.name == event.author:
                    rec = _key_record(p.name, p.key, index)
                    if rec.key_id == keyid:
                        return rec
            return Problem("signatures[0].keyid", f"key {keyid} is not the author's genesis key")
        if event.author not in self.parties:
            return Problem("author", f"unknown party {event.author!r}")
        found = self.keys.get((event.author, keyid))
        if found is None:
            return Problem("signatures[0].keyid", f"{event.author} has no key {keyid}")
        rec = found
        if not rec.valid_at(index):
            return Problem(
                "signatures[0].keyid",
                f"key {keyid} of {event.author} was {rec.status} by entry {rec.retired_by}; "
                f"not valid for entry {index}",
            )
        return rec

    def check(
        self, event: EventHead, etype: EventType[Any], body: BaseModel | None, index: int
    ) -> list[Problem]:
        """Every reason this entry may not be appended at `index` (empty if it may)."""
        if not self.has_genesis:
            if event.type != GENESIS or index != 0:
                return [Problem("type", f"entry 0 must be {GENESIS}, got {event.type}")]
        elif event.type == GENESIS:
            return [Problem("type", "the ledger already has its genesis at entry 0")]
        if isinstance(body, GenesisBody):
            return _check_genesis(event, body)
        party = self.parties.get(event.author)
        if party is None:
            return [Problem("author", f"unknown party {event.author!r}")]
        if not etype.governance:
            if party.role in etype.authors:
                return []
            allowed = ", ".join(sorted(etype.authors))
            return [
                Problem("type", f"role {party.role} may not write {event.type} ({allowed} may)")
            ]
        return self._check_governance(event, body)

    def _check_governance(self, event: EventHead, body: BaseModel | None) -> list[Problem]:
        problems: list[Problem] = []
        author = event.author
        if isinstance(body, PartyRegisteredBody):
            if author not in self.registrars:
                problems.append(Problem("author", f"{author} is not a registrar of this ledger"))
            if body.name in self.parties:
                problems.append(Problem("body.name", f"party {body.name!r} is already registered"))
            problems += _check_key_name(body, "body.key")
        elif isinstance(body, KeyRotatedBody | KeyRevokedBody):
            if author != body.party and author not in self.registrars:
                problems.append(
                    Problem("author", f"{author} may not change the keys of {body.party}")
                )
            if body.party not in self.parties:
                problems.append(Problem("body.party", f"unknown party {body.party!r}"))
            elif isinstance(body, KeyRotatedBody):
                problems += _check_key_name(
                    PartyEntry(name=body.party, role="observer", key=body.key), "body.key"
                )
                kid = Verifier.from_vkey(body.key).key_id.hex()
                if (body.party, kid) in self.keys:
                    problems.append(
                        Problem("body.key", f"key {kid} was already used by {body.party}")
                    )
            else:
                rec = self.keys.get((body.party, body.key_id))
                if rec is None or rec.retired_by is not None:
                    problems.append(
                        Problem("body.key_id", f"{body.party} has no valid key {body.key_id}")
                    )
        return problems

    def apply(self, body: BaseModel | None, index: int) -> None:
        """Apply an accepted entry at `index` (only governance entries change anything)."""
        if isinstance(body, GenesisBody):
            self.origin, self.log_vkey = body.origin, body.log_key
            self.registrars = frozenset(body.registrars)
            for p in body.parties:
                self._add_party(p, index)
        elif isinstance(body, PartyRegisteredBody):
            self._add_party(body, index)
        elif isinstance(body, KeyRotatedBody):
            for rec in self.keys.values():
                if rec.party == body.party and rec.retired_by is None:
                    rec.retired_by, rec.retired_how = index, "rotated"
            new = _key_record(body.party, body.key, index)
            self.keys[(body.party, new.key_id)] = new
        elif isinstance(body, KeyRevokedBody):
            rec = self.keys[(body.party, body.key_id)]
            rec.retired_by, rec.retired_how = index, "revoked"

    def _add_party(self, p: PartyEntry, index: int) -> None:
        self.parties[p.name] = PartyRecord(p.name, p.role, index)
        rec = _key_record(p.name, p.key, index)
        self.keys[(p.name, rec.key_id)] = rec


def _key_record(party: str, vkey: str, index: int) -> KeyRecord:
    v = Verifier.from_vkey(vkey)
    return KeyRecord(party, vkey, v.key_id.hex(), v.public_key, index)


def _check_key_name(p: PartyEntry, where: str) -> list[Problem]:
    name = Verifier.from_vkey(p.key).name
    if name != p.name:
        return [Problem(where, f"key is named {name!r}, want the party name {p.name!r}")]
    return []


def _check_genesis(event: EventHead, body: GenesisBody) -> list[Problem]:
    problems: list[Problem] = []
    names = [p.name for p in body.parties]
    if len(set(names)) != len(names):
        problems.append(Problem("body.parties", "party names must be unique"))
    for i, p in enumerate(body.parties):
        problems += _check_key_name(p, f"body.parties[{i}].key")
    roles = {p.name: p.role for p in body.parties}
    if roles.get(event.author) != "operator":
        problems.append(Problem("author", "the genesis is written by a founding operator"))
    unknown = sorted(set(body.registrars) - set(names))
    if unknown:
        problems.append(Problem("body.registrars", f"not founding parties: {', '.join(unknown)}"))
    log_name = Verifier.from_vkey(body.log_key).name
    if log_name != body.origin:
        problems.append(
            Problem("body.log_key", f"checkpoint key is named {log_name!r}, want the origin")
        )
    return problems
