"""Ed25519 verification of entry signatures, one at a time or a batch on every core.

libsodium (through PyNaCl's cffi bindings) verifies about twice as fast as OpenSSL
through ``cryptography`` here, and cffi drops the GIL while it runs, so plain threads
use both cores without pickling anything, while the caller's thread drops the GIL too (a
database's writes: `signatures_checked`). While the caller's thread runs Python, a thread
done with one signature waits for the GIL before the next: `SignatureProcesses` checks
them on worker processes then, beside it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from cwledger.errors import InvalidSignature

__all__ = [
    "SignatureJob",
    "SignatureChecker",
    "SignatureProcesses",
    "worker_context",
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


def _slices(jobs: Sequence[SignatureJob], workers: int) -> list[Sequence[SignatureJob]]:
    """`jobs` in one contiguous slice per worker."""
    step = max(1, -(-len(jobs) // workers))
    return [jobs[i : i + step] for i in range(0, len(jobs), step)]


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
        futures = [self._pool.submit(_bad, part) for part in _slices(jobs, self.workers)]
        return lambda: sorted(i for f in futures for i in f.result())

    def __enter__(self) -> SignatureChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def worker_context() -> multiprocessing.context.BaseContext:
    """How to start worker processes here: forked while this process runs no other thread
    (cheap: nothing is imported again), else spawned (a fork beside threads would copy
    whatever lock one of them held). The audit's workers and `SignatureProcesses` both."""
    forkable = "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context(
        "fork" if forkable and threading.active_count() == 1 else "spawn"
    )


class SignatureProcesses:
    """Checks batches of signatures on worker processes while the caller's thread goes on,
    in Python or not: one process per core, started at the first `submit` (as
    `worker_context` says) and kept for the next batches until `close`.

    `submit(jobs)` returns at once with a callable that waits and gives the failing
    indices, ascending. If a worker dies, the slices it held are checked on the waiting
    thread instead and the next `submit` starts new workers: a verdict comes later, never
    lost and never assumed.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.start_method: str | None = None  # how the workers last started

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = worker_context()
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
                self.start_method = context.get_start_method()
            return self._pool

    def submit(self, jobs: Sequence[SignatureJob]) -> Callable[[], list[int]]:
        """Start checking `jobs` (split in one contiguous slice per worker)."""
        pool = self._started()
        parts: list[tuple[Sequence[SignatureJob], Future[list[int]] | None]] = []
        for part in _slices(jobs, self.workers):
            try:
                parts.append((part, pool.submit(_bad, part)))
            except BrokenProcessPool:
                parts.append((part, None))

        def failing() -> list[int]:
            bad: list[int] = []
            for part, future in parts:
                try:
                    if future is None:
                        raise BrokenProcessPool("the pool was broken when the slice came")
                    bad += future.result()
                except BrokenProcessPool:
                    self._discard(pool)
                    bad += _bad(part)
            return sorted(bad)

        return failing

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken pool (the next `submit` starts another)."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """End the worker processes (if started)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


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
