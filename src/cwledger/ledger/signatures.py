"""Ed25519 verification of entry signatures, one at a time or a batch on every core.

libsodium (through PyNaCl's cffi bindings) verifies about twice as fast as OpenSSL
through ``cryptography`` here, and cffi drops the GIL while it runs, so plain threads
use both cores without pickling anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from cwledger.errors import InvalidSignature

__all__ = [
    "SignatureJob",
    "SignatureChecker",
    "verify_ed25519",
    "bad_signatures",
    "signatures_checked",
]

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


class SignatureChecker:
    """Checks batches of signatures on worker threads while the caller goes on.

    `submit(jobs)` returns at once with a callable that waits and gives the failing
    indices, ascending. Use as a context manager; the threads end with it.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(max_workers=self.workers)

    def submit(self, jobs: Sequence[SignatureJob]) -> Callable[[], list[int]]:
        """Start checking `jobs` (split in one contiguous slice per worker)."""
        step = max(1, -(-len(jobs) // self.workers))
        futures = [self._pool.submit(_bad, jobs[i : i + step]) for i in range(0, len(jobs), step)]
        return lambda: sorted(i for f in futures for i in f.result())

    def __enter__(self) -> SignatureChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def signatures_checked(
    jobs: Sequence[SignatureJob], workers: int | None = None
) -> Iterator[Callable[[], list[int]]]:
    """Check `jobs` while the block runs: yields a callable that waits and gives the
    indices whose signature fails, ascending (empty when all verify).

    With `MIN_THREADED` jobs or more, one contiguous slice per worker thread (default: one
    per core), which run while the block's own work drops the GIL (a database's writes);
    fewer are checked at once, before the block. The threads end with the block.
    """
    if (workers or os.cpu_count() or 1) == 1 or len(jobs) < MIN_THREADED:
        bad = sorted(_bad(jobs))
        yield lambda: bad
        return
    with SignatureChecker(workers) as checker:
        yield checker.submit(jobs)


MIN_THREADED = 64
"""Fewer signatures than this are checked on the caller's thread (threads cost more)."""


def bad_signatures(jobs: Sequence[SignatureJob], workers: int | None = None) -> list[int]:
    """The indices whose signature fails, ascending (empty when all verify): `jobs`
    checked at once (`signatures_checked`)."""
    with signatures_checked(jobs, workers) as bad:
        return bad()
