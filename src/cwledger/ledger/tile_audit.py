"""The audit's recomputed tree against the stored tiles (`cwledger.ledger.audit`).

Every perfect node at a tile level (heights 0, 8, 16...) is compared with the hash a
stored tile holds for it, and every node inside a stored full tile (heights 1..7 above
its row) with the interior the tile keeps. The work is split as the audit's is:

- a worker, for each full bottom tile inside its chunk of the log, builds the tile as
  the log stores it (its 256 leaf hashes, then its interior: `tile_interior`) and
  compares it with the stored bytes at once (`check_bottom_tiles`); only a tile that
  differs is walked node by node, to name the first node that does, as this process
  would have. It gives back each tile's root (height 8);
- this process folds those roots into the tree (`TreeAudit`), checking the nodes above
  them against the higher tiles, and takes a leaf at a time whatever no worker checked:
  a bottom tile split between two chunks, the log's last, partial tile.

A failure is raised in the order of a leaf-by-leaf walk: at the leaf that completes the
node (after the entry's own checks), naming the node's first leaf.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple

from cwledger.errors import CorruptTile
from cwledger.ledger.cosignatures import Fail
from cwledger.store import LogReader
from cwledger.tlog.compact import CompactRange
from cwledger.tlog.hashing import HASH_SIZE
from cwledger.tlog.nodes import range_root
from cwledger.tlog.tiles import (
    FULL_ROW,
    STORED_FULL,
    TILE_HEIGHT,
    TILE_WIDTH,
    interior_offset,
    tile_interior,
)

__all__ = ["TileChecker", "TreeAudit", "TreeFailure", "check_bottom_tiles"]


class TreeFailure(NamedTuple):
    """A stored tile that disagrees with the recomputed tree, as a worker found it."""

    at: int  # the leaf whose appending completes the node: where a walk raises it
    first_leaf: int  # the entry the failure names: the node's first leaf
    reason: str


def _node_mismatch(
    t_level: int,
    t_index: int,
    row: bytes,
    r: int,
    offset: int,
    level: int,
    index: int,
    digest: bytes,
) -> str | None:
    """Why the stored tile `row` disagrees with node (`level`, `index`) (None if it
    agrees, or does not keep that node): the node sits `r` heights above the tile's
    bottom row, over its hashes from `offset`."""
    if r == 0:
        at, where = offset, f"hash {offset}"
    elif len(row) == STORED_FULL:  # a full tile keeps its interior nodes after its row
        at = interior_offset(r, offset)
        where = f"interior node (height {r}, {offset >> r})"
    else:
        return None  # a node inside a partial tile is not stored
    stored = row[at * HASH_SIZE : (at + 1) * HASH_SIZE]
    if stored == digest:
        return None
    what = "is missing" if not stored else f"is {stored.hex()}"
    return (
        f"stored tile {t_level}/{t_index} {where} {what}, "
        f"recomputed node ({level}, {index}) is {digest.hex()}"
    )


class TileChecker:
    """Compares every node at a tile level (heights 0, 8, 16...) with the stored tiles: a
    `CompactRange` node callback. Raises `fail(first leaf of the node, why)`."""

    def __init__(self, reader: LogReader, fail: Fail) -> None:
        self.reader = reader
        self.fail = fail
        self.rows: dict[int, tuple[int, bytes]] = {}

    def __call__(self, level: int, index: int, digest: bytes) -> None:
        t_level, r = divmod(level, TILE_HEIGHT)
        t_index, offset = divmod(index << r, TILE_WIDTH)
        cached = self.rows.get(t_level)
        if cached is None or cached[0] != t_index:
            try:
                row = self.reader.tiles([(t_level, t_index)]).get((t_level, t_index), b"")
            except CorruptTile as e:  # the node's first leaf, as for a hash that differs
                corrupt = f"stored tile {e.level}/{e.index}: {e.reason}"
                raise self.fail(index << level, corrupt) from e
            cached = self.rows[t_level] = (t_index, row)
        why = _node_mismatch(t_level, t_index, cached[1], r, offset, level, index, digest)
        if why is not None:
            raise self.fail(index << level, why)


class _Found(Exception):
    """The first node of a bottom tile that disagrees with it (`_first_bad_node`)."""

    def __init__(self, failure: TreeFailure) -> None:
        self.failure = failure


def _first_bad_node(t_index: int, leaves: Sequence[bytes], row: bytes) -> TreeFailure | None:
    """The first node of bottom tile `t_index` (leaves `leaves`) that the stored `row`
    disagrees with, in the order a leaf-by-leaf walk meets them (None if none: the nodes
    a row keeps agree, and the rest it does not keep)."""
    base = t_index * TILE_WIDTH
    at = base

    def on_node(level: int, local: int, digest: bytes) -> None:
        if level >= TILE_HEIGHT:
            return  # the tile's root: the tile above keeps it (`TreeAudit`)
        index = (base >> level) + local
        offset = (index << level) - base
        why = _node_mismatch(0, t_index, row, level, offset, level, index, digest)
        if why is not None:
            raise _Found(TreeFailure(at, index << level, why))

    tile = CompactRange()
    try:
        for leaf in leaves:
            tile.append(leaf, on_node)
            at += 1
    except _Found as found:
        return found.failure
    return None


_sha256 = hashlib.sha256


def check_bottom_tiles(
    reader: LogReader, start: int, leaf_hashes: Sequence[bytes]
) -> tuple[dict[int, bytes], TreeFailure | None]:
    """The full bottom tiles inside the entries start..<start + len(leaf_hashes), each
    compared with its stored tile: the root (height 8) of each that agrees, by tile index,
    and the first failure if one does not (the tiles after it are not checked)."""
    first = -(-start // TILE_WIDTH)
    end = (start + len(leaf_hashes)) // TILE_WIDTH
    roots: dict[int, bytes] = {}
    if first >= end:
        return roots, None
    try:
        stored: dict[tuple[int, int], bytes] | None = reader.tiles(
            [(0, t) for t in range(first, end)]
        )
    except CorruptTile:
        stored = None  # read them one at a time below, to name the first that is corrupt
    for t in range(first, end):
        at = t * TILE_WIDTH - start
        leaves = leaf_hashes[at : at + TILE_WIDTH]
        try:
            got = (stored if stored is not None else reader.tiles([(0, t)])).get((0, t), b"")
        except CorruptTile as e:
            first_leaf = t * TILE_WIDTH
            return roots, TreeFailure(
                first_leaf, first_leaf, f"stored tile {e.level}/{e.index}: {e.reason}"
            )
        row = b"".join(leaves)
        if len(row) != FULL_ROW:  # an entry that failed: the audit stops there first
            break
        interior = tile_interior(row)
        if len(got) != STORED_FULL or got[: len(row)] != row or got[len(row) :] != interior:
            failure = _first_bad_node(t, leaves, got)
            if failure is not None:
                return roots, failure
        roots[t] = _sha256(b"\x01" + interior[-2 * HASH_SIZE :]).digest()
    return roots, None


class TreeAudit:
    """The tree recomputed in log order in this process, its tile-level nodes checked
    against the stored tiles. A leaf of a bottom tile a worker checked waits for the rest
    of its tile, which then joins the tree by its root; any other leaf joins at once."""

    def __init__(self, reader: LogReader, fail: Fail) -> None:
        self.compact = CompactRange()
        self.tiles = TileChecker(reader, fail)
        self.pending: list[bytes] = []  # the leaves so far of a tile a worker checked
        self.edge = CompactRange()  # over pending[: edge.size]: a root inside that tile

    def append(self, leaf: bytes, tile_root: bytes | None) -> None:
        """The next leaf; `tile_root` is its bottom tile's root if a worker checked that
        tile (every leaf of the tile then comes with it), else None."""
        if tile_root is None:
            self.compact.append(leaf, self.tiles)
            return
        pending = self.pending
        pending.append(leaf)
        if len(pending) == TILE_WIDTH:
            self.compact.extend_nodes(TILE_HEIGHT, (tile_root,), self.tiles)
            pending.clear()
            self.edge = CompactRange()

    def root(self) -> bytes:
        """The root of the tree so far (a tile's leaves that wait are hashed once, when a
        root inside their tile is asked for)."""
        if not self.pending:
            return self.compact.root()
        edge = self.edge
        edge.extend(self.pending[edge.size :])
        return range_root(self.compact.hashes + edge.hashes)
