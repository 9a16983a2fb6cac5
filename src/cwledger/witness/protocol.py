"""The add-checkpoint protocol of c2sp.org/tlog-witness, as pure functions.

A request body is ``old <size>\\n``, at most 63 base64 consistency-proof lines, an empty
line, then a signed checkpoint note. :func:`parse_request` splits it, :func:`open_checkpoint`
checks the log's signature, and :func:`decide` compares it with the latest checkpoint the
witness cosigned for that origin. Each refusal is an exception whose ``status`` is the
answer the spec gives:

============================  ======  ==============================================
refusal                       status  when
============================  ======  ==============================================
:class:`MalformedRequest`     400     a malformed body, or old size > checkpoint size
:class:`NotSignedByLog`       403     no signature by a trusted key of that log
:class:`UnknownLog`           404     the witness does not witness that origin
:class:`OldSizeMismatch`      409     old size is not the latest cosigned size
:class:`RootConflict`         409     same size as the latest cosigned, another root
:class:`InconsistentProof`    422     the consistency proof does not verify
============================  ======  ==============================================
"""

from __future__ import annotations

import hmac
import re
from base64 import b64decode, b64encode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cwledger.errors import (
    ConflictError,
    Forbidden,
    MalformedInput,
    NotFound,
    VerificationError,
)
from cwledger.tlog import note as _note
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.hashing import HASH_SIZE
from cwledger.tlog.note import Verifier
from cwledger.tlog.verify import verify_consistency

__all__ = [
    "MAX_PROOF_LINES",
    "SIZE_MEDIA_TYPE",
    "AddCheckpoint",
    "Cosigned",
    "InconsistentProof",
    "MalformedRequest",
    "NotSignedByLog",
    "OldSizeMismatch",
    "RootConflict",
    "UnknownLog",
    "decide",
    "format_request",
    "open_checkpoint",
    "origin_of",
    "parse_request",
]

MAX_PROOF_LINES = 63  # the spec: a client MUST NOT send more
SIZE_MEDIA_TYPE = "text/x.tlog.size"  # the body of a 409 for a wrong old size
_OLD = re.compile(rb"old (0|[1-9][0-9]{0,19})")
_B64 = re.compile(rb"[A-Za-z0-9+/]{43}=")  # 32 bytes in padded base64


class MalformedRequest(MalformedInput):
    """The add-checkpoint body is malformed, or its old size exceeds the checkpoint's (400)."""

    code = "witness-malformed-request"


class UnknownLog(NotFound):
    """The witness does not witness the checkpoint's origin (404)."""

    code = "witness-unknown-log"


class NotSignedByLog(Forbidden):
    """No signature on the checkpoint verifies with a key the witness trusts for its log (403)."""

    code = "witness-not-signed"


class OldSizeMismatch(ConflictError):
    """The old size is not the size the witness last cosigned for the log (409).

    ``latest_size`` is that size: the answer's body, ``<size>\\n`` as ``text/x.tlog.size``.
    """

    code = "witness-old-size-mismatch"

    def __init__(self, message: str, latest_size: int = 0) -> None:
        super().__init__(message)
        self.latest_size = latest_size


class RootConflict(ConflictError):
    """The checkpoint has the size the witness last cosigned but another root hash (409)."""

    code = "witness-root-conflict"


class InconsistentProof(VerificationError):
    """The consistency proof from the old size to the checkpoint does not verify (422)."""

    code = "witness-inconsistent-proof"


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed add-checkpoint request: old size, consistency proof, signed checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    note: bytes


@dataclass(frozen=True)
class Cosigned:
    """The latest checkpoint a witness cosigned for one log: its size and root hash."""

    size: int
    root_hash: bytes


def format_request(old_size: int, proof: Sequence[bytes], note: bytes) -> bytes:
    """Return the add-checkpoint body for ``old_size``, the proof hashes and the note."""
    lines = b"".join(b64encode(h) + b"\n" for h in proof)
    return b"old %d\n" % old_size + lines + b"\n" + bytes(note)


def parse_request(body: bytes) -> AddCheckpoint:
    """Split an add-checkpoint body into old size, proof hashes and the checkpoint note.

    Raises: MalformedRequest for a first line that is not ``old <size>`` (canonical
    decimal below 2^64), a proof line that is not the base64 of a 32-byte hash, more than
    63 proof lines, no empty line after them, or no note.
    Spec: c2sp.org/tlog-witness, "add-checkpoint".
    """
    first, newline, rest = bytes(body).partition(b"\n")
    m = _OLD.fullmatch(first)
    if not newline or m is None or int(m.group(1)) >= 2**64:
        raise MalformedRequest(
            f"add-checkpoint: expected a first line 'old <size>', got {first[:40]!r}"
        )
    proof: list[bytes] = []
    while True:
        line, newline, rest = rest.partition(b"\n")
        if not newline:
            raise MalformedRequest("add-checkpoint: expected an empty line before the checkpoint")
        if not line:
            break
        if len(proof) == MAX_PROOF_LINES:
            raise MalformedRequest(
                f"add-checkpoint: expected at most {MAX_PROOF_LINES} proof lines, got more"
            )
        if not _B64.fullmatch(line) or len(raw := b64decode(line)) != HASH_SIZE:
            raise MalformedRequest(
                f"add-checkpoint: proof line {len(proof) + 1}: expected a 32-byte hash in "
                f"base64, got {line[:60]!r}"
            )
        proof.append(raw)
    if not rest:
        raise MalformedRequest("add-checkpoint: expected a signed checkpoint, got nothing")
    return AddCheckpoint(int(m.group(1)), tuple(proof), rest)


def origin_of(note: bytes) -> str:
    """The origin line of a checkpoint note, before any signature is checked (to pick keys).

    Raises: MalformedRequest for a note without a first line in UTF-8.
    """
    first, newline, _ = bytes(note).partition(b"\n")
    try:
        origin = first.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MalformedRequest("checkpoint: expected an origin line in UTF-8") from e
    if not newline or not origin:
        raise MalformedRequest("checkpoint: expected a non-empty origin line")
    return origin


def open_checkpoint(
    request: AddCheckpoint, trusted: Mapping[str, Sequence[Verifier]]
) -> tuple[Checkpoint, str]:
    """Check the request's note against the log keys ``trusted`` for its origin.

    Returns the checkpoint and its note text (what a cosignature signs).
    Raises, in the spec's order: UnknownLog (404) for an origin not in ``trusted``;
    MalformedRequest (400) for a malformed note or checkpoint; NotSignedByLog (403) if no
    signature by a trusted key verifies (one by a trusted key that fails counts as none;
    signatures by other keys are ignored); MalformedRequest (400) if the old size
    exceeds the checkpoint's. Spec: c2sp.org/tlog-witness, "add-checkpoint".
    """
    origin = origin_of(request.note)
    verifiers = trusted.get(origin)
    if not verifiers:
        raise UnknownLog(f"add-checkpoint: this witness does not witness the log {origin!r}")
    try:
        opened = _note.open(request.note, verifiers)
    except _note.UnverifiedNoteError as e:
        raise NotSignedByLog(f"add-checkpoint: no signature by a key trusted for {origin!r}") from e
    except MalformedInput as e:
        raise MalformedRequest(f"add-checkpoint: {e}") from e
    except VerificationError as e:  # a trusted key's signature that fails
        raise NotSignedByLog(f"add-checkpoint: {e}") from e
    try:
        checkpoint = Checkpoint.from_text(opened.text, origin=origin)
    except VerificationError as e:
        raise MalformedRequest(f"add-checkpoint: {e}") from e
    if request.old_size > checkpoint.size:
        raise MalformedRequest(
            f"add-checkpoint: old size {request.old_size} exceeds the checkpoint's size "
            f"{checkpoint.size}"
        )
    return checkpoint, opened.text


def decide(request: AddCheckpoint, checkpoint: Checkpoint, latest: Cosigned | None) -> None:
    """Decide whether to cosign ``checkpoint`` given the ``latest`` one cosigned (None: never).

    Returns if the witness may cosign it (and must then record it as its latest).
    Raises: OldSizeMismatch (409) unless the old size is the latest cosigned size (0 if
    none); InconsistentProof (422) for a proof that is not empty when the old size is 0
    or equals the checkpoint's, or that does not prove the latest cosigned tree a prefix
    of the checkpoint's; RootConflict (409) for the latest size with another root.
    Preconditions: ``checkpoint`` is ``request``'s, opened by :func:`open_checkpoint`.
    Spec: c2sp.org/tlog-witness, "add-checkpoint".
    """
    latest_size = 0 if latest is None else latest.size
    if request.old_size != latest_size:
        raise OldSizeMismatch(
            f"add-checkpoint: old size {request.old_size} is not the latest size cosigned "
            f"for {checkpoint.origin!r}, {latest_size}",
            latest_size,
        )
    if (request.old_size == 0 or request.old_size == checkpoint.size) and request.proof:
        raise InconsistentProof(
            f"add-checkpoint: expected an empty proof from size {request.old_size} to "
            f"{checkpoint.size}, got {len(request.proof)} hashes"
        )
    if latest is None:
        return
    if latest.size == checkpoint.size:
        if not hmac.compare_digest(latest.root_hash, checkpoint.root_hash):
            raise RootConflict(
                f"add-checkpoint: {checkpoint.origin!r} at size {checkpoint.size} was cosigned "
                "with another root hash"
            )
        return
    if latest.size == 0:
        return
    try:
        verify_consistency(
            latest.size, checkpoint.size, request.proof, latest.root_hash, checkpoint.root_hash
        )
    except VerificationError as e:
        raise InconsistentProof(f"add-checkpoint: {e}") from e
