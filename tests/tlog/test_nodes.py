"""Node addressing: split_range, range_root, and proof ranges rebuilt from perfect nodes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import VerificationError
from cwledger.tlog import (
    EMPTY_ROOT,
    consistency_proof_length,
    consistency_ranges,
    inclusion_proof_length,
    inclusion_ranges,
    node_hash,
    range_root,
    root_hash,
    split_range,
)

from . import reference
from ._trees import LEAVES

PROPERTY = settings(max_examples=200, deadline=None)


def _perfect(level: int, index: int) -> bytes:
    return root_hash(LEAVES[index << level : (index + 1) << level])


def _from_nodes(begin: int, end: int) -> bytes:
    return range_root([_perfect(level, index) for level, index in split_range(begin, end)])


def _aligned(begin: int, end: int) -> bool:
    return begin % (1 << (end - begin - 1).bit_length()) == 0 if end > begin else True


@pytest.mark.parametrize(
    ("begin", "end", "want"),
    [
        (0, 0, []),
        (5, 5, []),
        (0, 1, [(0, 0)]),
        (0, 7, [(2, 0), (1, 2), (0, 6)]),
        (0, 8, [(3, 0)]),
        (3, 7, [(0, 3), (1, 2), (0, 6)]),
        (4, 7, [(1, 2), (0, 6)]),
        (256, 512, [(8, 1)]),
        (1, 16, [(0, 1), (1, 1), (2, 1), (3, 1)]),
    ],
)
def test_split_range_examples(begin: int, end: int, want: list[tuple[int, int]]) -> None:
    assert split_range(begin, end) == want


@PROPERTY
@given(begin=st.integers(0, 5000), width=st.integers(0, 5000))
def test_split_range_is_a_minimal_aligned_cover(begin: int, width: int) -> None:
    end = begin + width
    nodes = split_range(begin, end)
    at = begin
    for level, index in nodes:
        assert index << level == at  # contiguous, and aligned by construction
        at += 1 << level
    assert at == end
    # minimal: no two neighbours merge into one aligned node
    for (l1, i1), (l2, i2) in zip(nodes, nodes[1:], strict=False):
        assert not (l1 == l2 and i1 % 2 == 0 and i2 == i1 + 1)
    if _aligned(begin, end):
        assert [lv for lv, _ in nodes] == sorted({lv for lv, _ in nodes}, reverse=True)


@pytest.mark.parametrize(("begin", "end"), [(-1, 3), (4, 3)])
def test_split_range_rejects_bad_ranges(begin: int, end: int) -> None:
    with pytest.raises(VerificationError, match=rf"\[{begin}, {end}\)"):
        split_range(begin, end)


def test_range_root_folds_right_to_left() -> None:
    a, b, c = LEAVES[:3]
    assert range_root([]) == EMPTY_ROOT
    assert range_root([a]) == a
    assert range_root([a, b, c]) == node_hash(a, node_hash(b, c))
    assert range_root((a, b)) == node_hash(a, b)


def test_aligned_ranges_from_nodes_equal_mth() -> None:
    for end in range(0, 300):
        for begin in range(0, end + 1):
            if _aligned(begin, end):
                assert _from_nodes(begin, end) == root_hash(LEAVES[begin:end]), (begin, end)


def _check_ranges(size: int, index: int, size1: int) -> None:
    leaves = LEAVES[:size]
    ranges = inclusion_ranges(index, size)
    assert len(ranges) == inclusion_proof_length(index, size)
    assert all(_aligned(a, b) for a, b in ranges)
    assert [_from_nodes(a, b) for a, b in ranges] == reference.path(index, leaves)
    ranges = consistency_ranges(size1, size)
    assert len(ranges) == consistency_proof_length(size1, size)
    assert all(_aligned(a, b) for a, b in ranges)
    assert [_from_nodes(a, b) for a, b in ranges] == reference.proof(size1, leaves)


def test_ranges_exhaustive_small() -> None:
    for size in range(1, 48):
        for m in range(size):
            _check_ranges(size, m, m + 1)


@PROPERTY
@given(data=st.data(), size=st.integers(1, len(LEAVES)))
def test_ranges_random(data: st.DataObject, size: int) -> None:
    _check_ranges(size, data.draw(st.integers(0, size - 1)), data.draw(st.integers(1, size)))


@PROPERTY
@given(size=st.integers(1, 2**64), data=st.data())
def test_lengths_match_ranges_for_huge_trees(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    size1 = data.draw(st.integers(1, size))
    assert inclusion_proof_length(index, size) == len(inclusion_ranges(index, size)) <= 64
    assert consistency_proof_length(size1, size) == len(consistency_ranges(size1, size)) <= 128


def test_proof_lengths_examples() -> None:
    assert inclusion_proof_length(5, 8) == 3
    assert inclusion_proof_length(2, 3) == 1
    assert inclusion_proof_length(0, 1) == 0
    assert consistency_proof_length(4, 8) == 1
    assert consistency_proof_length(6, 8) == 3
    assert consistency_proof_length(3, 3) == 0
    assert inclusion_ranges(5, 8) == [(4, 5), (6, 8), (0, 4)]
    assert consistency_ranges(6, 8) == [(4, 6), (6, 8), (0, 4)]
    assert consistency_ranges(4, 8) == [(4, 8)]


@pytest.mark.parametrize(("index", "size"), [(-1, 1), (1, 1), (0, 0), (2**64 - 1, 8)])
def test_inclusion_ranges_reject(index: int, size: int) -> None:
    with pytest.raises(VerificationError, match=f"leaf index {index} is out of range"):
        inclusion_ranges(index, size)
    with pytest.raises(VerificationError, match=f"leaf index {index} is out of range"):
        inclusion_proof_length(index, size)


@pytest.mark.parametrize(("size1", "size2"), [(0, 0), (0, 5), (6, 5), (-2, 5)])
def test_consistency_ranges_reject(size1: int, size2: int) -> None:
    with pytest.raises(VerificationError, match=f"from size {size1} to size {size2}"):
        consistency_ranges(size1, size2)
    with pytest.raises(VerificationError, match=f"from size {size1} to size {size2}"):
        consistency_proof_length(size1, size2)
