"""Proof verification: upstream probes, exhaustive and random mutations, error messages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import RootMismatchError, VerificationError
from cwledger.tlog import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    root_from_inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

from ._trees import LEAVES, consistency_shape, inclusion_shape
from ._vectors import load, unhex

INCLUSION = load("inclusion.json")
CONSISTENCY = load("consistency.json")
PROPERTY = settings(max_examples=200, deadline=None)
ROOTS = [root_hash(LEAVES[:n]) for n in range(257)]


@pytest.mark.parametrize("v", INCLUSION["probes"]["vectors"], ids=lambda v: v["file"])
def test_inclusion_probes(v: dict[str, Any]) -> None:
    args = (
        bytes.fromhex(v["leaf_hash_hex"]),
        v["leaf_index"],
        v["tree_size"],
        unhex(v["proof_hex"]),
        bytes.fromhex(v["root_hex"]),
    )
    if v["want_error"]:
        with pytest.raises(VerificationError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


# Deliberate deviation, in the spirit of checkpoints.json's ``c2sp_sha256_strict``: upstream
# (Go, bytes.Equal) accepts equal sizes with two identical 12-byte "roots"; a SHA-256 log
# refuses any root that is not 32 bytes, whatever the sizes.
STRICT_SHA256 = {
    "testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
}


def test_strict_overrides_still_exist() -> None:
    by_file = {v["file"]: v for v in CONSISTENCY["probes"]["vectors"]}
    for name in STRICT_SHA256:
        v = by_file[name]
        assert not v["want_error"] and len(v["root1_hex"]) != 64, name


@pytest.mark.parametrize("v", CONSISTENCY["probes"]["vectors"], ids=lambda v: v["file"])
def test_consistency_probes(v: dict[str, Any]) -> None:
    args = (
        v["size1"],
        v["size2"],
        unhex(v["proof_hex"]),
        bytes.fromhex(v["root1_hex"]),
        bytes.fromhex(v["root2_hex"]),
    )
    if v["want_error"] or v["file"] in STRICT_SHA256:
        with pytest.raises(VerificationError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def _flip(proof: list[bytes], i: int, bit: int) -> list[bytes]:
    out = list(proof)
    out[i] = bytes(b ^ (1 << (bit % 8)) if j == bit // 8 else b for j, b in enumerate(out[i]))
    return out


def _check_inclusion_mutations(index: int, size: int, bit: int, extra: bytes) -> None:
    leaves, root, leaf = LEAVES[:size], ROOTS[size], LEAVES[index]
    proof = inclusion_proof(leaves, index)
    verify_inclusion(leaf, index, size, proof, root)
    assert root_from_inclusion_proof(leaf, index, size, proof) == root
    for i in range(len(proof)):
        with pytest.raises(RootMismatchError):
            verify_inclusion(leaf, index, size, _flip(proof, i, bit), root)
    for pos in range(len(proof) + 1):
        with pytest.raises(VerificationError, match="hashes, want"):
            verify_inclusion(leaf, index, size, proof[:pos] + [extra] + proof[pos:], root)
    for pos in range(len(proof)):
        with pytest.raises(VerificationError, match="hashes, want"):
            verify_inclusion(leaf, index, size, proof[:pos] + proof[pos + 1 :], root)
    with pytest.raises(RootMismatchError):
        verify_inclusion(leaf, index, size, proof, EMPTY_ROOT)
    with pytest.raises(RootMismatchError):
        verify_inclusion(LEAVES[size], index, size, proof, root)
    shape = inclusion_shape(index, size)
    for i2, s2 in [(index - 1, size), (index + 1, size)] + [
        (index, s) for s in (size - 1, size + 1, size * 2, size // 2)
    ]:
        # The hashing depends only on the shape (length and left/right per hash): the same
        # shape for another (index, size) gives the same root, any other shape must fail.
        if 0 <= i2 < s2 and inclusion_shape(i2, s2) == shape:
            verify_inclusion(leaf, i2, s2, proof, root)
        else:
            with pytest.raises(VerificationError):
                verify_inclusion(leaf, i2, s2, proof, root)


def _check_consistency_mutations(size1: int, size2: int, bit: int, extra: bytes) -> None:
    root1, root2 = ROOTS[size1], ROOTS[size2]
    proof = consistency_proof(LEAVES[:size2], size1)
    verify_consistency(size1, size2, proof, root1, root2)
    for i in range(len(proof)):
        with pytest.raises(RootMismatchError):
            verify_consistency(size1, size2, _flip(proof, i, bit), root1, root2)
    for pos in range(len(proof) + 1):
        with pytest.raises(VerificationError, match="hashes, want"):
            verify_consistency(size1, size2, proof[:pos] + [extra] + proof[pos:], root1, root2)
    for pos in range(len(proof)):
        with pytest.raises(VerificationError, match="hashes, want"):
            verify_consistency(size1, size2, proof[:pos] + proof[pos + 1 :], root1, root2)
    with pytest.raises(RootMismatchError):
        verify_consistency(size1, size2, proof, EMPTY_ROOT, root2)
    with pytest.raises(RootMismatchError):
        verify_consistency(size1, size2, proof, root1, EMPTY_ROOT)
    if size1 != size2:
        with pytest.raises(RootMismatchError):
            verify_consistency(size1, size2, proof, root2, root1)
    shape = consistency_shape(size1, size2)
    for a, b in [(size1 + d, size2) for d in (-1, 1)] + [
        (size1, s) for s in (size2 - 1, size2 + 1, size2 * 2, size2 // 2)
    ]:
        # As for inclusion: the same shape hashes the same way (equal sizes have shape []).
        if 0 < a <= b and consistency_shape(a, b) == shape:
            verify_consistency(a, b, proof, root1, root2)
        else:
            with pytest.raises(VerificationError):
                verify_consistency(a, b, proof, root1, root2)


def test_all_inclusion_mutations_small_trees() -> None:
    for size in range(1, 33):
        for index in range(size):
            _check_inclusion_mutations(index, size, bit=(index * 37 + size) % 256, extra=b"\0" * 32)


def test_all_consistency_mutations_small_trees() -> None:
    for size2 in range(1, 33):
        for size1 in range(1, size2 + 1):
            _check_consistency_mutations(size1, size2, bit=size1 * 31 % 256, extra=ROOTS[size2])


@PROPERTY
@given(
    data=st.data(),
    size=st.integers(1, 128),
    bit=st.integers(0, 255),
    extra=st.binary(min_size=32, max_size=32),
)
def test_inclusion_mutations(data: st.DataObject, size: int, bit: int, extra: bytes) -> None:
    _check_inclusion_mutations(data.draw(st.integers(0, size - 1)), size, bit, extra)


@PROPERTY
@given(
    data=st.data(),
    size2=st.integers(1, 128),
    bit=st.integers(0, 255),
    extra=st.binary(min_size=32, max_size=32),
)
def test_consistency_mutations(data: st.DataObject, size2: int, bit: int, extra: bytes) -> None:
    _check_consistency_mutations(data.draw(st.integers(1, size2)), size2, bit, extra)


_hashes = st.one_of(st.binary(max_size=40), st.sampled_from(LEAVES[:8] + ROOTS[:9]))
_sizes = st.one_of(st.integers(-3, 20), st.integers(-(2**70), 2**70))


@PROPERTY
@given(leaf=_hashes, index=_sizes, size=_sizes, proof=st.lists(_hashes, max_size=8), root=_hashes)
def test_garbage_inclusion_only_raises_verification_error(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> None:
    try:
        verify_inclusion(leaf, index, size, proof, root)
    except VerificationError:
        return
    assert root_from_inclusion_proof(leaf, index, size, proof) == root  # it really verified


@PROPERTY
@given(size1=_sizes, size2=_sizes, proof=st.lists(_hashes, max_size=8), r1=_hashes, r2=_hashes)
def test_garbage_consistency_only_raises_verification_error(
    size1: int, size2: int, proof: list[bytes], r1: bytes, r2: bytes
) -> None:
    try:
        verify_consistency(size1, size2, proof, r1, r2)
    except VerificationError:
        return
    assert 0 < size1 <= size2 and len(r1) == len(r2) == 32


def test_error_messages_say_what_was_expected() -> None:
    proof = inclusion_proof(LEAVES[:8], 5)
    msg = "inclusion proof has 2 hashes, want 3 for index 5 in tree of size 8"
    with pytest.raises(VerificationError, match=msg):
        verify_inclusion(LEAVES[5], 5, 8, proof[:2], ROOTS[8])
    with pytest.raises(VerificationError, match="leaf hash is 31 bytes, want 32"):
        verify_inclusion(LEAVES[5][:31], 5, 8, proof, ROOTS[8])
    with pytest.raises(VerificationError, match="root hash is 0 bytes, want 32"):
        verify_inclusion(LEAVES[5], 5, 8, proof, b"")
    with pytest.raises(VerificationError, match="hash 1 is 33 bytes, want 32"):
        verify_inclusion(LEAVES[5], 5, 8, [proof[0], proof[1] + b"!", proof[2]], ROOTS[8])
    with pytest.raises(
        VerificationError, match="leaf index 8 is out of range for a tree of size 8"
    ):
        verify_inclusion(LEAVES[5], 8, 8, proof, ROOTS[8])
    with pytest.raises(RootMismatchError) as info:
        verify_inclusion(LEAVES[4], 5, 8, proof, ROOTS[8])
    assert info.value.expected == ROOTS[8]
    assert ROOTS[8].hex() in str(info.value)
    with pytest.raises(VerificationError, match="from an empty tree is meaningless"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(VerificationError, match="from size 5 to smaller size 4"):
        verify_consistency(5, 4, [], ROOTS[5], ROOTS[4])
    msg = "consistency proof has 1 hashes, want 0 from size 4 to size 4"
    with pytest.raises(VerificationError, match=msg):
        verify_consistency(4, 4, [ROOTS[4]], ROOTS[4], ROOTS[4])
    with pytest.raises(RootMismatchError):
        verify_consistency(4, 4, [], ROOTS[4], ROOTS[5])
    verify_consistency(4, 4, [], ROOTS[4], ROOTS[4])
