"""CompactRange: roots, reported perfect nodes, resumption, associativity, validation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import VerificationError
from cwledger.tlog import EMPTY_ROOT, CompactRange, root_hash, split_range

from ._trees import LEAVES

PROPERTY = settings(max_examples=200, deadline=None)
MAX = 700


def _perfect(level: int, index: int) -> bytes:
    return root_hash(LEAVES[index << level : (index + 1) << level])


def _completed(old: int, new: int) -> set[tuple[int, int, bytes]]:
    """Perfect nodes complete in a tree of ``new`` leaves but not of ``old`` leaves."""
    return {
        (level, index, _perfect(level, index))
        for level in range(new.bit_length())
        for index in range(new >> level)
        if (index + 1) << level > old
    }


def _resume(size: int) -> CompactRange:
    return CompactRange(size, [_perfect(lv, i) for lv, i in split_range(0, size)])


def _recorder(into: list[tuple[int, int, bytes]]) -> Callable[[int, int, bytes], None]:
    return lambda level, index, digest: into.append((level, index, digest))


def test_empty() -> None:
    cr = CompactRange()
    assert (cr.size, cr.hashes, cr.nodes(), cr.root()) == (0, [], [], EMPTY_ROOT)


def test_small_sizes_one_by_one() -> None:
    cr = CompactRange()
    for n in range(1, 70):
        seen: list[tuple[int, int, bytes]] = []
        record = _recorder(seen)
        cr.append(LEAVES[n - 1], record)
        assert seen[0] == (0, n - 1, LEAVES[n - 1])  # the leaf first, then bottom-up
        assert [lv for lv, _, _ in seen] == list(range(len(seen)))
        assert set(seen) == _completed(n - 1, n)
        assert cr.size == n and cr.root() == root_hash(LEAVES[:n])
        assert cr.nodes() == split_range(0, n)
        assert cr.hashes == [_perfect(lv, i) for lv, i in cr.nodes()]
        assert cr == _resume(n)


@PROPERTY
@given(start=st.integers(0, MAX), cuts=st.lists(st.integers(0, MAX), max_size=6))
def test_extend_in_any_split_reports_exactly_the_new_nodes(start: int, cuts: list[int]) -> None:
    cr = _resume(start)
    seen: list[tuple[int, int, bytes]] = []
    points = sorted({c for c in cuts if c > start})
    at = start
    for point in points:
        cr.extend(LEAVES[at:point], lambda lv, i, h: seen.append((lv, i, h)))
        at = point
        assert cr.root() == root_hash(LEAVES[:at])
    assert len(seen) == len(set(seen))
    assert set(seen) == _completed(start, at)
    assert cr == _resume(at)


@PROPERTY
@given(a=st.integers(0, MAX), b=st.integers(0, MAX), c=st.integers(0, MAX))
def test_append_is_associative(a: int, b: int, c: int) -> None:
    a, b, c = sorted((a, b, c))
    left = CompactRange()
    left.extend(LEAVES[:a])
    left.extend(LEAVES[a:b])
    left.extend(LEAVES[b:c])
    right = _resume(a)
    right.extend(LEAVES[a:c])
    one_by_one = CompactRange()
    for leaf in LEAVES[:c]:
        one_by_one.append(leaf)
    assert left == right == one_by_one
    assert left.root() == root_hash(LEAVES[:c])


def test_hash_count_is_linear_in_appended_leaves() -> None:
    cr = CompactRange(2**20 - 1, LEAVES[:20])  # worst case: the next append merges 20 times
    created: list[int] = []
    cr.extend(LEAVES[:5], lambda lv, i, h: created.append(lv))
    # one hash per new interior node: 20 for size 2**20, then 1 at +2 and 2 at +4
    assert len([lv for lv in created if lv]) == 20 + 1 + 2
    assert cr.size == 2**20 + 4 and len(cr.hashes) == 2


def test_copy_is_independent() -> None:
    cr = _resume(5)
    other = cr.copy()
    other.append(LEAVES[5])
    assert cr == _resume(5) and other == _resume(6) and cr != other
    assert cr != "not a range"


@pytest.mark.parametrize(
    ("size", "hashes", "match"),
    [
        (-1, [], "size is -1, want >= 0"),
        (3, [LEAVES[0]], "has 1 hashes, want 2"),
        (0, [LEAVES[0]], "has 1 hashes, want 0"),
        (1, [b"short"], "hash 0 is 5 bytes, want 32"),
    ],
)
def test_constructor_validates(size: int, hashes: list[bytes], match: str) -> None:
    with pytest.raises(VerificationError, match=match):
        CompactRange(size, hashes)


def test_bad_leaf_keeps_earlier_leaves() -> None:
    cr = CompactRange()
    with pytest.raises(VerificationError, match="leaf hash for index 2 is 3 bytes, want 32"):
        cr.extend([LEAVES[0], LEAVES[1], b"bad", LEAVES[3]])
    assert cr == _resume(2)


def test_raising_callback_leaves_the_range_unchanged() -> None:
    cr = _resume(3)

    def boom(level: int, index: int, digest: bytes) -> None:
        if level == 2:
            raise RuntimeError("store failed")

    with pytest.raises(RuntimeError):
        cr.append(LEAVES[3], boom)
    assert cr == _resume(3)
    assert "size=3" in repr(cr)


@PROPERTY
@given(
    st.integers(0, 5).flatmap(
        lambda level: st.tuples(
            st.just(level),
            st.integers(0, (MAX >> level) - 1),
            st.integers(0, MAX >> level),
        )
    )
)
def test_subtrees_appended_by_their_roots_are_their_leaves(spec: tuple[int, int, int]) -> None:
    """`extend_nodes(level, roots)` from a size that is a multiple of 2**level gives the
    range (and root) the subtrees' leaves give, and reports exactly their nodes from
    `level` up, in the same order."""
    level, start, count = spec
    count = min(count, (MAX >> level) - start)
    old, new = start << level, (start + count) << level
    by_leaves, by_roots = _resume(old), _resume(old)
    leaf_nodes: list[tuple[int, int, bytes]] = []
    root_nodes: list[tuple[int, int, bytes]] = []
    by_leaves.extend(LEAVES[old:new], _recorder(leaf_nodes))
    by_roots.extend_nodes(
        level, [_perfect(level, i) for i in range(start, start + count)], _recorder(root_nodes)
    )
    assert by_roots == by_leaves and by_roots.root() == root_hash(LEAVES[:new])
    assert root_nodes == [n for n in leaf_nodes if n[0] >= level]


def test_subtrees_need_a_size_they_can_follow() -> None:
    """A subtree of height 3 cannot follow 4 leaves (its first leaf would be 4, not a
    multiple of 8); a root that is no hash is refused, the ones before it kept."""
    cr = _resume(4)
    with pytest.raises(VerificationError, match="subtrees of height 3 to a range of size 4"):
        cr.extend_nodes(3, [_perfect(3, 0)])
    cr = _resume(8)
    with pytest.raises(VerificationError, match=r"subtree \(height 3\) for index 16 is 5 bytes"):
        cr.extend_nodes(3, [_perfect(3, 1), b"short"])
    assert cr.size == 16 and cr.root() == root_hash(LEAVES[:16])
