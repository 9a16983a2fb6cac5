"""Transparency-log primitives: RFC 9162 section 2.1 Merkle trees and C2SP tlog formats.

* :mod:`~cwledger.tlog.hashing` - leaf and node hashes, the empty root.
* :mod:`~cwledger.tlog.nodes` - which perfect nodes a proof needs (no hashing).
* :mod:`~cwledger.tlog.proof` - roots and proofs over an in-memory list of leaf hashes.
* :mod:`~cwledger.tlog.verify` - inclusion and consistency proof verification.
* :mod:`~cwledger.tlog.compact` - the right edge of a tree, for appends.
* :mod:`~cwledger.tlog.tiles` - the C2SP tlog-tiles layout and paths.
* :mod:`~cwledger.tlog.checkpoint` - C2SP checkpoints (signed tree heads).

Every failure raises :class:`~cwledger.errors.VerificationError` or a subclass.
"""

from __future__ import annotations

from cwledger.errors import MalformedInput, RootMismatchError, VerificationError
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.compact import CompactRange
from cwledger.tlog.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from cwledger.tlog.nodes import (
    consistency_proof_length,
    consistency_ranges,
    inclusion_proof_length,
    inclusion_ranges,
    range_root,
    split_range,
)
from cwledger.tlog.proof import consistency_proof, inclusion_proof, root_hash
from cwledger.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileRef,
    entries_path,
    node_from_tile_row,
    parse_tile_path,
    tile_for_node,
    tile_layout,
    tile_path,
)
from cwledger.tlog.verify import root_from_inclusion_proof, verify_consistency, verify_inclusion

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Checkpoint",
    "CompactRange",
    "MalformedInput",
    "RootMismatchError",
    "TileRef",
    "VerificationError",
    "consistency_proof",
    "consistency_proof_length",
    "consistency_ranges",
    "entries_path",
    "inclusion_proof",
    "inclusion_proof_length",
    "inclusion_ranges",
    "leaf_hash",
    "node_from_tile_row",
    "node_hash",
    "parse_tile_path",
    "range_root",
    "root_from_inclusion_proof",
    "root_hash",
    "split_range",
    "tile_for_node",
    "tile_layout",
    "tile_path",
    "verify_consistency",
    "verify_inclusion",
]
