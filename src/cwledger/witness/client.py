"""A client of c2sp.org/tlog-witness: ask one witness to cosign a checkpoint (urllib only).

:func:`add_checkpoint` raises, for each refusal the spec defines, the same exception the
witness raised (:mod:`cwledger.witness.protocol`); an :class:`OldSizeMismatch` carries the
size the witness last cosigned, from which the caller retries with a proof from that size.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from cwledger.errors import CwledgerError, Unavailable
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.note import Signature
from cwledger.witness.protocol import (
    SIZE_MEDIA_TYPE,
    InconsistentProof,
    MalformedRequest,
    NotSignedByLog,
    OldSizeMismatch,
    RootConflict,
    UnknownLog,
    format_request,
)

__all__ = ["WitnessUnavailable", "add_checkpoint", "cosign_checkpoint"]


class WitnessUnavailable(Unavailable):
    """The witness could not be reached, or answered something the protocol does not define."""

    code = "witness-unavailable"


_BY_STATUS: dict[int, type[CwledgerError]] = {
    400: MalformedRequest,
    403: NotSignedByLog,
    404: UnknownLog,
    422: InconsistentProof,
}


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip()[:300]


def _post(request: urllib.request.Request, timeout: float) -> tuple[int, str, bytes]:
    """Status, media type and body of the answer, whatever its status."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return int(resp.status), resp.headers.get_content_type(), resp.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers.get_content_type(), e.read()


def add_checkpoint(
    url: str, old_size: int, proof: Sequence[bytes], note: bytes, *, timeout: float = 10.0
) -> list[str]:
    """POST ``old_size``, the consistency ``proof`` and the signed checkpoint ``note`` to the
    witness at ``url`` (its submission prefix; ``/add-checkpoint`` is appended).

    Returns the cosignature lines of the 200 answer, without their newlines (each starts
    with U+2014; check them with :func:`cwledger.tlog.cosignature.verify_cosignature`).
    Raises: OldSizeMismatch (409 with a ``text/x.tlog.size`` body; ``latest_size`` is the
    witness's size); RootConflict (other 409); MalformedRequest (400); NotSignedByLog
    (403); UnknownLog (404); InconsistentProof (422); WitnessUnavailable for a network
    failure, another status or a 200 body that is not signature lines.
    """
    endpoint = url.rstrip("/") + "/add-checkpoint"
    request = urllib.request.Request(
        endpoint, data=format_request(old_size, proof, note), method="POST"
    )
    try:
        status, media, body = _post(request, timeout)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:  # cut off too
        raise WitnessUnavailable(f"witness {endpoint}: {e!r}") from None
    if status != 200:
        said = f"witness {endpoint} answered {status}: {_text(body)}"
        if status == 409:
            size = body.decode("ascii", "replace")
            if media == SIZE_MEDIA_TYPE and size.endswith("\n") and size[:-1].isdigit():
                raise OldSizeMismatch(said, int(size[:-1]))
            raise RootConflict(said)
        raise _BY_STATUS.get(status, WitnessUnavailable)(said)
    try:
        text = body.decode("utf-8")
        lines = text.split("\n")
        if not text.endswith("\n") or len(lines) < 2:
            raise ValueError("no newline-terminated line")
        for line in lines[:-1]:
            Signature.from_line(line)
    except (ValueError, CwledgerError) as e:
        raise WitnessUnavailable(
            f"witness {endpoint}: expected cosignature lines, got {_text(body)!r} ({e})"
        ) from None
    return lines[:-1]


def cosign_checkpoint(
    url: str,
    note: bytes,
    proof_from: Callable[[int], Sequence[bytes]],
    old_size: int = 0,
    *,
    timeout: float = 10.0,
) -> tuple[list[str], int]:
    """Ask the witness at ``url`` to cosign ``note``, starting from ``old_size`` (what the
    caller believes the witness last cosigned; 0 if it does not know).

    ``proof_from(size)`` returns the consistency proof from ``size`` to the note's tree
    (empty for 0 or the note's own size). On a 409 that names another size, it retries
    once from that size. Returns the cosignature lines and the old size that succeeded.
    Raises: as :func:`add_checkpoint` (OldSizeMismatch only if the witness moved again,
    or holds a larger tree than the note's: then ``latest_size`` says which).
    """
    try:
        return add_checkpoint(url, old_size, proof_from(old_size), note, timeout=timeout), old_size
    except OldSizeMismatch as e:
        text = note.decode("utf-8", "replace").partition("\n\n")[0] + "\n"
        if e.latest_size == old_size or e.latest_size > Checkpoint.from_text(text).size:
            raise
        old_size = e.latest_size
    return add_checkpoint(url, old_size, proof_from(old_size), note, timeout=timeout), old_size
