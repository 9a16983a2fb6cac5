"""A declaration's escrow trees: one Merkle-sum tree per CWC category of salted item records.

Each item of the declaration becomes an :class:`~cwledger.model.escrow.EscrowItem` (its
fields as the sheet gives them, its mass in whole grams, its category: its chemical's, or
3 for an unfilled munition or equipment); each gets a fresh 32-byte salt; within a
category the leaves are ordered by ``HMAC-SHA256(order key, UTF-8 item id)``, so a leaf's
position says nothing about the item (the order key is the declarant's secret, kept for
every version, so an item kept by an amendment keeps its place relative to the others).
Pure: the secrets come in and go out as values (:mod:`cwledger.escrow.secrets` keeps them).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cwledger.errors import MalformedInput
from cwledger.model import Declaration, Item, ItemKind
from cwledger.model.escrow import EscrowCategory, EscrowItem, EscrowItemChecked, node_json
from cwledger.tlog.sumtree import (
    SALT_SIZE,
    SubsetProof,
    SumNode,
    SumRoot,
    sum_inclusion_proof,
    sum_levels,
    sum_subset_proof,
)

__all__ = [
    "Leaf",
    "EscrowTree",
    "escrow_items",
    "build_trees",
    "new_salt",
    "new_salts",
    "position_key",
]


def new_salt() -> bytes:
    """A fresh salt for one leaf (32 bytes from the OS's generator)."""
    return secrets.token_bytes(SALT_SIZE)


def new_salts(n: int) -> list[bytes]:
    """``n`` fresh salts, drawn from the OS's generator at once."""
    block = secrets.token_bytes(SALT_SIZE * n)
    return [block[i : i + SALT_SIZE] for i in range(0, len(block), SALT_SIZE)]


def position_key(order_key: bytes, item_id: str) -> bytes:
    """Where an item's leaf goes: ``HMAC-SHA256(order key, UTF-8 item id)``, ascending."""
    return hmac.digest(order_key, item_id.encode(), "sha256")


def _category(item: Item, categories: Mapping[str, int]) -> int:
    if item.chemical is not None:
        if item.chemical not in categories:
            raise MalformedInput(f"item {item.id}: chemical {item.chemical!r} has no category")
        return categories[item.chemical]
    if item.kind in (ItemKind.MUNITION, ItemKind.EQUIPMENT):
        return 3
    raise MalformedInput(f"item {item.id} is a {item.kind.value} with no chemical")


def escrow_items(declaration: Declaration) -> list[EscrowItem]:
    """The record of each item of the declaration, in the declaration's order."""
    categories = {c.label: c.cwc_category for c in declaration.chemicals}
    return [
        EscrowItem(
            id=i.id,
            kind=i.kind.value,
            category=_category(i, categories),  # type: ignore[arg-type]
            chemical=i.chemical,
            grams=round(i.declared.kg * 1000),
            site=i.site,
            tag=i.tag,
            munition_type=i.munition_type,
            equipment_type=i.equipment_type,
            method=i.declared.method,
        )
        for i in declaration.items
    ]


@dataclass(frozen=True)
class Leaf:
    """One leaf: the record, its salt, and its node ``(hash, grams)``."""

    record: EscrowItem
    salt: bytes
    node: SumNode


@dataclass
class EscrowTree:
    """One category's tree of one version: its leaves in tree order and its levels."""

    version: int
    category: int
    leaves: list[Leaf]
    levels: list[list[SumNode]] = field(repr=False)
    positions: dict[str, int] = field(repr=False)

    @classmethod
    def build(cls, version: int, category: int, leaves: list[Leaf]) -> EscrowTree:
        """The tree over ``leaves`` (already in tree order)."""
        levels = sum_levels([leaf.node for leaf in leaves])
        positions = {leaf.record.id: i for i, leaf in enumerate(leaves)}
        return cls(version, category, leaves, levels, positions)

    @property
    def root(self) -> SumRoot:
        """The tree's root ``(hash, grams, size)``."""
        h, g = self.levels[-1][0]
        return SumRoot(h, g, len(self.leaves))

    def commitment(self) -> EscrowCategory:
        """What the log holds of this tree."""
        root = self.root
        return EscrowCategory(
            category=self.category,  # type: ignore[arg-type]
            root=root.hash.hex(),
            grams=root.grams,
            leaves=root.size,
        )

    def opening(self, item_id: str) -> EscrowItemChecked:
        """The item's record, salt, index and inclusion path (KeyError if not a leaf)."""
        index = self.positions[item_id]
        leaf = self.leaves[index]
        return EscrowItemChecked(
            version=self.version,
            category=self.category,  # type: ignore[arg-type]
            record=leaf.record,
            salt=leaf.salt.hex(),
            index=index,
            path=[node_json(n) for n in sum_inclusion_proof(self.levels, index)],
        )

    def subset(self, indices: Iterable[int]) -> SubsetProof:
        """The subset proof of the leaves at ``indices``."""
        return sum_subset_proof(self.levels, list(indices))


def build_trees(
    version: int,
    records: Sequence[EscrowItem],
    salts: Mapping[str, bytes],
    order_key: bytes,
) -> dict[int, EscrowTree]:
    """The trees of one version, by category (only categories that hold items).

    ``salts`` gives each record's salt by item id. Raises MalformedInput for an item id
    listed twice or without a salt.
    """
    seen: set[str] = set()
    by_category: dict[int, list[tuple[bytes, Leaf]]] = {}
    for rec in records:
        if rec.id in seen:
            raise MalformedInput(f"item {rec.id} is listed twice")
        seen.add(rec.id)
        salt = salts.get(rec.id)
        if salt is None:
            raise MalformedInput(f"item {rec.id} has no salt")
        leaf = Leaf(rec, salt, rec.leaf(salt))
        by_category.setdefault(rec.category, []).append((position_key(order_key, rec.id), leaf))
    return {
        category: EscrowTree.build(
            version, category, [leaf for _, leaf in sorted(keyed, key=lambda k: k[0])]
        )
        for category, keyed in sorted(by_category.items())
    }
