"""In-memory RFC 9162 section 2.1 tree hashes and proof generation over a list of leaf hashes.

These functions take *every* leaf hash of the tree (level-0 nodes, already hashed with
:func:`~cwledger.tlog.hashing.leaf_hash`) and are meant for tests, tools and small trees;
a store builds the same proofs from stored perfect nodes via :mod:`cwledger.tlog.nodes`.
Every failure raises :class:`~cwledger.errors.VerificationError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cwledger.errors import VerificationError
from cwledger.tlog.hashing import EMPTY_ROOT
from cwledger.tlog.nodes import consistency_ranges, inclusion_ranges

__all__ = ["consistency_proof", "inclusion_proof", "root_hash"]

_sha256 = hashlib.sha256


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[0:n]) (RFC 9162 section 2.1.1) from the ``n`` leaf hashes.

    Computed bottom-up, level by level: adjacent nodes are paired and a lone last node is
    promoted unchanged. This builds the same tree as the RFC's split at ``k``, the largest
    power of two below ``n``, and costs exactly ``n - 1`` SHA-256 calls with no Python call
    per node. ``EMPTY_ROOT`` for an empty list; a single leaf hash is its own root.

    Preconditions: the elements are bytes (not length-checked). Raises nothing.
    """
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    sha = _sha256
    level = leaf_hashes
    while n > 1:
        it = iter(level)
        paired = [sha(b"\x01" + a + b).digest() for a, b in zip(it, it, strict=False)]
        if n & 1:
            paired.append(level[n - 1])
        level = paired
        n = len(level)
    return level[0]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Return the audit path ``PATH(index, D[0:n])`` (RFC 9162 section 2.1.3.1).

    The tree is all of ``leaf_hashes``; the path lists sibling MTHs from the leaf up.
    Costs ``n - 1`` hashes at most.

    Preconditions: ``0 <= index < len(leaf_hashes)``; otherwise raises
    ``VerificationError``.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise VerificationError(
            f"cannot prove leaf index {index} in a tree of size {size}, want 0 <= index < size"
        )
    return [root_hash(leaf_hashes[a:b]) for a, b in inclusion_ranges(index, size)]


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """Return ``PROOF(size1, D[0:n])`` (RFC 9162 section 2.1.4.1), ``n = len(leaf_hashes)``.

    The proof shows the tree of the first ``size1`` leaves is a prefix of the whole tree;
    it is empty when ``size1 == n``.

    Preconditions: ``0 < size1 <= len(leaf_hashes)``; otherwise raises
    ``VerificationError`` (a proof from the empty tree is meaningless).
    """
    size2 = len(leaf_hashes)
    if not 0 < size1 <= size2:
        raise VerificationError(
            f"cannot prove consistency from size {size1} to a tree of size {size2}, "
            "want 0 < size1 <= size2"
        )
    return [root_hash(leaf_hashes[a:b]) for a, b in consistency_ranges(size1, size2)]
