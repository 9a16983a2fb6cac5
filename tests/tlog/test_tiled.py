"""Proofs from tiles equal proofs from the full list of leaves, for any past size, however
the tree was appended."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import VerificationError
from cwledger.tlog import consistency_proof, inclusion_proof, leaf_hash, root_hash
from cwledger.tlog.tiled import TiledTree, edge_tiles
from cwledger.tlog.tiles import STORED_FULL

Tiles = dict[tuple[int, int], bytes]


def _source(tiles: Tiles):  # type: ignore[no-untyped-def]
    def fetch(keys: Iterable[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
        return {k: tiles[k] for k in keys if k in tiles}

    return fetch


def build(n: int, chunks: Iterable[int]) -> tuple[Tiles, list[bytes]]:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    tiles: Tiles = {}
    size = 0
    for c in chunks:
        c = min(c, n - size)
        if c <= 0:
            break
        compact, written, present = TiledTree(size, _source(tiles)).append(leaves[size : size + c])
        assert set(present) == {k for k in edge_tiles(size) if k in tiles}
        tiles.update(written)
        size += c
        assert compact.size == size and compact.root() == root_hash(leaves[:size])
    return tiles, leaves[:size]


def test_70000_leaves_use_the_c2sp_tiles() -> None:
    tiles, leaves = build(70000, [1000] * 70)
    # The tlog-tiles example: 273 full level-0 tiles and one of 112; a full level-1 tile and
    # one of 17; a level-2 tile of 1.
    widths = {k: min(len(v) // 32, 256) for k, v in tiles.items()}
    assert all(
        len(v) in (STORED_FULL, 32 * widths[k]) and widths[k] <= 256 for k, v in tiles.items()
    )
    assert all(len(v) == STORED_FULL for k, v in tiles.items() if widths[k] == 256)
    assert sum(1 for k in widths if k[0] == 0) == 274 and widths[(0, 0)] == 256
    assert widths[(0, 273)] == 112
    assert (widths[(1, 0)], widths[(1, 1)], widths[(2, 0)]) == (256, 17, 1)
    assert len(widths) == 277
    tree = TiledTree(70000, _source(tiles))
    for size in (1, 255, 256, 257, 65536, 69999, 70000):
        assert tree.root(size) == root_hash(leaves[:size])
    assert tree.inclusion_proof(65535, 70000) == inclusion_proof(leaves, 65535)
    assert tree.consistency_proof(65536, 70000) == consistency_proof(leaves, 65536)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 1500),
    chunks=st.lists(st.integers(1, 700), min_size=1, max_size=10),
    data=st.data(),
)
def test_proofs_from_tiles_equal_in_memory_proofs(
    n: int, chunks: list[int], data: st.DataObject
) -> None:
    tiles, leaves = build(n, [*chunks, n])
    tree = TiledTree(len(leaves), _source(tiles))
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    size1 = data.draw(st.integers(1, size))
    assert tree.root(size) == root_hash(leaves[:size])
    assert tree.inclusion_proof(index, size) == inclusion_proof(leaves[:size], index)
    fetches = []
    counted = TiledTree(len(leaves), lambda keys: fetches.append(keys) or _source(tiles)(keys))
    assert counted.leaf_and_inclusion_proof(index, size) == [
        leaves[index],
        *inclusion_proof(leaves[:size], index),
    ]
    assert len(fetches) == 1  # the leaf hash comes with the proof's hashes
    assert tree.consistency_proof(size1, size) == consistency_proof(leaves[:size], size1)
    assert tree.compact_range().root() == root_hash(leaves)


def test_missing_or_short_tiles_are_errors_not_wrong_answers() -> None:
    tiles, _ = build(600, [600])
    short = {**tiles, (0, 1): tiles[(0, 1)][: 255 * 32]}
    with pytest.raises(VerificationError, match="tile 0/1 holds 255 hashes"):
        TiledTree(600, _source(short)).inclusion_proof(300, 600)
    with pytest.raises(VerificationError, match="beyond the tree's size"):
        TiledTree(600, _source(tiles)).root(601)
    with pytest.raises(VerificationError, match="not complete"):
        TiledTree(600, _source(tiles)).node_hashes([(9, 1)])
    damaged = {**tiles, (0, 1): tiles[(0, 1)][:-32]}  # a stored full tile missing a hash
    with pytest.raises(VerificationError, match="a tile holds at most 256"):
        TiledTree(600, _source(damaged)).inclusion_proof(300, 600)
    broken_edge = {**tiles, (0, 2): tiles[(0, 2)][:-32]}
    with pytest.raises(VerificationError):
        TiledTree(600, _source(broken_edge)).append([leaf_hash(b"x")])


def test_full_tiles_store_their_interior_and_partial_ones_do_not() -> None:
    from cwledger.tlog.tiles import FULL_ROW, STORED_FULL, node_from_tile_row, tile_interior

    tiles, leaves = build(600, [100, 200, 300])
    assert len(tiles[(0, 0)]) == len(tiles[(0, 1)]) == STORED_FULL
    assert len(tiles[(0, 2)]) == (600 - 512) * 32 and len(tiles[(1, 0)]) == 2 * 32
    full = tiles[(0, 1)]
    assert full[FULL_ROW:] == tile_interior(full[:FULL_ROW])
    # Every node inside the tile, read from the interior, equals hashing the bottom row.
    for r in range(8):
        for offset in range(0, 256, 1 << r):
            want = node_from_tile_row(full[:FULL_ROW], r, offset)
            assert node_from_tile_row(full, r, offset) == want
    tree = TiledTree(600, _source(tiles))
    assert tree.node_hashes([(7, 3)]) == [root_hash(leaves[384:512])]


def test_a_memo_shared_by_views_of_growing_sizes_gives_the_same_proofs() -> None:
    from cwledger.tlog.tiled import NodeMemo

    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(3000)]
    tiles: Tiles = {}
    memo = NodeMemo(max_nodes=50)  # small: it is emptied several times
    size = 0
    for step in (700, 1, 1299, 1000):
        _, written, _ = TiledTree(size, _source(tiles), memo).append(leaves[size : size + step])
        tiles.update(written)
        size += step
        for s in (1, size // 2, size):
            tree = TiledTree(s, _source(tiles), memo)
            for index in (0, s // 3, s - 1):
                assert tree.inclusion_proof(index) == inclusion_proof(leaves[:s], index)
            assert tree.root() == root_hash(leaves[:s])
    assert len(memo) <= 50
    with pytest.raises(VerificationError, match="not complete"):
        TiledTree(10, _source(tiles), memo).node_hashes(
            [(4, 0)]
        )  # known to the memo, not to size 10
