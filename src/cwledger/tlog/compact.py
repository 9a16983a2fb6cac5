"""Compact ranges: the right edge of an RFC 9162 tree, enough to append leaves and get roots.

A tree of ``n`` leaves is, from left to right, one perfect subtree per set bit of ``n``,
largest first (RFC 9162 section 2.1.1 splits at powers of two, so its MTH is the
right-to-left fold of those subtree roots). Keeping only those ``popcount(n)`` hashes is
enough to append leaves and to compute the root, in O(k + log n) hashes for k appends.
This is the ``[0, n)`` case of transparency-dev/merkle's ``compact.Range``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from cwledger.errors import VerificationError
from cwledger.tlog.hashing import HASH_SIZE
from cwledger.tlog.nodes import range_root

__all__ = ["CompactRange", "NodeCallback"]

_sha256 = hashlib.sha256

NodeCallback = Callable[[int, int, bytes], None]
"""Called as ``on_node(level, index, hash)`` for every new perfect node."""


class CompactRange:
    """The perfect-subtree roots covering leaves ``[0, size)``, largest (leftmost) first.

    ``CompactRange()`` is the empty tree. To resume a stored tree, fetch the perfect nodes
    named by :meth:`nodes` (or :func:`cwledger.tlog.nodes.split_range` ``(0, size)``) and
    pass their hashes in that order.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Build the range of a tree of ``size`` leaves from its subtree roots.

        Preconditions: ``size >= 0``; ``len(hashes) == popcount(size)``; every hash is 32
        bytes. Raises ``VerificationError`` otherwise.
        """
        if size < 0:
            raise VerificationError(f"compact range size is {size}, want >= 0")
        want = size.bit_count()
        if len(hashes) != want:
            raise VerificationError(
                f"compact range for size {size} has {len(hashes)} hashes, want {want} "
                "(one per set bit of the size)"
            )
        for i, h in enumerate(hashes):
            if len(h) != HASH_SIZE:
                raise VerificationError(
                    f"compact range hash {i} is {len(h)} bytes, want {HASH_SIZE}"
                )
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        """Number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """A copy of the subtree roots, largest (leftmost) first."""
        return list(self._hashes)

    def copy(self) -> CompactRange:
        """An independent copy (appending to it leaves this one unchanged)."""
        return CompactRange(self._size, self._hashes)

    def nodes(self) -> list[tuple[int, int]]:
        """The ``(level, index)`` of each hash in :attr:`hashes`, in the same order."""
        size = self._size
        return [(b, (size >> b) - 1) for b in range(size.bit_length() - 1, -1, -1) if size >> b & 1]

    def append(self, leaf_hash: bytes, on_node: NodeCallback | None = None) -> None:
        """Append one leaf hash, merging equal-sized subtrees.

        ``on_node(level, index, hash)`` is called for the leaf itself (level 0) and then
        for every perfect node the merge completes, bottom-up. The hash is not retained
        if the callback raises: the range is updated only after the callbacks ran.

        Preconditions: ``leaf_hash`` is 32 bytes; otherwise raises ``VerificationError``.
        """
        self.extend((leaf_hash,), on_node)

    def extend(self, leaf_hashes: Iterable[bytes], on_node: NodeCallback | None = None) -> None:
        """Append leaf hashes in order; same as calling :meth:`append` for each.

        Costs one SHA-256 per completed perfect node: ``k + log2(size)`` at most for ``k``
        leaves. If a leaf hash is not 32 bytes, the leaves before it stay appended and
        ``VerificationError`` is raised.
        """
        self.extend_nodes(0, leaf_hashes, on_node)

    def extend_nodes(
        self, level: int, node_hashes: Iterable[bytes], on_node: NodeCallback | None = None
    ) -> None:
        """Append perfect subtrees of height ``level`` by their roots, in order: each covers
        the next ``2**level`` leaves. ``on_node`` is called as by :meth:`append`, from each
        root given (at ``level``) up. Level 0 is :meth:`extend`.

        Preconditions: the size is a multiple of ``2**level``; every hash is 32 bytes.
        Raises ``VerificationError`` otherwise (the subtrees before a bad hash stay
        appended).
        """
        if self._size & ((1 << level) - 1):
            raise VerificationError(
                f"cannot append subtrees of height {level} to a range of size {self._size}"
            )
        sha = _sha256
        hashes = self._hashes
        size = self._size
        for node in node_hashes:
            if len(node) != HASH_SIZE:
                what = "leaf hash" if not level else f"hash of the subtree (height {level})"
                raise VerificationError(
                    f"{what} for index {size} is {len(node)} bytes, want {HASH_SIZE}"
                )
            index = size >> level
            if on_node is not None:
                on_node(level, index, node)
            h, up, pops = node, level, 0
            while index & 1:
                pops += 1
                h = sha(b"\x01" + hashes[-pops] + h).digest()
                index >>= 1
                up += 1
                if on_node is not None:
                    on_node(up, index, h)
            if pops:
                del hashes[-pops:]
            hashes.append(h)
            size += 1 << level
            self._size = size

    def root(self) -> bytes:
        """MTH of leaves ``[0, size)`` (RFC 9162 section 2.1.1); ``EMPTY_ROOT`` when empty.

        Costs ``popcount(size) - 1`` hashes. Raises nothing.
        """
        return range_root(self._hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, hashes=[{len(self._hashes)} x 32 bytes])"
