"""Signed notes: c2sp.org/signed-note with Ed25519 keys (signature type 0x01).

Byte-compatible with Go's golang.org/x/mod/sumdb/note: same key strings, same :func:`sign`
output, same :func:`open` verdicts. Stricter on purpose: base64 must be canonical, key names
must not hold ASCII control characters (no valid note could carry one), and :func:`sign`
refuses text that :func:`open` would refuse.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import re
from base64 import b64decode, b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Self, cast

import nacl.exceptions
import nacl.signing

from cwledger.errors import InvalidSignature, MalformedInput, UnknownSigner, VerificationError

__all__ = ["ED25519", "MAX_SIGNATURES", "Note", "Signature", "Signer", "UnverifiedNoteError"]
__all__ += ["Verifier", "add_signatures", "key_id", "open", "sign"]

ED25519 = 0x01
MAX_SIGNATURES = 100  # golang.org/x/mod's limit; c2sp.org/signed-note requires >= 16
_PREFIX = "\u2014 "  # em dash, space
# Go's unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space property.
_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
_BAD_TEXT = re.compile("[\x00-\x09\x0b-\x1f\ud800-\udfff]")  # controls but \n; lone surrogates
# What a key name may not hold: '+', a space (`_SPACES`), an ASCII control character.
_BAD_NAME = re.compile("[+" + "".join(map(re.escape, sorted(_SPACES))) + "\x00-\x1f]")
_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


def _bad(what: str, expected: str, got: object) -> MalformedInput:
    return MalformedInput(f"{what}: expected {expected}, got {got}")


def _check_text(text: str, what: str) -> None:
    if m := _BAD_TEXT.search(text):
        raise _bad(what, "no control character but newline", f"{m.group()!r} at {m.start()}")


def _check_name(name: str, what: str) -> None:
    # Go's isValidName, plus: no control characters.
    if not name:
        raise _bad(what, "a non-empty key name", "''")
    if m := _BAD_NAME.search(name):
        raise _bad(what, "a key name without '+', spaces or control characters", repr(m.group()))
    _check_text(name, what)


def _b64(data: bytes) -> str:
    return b64encode(data).decode("ascii")


def _unb64(s: str, what: str) -> bytes:
    if not _B64.fullmatch(s):
        raise _bad(what, "padded standard base64", f"{len(s)} other characters")
    try:
        raw = b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise _bad(what, "standard base64", "an undecodable string") from e
    if _b64(raw) != s:
        raise _bad(what, "canonical base64", "non-zero padding bits")
    return raw


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """Return the key ID ``SHA-256(name || 0x0A || type || public_key)[:4]``.

    Raises: MalformedInput for a non-byte type or lone surrogates. Spec: signed-note "Signatures".
    """
    if not 0 <= key_type <= 0xFF:
        raise _bad("key type", "0..255", key_type)
    _check_text(name, "key name")
    data = name.encode("utf-8") + b"\n" + bytes([key_type]) + bytes(public_key)
    return hashlib.sha256(data).digest()[:4]


def _split_key(s: str, what: str, key_type: int) -> tuple[str, bytes, bytes]:
    name, _, rest = s.partition("+")
    hex8, _, key64 = rest.partition("+")
    _check_name(name, f"{what} name")
    if not _HEX8.fullmatch(hex8):
        raise _bad(what, "an 8-digit hex key ID", f"{len(hex8)} other characters")
    if not (key := _unb64(key64, f"{what} key")):
        raise _bad(what, "a type byte and a key", "nothing")
    if key[0] != key_type:
        hint = " (a cosignature/v1 witness key: use CosignatureVerifier)" if key[0] == 4 else ""
        raise _bad(what, f"key type 0x{key_type:02x}", f"0x{key[0]:02x}{hint}")
    if len(key) != 33:
        raise _bad(what, "a 32-byte Ed25519 key", f"{len(key) - 1} bytes")
    return name, bytes.fromhex(hex8), key[1:]


class _Key:
    """What signers and verifiers share: name, key ID, type byte, public key, vkey."""

    KEY_TYPE: ClassVar[int] = ED25519
    __slots__ = ("_key_id", "_name", "_public_key")

    def _named(self, name: str, public_key: bytes) -> None:
        self._name, self._public_key = name, public_key
        self._key_id = key_id(name, self.KEY_TYPE, public_key)

    @property
    def name(self) -> str:
        """The key name."""
        return self._name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return self._key_id

    @property
    def key_type(self) -> int:
        """The signature type byte (0x01 Ed25519 note key, 0x04 cosignature/v1 witness key)."""
        return self.KEY_TYPE

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._public_key

    def vkey(self) -> str:
        """Return the verifier key string ``name+hex8(keyid)+base64(type||pubkey)``."""
        return f"{self._name}+{self._key_id.hex()}+{_b64(bytes([self.KEY_TYPE]) + self.public_key)}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, key_id={self._key_id.hex()!r})"


class Verifier(_Key):
    """A trusted Ed25519 note key (type 0x01): checks signatures over the note text."""

    __slots__ = ("_key",)

    def __init__(self, name: str, public_key: bytes) -> None:
        """Verifier for ``name`` and a 32-byte public key. Raises: MalformedInput (signed-note)."""
        _check_name(name, "verifier name")
        if len(public_key) != 32:
            raise _bad("public key", "32 bytes", len(public_key))
        try:
            self._key = nacl.signing.VerifyKey(bytes(public_key))
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as e:
            raise _bad("public key", "an Ed25519 key", e) from e
        self._named(name, bytes(public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        """Parse a verifier key ``name+hex8(keyid)+base64(type||pubkey)`` (Go's NewVerifier).

        The type byte must be the class's ``KEY_TYPE`` (0x01; 0x04 for ``CosignatureVerifier``)
        and the key ID must be the derived one.
        Raises: MalformedInput. Spec: c2sp.org/signed-note, "Verifier keys".

        Each string is parsed once per class (`_parsed_vkey`): every replay of the
        governance reads the same few keys again, and a verifier never changes.
        """
        return cast(Self, _parsed_vkey(cls, vkey))  # type: ignore[arg-type]  # see _parsed_vkey

    def verify(self, message: bytes, sig: bytes) -> None:
        """Check a raw 64-byte Ed25519 signature over ``message``.

        Raises: InvalidSignature. Spec: c2sp.org/signed-note, "Ed25519 signatures".
        """
        try:
            if len(sig) != 64:
                raise ValueError(f"{len(sig)} bytes, not 64")
            self._key.verify(bytes(message), bytes(sig))
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as e:
            who = f"{self._name}+{self._key_id.hex()}"
            raise InvalidSignature(f"signature by {who}: expected a valid one, got {e}") from e


@functools.lru_cache(maxsize=1024)
def _parsed_vkey(cls: type[Verifier], vkey: str) -> Verifier:
    """`Verifier.from_vkey`, remembered for the last 1,024 strings (a refused one is not:
    it raises each time). A class is hashable, though mypy reads its ``__hash__`` as an
    instance's and refuses it as a key."""
    name, kid, pub = _split_key(vkey, "vkey", cls.KEY_TYPE)
    if (v := cls(name, pub)).key_id != kid:
        raise _bad("vkey", f"key ID {v.key_id.hex()}", kid.hex())
    return v


class Signer(_Key):
    """An Ed25519 note signing key (type 0x01). Its repr never shows the seed."""

    __slots__ = ("_key",)

    def __init__(self, name: str, seed: bytes) -> None:
        """Signer for ``name`` and a 32-byte Ed25519 seed. Raises: MalformedInput (signed-note)."""
        _check_name(name, "signer name")
        if len(seed) != 32:
            raise _bad("seed", "32 bytes", len(seed))
        self._key = nacl.signing.SigningKey(bytes(seed))
        self._named(name, bytes(self._key.verify_key.encode()))

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Self:
        """Same as the constructor. Raises: MalformedInput."""
        return cls(name, seed)

    @classmethod
    def generate(cls, name: str) -> Self:
        """Make a signer with a fresh random key. Raises: MalformedInput for a bad name."""
        return cls(name, bytes(nacl.signing.SigningKey.generate().encode()))

    @classmethod
    def from_skey(cls, skey: str) -> Self:
        """Parse ``PRIVATE+KEY+name+hex8(keyid)+base64(type||seed)`` (Go's NewSigner).

        Raises: MalformedInput (never echoing key material).
        Spec: golang.org/x/mod/sumdb/note signer keys; key ID per c2sp.org/signed-note.
        """
        p1, _, rest = skey.partition("+")
        p2, _, rest = rest.partition("+")
        if (p1, p2) != ("PRIVATE", "KEY"):
            raise _bad("skey", "the prefix 'PRIVATE+KEY+'", "something else")
        name, kid, seed = _split_key(rest, "skey", cls.KEY_TYPE)
        if (s := cls(name, seed)).key_id != kid:
            raise _bad("skey", f"key ID {s.key_id.hex()}", kid.hex())
        return s

    @property
    def seed(self) -> bytes:
        """The 32-byte Ed25519 seed (secret)."""
        return bytes(self._key.encode())

    def skey(self) -> str:
        """Return the secret key string ``PRIVATE+KEY+name+hex8(keyid)+base64(type||seed)``."""
        key64 = _b64(bytes([self.KEY_TYPE]) + self.seed)
        return f"PRIVATE+KEY+{self._name}+{self._key_id.hex()}+{key64}"

    def verifier(self) -> Verifier:
        """Return the matching :class:`Verifier`."""
        return Verifier(self._name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``message`` (RFC 8032, deterministic)."""
        return bytes(self._key.sign(bytes(message)).signature)


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, 4-byte key ID and the signature bytes after the ID."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def base64(self) -> str:
        """``base64(key_id || signature)``, as written on the line."""
        return _b64(self.key_id + self.signature)

    @property
    def line(self) -> str:
        """The signature line without its newline: ``— name base64``."""
        return f"{_PREFIX}{self.name} {self.base64}"

    @classmethod
    def from_line(cls, line: str) -> Signature:
        """Parse ``— <name> <base64(keyid||sig)>`` (no newline).

        Raises: MalformedInput. Spec: c2sp.org/signed-note, "Signatures".
        """
        if not line.startswith(_PREFIX):
            raise _bad("signature line", "to start with '— '", repr(line[:20]))
        name, _, b64 = line[len(_PREFIX) :].partition(" ")
        _check_name(name, "signature line")
        if len(raw := _unb64(b64, f"signature by {name!r}")) < 5:
            raise _bad(f"signature by {name!r}", "a 4-byte key ID and a signature", len(raw))
        return cls(name, raw[:4], raw[4:])


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the verified signatures and those by unknown keys."""

    text: str
    sigs: list[Signature]
    unverified_sigs: list[Signature]


class UnverifiedNoteError(UnknownSigner):
    """No known key signed the note; ``note`` holds it, all signatures unverified."""

    def __init__(self, note: Note) -> None:
        self.note = note
        names = sorted({f"{s.name}+{s.key_id.hex()}" for s in note.unverified_sigs})
        super().__init__(f"note: expected a signature by a known key, got only {names}")


def open(note: bytes, verifiers: Sequence[Verifier]) -> Note:
    """Parse a signed note and verify it with the trusted ``verifiers`` (Go's note.Open).

    Splits at the last blank line; unknown keys' signatures go to ``unverified_sigs``;
    repeated lines, and repeated signatures by one known key, are dropped.
    Raises: MalformedInput for a malformed note (or over 100 signature lines);
    InvalidSignature if a known key's signature fails; UnverifiedNoteError (an
    UnknownSigner) if no known key signed; VerificationError if two verifiers share
    a name and key ID. Spec: c2sp.org/signed-note, "Format" and "Signatures".
    """
    if not isinstance(note, bytes | bytearray | memoryview):
        raise TypeError(f"note: expected bytes, got {type(note).__name__}")
    try:
        msg = bytes(note).decode("utf-8")
    except UnicodeDecodeError as e:
        raise _bad("note", "UTF-8", f"an invalid byte at {e.start}") from e
    _check_text(msg, "note")
    if (split := msg.rfind("\n\n")) < 0:
        raise _bad("note", "a blank line before the signatures", "none")
    text, block = msg[: split + 1], msg[split + 2 :]
    if not block.endswith("\n"):
        raise _bad("note", "newline-terminated signature lines", repr(block[-20:]))
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        if known.setdefault((v.name, v.key_id), v).vkey() != v.vkey():
            raise VerificationError(f"verifiers: expected one {v.name!r} key, got two")
    message = text.encode("utf-8")
    sigs: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[object] = set()
    for count, line in enumerate(block[:-1].split("\n"), start=1):
        sig = Signature.from_line(line)
        if count > MAX_SIGNATURES:
            raise _bad("note", f"at most {MAX_SIGNATURES} signatures", "more")
        ident = (sig.name, sig.key_id)
        if (verifier := known.get(ident)) is None:  # Go drops repeated identical lines
            if line not in seen:
                seen.add(line)
                unverified.append(sig)
        elif ident not in seen:  # Go drops repeated signatures by one known key
            seen.add(ident)
            verifier.verify(message, sig.signature)
            sigs.append(sig)
    if not sigs:
        raise UnverifiedNoteError(Note(text, [], unverified))
    return Note(text, sigs, unverified)


def _sign(text: str, existing: Sequence[Signature], signers: Sequence[Signer]) -> bytes:
    """Go's note.Sign: text, blank line, the old signatures kept, then the new ones."""
    if not text.endswith("\n"):
        raise _bad("note text", "a final newline", "none")
    _check_text(text, "note text")
    if not signers:
        raise _bad("signers", "at least one signer", "none")
    message = text.encode("utf-8")
    new = [Signature(s.name, s.key_id, s.sign(message)) for s in signers]
    have = {(s.name, s.key_id) for s in new}
    lines = [s.line for s in existing if (s.name, s.key_id) not in have] + [s.line for s in new]
    if len(lines) > MAX_SIGNATURES:
        raise _bad("note", f"at most {MAX_SIGNATURES} signatures", len(lines))
    return (text + "\n" + "".join(line + "\n" for line in lines)).encode("utf-8")


def sign(text: str, signers: Sequence[Signer]) -> bytes:
    """Sign ``text`` with every signer; return the whole note (Go's note.Sign).

    Raises: MalformedInput if the text lacks its final newline or holds control
    characters other than newline, or if there are no signers.
    Spec: c2sp.org/signed-note, "Format".
    """
    return _sign(text, (), signers)


def add_signatures(note: bytes, signers: Sequence[Signer], verifiers: Sequence[Verifier]) -> bytes:
    """Open ``note`` with ``verifiers``, then add the signers' signatures (Go's Open + Sign).

    Verifying first means nobody countersigns text they have not authenticated.
    Output order is Go's: verified, unverified, then new signatures; an old
    signature by a key that signs again is replaced.
    Raises: as :func:`open` and :func:`sign`. Spec: c2sp.org/signed-note.
    """
    opened = open(note, verifiers)
    return _sign(opened.text, [*opened.sigs, *opened.unverified_sigs], signers)
