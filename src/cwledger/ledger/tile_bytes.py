"""The bytes of the C2SP tlog-tiles resources, read from the store: one implementation for
the `/log/` read API, `cwledger publish` (files) and `cwledger mirror` (which parses them).

* a hash tile ``tile/<L>/<N>[.p/<W>]`` is ``W`` consecutive 32-byte hashes of tree level
  ``8 * L`` (a stored full tile keeps its interior nodes after the row: never served);
* an entry bundle ``tile/entries/<N>[.p/<W>]`` is the entries ``N*256 ..< N*256+W``, each
  a big-endian uint16 length and the entry's bytes (the canonical DSSE envelope, the leaf).

A tree of ``size`` leaves is served as the tiles and bundles :func:`resources` lists (the
full ones, then the partial one of each level), at the paths :func:`resource_path` spells.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from cwledger.errors import VerificationError
from cwledger.ledger.admission import MAX_ENTRY_BYTES
from cwledger.store import LogReader
from cwledger.tlog.hashing import HASH_SIZE
from cwledger.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileRef,
    entries_path,
    tile_layout,
    tile_path,
)

__all__ = [
    "entry_bundle",
    "hash_tile",
    "resource_bytes",
    "resource_path",
    "resources",
    "split_entry_bundle",
    "width_in",
]

log = logging.getLogger("cwledger.tiles")


def width_in(ref: TileRef, size: int) -> int:
    """How many hashes (or entries) tile `ref` has in a tree of `size` leaves (0..256)."""
    level = 0 if ref.level is None else ref.level
    below = size >> (TILE_HEIGHT * level)  # hashes at the tile's tree level
    return max(0, min(TILE_WIDTH, below - ref.index * TILE_WIDTH))


def hash_tile(r: LogReader, level: int, index: int, width: int) -> bytes:
    """The first `width` hashes of stored tile (level, index): its C2SP bytes (a full tile
    is stored with its interior nodes after the row; those are not served)."""
    stored = r.tiles([(level, index)]).get((level, index), b"")
    want = width * HASH_SIZE
    if len(stored) < want:  # the checkpoint and the tiles are written in one transaction
        log.error(
            "tile %d/%d holds %d bytes, the checkpoint needs %d", level, index, len(stored), want
        )
        raise RuntimeError(f"tile {level}/{index} is shorter than the checkpoint implies")
    return stored[:want]


def entry_bundle(r: LogReader, index: int, width: int) -> bytes:
    """Entries index*256 ..< index*256+width, each a big-endian uint16 length and its bytes."""
    start = index * TILE_WIDTH
    entries = r.envelopes(start, start + width)
    if [i for i, _ in entries] != list(range(start, start + width)):
        log.error("entries %d..%d are not all stored", start, start + width)
        raise RuntimeError(f"entries {start}..{start + width} are not all stored")
    out = bytearray()
    for i, envelope in entries:
        if len(envelope) > MAX_ENTRY_BYTES:
            log.error("entry %d is %d bytes, over an entry bundle's limit", i, len(envelope))
            raise RuntimeError(f"entry {i} is too large for an entry bundle")
        out += len(envelope).to_bytes(2, "big")
        out += envelope
    return bytes(out)


def resource_bytes(r: LogReader, ref: TileRef) -> bytes:
    """The C2SP bytes of the tile or entry bundle `ref`, as stored in `r`."""
    if ref.level is None:
        return entry_bundle(r, ref.index, ref.width)
    return hash_tile(r, ref.level, ref.index, ref.width)


def resource_path(ref: TileRef) -> str:
    """The C2SP path of `ref` (no prefix, no leading slash)."""
    if ref.level is None:
        return entries_path(ref.index, ref.width)
    return tile_path(ref.level, ref.index, ref.width)


def resources(size: int, *, bundles: bool = True) -> Iterator[TileRef]:
    """Every tile (and, with `bundles`, entry bundle) of a tree of `size` leaves: per level,
    the full ones then the partial one; the bundles last, in the same order as level 0."""
    layout = tile_layout(size)
    for level, (full, width) in enumerate(layout):
        for index in range(full):
            yield TileRef(level, index, TILE_WIDTH)
        if width:
            yield TileRef(level, full, width)
    if bundles and layout:
        full, width = layout[0]
        for index in range(full):
            yield TileRef(None, index, TILE_WIDTH)
        if width:
            yield TileRef(None, full, width)


def split_entry_bundle(data: bytes, width: int, what: str = "entry bundle") -> list[bytes]:
    """The `width` entries of an entry bundle's bytes. Raises VerificationError when the
    bytes are not exactly `width` length-prefixed entries."""
    out: list[bytes] = []
    at = 0
    view = memoryview(data)
    while at < len(data):
        if at + 2 > len(data):
            raise VerificationError(f"{what}: truncated length prefix at byte {at}")
        n = int.from_bytes(view[at : at + 2], "big")
        at += 2
        if at + n > len(data):
            raise VerificationError(f"{what}: entry {len(out)} runs past the end ({n} bytes)")
        out.append(bytes(view[at : at + n]))
        at += n
    if len(out) != width:
        raise VerificationError(f"{what}: holds {len(out)} entries, want {width}")
    return out
