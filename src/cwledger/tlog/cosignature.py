"""Witness cosignatures: c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1`` (type 0x04).

A cosignature is an ordinary signed-note signature line whose signature bytes
are ``u64be(timestamp) || Ed25519(cosigned_message(body, timestamp))`` and whose
key ID is ``SHA-256(name || 0x0A || 0x04 || pubkey)[:4]``. Because
:class:`CosignatureVerifier` and :class:`CosignatureSigner` plug into
:func:`cwledger.tlog.note.open` / :func:`~cwledger.tlog.note.sign`, a checkpoint
and its cosignatures are verified in one pass. Checked against sigsum-go's and
transparency-dev/formats' test data (cosignatures.json).
"""

from __future__ import annotations

import binascii
import time
from base64 import b64decode
from collections.abc import Callable

from cwledger.errors import InvalidSignature, MalformedInput
from cwledger.tlog.note import Signature, Signer, Verifier

__all__ = [
    "COSIGNATURE_V1",
    "MAX_TIMESTAMP",
    "CosignatureSigner",
    "CosignatureVerifier",
    "cosignature_timestamp",
    "cosigned_message",
    "verifier_from_vkey",
    "verify_cosignature",
]

COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = 2**63 - 1  # the spec: a timestamp MUST NOT exceed 2^63 - 1
_SIG_LEN = 8 + 64


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise MalformedInput(f"timestamp: expected an int, got {type(timestamp).__name__}")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise MalformedInput(f"timestamp: expected 0..2^63-1, got {timestamp}")


def _encode(body: str) -> bytes:
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as e:
        raise MalformedInput(f"body: expected encodable text, got {e.reason}") from e


def _message(body: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + body


def cosigned_message(body: str, timestamp: int) -> bytes:
    """Return ``b"cosignature/v1\\ntime <timestamp>\\n" + body`` (what the witness signs).

    ``body`` is the whole checkpoint note text, final newline included.
    Raises: MalformedInput for a timestamp outside 0..2^63-1 or a body with lone surrogates.
    Spec: c2sp.org/tlog-cosignature, "Ed25519 signed message".
    """
    _check_timestamp(timestamp)
    return _message(_encode(body), timestamp)


def cosignature_timestamp(signature: bytes) -> int:
    """Return the timestamp of a cosignature's signature bytes (those after the key ID).

    Raises: MalformedInput unless ``signature`` is 72 bytes (u64 timestamp, 64-byte
    Ed25519 signature) with a timestamp of at most 2^63-1; a plain 64-byte note
    signature is not a cosignature. Spec: c2sp.org/tlog-cosignature, "Format".
    """
    if len(signature) != _SIG_LEN:
        raise MalformedInput(
            f"cosignature: expected {_SIG_LEN} bytes after the key ID, got {len(signature)}"
        )
    timestamp = int.from_bytes(signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise MalformedInput(f"cosignature: expected a timestamp <= 2^63-1, got {timestamp}")
    return timestamp


class CosignatureVerifier(Verifier):
    """A trusted witness key (type 0x04). ``verify`` takes the note text and 72-byte signature."""

    KEY_TYPE = COSIGNATURE_V1
    __slots__ = ()

    def verify(self, message: bytes, sig: bytes) -> None:
        """Check ``u64be(ts) || sig64`` over ``cosigned_message(message, ts)``.

        Raises: InvalidSignature (also for a wrong length or an out-of-range timestamp).
        Spec: c2sp.org/tlog-cosignature, "Format" and "Ed25519 signed message".
        """
        try:
            timestamp = cosignature_timestamp(sig)
        except MalformedInput as e:
            raise InvalidSignature(f"cosignature by {self.name}+{self.key_id.hex()}: {e}") from e
        super().verify(_message(bytes(message), timestamp), sig[8:])


class CosignatureSigner(Signer):
    """A witness signing key (type 0x04). Its signatures carry a timestamp."""

    KEY_TYPE = COSIGNATURE_V1
    __slots__ = ("_clock",)

    def __init__(self, name: str, seed: bytes, *, clock: Callable[[], int] | None = None) -> None:
        """Build a witness signer; ``clock`` (default: now, POSIX seconds) stamps signatures.

        Raises: MalformedInput. Spec: c2sp.org/tlog-cosignature, "Format".
        """
        super().__init__(name, seed)
        self._clock = clock or (lambda: int(time.time()))

    def sign(self, message: bytes, timestamp: int | None = None) -> bytes:
        """Return ``u64be(timestamp) || Ed25519(cosigned_message(message, timestamp))``.

        ``message`` is the checkpoint note text; ``timestamp`` defaults to the clock.
        Raises: MalformedInput for a timestamp outside 0..2^63-1.
        Spec: c2sp.org/tlog-cosignature, "Format".
        """
        ts = self._clock() if timestamp is None else timestamp
        _check_timestamp(ts)
        return ts.to_bytes(8, "big") + super().sign(_message(bytes(message), ts))

    def cosign(self, body: str, timestamp: int | None = None) -> str:
        """Return the signature line (no newline) cosigning checkpoint text ``body``.

        Raises: MalformedInput. Spec: c2sp.org/tlog-cosignature, "Format".
        """
        return Signature(self.name, self.key_id, self.sign(_encode(body), timestamp)).line

    def verifier(self) -> CosignatureVerifier:
        """Return the matching :class:`CosignatureVerifier`."""
        return CosignatureVerifier(self.name, self.public_key)


def verifier_from_vkey(vkey: str) -> Verifier:
    """Parse a vkey of type 0x01 (note :class:`Verifier`) or 0x04 (:class:`CosignatureVerifier`).

    For trust configurations that mix log and witness keys.
    Raises: MalformedInput. Spec: c2sp.org/signed-note, c2sp.org/tlog-cosignature.
    """
    parts = vkey.split("+", 2)
    try:
        witness = len(parts) == 3 and b64decode(parts[2][:4], validate=True)[:1] == b"\x04"
    except (binascii.Error, ValueError):
        witness = False
    return CosignatureVerifier.from_vkey(vkey) if witness else Verifier.from_vkey(vkey)


def verify_cosignature(verifier: CosignatureVerifier, body: str, line: str) -> int | None:
    """Check one witness signature line (no newline) over checkpoint text ``body``.

    Returns the timestamp if the line is by ``verifier`` and verifies, or None if
    the line's name or key ID is another key's (such lines MUST be ignored).
    Raises: MalformedInput for an unparsable line or a signature of the wrong size
    by this key; InvalidSignature if it does not verify.
    Spec: c2sp.org/tlog-cosignature; c2sp.org/signed-note, "Signatures".
    """
    sig = Signature.from_line(line)
    if (sig.name, sig.key_id) != (verifier.name, verifier.key_id):
        return None
    timestamp = cosignature_timestamp(sig.signature)
    verifier.verify(_encode(body), sig.signature)
    return timestamp
