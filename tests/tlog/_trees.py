"""Shared test data: deterministic leaf hashes, and the direction "shape" of a proof."""

from __future__ import annotations

from cwledger.tlog import consistency_ranges, inclusion_ranges, leaf_hash

MAX_LEAVES = 2100
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX_LEAVES)]


def inclusion_shape(index: int, size: int) -> list[bool]:
    """Per proof hash: is the sibling on the right? Verification depends on nothing else."""
    return [a > index for a, _ in inclusion_ranges(index, size)]


def consistency_shape(size1: int, size2: int) -> tuple[bool, list[bool]]:
    """(old root is the seed, per proof hash: is it inside the old tree?)."""
    return size1 & (size1 - 1) == 0, [b <= size1 for _, b in consistency_ranges(size1, size2)]
