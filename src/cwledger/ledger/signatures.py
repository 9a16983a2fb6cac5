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

__all__ = ["SignatureJob", "verify_ed25519", "first_bad_signature"]

# (log index, public key, signed message, signature)
SignatureJob = tuple[int, bytes, bytes, bytes]


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Check one Ed25519 signature. Raises InvalidSignature."""
    try:
        crypto_sign_open(signature + message, public_key)
    except (BadSignatureError, CryptoError, ValueError, TypeError) as e:
        raise InvalidSignature("Ed25519 signature does not verify") from e


def _first_bad(jobs: Sequence[SignatureJob]) -> int | None:
    for index, pk, msg, sig in jobs:
        try:
            crypto_sign_open(sig + msg, pk)
        except (BadSignatureError, CryptoError, ValueError, TypeError):
            return index
    return None


def first_bad_signature(jobs: Sequence[SignatureJob], workers: int | None = None) -> int | None:
    """The lowest log index whose signature fails, or None when all verify.

    Splits the jobs into one contiguous slice per worker thread (default: one per core).
    """
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < 64:
        return _first_bad(jobs)
    step = -(-len(jobs) // workers)
    slices = [jobs[i : i + step] for i in range(0, len(jobs), step)]
    with ThreadPoolExecutor(max_workers=len(slices)) as pool:
        bad = [b for b in pool.map(_first_bad, slices) if b is not None]
    return min(bad) if bad else None
