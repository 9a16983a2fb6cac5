"""Node addressing for RFC 9162 section 2.1 trees: which nodes a proof needs, without hashing.

A *node* ``(level, index)`` is the root of the perfect subtree over the leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 nodes are the leaf hashes. Every
proof element of RFC 9162 is the MTH of a leaf *range* ``[a, b)``, and every range a proof
uses is *aligned* (``a`` is a multiple of the smallest power of two >= ``b - a``), so its
MTH is the right-to-left fold of the perfect nodes that :func:`split_range` lists
(:func:`range_root`). A store holding only perfect nodes (for example C2SP tiles) can thus
build any proof: ``[range_root([get(n) for n in split_range(a, b)]) for a, b in ranges]``.

The same layout idea is used by transparency-dev/merkle ``proof/proof.go``. Every
precondition failure raises :class:`~cwledger.errors.VerificationError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cwledger.errors import VerificationError
from cwledger.tlog.hashing import EMPTY_ROOT

__all__ = [
    "consistency_proof_length",
    "consistency_ranges",
    "inclusion_proof_length",
    "inclusion_ranges",
    "range_root",
    "split_range",
]

_sha256 = hashlib.sha256


def _split_point(n: int) -> int:
    """Largest power of two strictly below ``n`` (``n >= 2``): the RFC 9162 ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def split_range(begin: int, end: int) -> list[tuple[int, int]]:
    """Decompose the leaf range ``[begin, end)`` into perfect-subtree nodes, left to right.

    Each step takes the largest node that starts at ``begin``, is aligned, and fits.
    The list is empty for an empty range. For an aligned range (every range returned by
    :func:`inclusion_ranges` and :func:`consistency_ranges`, and any ``[0, n)``) the nodes
    have strictly decreasing levels and :func:`range_root` of their hashes is the MTH of
    the range; for an unaligned range the list is still the minimal cover, but its fold is
    not an RFC 9162 MTH.

    Preconditions: ``0 <= begin <= end``; otherwise raises ``VerificationError``.
    """
    if begin < 0 or end < begin:
        raise VerificationError(f"leaf range [{begin}, {end}) is invalid, want 0 <= begin <= end")
    nodes: list[tuple[int, int]] = []
    while begin < end:
        fit = 1 << ((end - begin).bit_length() - 1)
        align = begin & -begin
        size = fit if begin == 0 or fit < align else align
        level = size.bit_length() - 1
        nodes.append((level, begin >> level))
        begin += size
    return nodes


def range_root(node_hashes: Sequence[bytes]) -> bytes:
    """Fold the hashes of :func:`split_range`'s nodes right to left into the range's MTH.

    ``range_root([h0, h1, h2]) == node_hash(h0, node_hash(h1, h2))``; a single hash is
    returned as is and an empty list gives ``EMPTY_ROOT``. The result is an RFC 9162
    section 2.1.1 MTH only if the range was aligned (see :func:`split_range`).
    Raises nothing.
    """
    if not node_hashes:
        return EMPTY_ROOT
    root = node_hashes[-1]
    for i in range(len(node_hashes) - 2, -1, -1):
        root = _sha256(b"\x01" + node_hashes[i] + root).digest()
    return root


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form RFC 9162 section 2.1.3.1 ``PATH(index, D[0:size])``.

    The list is in proof order: the sibling nearest the leaf first, the root's other
    child last. Its length is :func:`inclusion_proof_length`.

    Preconditions: ``0 <= index < size``; otherwise raises ``VerificationError``.
    """
    if not 0 <= index < size:
        raise VerificationError(
            f"leaf index {index} is out of range for a tree of size {size}, want 0 <= index < size"
        )
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split_point(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()
    return ranges


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form RFC 9162 section 2.1.4.1 ``PROOF(size1, D[0:size2])``.

    This is ``SUBPROOF(size1, D[0:size2], true)`` unrolled: the flag ``b`` drops the final
    node when the old tree is itself a complete subtree of the new one. The list is in
    proof order and empty when ``size1 == size2``. Its length is
    :func:`consistency_proof_length`.

    Preconditions: ``0 < size1 <= size2``; otherwise raises ``VerificationError``.
    """
    if not 0 < size1 <= size2:
        raise VerificationError(
            f"consistency proof from size {size1} to size {size2} is undefined, "
            "want 0 < size1 <= size2"
        )
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size2
    whole = True  # RFC 9162 flag b: still on the left edge of the new tree
    while size1 != hi:
        mid = lo + _split_point(hi - lo)
        if size1 <= mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
            whole = False
    if not whole:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def inclusion_proof_length(index: int, size: int) -> int:
    """Number of hashes in ``PATH(index, D[0:size])``, in O(1).

    The path has one hash per level where ``index`` and ``size - 1`` still differ
    (inner nodes) plus one per set bit of ``index`` above them (the left border).

    Preconditions: ``0 <= index < size``; otherwise raises ``VerificationError``.
    """
    if not 0 <= index < size:
        raise VerificationError(
            f"leaf index {index} is out of range for a tree of size {size}, want 0 <= index < size"
        )
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_length(size1: int, size2: int) -> int:
    """Number of hashes in ``PROOF(size1, D[0:size2])``, in O(1) (0 when the sizes match).

    Preconditions: ``0 < size1 <= size2``; otherwise raises ``VerificationError``.
    """
    if not 0 < size1 <= size2:
        raise VerificationError(
            f"consistency proof from size {size1} to size {size2} is undefined, "
            "want 0 < size1 <= size2"
        )
    if size1 == size2:
        return 0
    shift = (size1 & -size1).bit_length() - 1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner - shift + border
