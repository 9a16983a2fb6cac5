"""Verification of RFC 9162 inclusion (section 2.1.3.2) and consistency (2.1.4.2) proofs.

Every function here either returns normally or raises
:class:`~cwledger.errors.VerificationError`; a computed root that differs from the claimed
one raises its subclass :class:`~cwledger.errors.RootMismatchError`. Nothing returns a
bool. Beyond the RFC algorithms, and as transparency-dev/merkle does:

* every hash (leaf hash, roots, proof elements) must be exactly 32 bytes;
* a proof must have exactly the expected number of hashes (extra elements before or after
  a valid proof are refused, they are not ignored);
* a consistency proof from size 0 is refused, even to size 0 ("meaningless");
* equal sizes need an empty proof and equal roots.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cwledger.errors import RootMismatchError, VerificationError
from cwledger.tlog.hashing import HASH_SIZE
from cwledger.tlog.nodes import consistency_proof_length, inclusion_proof_length

__all__ = ["root_from_inclusion_proof", "verify_consistency", "verify_inclusion"]

_sha256 = hashlib.sha256


def _check_hash(value: bytes, what: str, context: str = "") -> None:
    if len(value) != HASH_SIZE:
        raise VerificationError(f"{what} is {len(value)} bytes, want {HASH_SIZE}{context}")


def _check_proof(proof: Sequence[bytes], want: int, kind: str, context: str) -> None:
    if len(proof) != want:
        raise VerificationError(f"{kind} has {len(proof)} hashes, want {want} {context}")
    for i, element in enumerate(proof):
        _check_hash(element, f"{kind} hash {i}", f" ({context})")


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root that ``proof`` implies for ``leaf_hash`` at ``index`` (RFC 9162 2.1.3.2).

    Runs the section 2.1.3.2 algorithm (``fn = index``, ``sn = size - 1``) after checking
    the proof has exactly ``inclusion_proof_length(index, size)`` hashes.

    Preconditions: ``0 <= index < size``; ``leaf_hash`` and every proof element are 32
    bytes. Raises ``VerificationError`` when any of them fails.
    """
    if not 0 <= index < size:
        raise VerificationError(
            f"leaf index {index} is out of range for a tree of size {size}, want 0 <= index < size"
        )
    _check_hash(leaf_hash, "leaf hash")
    _check_proof(
        proof,
        inclusion_proof_length(index, size),
        "inclusion proof",
        f"for index {index} in tree of size {size}",
    )
    sha = _sha256
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:  # unreachable after the length check; kept from the RFC
            raise VerificationError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = sha(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:  # unreachable after the length check; kept from the RFC
        raise VerificationError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``proof`` puts ``leaf_hash`` at ``index`` in the tree ``(size, root)``.

    RFC 9162 section 2.1.3.2, via :func:`root_from_inclusion_proof`.

    Preconditions: ``0 <= index < size``; every hash is 32 bytes; the proof has exactly
    the expected length. Raises ``VerificationError`` when one fails and
    ``RootMismatchError`` when the computed root is not ``root``.
    """
    _check_hash(root, "root hash")
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if not hmac.compare_digest(calculated, root):
        raise RootMismatchError(root, calculated, f"inclusion proof root (tree size {size})")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree ``(size1, root1)`` is a prefix of ``(size2, root2)``.

    RFC 9162 section 2.1.4.2 with the conventions of the module docstring: ``size1 == 0``
    is refused, ``size1 == size2`` needs an empty proof and ``root1 == root2``.

    Preconditions: ``0 < size1 <= size2``; roots and proof elements are 32 bytes; the
    proof has exactly ``consistency_proof_length(size1, size2)`` hashes. Raises
    ``VerificationError`` when one fails and ``RootMismatchError`` when either computed
    root differs from the one given.
    """
    if size2 < size1:
        raise VerificationError(
            f"consistency proof from size {size1} to smaller size {size2}, want size1 <= size2"
        )
    if size1 == 0:
        raise VerificationError(
            f"consistency proof from an empty tree is meaningless (size1 0, size2 {size2})"
        )
    _check_hash(root1, "first root hash")
    _check_hash(root2, "second root hash")
    _check_proof(
        proof,
        consistency_proof_length(size1, size2),
        "consistency proof",
        f"from size {size1} to size {size2}",
    )
    if size1 == size2:
        if not hmac.compare_digest(root1, root2):
            raise RootMismatchError(root2, root1, f"root of the same tree size {size1}")
        return
    sha = _sha256
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: the old root is the seed
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # unreachable after the length check; kept from the RFC
            raise VerificationError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = sha(b"\x01" + c + fr).digest()
            sr = sha(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = sha(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:  # unreachable after the length check; kept from the RFC
        raise VerificationError("consistency proof is shorter than the path to the root")
    if not hmac.compare_digest(fr, root1):
        raise RootMismatchError(root1, fr, f"consistency proof first root (size {size1})")
    if not hmac.compare_digest(sr, root2):
        raise RootMismatchError(root2, sr, f"consistency proof second root (size {size2})")
