"""Sealed payloads: the confidential part of an event, committed to and encrypted once,
its key wrapped to each party entitled to read it (issue 16, section 2; the format,
version 2, is in docs/sealing.md).

Pure functions over bytes and dicts. ``seal`` draws a fresh 32-byte salt, a fresh
32-byte seed and a fresh 32-byte content key K, and gives::

    {"v": 2,
     "commitment": base64(SHA-256(salt || C)),
     "epk": base64(X25519(esk, 9)),
     "ciphertext": base64(XChaCha20-Poly1305(K, seed || salt || pad(C))),
     "boxes": [{"to": party, "key": hex8(key id), "box": base64(K wrapped to it)}, ...]}

where C is the RFC 8785 bytes of the confidential part, ``esk`` the one ephemeral X25519
secret of the seal, derived from the seed, the ciphertext libsodium's IETF AEAD, and each
box, one per recipient in the order of their names, K in a libsodium secretbox
(XSalsa20-Poly1305) under a key derived from ``X25519(esk, recipient's key)``, the
ephemeral and the recipient's keys and the commitment.

Two choices beyond plain hybrid encryption:

- Padding: ``pad(C) = C || 0x80 || 0x00...`` up to the next power of two, at least 256
  bytes (ISO/IEC 7816-4, as libsodium's ``sodium_pad``). The ciphertext's length then
  tells only that bucket, not the confidential part's size.
- The ephemeral secret is not drawn at random but derived from the seed, which is inside
  the ciphertext: so whoever opened one box (and so knows the seed, K and C) can rebuild
  every other box byte for byte and check that each recipient will read the same payload
  (``check_boxes``). That reveals nothing a recipient does not already read: the seed is
  secret (only ever inside the ciphertext) and fresh for every seal, and every box wraps
  the same K of the same ciphertext.

``open_sealed`` finds a party's box, opens it, decrypts the ciphertext, checks the
commitment and returns the confidential part; it raises NotEntitled (no box for the
party) or SealBroken (a box or ciphertext that does not open, a commitment that does not
match, a malformed sealed part).
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
    "VERSION",
    "SALT_SIZE",
    "SEED_SIZE",
    "MIN_BUCKET",
    "BOX_SIZE",
    "CIPHERTEXT_OVERHEAD",
    "Opened",
    "SealGroup",
    "seal",
    "reseal",
    "resealed_part",
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

VERSION = 2
"""The sealed part's format (its ``"v"``): version 1 (a libsodium sealed box of the whole
payload per recipient) is no longer made nor taken."""
SALT_SIZE = 32
SEED_SIZE = 32
KEY_SIZE = 32
MIN_BUCKET = 256
"""The smallest padded size of a confidential part, in bytes."""
TAG_SIZE = 16
BOX_SIZE = TAG_SIZE + KEY_SIZE
"""A box's bytes: a secretbox (``crypto_secretbox_easy``) of the content key: its 16-byte
tag, then the content key encrypted."""
CIPHERTEXT_OVERHEAD = SEED_SIZE + SALT_SIZE + TAG_SIZE
"""The ciphertext's bytes beyond the padded payload: the seed, the salt and the tag."""
_NONCE = bytes(24)
"""Every key of a seal encrypts once (K is fresh, each box key is bound to the seal's
ephemeral key and commitment), so the nonce is fixed (24 zero bytes)."""
_EPHEMERAL = b"cwledger/seal/v2 ephemeral\x00"
_WRAP = b"cwledger/seal/v2 box\x00"
_PAYLOAD = b"cwledger/seal/v2 payload\x00"
_SEALED_FIELDS = {"v", "commitment", "epk", "ciphertext", "boxes"}
_BOX_FIELDS = {"to", "key", "box"}
_encrypt = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt
_decrypt = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt
_FAILED = (nacl.exceptions.CryptoError, nacl.exceptions.RuntimeError)


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


def ephemeral_secret(seed: bytes) -> bytes:
    """The seal's ephemeral X25519 secret: ``SHA-256("cwledger/seal/v2 ephemeral" || 0x00
    || seed)`` (X25519 clamps it)."""
    return hashlib.sha256(_EPHEMERAL + seed).digest()


@functools.lru_cache(maxsize=4096)
def _x25519(scalar: bytes, point: bytes) -> bytes:
    """X25519 (libsodium's ``crypto_scalarmult``; it refuses an all-zero result),
    remembered: the seals of one batch to the same recipients share their ephemeral key
    (`SealGroup`), so their opening and box checks repeat the same products. A pure
    function: what it remembers is what it would compute again."""
    return nacl.bindings.crypto_scalarmult(scalar, point)


@functools.lru_cache(maxsize=1024)
def _ephemeral(seed: bytes) -> tuple[bytes, bytes]:
    """The ephemeral secret of `seed` and its public key (X25519 of the base point),
    remembered as `_x25519`."""
    esk = ephemeral_secret(seed)
    return esk, nacl.bindings.crypto_scalarmult_base(esk)


def _box_key(shared: bytes, epk: bytes, pk: bytes, commitment: bytes) -> bytes:
    """The key a box is encrypted under: ``SHA-256("cwledger/seal/v2 box" || 0x00 ||
    X25519(esk, R) || epk || R || commitment)``."""
    return hashlib.sha256(_WRAP + shared + epk + pk + commitment).digest()


def _box(content_key: bytes, shared: bytes, epk: bytes, pk: bytes, commitment: bytes) -> bytes:
    """The box of `content_key` to the key `pk`, whose X25519 with the seal's ephemeral key
    is `shared`."""
    return nacl.bindings.crypto_secretbox(
        content_key, _NONCE, _box_key(shared, epk, pk, commitment)
    )


@dataclass
class _Ephemeral:
    seed: bytes
    esk: bytes
    epk: bytes
    shared: dict[bytes, bytes]  # recipient's public key -> X25519(esk, it)


class SealGroup:
    """The seals of one batch: those to the same recipients (the same parties, the same
    keys) share one seed, so one ephemeral key and one X25519 per recipient for all of
    them, on the sealer's side and on the log's (which remembers them, `_x25519`).
    Whoever reads one of them can derive that ephemeral secret and so unwrap the content
    key of each of them: it is a recipient of each of them all the same. What the log's
    readers learn: that those seals share their ephemeral key (made together, by one
    author, to the same recipients, which the boxes show anyway)."""

    def __init__(self) -> None:
        self._by_recipients: dict[tuple[tuple[str, bytes], ...], _Ephemeral] = {}

    def ephemeral(self, recipients: Mapping[str, EncryptionKey]) -> _Ephemeral:
        """The ephemeral key of the seals to exactly `recipients`, drawn at the first."""
        key = tuple(sorted((p, k.public_key) for p, k in recipients.items()))
        if key not in self._by_recipients:
            self._by_recipients[key] = _fresh(os.urandom(SEED_SIZE))
        return self._by_recipients[key]


def _fresh(seed: bytes) -> _Ephemeral:
    esk = ephemeral_secret(seed)
    return _Ephemeral(seed, esk, nacl.bindings.crypto_scalarmult_base(esk), {})


def _sealed(
    data: bytes,
    salt: bytes,
    eph: _Ephemeral,
    content_key: bytes,
    recipients: Mapping[str, EncryptionKey],
) -> dict[str, Any]:
    epk = eph.epk
    commitment = hashlib.sha256(salt + data).digest()
    ciphertext = _encrypt(eph.seed + salt + pad(data), _PAYLOAD + epk, _NONCE, content_key)
    boxes = []
    for party in sorted(recipients):
        key = recipients[party]
        if key.name != party:
            raise MalformedInput(f"the encryption key {key!r} is not {party}'s")
        shared = eph.shared.get(key.public_key)
        if shared is None:
            try:
                shared = nacl.bindings.crypto_scalarmult(eph.esk, key.public_key)
            except _FAILED as e:  # a small-order key: X25519 gives all zeros
                raise MalformedInput(f"nothing can be sealed to the encryption key {key!r}") from e
            eph.shared[key.public_key] = shared
        box = _box(content_key, shared, epk, key.public_key, commitment)
        boxes.append({"to": party, "key": key.key_id.hex(), "box": _b64(box)})
    return {
        "v": VERSION,
        "commitment": _b64(commitment),
        "epk": _b64(epk),
        "ciphertext": _b64(ciphertext),
        "boxes": boxes,
    }


def seal(
    confidential: Mapping[str, Any],
    recipients: Mapping[str, EncryptionKey],
    *,
    salt: bytes | None = None,
    seed: bytes | None = None,
    content_key: bytes | None = None,
    group: SealGroup | None = None,
) -> dict[str, Any]:
    """The sealed part of `confidential` for `recipients` (party -> its encryption key in
    force): its commitment, ephemeral key, ciphertext and one box per recipient, in the
    order of their names. The salt and the content key are fresh, and so is the seed
    unless `group` has one for these recipients (`seed`, `salt`, `content_key`: given by
    tests only). Raises MalformedInput for no recipient, a key not named after its party,
    or what RFC 8785 cannot encode."""
    if not recipients:
        raise MalformedInput("a sealed payload needs at least one recipient")
    salt = os.urandom(SALT_SIZE) if salt is None else salt
    content_key = os.urandom(KEY_SIZE) if content_key is None else content_key
    for what, value in (("salt", salt), ("seed", seed), ("content key", content_key)):
        if value is not None and len(value) != 32:
            raise MalformedInput(f"the {what} must be 32 bytes, not {len(value)}")
    if seed is None and group is not None:
        eph = group.ephemeral(recipients)
    else:
        eph = _fresh(os.urandom(SEED_SIZE) if seed is None else seed)
    return _sealed(canonical_json(dict(confidential)), salt, eph, content_key, recipients)


_SHARE = b"cwledger/share/v2 "


def reseal(opened: Opened, to: EncryptionKey, entry: int) -> bytes:
    """One more recipient's own sealed copy of an opened part (a share of entry `entry`,
    docs/sealing.md, "Sharing later"): the same salt and confidential part, so the entry's
    commitment, sealed to `to` alone under a seed and a content key derived from the
    part's seed, `to`'s key and the entry (``SHA-256("cwledger/share/v2 seed" || 0x00 ||
    seed || R || u64be(entry))``, the same with ``key``). Deterministic, so the log
    rebuilds it byte for byte from its own opening; and it never hands out the part's seed,
    so sharing one seal of a group opens no other. Returns ``epk || box || ciphertext``."""
    tag = opened.seed + to.public_key + entry.to_bytes(8, "big")
    seed = hashlib.sha256(_SHARE + b"seed\x00" + tag).digest()
    key = hashlib.sha256(_SHARE + b"key\x00" + tag).digest()
    eph = _fresh(seed)
    commitment = hashlib.sha256(opened.salt + opened.canonical).digest()
    ciphertext = _encrypt(
        seed + opened.salt + pad(opened.canonical), _PAYLOAD + eph.epk, _NONCE, key
    )
    try:
        shared = nacl.bindings.crypto_scalarmult(eph.esk, to.public_key)
    except _FAILED as e:
        raise MalformedInput(f"nothing can be sealed to the encryption key {to!r}") from e
    return eph.epk + _box(key, shared, eph.epk, to.public_key, commitment) + ciphertext


def resealed_part(commitment: str, party: str, key_id: str, copy: bytes) -> dict[str, Any]:
    """The sealed part a shared copy (`reseal`'s bytes) is opened as: the entry's own
    `commitment` (base64, as the entry holds it), so opening it checks the copy against
    what the entry committed to. SealBroken when the copy is too short to be one."""
    if len(copy) < 32 + BOX_SIZE + CIPHERTEXT_OVERHEAD + MIN_BUCKET:
        raise SealBroken(f"a shared copy of {len(copy)} bytes is too short")
    return {
        "v": VERSION,
        "commitment": commitment,
        "epk": _b64(copy[:32]),
        "ciphertext": _b64(copy[32 + BOX_SIZE :]),
        "boxes": [{"to": party, "key": key_id, "box": _b64(copy[32 : 32 + BOX_SIZE])}],
    }


@dataclass(frozen=True)
class Opened:
    """What a party's box and the ciphertext held: the confidential part, its RFC 8785
    bytes, the salt, the seed and the content key."""

    confidential: dict[str, Any]
    canonical: bytes
    salt: bytes
    seed: bytes
    content_key: bytes


@dataclass(frozen=True)
class _Parsed:
    commitment: bytes
    epk: bytes
    ciphertext: bytes
    boxes: list[tuple[str, str, bytes]]  # to, key id, box


def _parse(sealed: object) -> _Parsed:
    """A sealed part's members, its boxes (to, key id, bytes) in their order."""
    if not isinstance(sealed, Mapping) or set(sealed) != _SEALED_FIELDS:
        raise SealBroken(
            "a sealed part is an object of exactly: v, commitment, epk, ciphertext, boxes"
        )
    v = sealed["v"]
    if type(v) is not int or v != VERSION:
        raise SealBroken(f"a sealed part of format {echo(str(v))}: only {VERSION} is taken")
    commitment = _unb64(sealed["commitment"], "commitment")
    if len(commitment) != 32:
        raise SealBroken(f"the commitment is {len(commitment)} bytes, not 32 (SHA-256)")
    epk = _unb64(sealed["epk"], "epk")
    if len(epk) != 32:
        raise SealBroken(f"the ephemeral key is {len(epk)} bytes, not 32 (X25519)")
    ciphertext = _unb64(sealed["ciphertext"], "ciphertext")
    if len(ciphertext) < CIPHERTEXT_OVERHEAD + MIN_BUCKET:
        raise SealBroken(f"the ciphertext is {len(ciphertext)} bytes: too few")
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
        box = _unb64(b["box"], f"boxes[{i}].box")
        if len(box) != BOX_SIZE:
            raise SealBroken(f"boxes[{i}].box is {len(box)} bytes, not {BOX_SIZE}")
        boxes.append((to, kid, box))
    names = [to for to, _, _ in boxes]
    if names != sorted(set(names)):
        raise SealBroken("the boxes are not in the order of their parties, one each")
    return _Parsed(commitment, epk, ciphertext, boxes)


def check_form(sealed: object) -> list[str]:
    """The parties a sealed part has boxes for, in order, once its form is checked (format
    2, a commitment and an ephemeral key of 32 bytes, boxes of 48 in order, canonical
    base64), without opening any. Raises SealBroken."""
    return [to for to, _, _ in _parse(sealed).boxes]


def _opening(p: _Parsed, party: str, key: DecryptionKey) -> tuple[Opened, bytes]:
    """Open `party`'s box and the ciphertext and check them against the commitment: what
    they hold, and the X25519 of the ephemeral key and `key`."""
    mine = [(kid, box) for to, kid, box in p.boxes if to == party]
    if not mine:
        raise NotEntitled(f"this payload is not sealed to {echo(party)}: it may not read it")
    [(kid, box)] = mine
    if kid != key.key_id.hex():
        raise SealBroken(
            f"the box of {party} is sealed to its encryption key {echo(kid)}, "
            f"not to the key {key.key_id.hex()} used to open it"
        )
    pk = key.public.public_key
    try:
        # A small-order ephemeral key gives an all-zero secret: libsodium refuses it.
        shared = _x25519(key.secret, p.epk)
        box_key = _box_key(shared, p.epk, pk, p.commitment)
        content_key = nacl.bindings.crypto_secretbox_open(box, _NONCE, box_key)
    except _FAILED as e:
        raise SealBroken(f"the box of {party} does not open with its key {kid}") from e
    try:
        plaintext = _decrypt(p.ciphertext, _PAYLOAD + p.epk, _NONCE, content_key)
    except _FAILED as e:
        raise SealBroken(f"the ciphertext does not open with the key in the box of {party}") from e
    seed, salt = plaintext[:SEED_SIZE], plaintext[SEED_SIZE : SEED_SIZE + SALT_SIZE]
    data = unpad(plaintext[SEED_SIZE + SALT_SIZE :])
    if hashlib.sha256(salt + data).digest() != p.commitment:
        raise SealBroken(f"the box of {party} does not hold what the commitment commits to")
    try:
        confidential, canonical = is_canonical(data, "the sealed payload")
    except MalformedInput as e:
        raise SealBroken(str(e)) from e
    if not canonical:
        raise SealBroken("the sealed payload is not in its RFC 8785 form")
    return Opened(confidential, data, salt, seed, content_key), shared


def opening(sealed: object, party: str, key: DecryptionKey) -> Opened:
    """Open `party`'s box with `key`, then the ciphertext, and check them against the
    commitment. Raises NotEntitled (no box for `party`) or SealBroken."""
    return _opening(_parse(sealed), party, key)[0]


BoxCheck = Callable[[], list[Problem]]
"""`check_boxes` of one opened sealed part, to run later."""


def open_checked(
    sealed: object, party: str, key: DecryptionKey, keys: Mapping[str, EncryptionKey]
) -> tuple[Opened, BoxCheck]:
    """`opening`, and `check_boxes` ready to run (what admission does), the sealed part
    parsed once and `party`'s own box rebuilt with the X25519 its opening computed (one
    fewer). Raises as `opening`."""
    parsed = _parse(sealed)
    opened, shared = _opening(parsed, party, key)
    own = party if keys.get(party) == key.public else None
    return opened, functools.partial(_check, parsed, opened, dict(keys), own, shared)


def open_sealed(sealed: object, party: str, key: DecryptionKey) -> dict[str, Any]:
    """The confidential part in `party`'s box, opened with `key` and checked against the
    commitment. Raises NotEntitled (no box for `party`) or SealBroken."""
    return opening(sealed, party, key).confidential


def check_boxes(sealed: object, opened: Opened, keys: Mapping[str, EncryptionKey]) -> list[Problem]:
    """Whether every box of `sealed` wraps the content key `opened` (one box, opened) holds,
    to the key `keys` names for its party (the keys in force at the entry), under the
    ephemeral key of its seed: every reason one does not (empty if all do). Rebuilds the
    ephemeral key and each box from the seed, as `seal` made them."""
    return _check(_parse(sealed), opened, keys, None, b"")


def _check(
    p: _Parsed,
    opened: Opened,
    keys: Mapping[str, EncryptionKey],
    own: str | None,
    shared: bytes,
) -> list[Problem]:
    """`check_boxes` of a parsed sealed part; the box of the party `own` is rebuilt with
    `shared`, the X25519 of the box's ephemeral key and that party's key in force. That is
    sound: once the ephemeral key is the seed's (checked first), `shared` is the X25519
    `seal` computed (X25519 is symmetric)."""
    esk, epk = _ephemeral(opened.seed)
    if epk != p.epk:
        return [Problem("sealed.epk", "is not the ephemeral key of the seed sealed with it")]
    problems: list[Problem] = []
    for i, (to, kid, box) in enumerate(p.boxes):
        where = f"sealed.boxes[{i}]"
        key = keys.get(to)
        if key is None:
            problems.append(Problem(where, f"{echo(to)} has no encryption key"))
            continue
        if kid != key.key_id.hex():
            problems.append(
                Problem(where, f"sealed to key {echo(kid)} of {to}, not its key {key.key_id.hex()}")
            )
            continue
        try:
            s = shared if to == own else _x25519(esk, key.public_key)
        except _FAILED:
            problems.append(Problem(where, f"the key {kid} of {to} is of small order"))
            continue
        if _box(opened.content_key, s, p.epk, key.public_key, p.commitment) != box:
            problems.append(Problem(where, f"the box of {to} does not hold the same payload"))
    return problems
