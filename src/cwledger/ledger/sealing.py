"""Sealed payloads: the confidential part of an event, committed to and encrypted to each
party entitled to read it (issue 16, section 2; the format is in docs/sealing.md).

Pure functions over bytes and dicts. ``seal`` draws a fresh 32-byte salt and gives::

    {"commitment": base64(SHA-256(salt || C)),
     "boxes": [{"to": party, "key": hex8(key id), "box": base64(sealed box)}, ...]}

where C is the RFC 8785 bytes of the confidential part and each box, one per recipient in
the order of their names, is a libsodium sealed box (``crypto_box_seal``: X25519,
XSalsa20-Poly1305) of ``salt || pad(C)`` to the recipient's X25519 key. Any libsodium
``crypto_box_seal_open`` opens it.

Two choices beyond the plain sealed box:

- Padding: ``pad(C) = C || 0x80 || 0x00...`` up to the next power of two, at least 256
  bytes (ISO/IEC 7816-4, as libsodium's ``sodium_pad``). A box's length then tells only
  that bucket, not the confidential part's size.
- The ephemeral key of each box is not drawn at random but derived from the salt and the
  recipient's key (``SHA-256("cwledger/seal/v1 ephemeral" || 0x00 || salt || key)``): so
  whoever opened one box (and so knows the salt and C) can rebuild every other box byte
  for byte and check that each recipient will read the same payload (``check_boxes``).
  That reveals nothing a recipient does not already read: the salt is secret (only ever
  inside the boxes) and fresh for every seal, and every box holds the same plaintext.

``open_sealed`` finds a party's box, opens it, checks the commitment and returns the
confidential part; it raises NotEntitled (no box for the party) or SealBroken (a box that
does not open, a commitment that does not match, a malformed sealed part).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import nacl.bindings
import nacl.exceptions

from cwledger.errors import MalformedInput, NotEntitled, Problem, SealBroken, echo
from cwledger.ledger.canonical import canonical_json, is_canonical
from cwledger.model.enckeys import DecryptionKey, EncryptionKey

__all__ = [
    "SALT_SIZE",
    "MIN_BUCKET",
    "Opened",
    "seal",
    "open_sealed",
    "opening",
    "check_boxes",
    "open_checked",
    "BoxCheck",
    "check_form",
    "pad",
    "unpad",
    "bucket",
]

SALT_SIZE = 32
MIN_BUCKET = 256
"""The smallest padded size of a confidential part, in bytes."""
BOX_OVERHEAD = 48
"""A sealed box's bytes beyond its plaintext: the 32-byte ephemeral key and the 16-byte tag."""
_EPHEMERAL = b"cwledger/seal/v1 ephemeral\x00"
_SEALED_FIELDS = {"commitment", "boxes"}
_BOX_FIELDS = {"to", "key", "box"}


def bucket(size: int) -> int:
    """The padded size of `size` bytes of canonical JSON: the smallest power of two above
    `size` (room for the 0x80 marker), at least MIN_BUCKET."""
    return max(MIN_BUCKET, 1 << size.bit_length())


def pad(data: bytes) -> bytes:
    """`data || 0x80 || 0x00...` to `bucket(len(data))` bytes."""
    size = bucket(len(data))
    return data + b"\x80" + bytes(size - len(data) - 1)


def unpad(padded: bytes) -> bytes:
    """The data `pad` padded; SealBroken for anything `pad` does not give."""
    data = padded.rstrip(b"\x00")
    if not data.endswith(b"\x80") or len(padded) != bucket(len(data) - 1):
        raise SealBroken("the sealed payload's padding is not the one of its size")
    return data[:-1]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise SealBroken(f"{what}: expected base64 text, got {type(text).__name__}")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise SealBroken(f"{what} is not standard base64") from e
    if _b64(raw) != text:
        raise SealBroken(f"{what} is not canonical base64")
    return raw


def _nonce(epk: bytes, pk: bytes) -> bytes:
    """A sealed box's nonce: BLAKE2b-192 of the ephemeral and the recipient's public keys."""
    return hashlib.blake2b(epk + pk, digest_size=24).digest()


def _box(plaintext: bytes, salt: bytes, to: EncryptionKey, shared: bytes | None = None) -> bytes:
    """A libsodium sealed box of `plaintext` to `to`, its ephemeral key derived from the
    salt and the recipient's key. `shared`: the box key (``crypto_box_beforenm``) of that
    ephemeral key and `to`, when the caller has it (a box it opened), to skip one X25519."""
    esk = hashlib.sha256(_EPHEMERAL + salt + to.public_key).digest()
    epk = nacl.bindings.crypto_scalarmult_base(esk)
    nonce = _nonce(epk, to.public_key)
    if shared is None:
        return epk + nacl.bindings.crypto_box(plaintext, nonce, to.public_key, esk)
    return epk + nacl.bindings.crypto_box_afternm(plaintext, nonce, shared)


def _sealed(data: bytes, salt: bytes, recipients: Mapping[str, EncryptionKey]) -> dict[str, Any]:
    plaintext = salt + pad(data)
    boxes = []
    for party in sorted(recipients):
        key = recipients[party]
        if key.name != party:
            raise MalformedInput(f"the encryption key {key!r} is not {party}'s")
        boxes.append(
            {"to": party, "key": key.key_id.hex(), "box": _b64(_box(plaintext, salt, key))}
        )
    commitment = hashlib.sha256(salt + data).digest()
    return {"commitment": _b64(commitment), "boxes": boxes}


def seal(
    confidential: Mapping[str, Any],
    recipients: Mapping[str, EncryptionKey],
    *,
    salt: bytes | None = None,
) -> dict[str, Any]:
    """The sealed part of `confidential` for `recipients` (party -> its encryption key in
    force): its commitment and one box per recipient, in the order of their names. The
    salt is fresh (`salt` only for tests). Raises MalformedInput for no recipient, a key
    not named after its party, or what RFC 8785 cannot encode."""
    if not recipients:
        raise MalformedInput("a sealed payload needs at least one recipient")
    salt = os.urandom(SALT_SIZE) if salt is None else salt
    if len(salt) != SALT_SIZE:
        raise MalformedInput(f"the salt must be {SALT_SIZE} bytes, not {len(salt)}")
    return _sealed(canonical_json(dict(confidential)), salt, recipients)


@dataclass(frozen=True)
class Opened:
    """What a party's box held: the confidential part, its RFC 8785 bytes and the salt."""

    confidential: dict[str, Any]
    canonical: bytes
    salt: bytes


def _parse(sealed: object) -> tuple[bytes, list[tuple[str, str, bytes]]]:
    """The commitment and the boxes (to, key id, bytes) of a sealed part, in their order."""
    if not isinstance(sealed, Mapping) or set(sealed) != _SEALED_FIELDS:
        raise SealBroken("a sealed part is an object of exactly: commitment, boxes")
    commitment = _unb64(sealed["commitment"], "commitment")
    if len(commitment) != 32:
        raise SealBroken(f"the commitment is {len(commitment)} bytes, not 32 (SHA-256)")
    raw = sealed["boxes"]
    if not isinstance(raw, list) or not raw:
        raise SealBroken("a sealed part has a non-empty list of boxes")
    boxes: list[tuple[str, str, bytes]] = []
    for i, b in enumerate(raw):
        if not isinstance(b, Mapping) or set(b) != _BOX_FIELDS:
            raise SealBroken(f"boxes[{i}] is an object of exactly: to, key, box")
        to, kid = b["to"], b["key"]
        if not isinstance(to, str) or not isinstance(kid, str):
            raise SealBroken(f"boxes[{i}]: to and key are strings")
        boxes.append((to, kid, _unb64(b["box"], f"boxes[{i}].box")))
    names = [to for to, _, _ in boxes]
    if names != sorted(set(names)):
        raise SealBroken("the boxes are not in the order of their parties, one each")
    return commitment, boxes


def check_form(sealed: object) -> list[str]:
    """The parties a sealed part has boxes for, in order, once its form is checked (a
    commitment of 32 bytes, boxes in order, canonical base64), without opening any.
    Raises SealBroken."""
    return [to for to, _, _ in _parse(sealed)[1]]


def _opening(
    commitment: bytes, boxes: list[tuple[str, str, bytes]], party: str, key: DecryptionKey
) -> tuple[Opened, bytes]:
    """Open `party`'s box (as ``crypto_box_seal_open``) and check it against the
    commitment: what it holds, and the box key its ephemeral key and `key` share."""
    mine = [(kid, box) for to, kid, box in boxes if to == party]
    if not mine:
        raise NotEntitled(f"this payload is not sealed to {echo(party)}: it may not read it")
    [(kid, box)] = mine
    if kid != key.key_id.hex():
        raise SealBroken(
            f"the box of {party} is sealed to its encryption key {echo(kid)}, "
            f"not to the key {key.key_id.hex()} used to open it"
        )
    epk, ciphertext = box[:32], box[32:]
    try:
        if len(box) < BOX_OVERHEAD:
            raise nacl.exceptions.CryptoError("too short")
        # A small-order ephemeral key gives an all-zero secret: libsodium refuses it.
        shared = nacl.bindings.crypto_box_beforenm(epk, key.secret)
        nonce = _nonce(epk, key.public.public_key)
        plaintext = nacl.bindings.crypto_box_open_afternm(ciphertext, nonce, shared)
    except (nacl.exceptions.CryptoError, nacl.exceptions.RuntimeError) as e:
        raise SealBroken(f"the box of {party} does not open with its key {kid}") from e
    if len(plaintext) < SALT_SIZE + MIN_BUCKET:
        raise SealBroken(f"the box of {party} holds {len(plaintext)} bytes: too few")
    salt, data = plaintext[:SALT_SIZE], unpad(plaintext[SALT_SIZE:])
    if hashlib.sha256(salt + data).digest() != commitment:
        raise SealBroken(f"the box of {party} does not hold what the commitment commits to")
    try:
        confidential, canonical = is_canonical(data, "the sealed payload")
    except MalformedInput as e:
        raise SealBroken(str(e)) from e
    if not canonical:
        raise SealBroken("the sealed payload is not in its RFC 8785 form")
    return Opened(confidential, data, salt), shared


def opening(sealed: object, party: str, key: DecryptionKey) -> Opened:
    """Open `party`'s box with `key` and check it against the commitment. Raises
    NotEntitled (no box for `party`) or SealBroken."""
    commitment, boxes = _parse(sealed)
    return _opening(commitment, boxes, party, key)[0]


BoxCheck = Callable[[], list[Problem]]
"""`check_boxes` of one opened sealed part, to run later (pure C for the most part: cffi
drops the GIL, so a thread runs it beside the caller)."""


def open_checked(
    sealed: object, party: str, key: DecryptionKey, keys: Mapping[str, EncryptionKey]
) -> tuple[Opened, BoxCheck]:
    """`opening`, and `check_boxes` ready to run (what admission does), the sealed part
    parsed once and `party`'s own box rebuilt with the box key its opening computed (one
    X25519 fewer). Raises as `opening`."""
    commitment, boxes = _parse(sealed)
    opened, shared = _opening(commitment, boxes, party, key)
    own = party if keys.get(party) == key.public else None
    return opened, functools.partial(_check, boxes, opened, dict(keys), own, shared)


def open_sealed(sealed: object, party: str, key: DecryptionKey) -> dict[str, Any]:
    """The confidential part in `party`'s box, opened with `key` and checked against the
    commitment. Raises NotEntitled (no box for `party`) or SealBroken."""
    return opening(sealed, party, key).confidential


def check_boxes(sealed: object, opened: Opened, keys: Mapping[str, EncryptionKey]) -> list[Problem]:
    """Whether every box of `sealed` holds what `opened` (one box, opened) holds, sealed to
    the key `keys` names for its party (the keys in force at the entry): every reason one
    does not (empty if all do). Rebuilds each box from the salt, as `seal` made it."""
    return _check(_parse(sealed)[1], opened, keys, None, b"")


def _check(
    boxes: list[tuple[str, str, bytes]],
    opened: Opened,
    keys: Mapping[str, EncryptionKey],
    own: str | None,
    shared: bytes,
) -> list[Problem]:
    """`check_boxes` of parsed boxes; the box of the party `own` is rebuilt with `shared`,
    the box key of its ephemeral key and that party's key in force. That is sound: when
    the rebuilt ephemeral key equals the box's, `shared` is the key `seal` used (X25519
    is symmetric); when it does not, the first 32 bytes differ and the box is refused all
    the same."""
    plaintext = opened.salt + pad(opened.canonical)
    problems: list[Problem] = []
    for i, (to, kid, box) in enumerate(boxes):
        where = f"sealed.boxes[{i}]"
        key = keys.get(to)
        if key is None:
            problems.append(Problem(where, f"{echo(to)} has no encryption key"))
        elif kid != key.key_id.hex():
            problems.append(
                Problem(where, f"sealed to key {echo(kid)} of {to}, not its key {key.key_id.hex()}")
            )
        elif _box(plaintext, opened.salt, key, shared if to == own else None) != box:
            problems.append(Problem(where, f"the box of {to} does not hold the same payload"))
    return problems
