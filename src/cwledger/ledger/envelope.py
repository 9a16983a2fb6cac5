"""DSSE envelopes around cwledger events (in-toto/secure-systems-lab DSSE v1).

The signature covers ``PAE(payloadType, payload)``; the payload is the RFC 8785
JSON of an ``Event``. The leaf in the log is the RFC 8785 JSON of the whole envelope,
so an envelope has one byte form whatever whitespace it was submitted with.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cwledger.errors import MalformedInput, echo
from cwledger.ledger.canonical import canonical_json, parse_json_object
from cwledger.model.events import Event
from cwledger.tlog.note import Signer

__all__ = ["PAYLOAD_TYPE", "Envelope", "cut_leaf", "pae", "sign_event"]

PAYLOAD_TYPE = "application/vnd.cwledger.event+json"


def _json(text: str) -> bytes:
    """A JSON string as RFC 8785 writes it."""
    return json.dumps(text, ensure_ascii=False).encode()


_PAYLOAD_TYPE_JSON = _json(PAYLOAD_TYPE)
_HEX = re.compile(r"[0-9a-f]*")  # a key id as the log writes it: no character to escape

# The canonical envelope's fixed parts around its payload, key id and signature
# (`Envelope.to_bytes`): the log's leaves and well-formed submissions are in this form.
_HEAD = b'{"payload":"'
_AFTER_PAYLOAD = b'","payloadType":' + _PAYLOAD_TYPE_JSON + b',"signatures":[{"keyid":"'
_AFTER_KEYID = b'","sig":"'
_TAIL = b'"}]}'
# The whole of it, cut in one match: the payload and the signature up to their quotes, a
# key id of lower-case hex (`_HEX`).
_CANONICAL = re.compile(
    re.escape(_HEAD)
    + b'([^"]*)'
    + re.escape(_AFTER_PAYLOAD)
    + b"([0-9a-f]*)"
    + re.escape(_AFTER_KEYID)
    + b'([^"]*)'
    + re.escape(_TAIL),
    re.DOTALL,
)
# Base64 characters whose value ends in 4 (before "==") or 2 (before "=") zero bits: only
# these end a canonical encoding, since the decoder drops those bits.
_LOW4_ZERO = frozenset(b"AQgw")
_LOW2_ZERO = frozenset(b"AEIMQUYcgkosw048")


def _unused_bits_zero(b64: bytes) -> bool:
    """Whether base64 that decoded strictly is the encoding of what it decodes to: its
    padding leaves no bit set that the decoder drops."""
    if b64.endswith(b"=="):
        return b64[-3] in _LOW4_ZERO
    if b64.endswith(b"="):
        return b64[-2] in _LOW2_ZERO
    return True


def cut_leaf(data: bytes) -> tuple[bytes, str, bytes, bool] | None:
    """(payload, key id, signature, whether `data` is their canonical encoding) of an
    envelope in `Envelope.to_bytes`'s form with our payload type, a hex key id and a
    64-byte signature; else None (another form, which `Envelope.from_bytes` parses in
    full). Base64 and hex hold no quote or backslash, so cutting at the quotes reads the
    strings a JSON parser would. (The audit reads every stored entry by it.)"""
    cut = _CANONICAL.fullmatch(data)
    if cut is None:
        return None
    payload_b64, keyid, sig_b64 = cut.groups()
    try:
        payload = binascii.a2b_base64(payload_b64, strict_mode=True)
        sig = binascii.a2b_base64(sig_b64, strict_mode=True)
    except binascii.Error:
        return None
    if len(sig) != 64:
        return None
    canonical = _unused_bits_zero(payload_b64) and _unused_bits_zero(sig_b64)
    return payload, keyid.decode("ascii"), sig, canonical


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: ``DSSEv1 SP len(type) SP type SP len(body) SP body``."""
    t = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(t), t, len(payload), payload)


def _b64decode(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedInput(f"{where} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise MalformedInput(f"{where} is not standard base64: {e}") from e


def _text(value: str, where: str) -> str:
    """`value`, which must be Unicode text (no lone surrogate, which no UTF-8 holds)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        raise MalformedInput(f"{where} holds a lone surrogate, which is not Unicode text") from None
    return value


class _Signature(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    keyid: str
    sig: str


class _EnvelopeDoc(BaseModel):
    """The JSON shape of an envelope with one signature (the fast path of from_bytes)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    payloadType: str  # noqa: N815 (the DSSE field name)
    payload: str
    signatures: list[_Signature] = Field(min_length=1, max_length=1)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One DSSE envelope with exactly one signature (the author's)."""

    payload_type: str
    payload: bytes
    keyid: str
    sig: bytes
    # The bytes it was cut from, when they are exactly its canonical form (`from_bytes`):
    # `to_bytes` gives them back without encoding anew.
    leaf: bytes | None = field(default=None, compare=False, repr=False)

    def to_bytes(self) -> bytes:
        """The canonical (RFC 8785) envelope bytes: the log leaf.

        Written out by hand because it is on the hot path of append and audit: keys in
        JCS order, strings escaped as JCS does (which is json.dumps without ASCII
        escaping); a property test holds it equal to rfc8785 on the same object.
        """
        if self.leaf is not None:
            return self.leaf
        return b'{"payload":"%b","payloadType":%b,"signatures":[{"keyid":%b,"sig":"%b"}]}' % (
            base64.b64encode(self.payload),
            _PAYLOAD_TYPE_JSON if self.payload_type == PAYLOAD_TYPE else _json(self.payload_type),
            b'"%b"' % self.keyid.encode() if _HEX.fullmatch(self.keyid) else _json(self.keyid),
            base64.b64encode(self.sig),
        )

    def signed_bytes(self) -> bytes:
        """The bytes the signature is over."""
        return pae(self.payload_type, self.payload)

    @classmethod
    def from_bytes(cls, data: bytes | str) -> Envelope:
        """Parse an envelope strictly. Raises MalformedInput naming the first problem.

        An envelope in its canonical form with our payload type (every leaf of the log)
        is cut at its fixed parts; any other well-formed envelope takes one pydantic pass
        (JSON and shape in Rust); anything that refuses goes through the step-by-step
        parser below, which says what is wrong. A property test holds the three equal.
        """
        if isinstance(data, bytes) and (cut := cls._cut_canonical(data)) is not None:
            return cut
        try:
            doc = _EnvelopeDoc.model_validate_json(data)
        except ValidationError:
            return cls._parse_slowly(data)
        sig = doc.signatures[0]
        raw_sig = _b64decode(sig.sig, "envelope signature")
        if len(raw_sig) != 64:
            raise MalformedInput(
                f"envelope signature must be 64 bytes (Ed25519), got {len(raw_sig)}"
            )
        return cls(
            _text(doc.payloadType, "envelope payloadType"),
            _b64decode(doc.payload, "envelope payload"),
            _text(sig.keyid, "envelope signature keyid"),
            raw_sig,
        )

    @classmethod
    def _cut_canonical(cls, data: bytes) -> Envelope | None:
        """The envelope if `data` is exactly `to_bytes`'s form with our payload type, a
        hex key id and a 64-byte signature (`cut_leaf`); else None."""
        cut = cut_leaf(data)
        if cut is None:
            return None
        payload, keyid, sig, canonical = cut
        return cls(PAYLOAD_TYPE, payload, keyid, sig, data if canonical else None)

    @classmethod
    def _parse_slowly(cls, data: bytes | str) -> Envelope:
        obj = parse_json_object(data, "envelope")
        keys = set(obj)
        if keys != {"payloadType", "payload", "signatures"}:
            raise MalformedInput(
                "envelope must have exactly the fields payload, payloadType, signatures; "
                f"got {', '.join(echo(k) for k in sorted(keys)[:8]) or 'none'}"
            )
        payload_type = obj["payloadType"]
        if not isinstance(payload_type, str):
            raise MalformedInput("envelope payloadType must be a string")
        payload = _b64decode(obj["payload"], "envelope payload")
        sigs = obj["signatures"]
        if not isinstance(sigs, list) or len(sigs) != 1:
            n = len(sigs) if isinstance(sigs, list) else "no list of"
            raise MalformedInput(f"envelope must carry exactly 1 signature (the author's), got {n}")
        sig = sigs[0]
        if not isinstance(sig, dict) or set(sig) != {"keyid", "sig"}:
            raise MalformedInput("envelope signature must be an object with keyid and sig")
        keyid = sig["keyid"]
        if not isinstance(keyid, str):
            raise MalformedInput("envelope signature keyid must be a string")
        raw_sig = _b64decode(sig["sig"], "envelope signature")
        if len(raw_sig) != 64:
            raise MalformedInput(
                f"envelope signature must be 64 bytes (Ed25519), got {len(raw_sig)}"
            )
        return cls(
            _text(payload_type, "envelope payloadType"),
            payload,
            _text(keyid, "envelope signature keyid"),
            raw_sig,
        )


def sign_event(event: Event, signer: Signer) -> Envelope:
    """Sign an event with its author's key, as a DSSE envelope over its RFC 8785 payload."""
    payload = canonical_json(event.model_dump(mode="json"))
    return Envelope(
        PAYLOAD_TYPE, payload, signer.key_id.hex(), signer.sign(pae(PAYLOAD_TYPE, payload))
    )
