"""C2SP tlog-tiles layout (c2sp.org/tlog-tiles): tile addressing and resource paths.

A tile at level ``L``, index ``N`` holds up to 256 consecutive hashes of tree level
``8 * L``: ``MTH(D[(N*256 + i) * 256**L : (N*256 + i + 1) * 256**L])`` for ``i`` in
0..255. A node ``(level, index)`` with ``level = 8*L + r`` (``0 <= r < 8``) is therefore the
MTH of ``2**r`` consecutive hashes of one tile's row, hashed up ``r`` levels. Paths are
``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]``, where ``N`` is written in 3-digit
groups, all but the last prefixed by ``x`` (1234067 -> ``x001/x234/067``), ``L`` is 0..63
and a partial tile's width ``W`` is 1..255, both without leading zeros.

Argument errors raise :class:`~cwledger.errors.VerificationError`; a path that does not
parse raises its subclass :class:`~cwledger.errors.MalformedInput`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cwledger.errors import MalformedInput, VerificationError
from cwledger.tlog.hashing import HASH_SIZE

__all__ = [
    "MAX_TILE_LEVEL",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileRef",
    "entries_path",
    "node_from_tile_row",
    "parse_tile_path",
    "tile_for_node",
    "tile_layout",
    "tile_path",
]

_sha256 = hashlib.sha256

TILE_HEIGHT = 8
"""Tree levels spanned by one tile."""
TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes (or entries) in a full tile: 256."""
MAX_TILE_LEVEL = 63
"""Highest tile level a C2SP path may name."""


@dataclass(frozen=True, slots=True)
class TileRef:
    """A parsed tile path: ``level`` is ``None`` for an entry bundle; ``width`` 256 if full."""

    level: int | None
    index: int
    width: int

    @property
    def is_partial(self) -> bool:
        """True for a ``.p/<W>`` resource."""
        return self.width < TILE_WIDTH


def tile_for_node(level: int, index: int) -> tuple[int, int, int, int]:
    """Locate node ``(level, index)`` in the tiles: ``(tile_level, tile_index, r, offset)``.

    The node is the MTH of the ``2**r`` hashes starting at ``offset`` in the row of tile
    ``(tile_level, tile_index)``, with ``level == 8 * tile_level + r``; ``r == 0`` means
    the node is stored in the tile as is. Use :func:`node_from_tile_row` to hash it.

    Preconditions: ``level >= 0`` and ``index >= 0``; otherwise raises
    ``VerificationError``.
    """
    if level < 0 or index < 0:
        raise VerificationError(f"node ({level}, {index}) is invalid, want level, index >= 0")
    tile_level, r = divmod(level, TILE_HEIGHT)
    tile_index, offset = divmod(index << r, TILE_WIDTH)
    return tile_level, tile_index, r, offset


FULL_ROW = TILE_WIDTH * HASH_SIZE
"""Bytes of a full tile's bottom row (the C2SP tile)."""
INTERIOR_SIZE = (TILE_WIDTH - 2) * HASH_SIZE
"""Bytes of a full tile's interior: its nodes at heights 1..7 (128 + 64 + ... + 2 hashes)."""
STORED_FULL = FULL_ROW + INTERIOR_SIZE
"""Bytes of a full tile as stored: its bottom row, then its interior."""


def tile_interior(row: bytes) -> bytes:
    """The interior of a full tile: its nodes at heights 1..7, level by level, left to right.

    Stored after a full tile's bottom row so that any node inside it is a slice, not
    up to 127 hashes. (The tile's own root, height 8, is in the tile above.) Raises
    VerificationError unless `row` is exactly a full bottom row.
    """
    if len(row) != FULL_ROW:
        raise VerificationError(f"a full tile row is {FULL_ROW} bytes, got {len(row)}")
    sha = _sha256
    pair = 2 * HASH_SIZE
    level = [sha(b"\x01" + row[i : i + pair]).digest() for i in range(0, FULL_ROW, pair)]
    out = list(level)
    while len(level) > 2:
        it = iter(level)
        level = [sha(b"\x01" + a + b).digest() for a, b in zip(it, it, strict=True)]
        out += level
    return b"".join(out)


def interior_offset(r: int, offset: int) -> int:
    """Where, in hashes, a stored full tile keeps its node of height `r` (1..7) over the
    bottom-row hashes from `offset`: after the row (256) and the lower heights."""
    return 2 * TILE_WIDTH - (TILE_WIDTH >> (r - 1)) + (offset >> r)


def node_from_tile_row(row: bytes, r: int, offset: int) -> bytes:
    """Hash ``2**r`` consecutive 32-byte hashes of a tile row, from ``offset``, up ``r`` levels.

    ``row`` is a (full or partial) tile's bytes. ``r == 0`` returns the stored hash; in a
    stored full tile (bottom row and interior, :data:`STORED_FULL` bytes) any other node
    below the tile's root is read, not hashed.

    Preconditions: ``len(row)`` is a multiple of 32; ``0 <= r <= 8``; ``offset`` is a
    multiple of ``2**r``; ``offset + 2**r`` hashes fit in the row. Raises
    ``VerificationError`` otherwise.
    """
    if len(row) % HASH_SIZE:
        raise VerificationError(f"tile row is {len(row)} bytes, want a multiple of {HASH_SIZE}")
    if not 0 <= r <= TILE_HEIGHT:
        raise VerificationError(f"row height {r} is invalid, want 0..{TILE_HEIGHT}")
    count = 1 << r
    if offset < 0 or offset % count:
        raise VerificationError(f"offset {offset} is invalid, want a multiple of {count}")
    if len(row) == STORED_FULL and 0 < r < TILE_HEIGHT:  # a stored full tile: a slice
        at = interior_offset(r, offset) * HASH_SIZE
        return bytes(row[at : at + HASH_SIZE])
    if len(row) > FULL_ROW:
        if len(row) != STORED_FULL:
            raise VerificationError(
                f"tile row has {len(row) // HASH_SIZE} hashes; a tile holds at most "
                f"{TILE_WIDTH}, or {STORED_FULL // HASH_SIZE} when full with its interior"
            )
        row = row[:FULL_ROW]
    have = len(row) // HASH_SIZE
    if offset + count > have:
        raise VerificationError(
            f"tile row has {have} hashes, want at least {offset + count} "
            f"for {count} hashes from offset {offset}"
        )
    start = offset * HASH_SIZE
    if r == 0:
        return bytes(row[start : start + HASH_SIZE])
    sha = _sha256
    # The first level straight from 64-byte slices (two children side by side in the row).
    pair = 2 * HASH_SIZE
    level = [
        sha(b"\x01" + row[i : i + pair]).digest()
        for i in range(start, start + count * HASH_SIZE, pair)
    ]
    while len(level) > 1:
        it = iter(level)
        level = [sha(b"\x01" + a + b).digest() for a, b in zip(it, it, strict=False)]
    return bytes(level[0])


def tile_layout(size: int) -> list[tuple[int, int]]:
    """Tiles a tree of ``size`` leaves is served as: ``(full_tiles, partial_width)`` per level.

    Entry ``L`` of the list is level ``L``: ``size // 256**(L+1)`` full tiles and one
    partial tile of ``(size // 256**L) % 256`` hashes (0: none). The list stops at the
    first level with no hash; it is empty for ``size == 0``.

    Preconditions: ``size >= 0``; otherwise raises ``VerificationError``.
    """
    if size < 0:
        raise VerificationError(f"tree size is {size}, want >= 0")
    layout: list[tuple[int, int]] = []
    while size:
        layout.append((size >> TILE_HEIGHT, size & (TILE_WIDTH - 1)))
        size >>= TILE_HEIGHT
    return layout


def _encode_index(index: int) -> str:
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


def _suffix(width: int | None) -> str:
    if width is None or width == TILE_WIDTH:
        return ""
    if not 1 <= width < TILE_WIDTH:
        raise VerificationError(f"tile width {width} is invalid, want 1..{TILE_WIDTH}")
    return f".p/{width}"


def tile_path(level: int, index: int, width: int | None = None) -> str:
    """C2SP path ``tile/<L>/<N>[.p/<W>]`` of the hash tile ``(level, index)``.

    ``width`` None or 256 is a full tile, 1..255 a partial one.

    Preconditions: ``0 <= level <= 63``, ``index >= 0``; otherwise raises
    ``VerificationError``.
    """
    if not 0 <= level <= MAX_TILE_LEVEL:
        raise VerificationError(f"tile level {level} is invalid, want 0..{MAX_TILE_LEVEL}")
    if index < 0:
        raise VerificationError(f"tile index {index} is invalid, want >= 0")
    return f"tile/{level}/{_encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int | None = None) -> str:
    """C2SP path ``tile/entries/<N>[.p/<W>]`` of entry bundle ``index``.

    Preconditions as for :func:`tile_path`; raises ``VerificationError``.
    """
    if index < 0:
        raise VerificationError(f"entry bundle index {index} is invalid, want >= 0")
    return f"tile/entries/{_encode_index(index)}{_suffix(width)}"


_PATH = re.compile(
    r"tile/(?P<level>entries|0|[1-9][0-9]?)/"
    r"(?P<index>(?:x[0-9]{3}/){0,6}[0-9]{3})"
    r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


def parse_tile_path(path: str) -> TileRef:
    """Parse a C2SP tile or entry bundle path (no prefix, no leading slash), strictly.

    Only the canonical spelling is accepted: the path must equal the one
    :func:`tile_path` or :func:`entries_path` would write for the parsed values (so no
    leading zeros in ``L`` or ``W``, no ``x000`` leading groups, ``W`` 1..255). ``N`` must
    be below ``10**21`` (seven groups; tree sizes fit in 64 bits).

    Raises ``MalformedInput`` for anything else.
    """
    m = _PATH.fullmatch(path)
    if m is None:
        raise MalformedInput(
            f"tile path {path!r} does not match tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]"
        )
    index = int(m["index"].replace("x", "").replace("/", ""))
    width = TILE_WIDTH if m["width"] is None else int(m["width"])
    if not 1 <= width <= TILE_WIDTH or (m["width"] is not None and width == TILE_WIDTH):
        raise MalformedInput(f"tile path {path!r} has width {width}, want 1..{TILE_WIDTH - 1}")
    level: int | None = None
    if m["level"] != "entries":
        level = int(m["level"])
        if level > MAX_TILE_LEVEL:
            raise MalformedInput(f"tile path {path!r} has level {level}, want 0..{MAX_TILE_LEVEL}")
    if m["index"] != _encode_index(index):
        raise MalformedInput(
            f"tile path {path!r} spells index {index} as {m['index']!r}, "
            f"want {_encode_index(index)!r}"
        )
    return TileRef(level, index, width)
