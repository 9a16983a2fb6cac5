"""Known answers for RFC 9162 section 2.1.1 hashing and the 8-leaf reference tree.

Shell commands in the comments reproduce each constant (bash: its printf knows ``\\xHH``).
For the reference-tree roots, define this shell function first, then run e.g. ``mth 3``::

    mth() { python3 -c '
    import hashlib, sys
    H = lambda b: hashlib.sha256(b).digest()
    D = [bytes.fromhex(x) for x in (",00,10,2021,3031,40414243,"
         "5051525354555657,606162636465666768696a6b6c6d6e6f").split(",")]
    def M(d):
        if not d: return H(b"")
        if len(d) == 1: return H(b"\\0" + d[0])
        k = 1 << (len(d) - 1).bit_length() - 1
        return H(b"\\1" + M(d[:k]) + M(d[k:]))
    print(M(D[:int(sys.argv[1])]).hex())' "$1"; }
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from cwledger.tlog import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash, root_hash

from ._vectors import load, unhex

ROOTS = load("roots.json")
TREE = ROOTS["reference_tree"]
REF_LEAVES = unhex(TREE["leaves_hex"])


def test_empty_root() -> None:
    # printf '' | sha256sum
    want = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert EMPTY_ROOT.hex() == want
    assert root_hash([]) == EMPTY_ROOT
    assert HASH_SIZE == 32 == len(EMPTY_ROOT)


def test_leaf_hash_known_answers() -> None:
    # printf '\x00' | sha256sum
    want = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"").hex() == want
    # printf '\x00L123456' | sha256sum
    want = "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert leaf_hash(b"L123456").hex() == want
    # printf '\x00hello world' | sha256sum
    want = "4eccf34608d31bac5c7becf6006df59005d828181056d092084e341e6bb005bd"
    assert leaf_hash(b"hello world").hex() == want


def test_node_hash_known_answer() -> None:
    # printf '\x01N123N456' | sha256sum   (children need not be 32 bytes)
    want = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    assert node_hash(b"N123", b"N456").hex() == want


def test_leaf_and_node_domains_differ() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(a + b) != node_hash(a, b)
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()


@pytest.mark.parametrize("vector", ROOTS["hasher_vectors"], ids=lambda v: v["desc"][:40])
def test_hasher_vectors(vector: dict[str, Any]) -> None:
    kind = vector["kind"]
    if kind == "empty_root":
        got = root_hash([])
    elif kind == "leaf":
        got = leaf_hash(bytes.fromhex(vector["input_hex"]))
    else:
        assert kind == "node", kind
        got = node_hash(bytes.fromhex(vector["left_hex"]), bytes.fromhex(vector["right_hex"]))
    assert got.hex() == vector["want_hex"]


REFERENCE_ROOTS = [
    # mth 0  (= printf '' | sha256sum)
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    # mth 1  (= printf '\x00' | sha256sum)
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    # mth 2
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    # mth 3
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    # mth 4
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    # mth 5
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    # mth 6
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    # mth 7
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    # mth 8
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("size", range(9))
def test_reference_tree_roots(size: int) -> None:
    leaves = [leaf_hash(d) for d in REF_LEAVES[:size]]
    assert root_hash(leaves).hex() == REFERENCE_ROOTS[size]  # mth <size>, see module doc
    by_size = {r["tree_size"]: r["root_hex"] for r in TREE["roots"]}
    assert by_size[size] == REFERENCE_ROOTS[size]


def test_reference_tree_node_hashes() -> None:
    leaves = [leaf_hash(d) for d in REF_LEAVES]
    for level, row in enumerate(TREE["node_hashes_hex"]):
        width = 1 << level
        for index, want in enumerate(row):
            got = root_hash(leaves[index * width : (index + 1) * width])
            assert got.hex() == want, (level, index)
