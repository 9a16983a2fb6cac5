"""A Merkle tree whose hashes are stored as C2SP ``tlog-tiles`` (height 8).

Tiles hold only the nodes at heights 0, 8, 16, ...; any other perfect node is hashed
up from at most 128 hashes of one tile row. So a proof for any past size reads O(log n)
tiles (in one fetch) and appending k leaves costs O(k + log n) hashes: the right edge
(a compact range) is rebuilt from the tiles and extended, and only the tiles it touches
are rewritten. The tile source is a callable, so this module knows no storage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from cwledger.errors import VerificationError
from cwledger.tlog.compact import CompactRange
from cwledger.tlog.hashing import EMPTY_ROOT, HASH_SIZE
from cwledger.tlog.nodes import consistency_ranges, inclusion_ranges, range_root, split_range
from cwledger.tlog.tiles import (
    FULL_ROW,
    TILE_HEIGHT,
    TILE_WIDTH,
    node_from_tile_row,
    tile_for_node,
    tile_interior,
    tile_layout,
)

__all__ = ["NodeMemo", "TileSource", "TiledTree", "edge_tiles"]

TileSource = Callable[[Iterable[tuple[int, int]]], Mapping[tuple[int, int], bytes]]


def edge_tiles(size: int) -> list[tuple[int, int]]:
    """The partial tiles (level, index) of a tree of `size` leaves: the ones an append extends."""
    return [(level, full) for level, (full, width) in enumerate(tile_layout(size)) if width]


class NodeMemo(dict[tuple[int, int], bytes]):
    """Perfect nodes already computed, shared by the views of one log.

    A perfect node never changes once complete, whatever the tree size, so views of
    different sizes may share one memo; each view still checks that a node is complete in
    its own tree before it looks. Bounded: emptied when it reaches `max_nodes`.
    """

    def __init__(self, max_nodes: int = 100_000) -> None:
        super().__init__()
        self.max_nodes = max_nodes

    def __setitem__(self, key: tuple[int, int], value: bytes) -> None:
        if len(self) >= self.max_nodes:
            self.clear()
        super().__setitem__(key, value)


class TiledTree:
    """Read access to the tree of `size` leaves held in the tiles that `fetch` returns.

    Nodes it computes go into `memo` (its own, unless one shared by the log is given).
    """

    def __init__(self, size: int, fetch: TileSource, memo: NodeMemo | None = None) -> None:
        if size < 0:
            raise VerificationError(f"tree size must be >= 0, got {size}")
        self.size = size
        self._fetch = fetch
        self._memo = NodeMemo() if memo is None else memo

    def node_hashes(self, nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        """Hashes of perfect nodes (level, index) of this tree, fetched in one call.

        Raises VerificationError if a node is not complete in this tree or a tile is short.
        """
        memo = self._memo
        found: dict[tuple[int, int], bytes] = {}
        todo = []
        for node in nodes:
            level, index = node
            if index < 0 or (index + 1) << level > self.size:
                raise VerificationError(
                    f"node ({level}, {index}) is not complete in a tree of size {self.size}"
                )
            digest = memo.get(node)
            if digest is None:
                todo.append(node)
            else:
                found[node] = digest
        if todo:
            found.update(self._resolve(todo))
        return [found[n] for n in nodes]

    def _resolve(self, nodes: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        locations = [tile_for_node(level, index) for level, index in nodes]
        out: dict[tuple[int, int], bytes] = {}
        rows = self._fetch({(tl, ti) for tl, ti, _, _ in locations})
        for node, (t_level, t_index, r, offset) in zip(nodes, locations, strict=True):
            row = rows.get((t_level, t_index), b"")
            need = (offset + (1 << r)) * HASH_SIZE
            if len(row) < need:
                raise VerificationError(
                    f"tile {t_level}/{t_index} holds {len(row) // HASH_SIZE} hashes, "
                    f"need {need // HASH_SIZE} for a tree of size {self.size}"
                )
            out[node] = self._memo[node] = node_from_tile_row(row, r, offset)
        return out

    def _range_hashes(
        self, ranges: Sequence[tuple[int, int]], first: Sequence[tuple[int, int]] = ()
    ) -> list[bytes]:
        """The root of each range, after the hashes of the nodes `first`: one fetch."""
        groups = [split_range(a, b) for a, b in ranges]
        flat = self.node_hashes([*first, *(n for g in groups for n in g)])
        out, at = flat[: len(first)], len(first)
        for g in groups:
            out.append(range_root(flat[at : at + len(g)]))
            at += len(g)
        return out

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise VerificationError(f"size {size} is beyond the tree's size {self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all), RFC 9162 2.1.1."""
        n = self._size(size)
        return EMPTY_ROOT if n == 0 else self._range_hashes([(0, n)])[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]), RFC 9162 2.1.3.1. Requires 0 <= index < size."""
        return self._range_hashes(inclusion_ranges(index, self._size(size)))

    def leaf_and_inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The leaf hash of entry `index`, then PATH(index, D[0:size]): both from one fetch of
        the tiles (the leaf hash is the tree's level-0 node)."""
        n = self._size(size)
        return self._range_hashes(inclusion_ranges(index, n), first=[(0, index)])

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """PROOF(size1, D[0:size2]), RFC 9162 2.1.4.1. Requires 0 < size1 <= size2."""
        return self._range_hashes(consistency_ranges(size1, self._size(size2)))

    def compact_range(self) -> CompactRange:
        """The right edge of the tree, rebuilt from the tiles."""
        return CompactRange(self.size, self.node_hashes(split_range(0, self.size)))

    def append(
        self, leaf_hashes: Sequence[bytes]
    ) -> tuple[CompactRange, dict[tuple[int, int], bytes], list[tuple[int, int]]]:
        """Extend by `leaf_hashes`: the new right edge, the tiles to write, and which existed.

        Raises VerificationError if a stored edge tile is not as wide as the tree implies.
        """
        compact = self.compact_range()
        existing_keys = edge_tiles(self.size)
        existing = self._fetch(existing_keys)
        rows: dict[tuple[int, int], bytearray] = {}

        def on_node(level: int, index: int, digest: bytes) -> None:
            if level % TILE_HEIGHT:
                return
            key = (level // TILE_HEIGHT, index // TILE_WIDTH)
            buf = rows.get(key)
            if buf is None:
                buf = rows[key] = bytearray(existing.get(key, b""))
            if len(buf) != (index % TILE_WIDTH) * HASH_SIZE:
                raise VerificationError(
                    f"tile {key[0]}/{key[1]} holds {len(buf) // HASH_SIZE} hashes, "
                    f"want {index % TILE_WIDTH} before appending node {index}"
                )
            buf += digest
            if len(buf) == FULL_ROW:  # the tile is full: store its interior nodes too
                buf += tile_interior(bytes(buf))

        compact.extend(leaf_hashes, on_node)
        present = [k for k in existing_keys if k in existing]
        return compact, {k: bytes(v) for k, v in rows.items()}, present
