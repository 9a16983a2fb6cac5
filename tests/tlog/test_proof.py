"""Roots and proof generation: vectors, upstream accumulated digests, the naive reference."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import VerificationError
from cwledger.tlog import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

from . import reference
from ._trees import LEAVES
from ._vectors import load, unhex

ROOTS = load("roots.json")
INCLUSION = load("inclusion.json")
CONSISTENCY = load("consistency.json")
REF_LEAVES = [leaf_hash(d) for d in unhex(ROOTS["reference_tree"]["leaves_hex"])]

PROPERTY = settings(max_examples=200, deadline=None)


@pytest.mark.parametrize(
    "v",
    INCLUSION["generation"]["vectors"],
    ids=lambda v: f"index{v['leaf_index']}-size{v['tree_size']}",
)
def test_inclusion_generation_vectors(v: dict[str, Any]) -> None:
    leaves = REF_LEAVES[: v["tree_size"]]
    leaf = bytes.fromhex(v["leaf_hash_hex"])
    assert leaf_hash(bytes.fromhex(v["leaf_hex"])) == leaf == leaves[v["leaf_index"]]
    assert root_hash(leaves).hex() == v["root_hex"]
    proof = inclusion_proof(leaves, v["leaf_index"])
    assert [p.hex() for p in proof] == v["proof_hex"]
    verify_inclusion(leaf, v["leaf_index"], v["tree_size"], proof, bytes.fromhex(v["root_hex"]))


@pytest.mark.parametrize(
    "v",
    CONSISTENCY["generation"]["vectors"],
    ids=lambda v: f"{v['size1']}-to-{v['size2']}",
)
def test_consistency_generation_vectors(v: dict[str, Any]) -> None:
    root1, root2 = bytes.fromhex(v["root1_hex"]), bytes.fromhex(v["root2_hex"])
    assert root_hash(REF_LEAVES[: v["size1"]]) == root1
    assert root_hash(REF_LEAVES[: v["size2"]]) == root2
    proof = consistency_proof(REF_LEAVES[: v["size2"]], v["size1"])
    assert [p.hex() for p in proof] == v["proof_hex"]
    verify_consistency(v["size1"], v["size2"], proof, root1, root2)


# --- draft-ietf-plants-merkle-tree-certs subtree vectors (roots.json, accumulated) ---

ACC = ROOTS["accumulated_subtree_vectors"]
ACC_LEAVES = [leaf_hash(bytes([i])) for i in range(ACC["max_size"])]


def _valid(start: int, end: int) -> bool:
    width = end - start
    return start == 0 or start == end or start % (1 << (width - 1).bit_length()) == 0


@cache
def _acc_mth(lo: int, hi: int) -> bytes:
    return root_hash(ACC_LEAVES[lo:hi])


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _ranges(max_end: int) -> list[tuple[int, int]]:
    return [(s, e) for e in range(max_end + 1) for s in range(e + 1) if _valid(s, e)]


def test_accumulated_subtree_hash() -> None:
    lines = [f"[{s}, {e}) {root_hash(ACC_LEAVES[s:e]).hex()}\n" for s, e in _ranges(130)]
    assert _digest(lines) == ACC["subtree_hash"]["want_hex"]


def test_accumulated_subtree_inclusion() -> None:
    lines = []
    for s, e in _ranges(130):
        for index in range(s, e):
            proof = inclusion_proof(ACC_LEAVES[s:e], index - s)
            lines.append(f"{index} [{s}, {e})" + "".join(" " + h.hex() for h in proof) + "\n")
    assert _digest(lines) == ACC["subtree_inclusion"]["want_hex"]


def test_accumulated_subtree_consistency() -> None:
    # start == 0 is RFC 9162 PROOF (ours); start > 0 is the README's generalised SP.
    lines = []
    for n in range(ACC["max_size"] + 1):
        for s, e in _ranges(n):
            if s == 0:
                proof = consistency_proof(ACC_LEAVES[:n], e) if e else []
            else:
                proof = reference.subtree_proof(s, e, 0, n, True, _acc_mth)
            lines.append(f"[{s}, {e}) {n}" + "".join(" " + h.hex() for h in proof) + "\n")
    assert _digest(lines) == ACC["subtree_consistency"]["want_hex"]


# --- against the naive RFC text ---


def test_exhaustive_small_trees_match_reference() -> None:
    assert root_hash(LEAVES[:0]) == reference.mth([])
    for n in range(1, 65):
        leaves = LEAVES[:n]
        assert root_hash(leaves) == reference.mth(leaves), n
        for m in range(n):
            assert inclusion_proof(leaves, m) == reference.path(m, leaves), (m, n)
        for m in range(1, n + 1):
            assert consistency_proof(leaves, m) == reference.proof(m, leaves), (m, n)


@PROPERTY
@given(data=st.data(), n=st.integers(1, 300))
def test_sizes_up_to_300_match_reference(data: st.DataObject, n: int) -> None:
    leaves = LEAVES[:n]
    m = data.draw(st.integers(0, n - 1), label="index")
    size1 = data.draw(st.integers(1, n), label="size1")
    assert root_hash(leaves) == reference.mth(leaves)
    assert inclusion_proof(leaves, m) == reference.path(m, leaves)
    assert consistency_proof(leaves, size1) == reference.proof(size1, leaves)


@PROPERTY
@given(data=st.data(), n=st.integers(300, len(LEAVES)))
def test_larger_trees_match_reference_and_verify(data: st.DataObject, n: int) -> None:
    leaves = LEAVES[:n]
    m = data.draw(st.integers(0, n - 1), label="index")
    size1 = data.draw(st.integers(1, n), label="size1")
    root = root_hash(leaves)
    assert root == reference.mth(leaves)
    path = inclusion_proof(leaves, m)
    assert path == reference.path(m, leaves)
    verify_inclusion(leaves[m], m, n, path, root)
    proof = consistency_proof(leaves, size1)
    assert proof == reference.proof(size1, leaves)
    verify_consistency(size1, n, proof, root_hash(leaves[:size1]), root)


def test_root_hash_accepts_any_sequence() -> None:
    assert root_hash(tuple(LEAVES[:5])) == root_hash(LEAVES[:5]) == reference.mth(LEAVES[:5])
    assert root_hash(LEAVES[:1]) == LEAVES[0]


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0), (10**30, 5)])
def test_inclusion_proof_out_of_range(index: int, size: int) -> None:
    with pytest.raises(VerificationError, match=f"leaf index {index} in a tree of size {size}"):
        inclusion_proof(LEAVES[:size], index)


@pytest.mark.parametrize(("size1", "size2"), [(0, 0), (0, 3), (-1, 3), (4, 3)])
def test_consistency_proof_out_of_range(size1: int, size2: int) -> None:
    with pytest.raises(VerificationError, match=f"from size {size1} to a tree of size {size2}"):
        consistency_proof(LEAVES[:size2], size1)


def test_consistency_proof_same_size_is_empty() -> None:
    assert consistency_proof(LEAVES[:7], 7) == []
