"""Encryption keys: each party's X25519 key, beside its Ed25519 signing key.

The strings follow the C2SP signed-note key strings, with cwledger's own type byte
``0x58`` ("X"; C2SP assigns 0x01-0x05 and reserves 0xfa-0xff, and these keys never sign a
note, so no note tool takes one for a verifier key):

- public (``enc_key`` in the governance): ``name+hex8(keyid)+base64(0x58 || 32-byte X25519
  public key)``;
- private (the keystore): ``PRIVATE+KEY+name+hex8(keyid)+base64(0x58 || 32-byte X25519
  secret key)``;

with ``keyid = SHA-256(name || 0x0A || 0x58 || public key)[:4]``, as for a note key. The
name is the party's: a box names the key it is sealed to by this key id. See
docs/sealing.md.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Annotated, Self, cast

import nacl.public
from pydantic import AfterValidator

from cwledger.errors import MalformedInput, VerificationError
from cwledger.tlog import note as _note

__all__ = ["X25519", "EncryptionKey", "DecryptionKey", "EncryptionKeyString"]

X25519 = 0x58
"""The type byte of an encryption key string (cwledger's own; see the module's text)."""


def _bad(what: str, expected: str, got: object) -> MalformedInput:
    return MalformedInput(f"{what}: expected {expected}, got {got}")


def _split(s: str, what: str) -> tuple[str, bytes, bytes]:
    name, _, rest = s.partition("+")
    hex8, _, key64 = rest.partition("+")
    _note._check_name(name, f"{what} name")
    if len(hex8) != 8 or any(c not in "0123456789abcdef" for c in hex8):
        raise _bad(what, "an 8-digit lowercase hex key ID", f"{len(hex8)} other characters")
    key = _note._unb64(key64, f"{what} key")
    if not key or key[0] != X25519:
        got = f"0x{key[0]:02x}" if key else "nothing"
        raise _bad(what, f"key type 0x{X25519:02x} (X25519)", got)
    if len(key) != 33:
        raise _bad(what, "a 32-byte X25519 key", f"{len(key) - 1} bytes")
    return name, bytes.fromhex(hex8), key[1:]


class EncryptionKey:
    """A party's public X25519 key, as the governance names it. Immutable: `from_string`
    hands every caller of the same string one object, and its hash is its name and key."""

    __slots__ = ("name", "key_id", "public_key")
    name: str
    key_id: bytes
    public_key: bytes

    def __init__(self, name: str, public_key: bytes) -> None:
        _note._check_name(name, "encryption key name")
        if len(public_key) != 32:
            raise _bad("encryption key", "32 bytes", len(public_key))
        key = bytes(public_key)
        for field, value in (("name", name), ("public_key", key)):
            object.__setattr__(self, field, value)
        object.__setattr__(self, "key_id", _note.key_id(name, X25519, key))

    def __setattr__(self, field: str, value: object) -> None:
        raise AttributeError(f"an EncryptionKey is immutable (its {field} cannot be set)")

    def __delattr__(self, field: str) -> None:
        raise AttributeError(f"an EncryptionKey is immutable (its {field} cannot be deleted)")

    def __reduce__(self) -> tuple[type[EncryptionKey], tuple[str, bytes]]:
        """Pickled and copied as the name and key it is made of (`__init__`)."""
        return (EncryptionKey, (self.name, self.public_key))

    @classmethod
    def from_string(cls, text: str) -> Self:
        """Parse ``name+hex8(keyid)+base64(0x58 || key)``. Raises MalformedInput. Each
        string is parsed once (`_parsed`), as verifier keys are."""
        return cast(Self, _parsed(cls, text))  # type: ignore[arg-type]  # as `_parsed_vkey`

    def string(self) -> str:
        """The key string ``name+hex8(keyid)+base64(0x58 || key)``."""
        return f"{self.name}+{self.key_id.hex()}+{_note._b64(bytes([X25519]) + self.public_key)}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EncryptionKey) and (self.name, self.public_key) == (
            other.name,
            other.public_key,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"EncryptionKey({self.name!r}, key_id={self.key_id.hex()!r})"


@functools.lru_cache(maxsize=1024)
def _parsed(cls: type[EncryptionKey], text: str) -> EncryptionKey:
    """`EncryptionKey.from_string`, remembered for the last 1,024 strings (a refused one is
    not: it raises each time)."""
    name, kid, pub = _split(text, "enc_key")
    key = cls(name, pub)
    if key.key_id != kid:
        raise _bad("enc_key", f"key ID {key.key_id.hex()}", kid.hex())
    return key


class DecryptionKey:
    """A party's private X25519 key. Its repr never shows the secret."""

    __slots__ = ("_secret", "public")

    def __init__(self, name: str, secret: bytes) -> None:
        if len(secret) != 32:
            raise _bad("decryption key", "32 bytes", len(secret))
        self._secret = nacl.public.PrivateKey(bytes(secret))
        self.public = EncryptionKey(name, bytes(self._secret.public_key))

    @classmethod
    def generate(cls, name: str) -> Self:
        """A fresh random key for `name`."""
        return cls(name, bytes(nacl.public.PrivateKey.generate()))

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Self:
        """A key derived from `seed` (SHA-256 of the seed, the name and the key type): for
        demonstration and synthetic ledgers only, whose keys anyone can recompute."""
        material = seed + b"\x00" + name.encode() + b"\x00x25519"
        return cls(name, hashlib.sha256(material).digest())

    @classmethod
    def from_string(cls, text: str) -> Self:
        """Parse ``PRIVATE+KEY+name+hex8(keyid)+base64(0x58 || secret)``. Raises
        MalformedInput (never echoing key material)."""
        p1, _, rest = text.partition("+")
        p2, _, rest = rest.partition("+")
        if (p1, p2) != ("PRIVATE", "KEY"):
            raise _bad("private encryption key", "the prefix 'PRIVATE+KEY+'", "something else")
        name, kid, secret = _split(rest, "private encryption key")
        key = cls(name, secret)
        if key.key_id != kid:
            raise _bad("private encryption key", f"key ID {key.key_id.hex()}", kid.hex())
        return key

    @property
    def name(self) -> str:
        return self.public.name

    @property
    def key_id(self) -> bytes:
        return self.public.key_id

    @property
    def secret(self) -> bytes:
        """The 32-byte X25519 secret."""
        return bytes(self._secret)

    @property
    def private_key(self) -> nacl.public.PrivateKey:
        """The PyNaCl private key (to open sealed boxes)."""
        return self._secret

    def string(self) -> str:
        """``PRIVATE+KEY+name+hex8(keyid)+base64(0x58 || secret)``."""
        key64 = _note._b64(bytes([X25519]) + self.secret)
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{key64}"

    def __repr__(self) -> str:
        return f"DecryptionKey({self.name!r}, key_id={self.key_id.hex()!r})"


def _enc_key(value: str) -> str:
    try:
        EncryptionKey.from_string(value)
    except VerificationError as e:
        raise ValueError(f"not an X25519 encryption key string: {e}") from e
    return value


EncryptionKeyString = Annotated[str, AfterValidator(_enc_key)]
"""An ``enc_key`` field: a public encryption key string that parses."""
