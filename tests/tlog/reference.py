"""Naive RFC 9162 section 2.1 definitions, straight from the text, to test against.

Inputs are leaf *hashes* (level-0 nodes), so ``mth([h]) == h``. Quadratic and slow on
purpose: no shared code with ``cwledger.tlog``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:  # the largest power of two smaller than n (n > 1)
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:  # 2.1.1
    if not d:
        return _h(b"")
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return _h(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:  # 2.1.3.1
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:  # 2.1.4.1
    if m == len(d):
        return [] if b else [mth(d)]
    k = _k(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:  # 2.1.4.1
    return subproof(m, d, True)


def subtree_proof(
    s: int, e: int, lo: int, hi: int, b: bool, mth_of: Callable[[int, int], bytes]
) -> list[bytes]:
    """SUBTREE_PROOF as written in shared/vectors/tlog/README.md (``SP``), on leaf ranges."""
    if s == e:
        return []
    if s == lo and e == hi:
        return [] if b else [mth_of(lo, hi)]
    k = _k(hi - lo)
    if e <= lo + k:
        return subtree_proof(s, e, lo, lo + k, b, mth_of) + [mth_of(lo + k, hi)]
    if s >= lo + k:
        return subtree_proof(s, e, lo + k, hi, b, mth_of) + [mth_of(lo, lo + k)]
    return subtree_proof(lo + k, e, lo + k, hi, False, mth_of) + [mth_of(lo, lo + k)]
