"""The day-one escrow's event bodies and the item record each leaf commits to.

A declarant commits, before any detail is disclosed, to one Merkle-sum tree per CWC
category (:mod:`cwledger.tlog.sumtree`) whose leaves are salted item records
(:class:`EscrowItem`); the log holds only each tree's root, total grams and leaf count
(:class:`EscrowCommitted`). Later events prove things against those roots without naming
an item: a destroyed or removed total as a subset of a tree's leaves
(:class:`EscrowDestroyedProved`, :class:`EscrowRemovedProved`),
or, for the inspectorate, that an item revealed to it is (or is not) a leaf of the tree
(:class:`EscrowItemChecked`). The byte layouts are in ``docs/escrow.md``.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StrictInt, StrictStr, StringConstraints, model_validator

from cwledger.model._base import ObjectId, Strict, Text, Timestamp, empty_list
from cwledger.model.chemicals import ChemicalLabel, CwcCategory
from cwledger.model.classes import PROTECTED, PUBLIC, RESTRICTED
from cwledger.tlog.sumtree import MAX_GRAMS, SubsetProof, SumNode, SumRoot, sum_leaf

__all__ = [
    "MAX_PROOF_LEAVES",
    "EscrowItem",
    "EscrowCategory",
    "EscrowCommitted",
    "SubsetProofJson",
    "ProvedKind",
    "SubsetProved",
    "EscrowDestroyedProved",
    "EscrowRemovedProved",
    "PROVED_TYPES",
    "EscrowItemChecked",
    "node_json",
    "node_of",
]
# (a subset proof in a file, a diff's, may reveal any number of leaves)

MAX_PROOF_LEAVES = 200
"""Leaves one subset proof in an event may reveal (a bound inside the 64 KiB entry)."""
_MAX_NODES = 4_000
_MAX_SAFE = 2**53 - 1  # grams in a record are JSON numbers every JCS implementation prints

ProvedKind = Literal["destroyed", "removed"]
"""What a subset proof against a tree proves of its leaves."""

HexHash = Annotated[StrictStr, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Grams = Annotated[StrictInt, Field(ge=0, le=MAX_GRAMS)]
Index = Annotated[StrictInt, Field(ge=0)]
# JSON arrays: [hash hex, grams] and [index, hash hex, grams]; lists validate as tuples.
NodeJson = Annotated[tuple[HexHash, Grams], Field(strict=False)]
LeafJson = Annotated[tuple[Index, HexHash, Grams], Field(strict=False)]


def node_json(node: SumNode) -> tuple[str, int]:
    """A node as its JSON pair ``[hash hex, grams]``."""
    return node[0].hex(), node[1]


def node_of(pair: tuple[str, int]) -> SumNode:
    """A JSON pair ``[hash hex, grams]`` as a node."""
    return bytes.fromhex(pair[0]), pair[1]


class EscrowItem(Strict):
    """The record a leaf commits to: the item as the declaration sheet gives it, its mass in
    whole grams. Its leaf bytes are the RFC 8785 form of this object without its absent
    (null) fields (:meth:`canonical`)."""

    # In the order of their names: the JSON pydantic writes is then RFC 8785's (canonical).
    category: CwcCategory
    chemical: ChemicalLabel | None = None
    equipment_type: Text | None = None
    grams: Annotated[int, Field(ge=0, le=_MAX_SAFE)]
    id: ObjectId
    kind: Literal["container", "munition", "bulk_lot", "equipment"]  # ItemKind's values
    method: Text
    munition_type: Text | None = None
    site: ObjectId
    tag: ObjectId | None = None

    def canonical(self) -> bytes:
        """RFC 8785 bytes of the record. Its keys are ASCII and come in sorted order (the
        fields are declared so), its numbers are integers below 2**53 and its strings are
        escaped as JCS escapes them, so pydantic's compact JSON without the absent fields
        is JCS exactly (a property test holds it equal to the ``rfc8785`` library)."""
        return self.model_dump_json(exclude_none=True).encode()

    def leaf(self, salt: bytes) -> SumNode:
        """This record's leaf ``(hash, grams)`` under ``salt`` (32 bytes)."""
        return sum_leaf(self.grams, salt, self.canonical())


class EscrowCategory(Strict):
    """One category's tree as committed: root hash, total grams, leaf count."""

    category: CwcCategory
    root: HexHash
    grams: Grams
    leaves: Annotated[StrictInt, Field(ge=1)]

    def sum_root(self) -> SumRoot:
        """The committed root as :mod:`cwledger.tlog.sumtree` checks proofs against it."""
        return SumRoot(bytes.fromhex(self.root), self.grams, self.leaves)


class EscrowCommitted(Strict):
    """The declarant's commitment to one version of its declaration: a tree per category
    that holds items; nothing else about them."""

    version: Annotated[StrictInt, Field(ge=1), PUBLIC]
    categories: Annotated[list[EscrowCategory], Field(min_length=1, max_length=3), PUBLIC]

    @model_validator(mode="after")
    def _one_tree_per_category(self) -> EscrowCommitted:
        dups = sorted(c for c, n in Counter(t.category for t in self.categories).items() if n > 1)
        if dups:
            raise ValueError(f"category {dups[0]} is committed more than once")
        return self


class SubsetProofJson(Strict):
    """A subset proof as JSON: the tree's leaf count, the revealed leaves as
    ``[index, hash hex, grams]`` in increasing index order, and the covering nodes as
    ``[hash hex, grams]`` in the walk's order (``docs/escrow.md``)."""

    size: Annotated[StrictInt, Field(ge=1)]
    leaves: Annotated[list[LeafJson], Field(min_length=1)]
    nodes: list[NodeJson] = empty_list()

    @classmethod
    def of(cls, proof: SubsetProof) -> SubsetProofJson:
        return cls(
            size=proof.size,
            leaves=[(i, h.hex(), g) for i, (h, g) in proof.leaves],
            nodes=[node_json(n) for n in proof.nodes],
        )

    def proof(self) -> SubsetProof:
        """The proof as :func:`~cwledger.tlog.sumtree.verify_sum_subset` takes it."""
        return SubsetProof(
            self.size,
            tuple((i, (bytes.fromhex(h), g)) for i, h, g in self.leaves),
            tuple(node_of(n) for n in self.nodes),
        )


class SubsetProved(Strict):
    """Leaves of a committed tree proven destroyed (or removed) by ``at``: this proof's
    ``count`` and ``grams`` (the revealed leaves' sum), and the running totals of every
    proof of the same kind against that tree so far, this one included. No item is named.
    The base of :class:`EscrowDestroyedProved` and :class:`EscrowRemovedProved`, which say
    which kind (``WHAT``)."""

    WHAT: ClassVar[ProvedKind]

    version: Annotated[StrictInt, Field(ge=1), PUBLIC]
    category: Annotated[CwcCategory, PUBLIC]
    at: Annotated[Timestamp, PUBLIC]
    count: Annotated[StrictInt, Field(ge=1), PUBLIC]
    grams: Annotated[Grams, PUBLIC]
    total_count: Annotated[StrictInt, Field(ge=1), PUBLIC]
    total_grams: Annotated[Grams, PUBLIC]
    proof: Annotated[SubsetProofJson, PUBLIC]

    @model_validator(mode="after")
    def _totals(self) -> SubsetProved:
        problems = []
        if len(self.proof.leaves) > MAX_PROOF_LEAVES or len(self.proof.nodes) > _MAX_NODES:
            problems.append(
                f"a proof in an event reveals at most {MAX_PROOF_LEAVES} leaves with at most"
                f" {_MAX_NODES} nodes"
            )
        if self.count != len(self.proof.leaves):
            problems.append(f"count is {self.count}, the proof reveals {len(self.proof.leaves)}")
        revealed = sum(g for _, _, g in self.proof.leaves)
        if self.grams != revealed:
            problems.append(f"grams is {self.grams}, the revealed leaves hold {revealed}")
        if self.total_count < self.count or self.total_grams < self.grams:
            problems.append("the running totals are below this proof's own")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class EscrowDestroyedProved(SubsetProved):
    """Leaves of a committed tree proven destroyed by ``at`` (``escrow.destroyed_proved``)."""

    WHAT: ClassVar[ProvedKind] = "destroyed"


class EscrowRemovedProved(SubsetProved):
    """Leaves of a committed tree proven removed by ``at``: shipped out of the declaring
    state's territory (``escrow.removed_proved``). A leaf may be proven removed and,
    later, destroyed abroad: each kind counts it once."""

    WHAT: ClassVar[ProvedKind] = "removed"


PROVED_TYPES: dict[ProvedKind, type[SubsetProved]] = {
    "destroyed": EscrowDestroyedProved,
    "removed": EscrowRemovedProved,
}
"""The subset-proof event bodies by what they prove; the event type is
``escrow.<what>_proved``."""


class EscrowItemChecked(Strict):
    """An item revealed to the inspectorate, checked against a committed tree: its record,
    salt, leaf index and inclusion path. The book raises a finding when it is not a leaf
    of the tree, or when its category or mass differ from the declared item's."""

    version: Annotated[StrictInt, Field(ge=1), RESTRICTED]
    category: Annotated[CwcCategory, RESTRICTED]
    record: Annotated[EscrowItem, PROTECTED]
    salt: Annotated[HexHash, PROTECTED]
    index: Annotated[Index, PROTECTED]
    path: Annotated[list[NodeJson], Field(max_length=64), PROTECTED]
