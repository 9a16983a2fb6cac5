"""Merkle-sum trees: a naive reference, known answers, proofs that verify, and every mutated
proof refused (a bit flip, a changed sum, a sibling swapped, a leaf moved)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import VerificationError
from cwledger.tlog.sumtree import (
    MAX_GRAMS,
    SubsetProof,
    SumNode,
    SumRoot,
    sum_inclusion_proof,
    sum_leaf,
    sum_levels,
    sum_node,
    sum_root,
    sum_subset_proof,
    verify_sum_inclusion,
    verify_sum_subset,
)

PROPERTY = settings(max_examples=150, deadline=None)


def _ref_root(leaves: list[SumNode]) -> SumNode:
    """The issue's definition, recursively: split at the largest power of two below n."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    (lh, lg), (rh, rg) = _ref_root(leaves[:k]), _ref_root(leaves[k:])
    data = b"\x01" + lh + lg.to_bytes(8, "big") + rh + rg.to_bytes(8, "big")
    return hashlib.sha256(data).digest(), lg + rg


def _leaves(grams: list[int]) -> list[SumNode]:
    return [sum_leaf(g, i.to_bytes(32, "big"), b'{"id":"%d"}' % i) for i, g in enumerate(grams)]


trees = st.lists(st.integers(0, 10**9), min_size=1, max_size=70).map(_leaves)


@st.composite
def tree_and_subset(draw: st.DrawFn) -> tuple[list[SumNode], list[int]]:
    leaves = draw(trees)
    chosen = draw(st.sets(st.integers(0, len(leaves) - 1), min_size=1))
    return leaves, sorted(chosen)


def test_leaf_known_answer() -> None:
    salt = bytes([0x11]) * 32
    data = b"\x00" + (1500).to_bytes(8, "big") + salt + b'{"id":"A"}'
    assert sum_leaf(1500, salt, b'{"id":"A"}') == (hashlib.sha256(data).digest(), 1500)
    # printf '\x00' | cat - <(head -c 40 /dev/zero) | sha256sum (0 grams, a zero salt)
    assert (
        sum_leaf(0, bytes(32), b"")[0].hex()
        == hashlib.sha256(b"\x00" + bytes(40)).hexdigest()
        == "9e1736c43d19118e6ce4302118af337109491ecc52757dfb949bad6a7940b0c2"
    )


@given(trees)
@PROPERTY
def test_root_is_the_reference_root(leaves: list[SumNode]) -> None:
    root = sum_root(leaves)
    assert (root.hash, root.grams) == _ref_root(leaves)
    assert root.size == len(leaves)
    assert root.grams == sum(g for _, g in leaves)


def test_empty_tree_and_overflow() -> None:
    assert sum_root([]) == SumRoot(hashlib.sha256(b"").digest(), 0, 0)
    big = sum_leaf(MAX_GRAMS, bytes(32), b"")
    with pytest.raises(VerificationError, match="unsigned 64-bit"):
        sum_node(big, sum_leaf(1, bytes(32), b""))
    assert sum_node(big, sum_leaf(0, bytes(32), b""))[1] == MAX_GRAMS
    with pytest.raises(VerificationError, match="unsigned 64-bit"):
        sum_leaf(-1, bytes(32), b"")
    with pytest.raises(VerificationError, match="salt"):
        sum_leaf(1, bytes(31), b"")


@given(trees, st.data())
@PROPERTY
def test_inclusion_proofs_verify(leaves: list[SumNode], data: st.DataObject) -> None:
    levels = sum_levels(leaves)
    root = sum_root(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    verify_sum_inclusion(leaves[index], index, sum_inclusion_proof(levels, index), root)


@given(trees, st.data())
@PROPERTY
def test_every_mutated_inclusion_proof_fails(leaves: list[SumNode], data: st.DataObject) -> None:
    levels = sum_levels(leaves)
    root = sum_root(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    path = sum_inclusion_proof(levels, index)
    leaf = leaves[index]
    bad: list[tuple[SumNode, int, list[SumNode]]] = []
    # a bit flipped in the leaf's hash or any sibling's
    bit = data.draw(st.integers(0, 255))
    bad.append(((_flip(leaf[0], bit), leaf[1]), index, path))
    bad += [
        (leaf, index, [*path[:i], (_flip(h, bit), g), *path[i + 1 :]])
        for i, (h, g) in enumerate(path)
    ]
    # a sum changed, up or down, on the leaf or on any sibling
    delta = data.draw(st.sampled_from([1, -1, 2**32]))
    if leaf[1] + delta >= 0:
        bad.append(((leaf[0], leaf[1] + delta), index, path))
    bad += [
        (leaf, index, [*path[:i], (h, g + delta), *path[i + 1 :]])
        for i, (h, g) in enumerate(path)
        if g + delta >= 0
    ]
    # two siblings swapped; a sibling dropped or added
    bad += [
        (leaf, index, [*path[:i], path[j], *path[i + 1 : j], path[i], *path[j + 1 :]])
        for i in range(len(path))
        for j in range(i + 1, len(path))
        if path[i] != path[j]
    ]
    if path:
        bad.append((leaf, index, path[:-1]))
    bad.append((leaf, index, [*path, leaf]))
    # the leaf moved to another position
    bad += [(leaf, other, path) for other in range(len(leaves)) if leaves[other] != leaf]
    for mutated_leaf, mutated_index, mutated_path in bad:
        with pytest.raises(VerificationError):
            verify_sum_inclusion(mutated_leaf, mutated_index, mutated_path, root)


def test_a_smaller_total_is_refused() -> None:
    """The Maxwell flaw: a root with a lower total and the same hash is no root."""
    leaves = _leaves([5, 7, 11])
    root = sum_root(leaves)
    path = sum_inclusion_proof(sum_levels(leaves), 0)
    with pytest.raises(VerificationError, match="committed root"):
        verify_sum_inclusion(leaves[0], 0, path, replace(root, grams=root.grams - 1))


@given(tree_and_subset())
@PROPERTY
def test_subset_proofs_verify_and_give_the_total(case: tuple[list[SumNode], list[int]]) -> None:
    leaves, chosen = case
    proof = sum_subset_proof(sum_levels(leaves), chosen)
    count, grams = verify_sum_subset(proof, sum_root(leaves))
    assert count == len(chosen)
    assert grams == sum(leaves[i][1] for i in chosen)
    assert [i for i, _ in proof.leaves] == chosen


def test_subset_proof_is_minimal() -> None:
    leaves = _leaves(list(range(8)))
    levels = sum_levels(leaves)
    # leaves 0 and 1 of 8: the sibling subtrees [2,4) and [4,8)
    proof = sum_subset_proof(levels, [1, 0])
    assert proof.nodes == (levels[1][1], levels[2][1])
    assert len(sum_subset_proof(levels, range(8)).nodes) == 0
    # one leaf: its inclusion path's nodes, in the walk's left-to-right order
    assert sum_subset_proof(levels, [5]).nodes == (levels[2][0], levels[0][4], levels[1][3])
    assert set(sum_subset_proof(levels, [5]).nodes) == set(sum_inclusion_proof(levels, 5))


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


@given(tree_and_subset(), st.data())
@PROPERTY
def test_every_mutated_subset_proof_fails(
    case: tuple[list[SumNode], list[int]], data: st.DataObject
) -> None:
    leaves, chosen = case
    root = sum_root(leaves)
    proof = sum_subset_proof(sum_levels(leaves), chosen)
    bit = data.draw(st.integers(0, 255))
    delta = data.draw(st.sampled_from([1, -1, 1000]))
    revealed = list(proof.leaves)
    nodes = list(proof.nodes)
    bad: list[SubsetProof] = []
    for k, (i, (h, g)) in enumerate(revealed):
        bad.append(
            replace(proof, leaves=(*revealed[:k], (i, (_flip(h, bit), g)), *revealed[k + 1 :]))
        )
        if g + delta >= 0:
            bad.append(
                replace(proof, leaves=(*revealed[:k], (i, (h, g + delta)), *revealed[k + 1 :]))
            )
    for k, (h, g) in enumerate(nodes):
        bad.append(replace(proof, nodes=(*nodes[:k], (_flip(h, bit), g), *nodes[k + 1 :])))
        if g + delta >= 0:
            bad.append(replace(proof, nodes=(*nodes[:k], (h, g + delta), *nodes[k + 1 :])))
    # two covering nodes swapped; a node dropped or added; a revealed leaf dropped
    for a in range(len(nodes)):
        for b in range(a + 1, len(nodes)):
            if nodes[a] != nodes[b]:
                swapped = list(nodes)
                swapped[a], swapped[b] = swapped[b], swapped[a]
                bad.append(replace(proof, nodes=tuple(swapped)))
    if nodes:
        bad.append(replace(proof, nodes=tuple(nodes[:-1])))
    bad.append(replace(proof, nodes=(*nodes, revealed[0][1])))
    if len(revealed) > 1:
        bad.append(replace(proof, leaves=tuple(revealed[1:])))
    # a revealed leaf moved to a position that is not revealed (the others stay)
    free = [p for p in range(len(leaves)) if p not in chosen and leaves[p] != revealed[0][1]]
    if free:
        moved = sorted([(data.draw(st.sampled_from(free)), revealed[0][1]), *revealed[1:]])
        bad.append(replace(proof, leaves=tuple(moved)))
    # the tree's size changed
    bad.append(replace(proof, size=proof.size + 1))
    for mutated in bad:
        with pytest.raises(VerificationError):
            verify_sum_subset(mutated, root)


def test_subset_refusals_say_what() -> None:
    leaves = _leaves([1, 2, 3])
    levels = sum_levels(leaves)
    with pytest.raises(VerificationError, match="more than once"):
        sum_subset_proof(levels, [1, 1])
    with pytest.raises(VerificationError, match="at least one"):
        sum_subset_proof(levels, [])
    with pytest.raises(VerificationError, match=r"in \[0, 3\)"):
        sum_subset_proof(levels, [3])
    proof = sum_subset_proof(levels, [0, 2])
    with pytest.raises(VerificationError, match="must be above"):
        verify_sum_subset(replace(proof, leaves=proof.leaves[::-1]), sum_root(leaves))
