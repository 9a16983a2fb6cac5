"""C2SP tlog-tiles: node location, hashing inside a tile row, paths, layout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import MalformedInput, VerificationError
from cwledger.tlog import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileRef,
    entries_path,
    leaf_hash,
    node_from_tile_row,
    parse_tile_path,
    root_hash,
    tile_for_node,
    tile_layout,
    tile_path,
)

from ._vectors import load

TILES = load("tiles.json")
C2SP = TILES["c2sp"]
PROPERTY = settings(max_examples=200, deadline=None)

# A tree with two full level-1 tiles' worth of level-0 tiles and a partial remainder.
SIZE = 2 * 256 * 256 + 700
BIG = [leaf_hash(i.to_bytes(4, "big")) for i in range(SIZE)]
LEVEL8 = [root_hash(BIG[i * 256 : (i + 1) * 256]) for i in range(SIZE // 256)]
LEVEL16 = [root_hash(LEVEL8[i * 256 : (i + 1) * 256]) for i in range(len(LEVEL8) // 256)]
ROWS = {0: BIG, 1: LEVEL8, 2: LEVEL16}


def _tile(level: int, index: int) -> bytes:
    return b"".join(ROWS[level][index * 256 : (index + 1) * 256])


def test_constants() -> None:
    assert TILE_HEIGHT == 8
    assert TILE_WIDTH == C2SP["tile_width"] == 256
    assert len(_tile(0, 0)) == C2SP["full_tile_bytes"]


@PROPERTY
@given(data=st.data(), level=st.integers(0, 17))
def test_every_node_is_hashed_from_one_tile_row(data: st.DataObject, level: int) -> None:
    index = data.draw(st.integers(0, (SIZE >> level) - 1))
    tile_level, tile_index, r, offset = tile_for_node(level, index)
    assert level == TILE_HEIGHT * tile_level + r and 0 <= r < TILE_HEIGHT
    want = root_hash(BIG[index << level : (index + 1) << level])
    assert node_from_tile_row(_tile(tile_level, tile_index), r, offset) == want


def test_tile_for_node_examples() -> None:
    assert tile_for_node(0, 0) == (0, 0, 0, 0)
    assert tile_for_node(0, 257) == (0, 1, 0, 1)
    assert tile_for_node(3, 5) == (0, 0, 3, 40)
    assert tile_for_node(8, 300) == (1, 1, 0, 44)
    assert tile_for_node(15, 1) == (1, 0, 7, 128)
    with pytest.raises(VerificationError, match=r"node \(-1, 0\)"):
        tile_for_node(-1, 0)
    with pytest.raises(VerificationError, match=r"node \(0, -1\)"):
        tile_for_node(0, -1)


@pytest.mark.parametrize(
    ("row", "r", "offset", "match"),
    [
        (b"\0" * 33, 0, 0, "33 bytes, want a multiple of 32"),
        (b"\0" * 64, 9, 0, "row height 9"),
        (b"\0" * 64, -1, 0, "row height -1"),
        (b"\0" * 128, 1, 1, "offset 1 is invalid, want a multiple of 2"),
        (b"\0" * 128, 0, -1, "offset -1"),
        (b"\0" * 96, 2, 0, "tile row has 3 hashes, want at least 4"),
        (b"", 0, 0, "tile row has 0 hashes, want at least 1"),
    ],
)
def test_node_from_tile_row_rejects(row: bytes, r: int, offset: int, match: str) -> None:
    with pytest.raises(VerificationError, match=match):
        node_from_tile_row(row, r, offset)


def test_full_tile_row_hashes_to_next_level() -> None:
    assert node_from_tile_row(_tile(0, 3), 8, 0) == LEVEL8[3]
    assert node_from_tile_row(_tile(0, 3), 0, 5) == BIG[3 * 256 + 5]


@pytest.mark.parametrize("v", C2SP["index_encoding"], ids=lambda v: str(v["n"]))
def test_index_encoding_vector(v: dict[str, Any]) -> None:
    assert tile_path(0, v["n"]) == f"tile/0/{v['want']}"
    assert entries_path(v["n"]) == f"tile/entries/{v['want']}"


@pytest.mark.parametrize(
    ("args", "want"),
    [
        ((0, 0), "tile/0/000"),
        ((1, 5, 17), "tile/1/005.p/17"),
        ((2, 1000), "tile/2/x001/000"),
        ((63, 999_999, 256), "tile/63/x999/999"),
        ((0, 1234067, 1), "tile/0/x001/x234/067.p/1"),
    ],
)
def test_tile_path_examples(args: tuple[int, ...], want: str) -> None:
    assert tile_path(*args) == want
    level, index, *width = args
    assert parse_tile_path(want) == TileRef(level, index, width[0] if width else 256)


def test_entries_path_examples() -> None:
    assert entries_path(273, 112) == "tile/entries/273.p/112"
    assert parse_tile_path("tile/entries/273.p/112") == TileRef(None, 273, 112)
    assert parse_tile_path("tile/entries/x001/000").is_partial is False


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: tile_path(64, 0), "level 64"),
        (lambda: tile_path(-1, 0), "level -1"),
        (lambda: tile_path(0, -1), "index -1"),
        (lambda: tile_path(0, 0, 0), "width 0"),
        (lambda: tile_path(0, 0, 257), "width 257"),
        (lambda: entries_path(-5), "index -5"),
        (lambda: entries_path(0, -1), "width -1"),
    ],
)
def test_path_builders_reject(call: Any, match: str) -> None:
    with pytest.raises(VerificationError, match=match):
        call()


@PROPERTY
@given(
    level=st.one_of(st.none(), st.integers(0, 63)),
    index=st.integers(0, 2**64),
    width=st.integers(1, 256),
)
def test_paths_round_trip(level: int | None, index: int, width: int) -> None:
    path = entries_path(index, width) if level is None else tile_path(level, index, width)
    assert parse_tile_path(path) == TileRef(level, index, width)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tile/0/",
        "tile/0/00",
        "tile/0/0000",
        "/tile/0/000",
        "tile/0/000/",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/0/x000/001",
        "tile/0/001/234",
        "tile/0/x001/234/",
        "tile/0/X001/234",
        "tile/0/x001/x234",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/007",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.p/1/",
        "tile/0/0a0",
        "tile/data/000",
        "tile/entries/x000/000",
        "tile/entries/000.p/300",
        "tile/8/0/000",
        "tile/" + "1" * 5000 + "/000",
        "tile/0/" + "x123/" * 2000 + "456",
        "tile/0/000.p/" + "9" * 5000,
        "tile/０/000",
        "tile/0/000\n",
    ],
)
def test_parse_rejects_non_canonical(path: str) -> None:
    with pytest.raises(MalformedInput):
        parse_tile_path(path)


@PROPERTY
@given(path=st.text(alphabet="tile/0123456789xp.entris", max_size=40))
def test_parse_garbage_only_raises_malformed_input(path: str) -> None:
    try:
        ref = parse_tile_path(path)
    except MalformedInput:
        return
    rebuilt = (
        entries_path(ref.index, ref.width)
        if ref.level is None
        else tile_path(ref.level, ref.index, ref.width)
    )
    assert rebuilt == path


@pytest.mark.parametrize("v", C2SP["tree_composition"], ids=lambda v: str(v["tree_size"]))
def test_tree_composition_vectors(v: dict[str, Any]) -> None:
    want = {}
    for key, value in v["want"].items():
        m = re.fullmatch(r"level(\d+)_(full|partial_width)", key)
        assert m, key
        want[(int(m[1]), m[2])] = value
    got = {}
    for level, (full, partial) in enumerate(tile_layout(v["tree_size"])):
        if full:
            got[(level, "full")] = full
        if partial:
            got[(level, "partial_width")] = partial
    assert got == want


def test_tile_layout_edges() -> None:
    assert tile_layout(0) == []
    assert tile_layout(1) == [(0, 1)]
    assert tile_layout(65536) == [(256, 0), (1, 0), (0, 1)]
    with pytest.raises(VerificationError, match="tree size is -1"):
        tile_layout(-1)


# golang.org/x/mod sumdb paths are ``tile/<H>/<L>/<N>[.p/<W>]`` (``data`` for entries), an
# older layout with a variable height H and no C2SP equivalent for H != 8. The N and .p/W
# encodings are the same, so each path is checked after dropping ``<H>/`` and renaming
# ``data`` to ``entries``; the full-tile width 2**H is not comparable and is not checked.
@pytest.mark.parametrize("v", TILES["go_sumdb"]["paths"], ids=lambda v: v["path"])
def test_go_sumdb_paths_translated(v: dict[str, Any]) -> None:
    head, height, rest = v["path"].split("/", 2)
    assert head == "tile" and height.isdigit()
    c2sp = "tile/" + re.sub(r"^data/", "entries/", rest)
    if v["want_error"]:
        with pytest.raises(MalformedInput):
            parse_tile_path(c2sp)
        return
    ref = parse_tile_path(c2sp)
    assert ref.level == (None if v["L"] == -1 else v["L"])
    assert ref.index == v["N"]
    if ".p/" in v["path"]:
        assert ref.width == v["W"]
    else:
        assert not ref.is_partial and v["W"] == 2 ** int(height)
