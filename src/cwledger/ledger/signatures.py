"""Ed25519 verification of entry signatures, one at a time or a batch on every core.

libsodium (through PyNaCl's cffi bindings) verifies about twice as fast as OpenSSL
through ``cryptography`` here, and cffi drops the GIL while it runs, so plain threads
use both cores without pickling anything.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from cwledger.errors import InvalidSignature

__all__ = ["SignatureJob", "verify_ed25519", "bad_signatures"]

# (log index, public key, signed message, signature)
SignatureJob = tuple[int, bytes, bytes, bytes]


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Check one Ed25519 signature. Raises InvalidSignature."""
    try:
        crypto_sign_open(signature + message, public_key)
    except (BadSignatureError, CryptoError, ValueError, TypeError) as e:
        raise InvalidSignature("Ed25519 signature does not verify") from e


def _bad(jobs: Sequence[SignatureJob]) -> list[int]:
    bad = []
    for index, pk, msg, sig in jobs:
        try:
            crypto_sign_open(sig + msg, pk)
        except (BadSignatureError, CryptoError, ValueError, TypeError):
            bad.append(index)
    return bad


def bad_signatures(jobs: Sequence[SignatureJob], workers: int | None = None) -> list[int]:
    """The indices whose signature fails, ascending (empty when all verify).

    Splits the jobs into one contiguous slice per worker thread (default: one per core).
    """
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < 64:
        return sorted(_bad(jobs))
    step = -(-len(jobs) // workers)
    slices = [jobs[i : i + step] for i in range(0, len(jobs), step)]
    with ThreadPoolExecutor(max_workers=len(slices)) as pool:
        return sorted(i for part in pool.map(_bad, slices) for i in part)
