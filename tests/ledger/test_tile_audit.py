"""The audit's tree against the stored tiles (`cwledger.ledger.tile_audit`): the bottom
tiles a worker checks whole, the tree this process folds their roots into, the same
roots and the same first bad node as a walk leaf by leaf."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import VerificationError
from cwledger.ledger.tile_audit import TreeAudit, check_bottom_tiles
from cwledger.tlog import root_hash
from cwledger.tlog.hashing import leaf_hash
from cwledger.tlog.tiled import TiledTree
from cwledger.tlog.tiles import TILE_WIDTH

LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(1_500)]


class _Tiles:
    """A reader of the tiles a log of `size` leaves stores (as `TiledTree.append` writes
    them), one of them changed if asked."""

    def __init__(self, size: int, changed: tuple[int, int, int] | None = None) -> None:
        _, self.rows, _ = TiledTree(0, lambda _: {}).append(LEAVES[:size])
        if changed is not None:
            level, index, at = changed
            row = bytearray(self.rows[(level, index)])
            row[at * 32] ^= 1
            self.rows[(level, index)] = bytes(row)

    def tiles(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return {k: self.rows[k] for k in keys if k in self.rows}


def _fail(index: int, reason: str) -> VerificationError:
    return VerificationError(f"entry {index}: {reason}")


def _walk(tiles: _Tiles, size: int, checked: set[int], sizes: set[int]) -> dict[int, bytes]:
    """The tree of `size` leaves as the audit's process builds it: the bottom tiles in
    `checked` by their roots (as a worker gives them), every other leaf one at a time;
    the roots at `sizes`."""
    roots, failure = check_bottom_tiles(tiles, 0, LEAVES[:size])  # type: ignore[arg-type]
    assert failure is None
    tree = TreeAudit(tiles, _fail)  # type: ignore[arg-type]
    seen = {}
    for i in range(size):
        t = i // TILE_WIDTH
        tree.append(LEAVES[i], roots[t] if t in checked else None)
        if i + 1 in sizes:
            seen[i + 1] = tree.root()
    return seen


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 1_500), st.sets(st.integers(0, 5)), st.sets(st.integers(1, 1_500)))
def test_roots_are_the_trees_whichever_tiles_a_worker_checked(
    size: int, checked: set[int], sizes: set[int]
) -> None:
    """A root asked for inside a tile whose leaves wait for its root (a checkpoint in the
    middle of a worker's tile) is the tree's, as at every other size."""
    full = size // TILE_WIDTH
    checked = {t for t in checked if t < full}
    sizes = {s for s in sizes if s <= size} | {size}
    got = _walk(_Tiles(size), size, checked, sizes)
    assert got == {s: root_hash(LEAVES[:s]) for s in sizes}


@pytest.mark.parametrize(
    ("changed", "first_leaf", "where"),
    [
        ((0, 1, 77), 256 + 77, "stored tile 0/1 hash 77"),
        ((0, 2, 300), 512 + 88, "interior node (height 1, 44)"),  # hash 300: 256 + 88 / 2
        ((1, 0, 3), 3 * 256, "stored tile 1/0 hash 3"),
    ],
)
def test_a_changed_tile_is_named_as_a_walk_leaf_by_leaf_names_it(
    changed: tuple[int, int, int], first_leaf: int, where: str
) -> None:
    """The worker's whole-tile comparison (and this process, for the tiles above) names
    the node a leaf-by-leaf walk would: the same first leaf and reason."""
    size = 1_100
    tiles = _Tiles(size, changed)
    walked = TreeAudit(tiles, _fail)  # type: ignore[arg-type]
    with pytest.raises(VerificationError) as by_leaf:
        for i in range(size):
            walked.append(LEAVES[i], None)
    roots, failure = check_bottom_tiles(tiles, 0, LEAVES[:size])  # type: ignore[arg-type]
    tree = TreeAudit(tiles, _fail)  # type: ignore[arg-type]
    with pytest.raises(VerificationError) as by_tile:
        for i in range(size):
            if failure is not None and failure.at == i:  # where the audit raises it
                raise _fail(failure.first_leaf, failure.reason)
            tree.append(LEAVES[i], roots.get(i // TILE_WIDTH))
    assert str(by_tile.value) == str(by_leaf.value)
    assert str(by_leaf.value).startswith(f"entry {first_leaf}: ") and where in str(by_leaf.value)
