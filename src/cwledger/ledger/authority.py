"""Who is who in the log, replayed from its governance entries.

The genesis names the founding parties, their roles and keys (and, optionally, each
one's X25519 encryption key), the log's origin and checkpoint key, the registrars and
(optionally) the quorum; ``party.registered``, ``key.rotated``, ``key.revoked`` and
``encryption_key.set`` change that. Validity is by log position: a key is
valid from the entry that adds it up to and including the entry that rotates or revokes
it. The same replay serves the append path and the full audit, so they cannot disagree.

Who may change who writes (no party may install a key for another):

- ``key.rotated``: signed by the party itself with its current key; or, when that key is
  lost or revoked, carrying the approvals of a quorum of the founding parties other than
  the party (whoever sends it). A registrar alone cannot.
- ``encryption_key.set``: as ``key.rotated`` (the party itself, or a quorum of the
  founding parties other than it); the new encryption key replaces the one in force.
- ``key.revoked``: the party itself or a registrar (the party then writes nothing until it
  gets a new key from the quorum).
- ``party.registered``: a registrar; for a role that some party already holds, with the
  approvals of a quorum of the founding parties as well.
- ``witness.policy``: a registrar, with the approvals of a quorum of the founding parties
  (who checks the log's checkpoints, and how many must cosign, is every party's trust).

An approval is an Ed25519 signature, by the founding party's key valid at the entry, over
``approval_statement``: the DSSE pre-authentication encoding, with its own payload type,
of the RFC 8785 JSON of the log's origin, the event type and the body without its
approvals. Everything is in the entry: an outside verifier checks it from the log alone.
The quorum is the genesis's `quorum`, else a majority of the founding parties other than
the one concerned.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from pydantic import BaseModel

from cwledger.book.registry import EventType
from cwledger.errors import InvalidSignature, MalformedInput, Problem
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.envelope import pae
from cwledger.ledger.signatures import verify_ed25519
from cwledger.model.enckeys import EncryptionKey
from cwledger.model.events import (
    ENCRYPTION_KEY_SET,
    GENESIS,
    KEY_ROTATED,
    PARTY_REGISTERED,
    WITNESS_POLICY,
    Approval,
    EncryptionKeySetBody,
    GenesisBody,
    KeyRevokedBody,
    KeyRotatedBody,
    PartyEntry,
    PartyRegisteredBody,
    PayloadSharedBody,
    Role,
    WitnessEntry,
    WitnessPolicyBody,
)
from cwledger.time import from_rfc3339
from cwledger.tlog.note import Verifier

__all__ = [
    "APPROVAL_TYPE",
    "Authority",
    "EncKeyRecord",
    "EventHead",
    "KeyRecord",
    "PartyRecord",
    "WitnessPolicy",
    "approval_statement",
    "approved_body",
]

APPROVAL_TYPE = "application/vnd.cwledger.approval+json"
"""The DSSE payload type of an approval: never the one of an event, so a signature over
one can never stand for the other."""


def approved_body(event_type: str, body: BaseModel) -> dict[str, Any]:
    """What an approval of a governance act covers: its body without the approvals."""
    approved = {
        KEY_ROTATED: KeyRotatedBody,
        PARTY_REGISTERED: PartyRegisteredBody,
        WITNESS_POLICY: WitnessPolicyBody,
        ENCRYPTION_KEY_SET: EncryptionKeySetBody,
    }
    if not isinstance(body, approved.get(event_type, ())):
        raise MalformedInput(f"{event_type} is not approved by a quorum")
    out = body.model_dump(mode="json", exclude={"approvals"})
    for end in ("mandate_from", "mandate_until", "enc_key"):  # absent, as in older approvals
        if out.get(end, "") is None:
            del out[end]
    return out


def approval_statement(origin: str, event_type: str, body: dict[str, Any]) -> bytes:
    """The bytes a founding party signs to approve a governance act in the log `origin`."""
    doc = {"origin": origin, "type": event_type, "body": body}
    return pae(APPROVAL_TYPE, canonical_json(doc))


class EventHead(Protocol):
    """What authorisation reads of an event: its type, its author and its time."""

    @property
    def type(self) -> str: ...

    @property
    def author(self) -> str: ...

    @property
    def time(self) -> str: ...


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
class EncKeyRecord:
    """One X25519 encryption key of a party; an entry at added_at ..= retired_by (if
    retired) may be sealed to it. The key after it replaces it at its entry."""

    party: str
    enc_key: str
    key_id: str
    public_key: bytes
    added_at: int
    retired_by: int | None = None

    def valid_at(self, index: int) -> bool:
        """Whether an entry at log index `index` may be sealed to this key."""
        return self.added_at <= index and (self.retired_by is None or index <= self.retired_by)

    @cached_property
    def key(self) -> EncryptionKey:
        """The key, to seal to (parsed once: enc_key never changes)."""
        return EncryptionKey.from_string(self.enc_key)


@dataclass
class PartyRecord:
    """A party of the ledger, its role and its mandate: the half-open span of event times
    [mandate_from, mandate_until) in which it may write domain events (None: open)."""

    name: str
    role: Role
    registered_at: int
    mandate_from: str | None = None
    mandate_until: str | None = None

    def outside_mandate(self, time: str) -> str | None:
        """Why an event dated `time` is outside this party's mandate, or None if inside.
        (`time` is an event's, already checked by its schema: an open mandate need not read
        it.)"""
        if self.mandate_from is None and self.mandate_until is None:
            return None
        at = from_rfc3339(time)
        if self.mandate_from is not None and at < from_rfc3339(self.mandate_from):
            return (
                f"{self.name} may write from {self.mandate_from} (its mandate); "
                f"this event is dated {time}"
            )
        if self.mandate_until is not None and at >= from_rfc3339(self.mandate_until):
            return (
                f"the mandate of {self.name} ended at {self.mandate_until}; "
                f"this event is dated {time}"
            )
        return None


@dataclass(frozen=True)
class WitnessPolicy:
    """The witnesses in force and how many must cosign a checkpoint (none and 0: the log
    is trusted alone), from the log entry `since` (None: from the genesis)."""

    witnesses: tuple[WitnessEntry, ...] = ()
    quorum: int = 0
    since: int | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The witnesses' verifier keys, in the policy's order."""
        return tuple(w.key for w in self.witnesses)


@dataclass
class Authority:
    """The parties, roles and keys in force, as replayed up to some log size."""

    origin: str | None = None
    log_vkey: str | None = None
    registrars: frozenset[str] = frozenset()
    founders: tuple[str, ...] = ()
    quorum: int | None = None
    confidential: bool = False  # the genesis says every non-public field is sealed
    parties: dict[str, PartyRecord] = field(default_factory=dict)
    keys: dict[tuple[str, str], KeyRecord] = field(default_factory=dict)
    enc_keys: dict[tuple[str, str], EncKeyRecord] = field(default_factory=dict)
    witness_policy: WitnessPolicy = WitnessPolicy()

    @property
    def has_genesis(self) -> bool:
        """Whether the genesis entry has been applied."""
        return self.origin is not None

    def encryption_key(self, party: str, index: int | None = None) -> EncKeyRecord | None:
        """The encryption key of `party` in force at log index `index` (default: now), or
        None if it has none (an older ledger, or a party that never set one)."""
        found = None
        for rec in self.enc_keys.values():
            if rec.party != party:
                continue
            if index is None and rec.retired_by is None:
                return rec
            if index is not None and rec.valid_at(index):
                found = rec  # at a rotation's own index, the newer key (added last)
        return found

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
            if party.role not in etype.authors:
                allowed = ", ".join(sorted(etype.authors))
                return [
                    Problem("type", f"role {party.role} may not write {event.type} ({allowed} may)")
                ]
            outside = party.outside_mandate(event.time)
            return [] if outside is None else [Problem("time", outside)]
        return self._check_governance(event, body, index)

    def quorum_for(self, concerned: str | None) -> tuple[int, list[str]]:
        """How many approvals a governance act about `concerned` needs, and from whom:
        the founding parties other than `concerned`."""
        eligible = [f for f in self.founders if f != concerned]
        k = self.quorum if self.quorum is not None else len(eligible) // 2 + 1
        return k, eligible

    def _check_approvals(
        self, event: EventHead, body: BaseModel, concerned: str | None, index: int, why: str
    ) -> list[Problem]:
        """Whether the body's approvals make a quorum of founding parties (but `concerned`),
        each signed with that party's key valid at `index` over the act's statement."""
        approvals: list[Approval] = getattr(body, "approvals", [])
        k, eligible = self.quorum_for(concerned)
        assert self.origin is not None
        statement = approval_statement(self.origin, event.type, approved_body(event.type, body))
        problems: list[Problem] = []
        counted: set[str] = set()
        for i, a in enumerate(approvals):
            where = f"body.approvals[{i}]"
            if a.party not in eligible:
                problems.append(
                    Problem(where, f"{a.party} is not a founding party that may approve this")
                )
                continue
            if a.party in counted:
                problems.append(Problem(where, f"{a.party} approves twice"))
                continue
            rec = self.keys.get((a.party, a.keyid))
            if rec is None or not rec.valid_at(index):
                problems.append(Problem(where, f"{a.party} has no valid key {a.keyid}"))
                continue
            try:
                verify_ed25519(rec.public_key, statement, base64.b64decode(a.sig))
            except InvalidSignature:
                problems.append(
                    Problem(where, f"the approval of {a.party} does not verify with its key")
                )
                continue
            counted.add(a.party)
        if not problems and len(counted) < k:
            problems.append(
                Problem(
                    "body.approvals",
                    f"{why}: {event.type} needs the approvals of {k} of the founding parties "
                    f"{', '.join(eligible) or '(none)'}; it has {len(counted)}",
                )
            )
        return problems

    def _check_governance(
        self, event: EventHead, body: BaseModel | None, index: int
    ) -> list[Problem]:
        problems: list[Problem] = []
        author = event.author
        if isinstance(body, PartyRegisteredBody):
            if author not in self.registrars:
                problems.append(Problem("author", f"{author} is not a registrar of this ledger"))
            if body.name in self.parties:
                problems.append(Problem("body.name", f"party {body.name!r} is already registered"))
            problems += _check_key_name(body, "body.key")
            problems += _check_enc_key_name(body.name, body.enc_key, "body.enc_key")
            holders = sorted(p.name for p in self.parties.values() if p.role == body.role)
            if holders or body.approvals:
                why = f"role {body.role} is already held by {', '.join(holders)}"
                problems += self._check_approvals(event, body, None, index, why)
        elif isinstance(body, WitnessPolicyBody):
            if author not in self.registrars:
                problems.append(Problem("author", f"{author} is not a registrar of this ledger"))
            why = "the witness policy is every party's trust"
            problems += self._check_approvals(event, body, None, index, why)
        elif isinstance(body, EncryptionKeySetBody):
            if body.party not in self.parties:
                problems.append(Problem("body.party", f"unknown party {body.party!r}"))
            else:
                problems += _check_enc_key_name(body.party, body.enc_key, "body.enc_key")
                kid = EncryptionKey.from_string(body.enc_key).key_id.hex()
                if (body.party, kid) in self.enc_keys:
                    problems.append(
                        Problem(
                            "body.enc_key",
                            f"encryption key {kid} was already used by {body.party}",
                        )
                    )
                if body.approvals or author != body.party:
                    why = (
                        f"{author} may not set an encryption key for {body.party} (it is set "
                        "by its party with its current signing key, or by a quorum)"
                    )
                    problems += self._check_approvals(event, body, body.party, index, why)
        elif isinstance(body, KeyRotatedBody | KeyRevokedBody):
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
                if body.approvals or author != body.party:
                    why = (
                        f"{author} may not install a key for {body.party} (a key is rotated "
                        "by its party with its current key, or installed by a quorum)"
                    )
                    problems += self._check_approvals(event, body, body.party, index, why)
            elif author != body.party and author not in self.registrars:
                problems.append(
                    Problem("author", f"{author} may not revoke the keys of {body.party}")
                )
            else:
                rec = self.keys.get((body.party, body.key_id))
                if rec is None or rec.retired_by is not None:
                    problems.append(
                        Problem("body.key_id", f"{body.party} has no valid key {body.key_id}")
                    )
        elif isinstance(body, PayloadSharedBody):
            # Who may share each entry, and what each box holds, the log decides with the
            # entries and its key (cwledger.ledger.sharing); here only the recipient.
            enc = self.encryption_key(body.party, index)
            if body.party not in self.parties:
                problems.append(Problem("body.party", f"unknown party {body.party!r}"))
            elif enc is None:
                problems.append(Problem("body.party", f"{body.party} has no encryption key"))
            elif enc.key_id != body.key:
                problems.append(
                    Problem(
                        "body.key",
                        f"not the encryption key of {body.party} in force ({enc.key_id})",
                    )
                )
        return problems

    def apply(self, body: BaseModel | None, index: int) -> None:
        """Apply an accepted entry at `index` (only governance entries change anything)."""
        if isinstance(body, GenesisBody):
            self.origin, self.log_vkey = body.origin, body.log_key
            self.registrars = frozenset(body.registrars)
            self.founders = tuple(p.name for p in body.parties)
            self.quorum = body.quorum
            self.confidential = body.confidential
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
        elif isinstance(body, WitnessPolicyBody):
            self.witness_policy = WitnessPolicy(tuple(body.witnesses), body.quorum, index)
        elif isinstance(body, EncryptionKeySetBody):
            self._set_enc_key(body.party, body.enc_key, index)

    def _add_party(self, p: PartyEntry, index: int) -> None:
        self.parties[p.name] = PartyRecord(p.name, p.role, index, p.mandate_from, p.mandate_until)
        rec = _key_record(p.name, p.key, index)
        self.keys[(p.name, rec.key_id)] = rec
        if p.enc_key is not None:
            self._set_enc_key(p.name, p.enc_key, index)

    def _set_enc_key(self, party: str, enc_key: str, index: int) -> None:
        for rec in self.enc_keys.values():
            if rec.party == party and rec.retired_by is None:
                rec.retired_by = index
        key = EncryptionKey.from_string(enc_key)
        new = EncKeyRecord(party, enc_key, key.key_id.hex(), key.public_key, index)
        self.enc_keys[(party, new.key_id)] = new


def _key_record(party: str, vkey: str, index: int) -> KeyRecord:
    v = Verifier.from_vkey(vkey)
    return KeyRecord(party, vkey, v.key_id.hex(), v.public_key, index)


def _check_key_name(p: PartyEntry, where: str) -> list[Problem]:
    name = Verifier.from_vkey(p.key).name
    if name != p.name:
        return [Problem(where, f"key is named {name!r}, want the party name {p.name!r}")]
    return []


def _check_enc_key_name(party: str, enc_key: str | None, where: str) -> list[Problem]:
    if enc_key is None:
        return []
    name = EncryptionKey.from_string(enc_key).name
    if name != party:
        return [Problem(where, f"encryption key is named {name!r}, want the party name {party!r}")]
    return []


def _check_genesis(event: EventHead, body: GenesisBody) -> list[Problem]:
    problems: list[Problem] = []
    names = [p.name for p in body.parties]
    if len(set(names)) != len(names):
        problems.append(Problem("body.parties", "party names must be unique"))
    for i, p in enumerate(body.parties):
        problems += _check_key_name(p, f"body.parties[{i}].key")
        problems += _check_enc_key_name(p.name, p.enc_key, f"body.parties[{i}].enc_key")
    roles = {p.name: p.role for p in body.parties}
    if roles.get(event.author) != "operator":
        problems.append(Problem("author", "the genesis is written by a founding operator"))
    unknown = sorted(set(body.registrars) - set(names))
    if unknown:
        problems.append(Problem("body.registrars", f"not founding parties: {', '.join(unknown)}"))
    if body.quorum is not None and body.quorum > len(names) - 1:
        problems.append(
            Problem(
                "body.quorum",
                f"a quorum of {body.quorum} cannot be met by the {len(names) - 1} founding "
                "parties other than one of them",
            )
        )
    log_name = Verifier.from_vkey(body.log_key).name
    if log_name != body.origin:
        problems.append(
            Problem("body.log_key", f"checkpoint key is named {log_name!r}, want the origin")
        )
    return problems
