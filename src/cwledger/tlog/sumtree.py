"""Merkle-sum trees: an RFC 9162 tree shape whose every node also carries the sum under it.

Each node is a pair ``(hash, grams)``; the grams are unsigned 64-bit integers and every
interior node commits to both children's sums separately (Hu, Zhang & Guo 2018), so a
prover can neither hide a child's amount nor let a negative one cancel a positive one:

* leaf: ``SHA-256(0x00 || u64be(grams) || salt32 || record)``, sum ``grams``
* node: ``SHA-256(0x01 || left.hash || u64be(left.grams) || right.hash || u64be(right.grams))``,
  sum ``left.grams + right.grams`` (refused past ``2**64 - 1``)

The tree over ``n`` leaves splits as RFC 9162 section 2.1.1 does, at the largest power of
two below ``n``. Its root is ``(hash, grams, size)`` (:class:`SumRoot`). An *inclusion
proof* is the path of ``(hash, grams)`` siblings from the leaf up, nearest first, as
RFC 9162's audit path; a *subset proof* reveals several leaves at once with the fewest
other nodes needed to recompute the root, and gives the revealed leaves' total. This
module knows nothing of what the leaves stand for. Every failure raises
:class:`~cwledger.errors.VerificationError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cwledger.errors import VerificationError
from cwledger.tlog.hashing import EMPTY_ROOT, HASH_SIZE
from cwledger.tlog.nodes import inclusion_ranges

__all__ = [
    "MAX_GRAMS",
    "SALT_SIZE",
    "SumNode",
    "SumRoot",
    "SubsetProof",
    "sum_leaf",
    "sum_node",
    "sum_root",
    "sum_levels",
    "sum_inclusion_proof",
    "verify_sum_inclusion",
    "sum_subset_proof",
    "verify_sum_subset",
]

_sha256 = hashlib.sha256

MAX_GRAMS = 2**64 - 1
"""The largest sum a node may carry (u64)."""

SALT_SIZE = 32
"""Length in bytes of a leaf's salt."""

SumNode = tuple[bytes, int]
"""A node of the tree: its hash and the grams under it."""


@dataclass(frozen=True)
class SumRoot:
    """What is published of a tree: its root hash, the total grams and the leaf count."""

    hash: bytes
    grams: int
    size: int


def _u64(grams: int) -> bytes:
    if not 0 <= grams <= MAX_GRAMS:
        raise VerificationError(f"{grams} grams is not an unsigned 64-bit sum")
    return grams.to_bytes(8, "big")


def sum_leaf(grams: int, salt: bytes, record: bytes) -> SumNode:
    """The leaf ``(SHA-256(0x00 || u64be(grams) || salt || record), grams)``.

    Preconditions: ``0 <= grams < 2**64`` and a 32-byte salt; otherwise raises
    ``VerificationError``.
    """
    if len(salt) != SALT_SIZE:
        raise VerificationError(f"a leaf's salt has {len(salt)} bytes, want {SALT_SIZE}")
    return _sha256(b"\x00" + _u64(grams) + salt + record).digest(), grams


def sum_node(left: SumNode, right: SumNode) -> SumNode:
    """The parent of two nodes; raises ``VerificationError`` if the sum overflows u64
    (or a child's grams are not u64)."""
    lh, lg = left
    rh, rg = right
    data = b"\x01" + lh + _u64(lg) + rh + _u64(rg)
    return _sha256(data).digest(), int.from_bytes(_u64(lg + rg), "big")


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def sum_levels(leaves: Sequence[SumNode]) -> list[list[SumNode]]:
    """Every level of the tree, leaves first, the root's level last.

    Level ``l`` node ``i`` is the root of the leaves ``[i * 2**l, min((i + 1) * 2**l, n))``;
    a lone last node is promoted unchanged, which builds RFC 9162's tree (split at the
    largest power of two below ``n``). ``n - 1`` hashes. An empty list gives ``[[]]``.
    Raises ``VerificationError`` when a sum overflows u64.
    """
    levels = [list(leaves)]
    level = levels[0]
    while len(level) > 1:
        it = iter(level)
        paired = [sum_node(a, b) for a, b in zip(it, it, strict=False)]
        if len(level) & 1:
            paired.append(level[-1])
        levels.append(paired)
        level = paired
    return levels


def _root_of(levels: list[list[SumNode]]) -> SumRoot:
    size = len(levels[0])
    if size == 0:
        return SumRoot(EMPTY_ROOT, 0, 0)
    h, g = levels[-1][0]
    return SumRoot(h, g, size)


def sum_root(leaves: Sequence[SumNode]) -> SumRoot:
    """The root ``(hash, grams, size)`` of the tree over ``leaves``.

    The empty tree's root is ``(SHA-256(""), 0, 0)``. Raises ``VerificationError`` when a
    sum overflows u64.
    """
    return _root_of(sum_levels(leaves))


def _range_node(levels: list[list[SumNode]], lo: int, hi: int) -> SumNode:
    """The node over ``[lo, hi)``: a range of RFC 9162's recursion (perfect, or ending at n)."""
    level = (hi - lo - 1).bit_length()
    return levels[level][lo >> level]


def sum_inclusion_proof(levels: list[list[SumNode]], index: int) -> list[SumNode]:
    """The path of ``(hash, grams)`` siblings of leaf ``index``, nearest first.

    ``levels`` is :func:`sum_levels` of the tree. Raises ``VerificationError`` unless
    ``0 <= index < n``.
    """
    return [_range_node(levels, a, b) for a, b in inclusion_ranges(index, len(levels[0]))]


def _check_node(node: SumNode, what: str) -> None:
    h, g = node
    if len(h) != HASH_SIZE:
        raise VerificationError(f"{what}: a hash of {HASH_SIZE} bytes is wanted")
    if type(g) is not int or not 0 <= g <= MAX_GRAMS:
        raise VerificationError(f"{what}: grams must be an unsigned 64-bit integer, got {g!r}")


def _check_root(leaf_root: SumRoot, root: SumRoot, what: str) -> None:
    if leaf_root.hash != root.hash or leaf_root.grams != root.grams:
        raise VerificationError(
            f"{what} does not lead to the committed root: computed "
            f"{leaf_root.hash.hex()} with {leaf_root.grams} grams, committed "
            f"{root.hash.hex()} with {root.grams} grams"
        )


def verify_sum_inclusion(
    leaf: SumNode, index: int, proof: Sequence[SumNode], root: SumRoot
) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree whose root is ``root``.

    Raises ``VerificationError`` for an index out of range, a path of the wrong length, a
    malformed node, an overflowing sum, or a path that leads elsewhere.
    """
    ranges = inclusion_ranges(index, root.size)  # raises for an index out of range
    if len(proof) != len(ranges):
        raise VerificationError(
            f"inclusion path has {len(proof)} nodes, want {len(ranges)} for leaf {index} "
            f"of {root.size}"
        )
    _check_node(leaf, "leaf")
    node = leaf
    for i, ((a, _), sibling) in enumerate(zip(ranges, proof, strict=True)):
        _check_node(sibling, f"path node {i}")
        node = sum_node(node, sibling) if a > index else sum_node(sibling, node)
    _check_root(SumRoot(node[0], node[1], root.size), root, f"the path of leaf {index}")


@dataclass(frozen=True)
class SubsetProof:
    """Several leaves of one tree revealed together, with the other nodes that recompute
    its root.

    ``size`` is the tree's leaf count; ``leaves`` the revealed ``(index, (hash, grams))``
    in increasing index order; ``nodes`` the covering nodes, in the order a left-to-right
    walk of RFC 9162's recursion meets the subtrees that hold no revealed leaf.
    """

    size: int
    leaves: tuple[tuple[int, SumNode], ...]
    nodes: tuple[SumNode, ...]

    @property
    def grams(self) -> int:
        """The revealed leaves' total (checked by :func:`verify_sum_subset`)."""
        return sum(g for _, (_, g) in self.leaves)


def sum_subset_proof(levels: list[list[SumNode]], indices: Sequence[int]) -> SubsetProof:
    """The subset proof of the leaves at ``indices`` (any order, no repeats).

    ``levels`` is :func:`sum_levels` of the tree. Raises ``VerificationError`` for an
    index out of range or repeated, or an empty set.
    """
    size = len(levels[0])
    chosen = sorted(indices)
    if not chosen:
        raise VerificationError("a subset proof reveals at least one leaf")
    if len(set(chosen)) != len(chosen):
        raise VerificationError("a subset proof names a leaf more than once")
    if chosen[0] < 0 or chosen[-1] >= size:
        raise VerificationError(
            f"leaf indices must be in [0, {size}), got {chosen[0]}..{chosen[-1]}"
        )
    nodes: list[SumNode] = []
    # Iterative walk: ranges in left-to-right order, with the next chosen index (by its
    # position in `chosen`) to test whether a range holds any.
    stack = [(0, size)]
    pos = 0
    while stack:
        lo, hi = stack.pop()
        while pos < len(chosen) and chosen[pos] < lo:
            pos += 1
        if pos == len(chosen) or chosen[pos] >= hi:
            nodes.append(_range_node(levels, lo, hi))
        elif hi - lo > 1:
            mid = lo + _split(hi - lo)
            stack.append((mid, hi))
            stack.append((lo, mid))
    return SubsetProof(size, tuple((i, levels[0][i]) for i in chosen), tuple(nodes))


def verify_sum_subset(proof: SubsetProof, root: SumRoot) -> tuple[int, int]:
    """Check a subset proof against ``root``; returns the revealed ``(count, grams)``.

    Raises ``VerificationError`` when the proof's size is not the root's, its indices are
    not strictly increasing within the tree, a node is malformed, a sum overflows, nodes
    are missing or left over, or the recomputed root differs.
    """
    if proof.size != root.size:
        raise VerificationError(f"the proof is for a tree of {proof.size} leaves, not {root.size}")
    if not proof.leaves:
        raise VerificationError("a subset proof reveals at least one leaf")
    last = -1
    for i, (index, leaf) in enumerate(proof.leaves):
        if type(index) is not int or not last < index < root.size:
            raise VerificationError(
                f"revealed leaf {i}: index {index!r} must be above {last} and below {root.size}"
            )
        _check_node(leaf, f"revealed leaf {i}")
        last = index
    for i, node in enumerate(proof.nodes):
        _check_node(node, f"proof node {i}")
    leaves = iter(proof.leaves)
    nodes = iter(proof.nodes)
    pending = next(leaves, None)
    # Post-order evaluation of the same walk as sum_subset_proof, on an explicit stack:
    # (lo, hi, expanded?) frames and a stack of computed nodes.
    frames = [(0, root.size, False)]
    done: list[SumNode] = []
    while frames:
        lo, hi, expanded = frames.pop()
        if expanded:
            right = done.pop()
            left = done.pop()
            done.append(sum_node(left, right))
            continue
        if pending is None or pending[0] >= hi:
            cover = next(nodes, None)
            if cover is None:
                raise VerificationError("the subset proof has too few nodes")
            done.append(cover)
        elif hi - lo == 1:
            done.append(pending[1])
            pending = next(leaves, None)
        else:
            mid = lo + _split(hi - lo)
            frames += [(lo, hi, True), (mid, hi, False), (lo, mid, False)]
    if next(nodes, None) is not None:
        raise VerificationError("the subset proof has nodes left over")
    (h, g) = done[0]
    _check_root(SumRoot(h, g, root.size), root, "the subset proof")
    return len(proof.leaves), proof.grams
