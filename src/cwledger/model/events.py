"""The signed event: ``{type, id, time, author, body}`` and the governance bodies.

Domain event bodies (declarations, seals, transfers, ...) are in ``cwledger.model.bodies``
and every event type is registered in ``cwledger.book.registry``; this module holds the
envelope's payload and the governance bodies that the ledger core itself needs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from cwledger.errors import VerificationError
from cwledger.model._base import ObjectId, PartyName, Strict, Timestamp, empty_list
from cwledger.model.classes import PUBLIC
from cwledger.model.enckeys import EncryptionKeyString
from cwledger.time import from_rfc3339
from cwledger.tlog.cosignature import CosignatureVerifier
from cwledger.tlog.note import Verifier

__all__ = [
    "Role",
    "ROLES",
    "PartyName",
    "Event",
    "PartyEntry",
    "GenesisBody",
    "PartyRegisteredBody",
    "KeyRotatedBody",
    "KeyRevokedBody",
    "Approval",
    "GENESIS",
    "PARTY_REGISTERED",
    "KEY_ROTATED",
    "KEY_REVOKED",
    "WITNESS_POLICY",
    "ENCRYPTION_KEY_SET",
    "EncryptionKeySetBody",
    "PAYLOAD_SHARED",
    "SharedBox",
    "PayloadSharedBody",
    "WitnessEntry",
    "WitnessPolicyBody",
    "is_majority",
]

Role = Literal[
    "declarant", "inspectorate", "observer", "operator", "witness", "destruction_facility"
]
ROLES: tuple[Role, ...] = (
    "declarant",
    "inspectorate",
    "observer",
    "operator",
    "witness",
    "destruction_facility",
)

GENESIS = "ledger.genesis"
PARTY_REGISTERED = "party.registered"
KEY_ROTATED = "key.rotated"
KEY_REVOKED = "key.revoked"
WITNESS_POLICY = "witness.policy"
ENCRYPTION_KEY_SET = "encryption_key.set"
PAYLOAD_SHARED = "payload.shared"

EventType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")]
EventId = ObjectId
KeyIdHex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}$")]
# An Ed25519 signature (64 bytes) in standard base64.
Signature64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{86}==$")]


def _vkey(value: str) -> str:
    try:
        Verifier.from_vkey(value)
    except VerificationError as e:
        raise ValueError(f"not a C2SP Ed25519 verifier key: {e}") from e
    return value


VerifierKey = Annotated[str, AfterValidator(_vkey)]


def _cosignature_vkey(value: str) -> str:
    try:
        CosignatureVerifier.from_vkey(value)
    except VerificationError as e:
        raise ValueError(f"not a C2SP cosignature/v1 verifier key (type 0x04): {e}") from e
    return value


CosignatureKey = Annotated[str, AfterValidator(_cosignature_vkey)]
WitnessUrl = Annotated[
    str, StringConstraints(max_length=2000, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
]


class Event(Strict):
    """What an author signs. Its RFC 8785 bytes are the DSSE payload."""

    type: EventType
    id: EventId
    time: Timestamp
    author: PartyName
    body: dict[str, Any]


class PartyEntry(Strict):
    """A party with its role and its (first) C2SP verifier key, named after the party,
    and optionally its (first) X25519 encryption key (`enc_key`, also named after the
    party: ``cwledger.model.enckeys``), to which payloads it may read are sealed.

    Its mandate, if it has one, is the half-open span of event times [`mandate_from`,
    `mandate_until`) in which it may write domain events (either end open if absent): an
    event dated outside it is refused at admission."""

    name: Annotated[PartyName, PUBLIC]
    role: Annotated[Role, PUBLIC]
    key: Annotated[VerifierKey, PUBLIC]
    enc_key: Annotated[EncryptionKeyString | None, PUBLIC] = None
    mandate_from: Annotated[Timestamp | None, PUBLIC] = None
    mandate_until: Annotated[Timestamp | None, PUBLIC] = None

    @model_validator(mode="after")
    def _mandate_in_order(self) -> PartyEntry:
        if (
            self.mandate_from is not None
            and self.mandate_until is not None
            and from_rfc3339(self.mandate_until) <= from_rfc3339(self.mandate_from)
        ):
            raise ValueError("a mandate must end after it begins")
        return self


class GenesisBody(Strict):
    """The first entry: the log's origin and key, the founding parties, who registers, and
    how many founding parties make a quorum (`quorum`; absent: a majority of the founding
    parties other than the one concerned). `confidential` (absent: false) makes every
    event's fields above `public` sealed (``cwledger.ledger.confidential``)."""

    origin: Annotated[
        str, StringConstraints(min_length=1, max_length=255, pattern=r"^\S+$"), PUBLIC
    ]
    log_key: Annotated[VerifierKey, PUBLIC]
    parties: Annotated[list[PartyEntry], PUBLIC] = Field(min_length=1)
    registrars: Annotated[list[PartyName], PUBLIC] = Field(min_length=1)
    quorum: Annotated[Annotated[int, Field(ge=1, le=1000)] | None, PUBLIC] = None
    confidential: Annotated[bool, PUBLIC] = False


class Approval(Strict):
    """A founding party's signature (with its key valid at the entry) over the statement
    of a governance act: see ``cwledger.ledger.authority.approval_statement``."""

    party: PartyName
    keyid: KeyIdHex
    sig: Signature64


Approvals = Annotated[list[Approval], Field(max_length=100)]


class PartyRegisteredBody(PartyEntry):
    """A registrar adds a party after genesis; a role some party already holds also needs
    the approvals of a quorum of the founding parties."""

    approvals: Annotated[Approvals, PUBLIC] = empty_list()


class KeyRotatedBody(Strict):
    """A party's new key replaces its current ones from this entry on: signed by the party
    with its current key, or carrying the approvals of a quorum of the founding parties
    other than the party (its key lost or revoked)."""

    party: Annotated[PartyName, PUBLIC]
    key: Annotated[VerifierKey, PUBLIC]
    approvals: Annotated[Approvals, PUBLIC] = empty_list()


class EncryptionKeySetBody(Strict):
    """A party's encryption key from this entry on (its first, or a new one that replaces
    the one in force): signed by the party with its current signing key, or carrying the
    approvals of a quorum of the founding parties other than the party."""

    party: Annotated[PartyName, PUBLIC]
    enc_key: Annotated[EncryptionKeyString, PUBLIC]
    approvals: Annotated[Approvals, PUBLIC] = empty_list()


class SharedBox(Strict):
    """One earlier entry's sealed payload, in a copy sealed to the party a share names
    (``sealing.reseal``: base64 of its ephemeral key, box and ciphertext)."""

    entry: Annotated[int, Field(ge=1)]
    box: Annotated[str, StringConstraints(min_length=1, max_length=0xFFFF)]


class PayloadSharedBody(Strict):
    """Earlier sealed payloads opened to one more party (a recipient added later): for
    each entry named, a copy of that entry's salt and confidential part sealed to
    `party`'s encryption key `key`, in force at this entry. Sent by the operator or by the
    author of every entry named; the log opens its own box of each entry and rebuilds the
    copy byte for byte
    (``cwledger.ledger.sharing``). All public: who reads what is part of what the log
    proves, and a box is ciphertext."""

    party: Annotated[PartyName, PUBLIC]
    key: Annotated[KeyIdHex, PUBLIC]
    boxes: Annotated[list[SharedBox], Field(min_length=1, max_length=1000), PUBLIC]

    @model_validator(mode="after")
    def _in_order(self) -> PayloadSharedBody:
        entries = [b.entry for b in self.boxes]
        if entries != sorted(set(entries)):
            raise ValueError("the boxes are in the order of their entries, one each")
        return self


class KeyRevokedBody(Strict):
    """A key stops being valid from this entry on."""

    party: Annotated[PartyName, PUBLIC]
    key_id: Annotated[KeyIdHex, PUBLIC]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), PUBLIC]


class WitnessEntry(Strict):
    """A witness of the log: its submission URL (c2sp.org/tlog-witness; `/add-checkpoint`
    is appended) and its cosignature key (c2sp.org/tlog-cosignature, type 0x04)."""

    url: WitnessUrl
    key: CosignatureKey


def is_majority(quorum: int, witnesses: int) -> bool:
    """Whether `quorum` cosignatures are a majority of `witnesses` (and no more than all):
    the one rule of a witness policy's quorum, for the log's policy and for a bundle's
    alike. Two disjoint sets of honest witnesses cannot then each cosign one side of a
    split view."""
    return witnesses < 2 * quorum <= 2 * witnesses


class WitnessPolicyBody(Strict):
    """The ledger's witness policy from this entry on, whole: its witnesses and how many of
    them must cosign a checkpoint before the log publishes it (`quorum`, a majority of
    them: two disjoint quorums could otherwise each cosign one side of a split view; 0
    with no witness). Written by a registrar with the approvals of a quorum of the
    founding parties (every party then checks checkpoints against the same policy)."""

    witnesses: Annotated[list[WitnessEntry], PUBLIC] = Field(max_length=100)
    quorum: Annotated[int, Field(ge=0, le=100), PUBLIC]
    approvals: Annotated[Approvals, PUBLIC] = empty_list()

    @model_validator(mode="after")
    def _a_majority(self) -> WitnessPolicyBody:
        n = len(self.witnesses)
        if n == 0 and self.quorum != 0:
            raise ValueError("a policy without witnesses has quorum 0")
        if n and not is_majority(self.quorum, n):
            raise ValueError(
                f"quorum {self.quorum} of {n} witnesses: want a majority of them "
                f"({n // 2 + 1}..{n})"
            )
        keys = [w.key for w in self.witnesses]
        names = [k.split("+", 1)[0] for k in keys]
        if len(set(names)) != len(names):
            raise ValueError("two witnesses with the same key name")
        return self
