"""Proofs against the escrow's committed roots: reveals, destroyed and removed totals, diffs.

* A **reveal** file discloses items to one party: each item's record, salt, leaf index and
  inclusion path (:func:`reveal`); :func:`check_reveal` checks each against the committed
  root of its version and category, offline.
* A **destroyed** (or **removed**) **total** is a subset proof of the destroyed (removed)
  leaves of one tree, cut into event bodies that fit an entry (:func:`proved_bodies`);
  the book checks them.
* A **diff** of two versions proves which leaves were kept (the same leaf hash, shown in
  both trees by a subset proof of each, without opening them); every other leaf of the old
  tree was removed and every other leaf of the new one added, so each category's kept,
  removed and added counts and grams follow from the commitments (:func:`check_diff`).

The formats are in ``docs/escrow.md``. Pure: commitments come in as
``{(version, category): SumRoot}``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from cwledger.errors import MalformedInput, VerificationError
from cwledger.escrow.tree import EscrowTree
from cwledger.model.escrow import (
    MAX_PROOF_LEAVES,
    PROVED_TYPES,
    EscrowItemChecked,
    ProvedKind,
    SubsetProofJson,
    SubsetProved,
    node_of,
)
from cwledger.tlog.sumtree import SumRoot, verify_sum_inclusion, verify_sum_subset

__all__ = [
    "REVEAL_FORMAT",
    "DIFF_FORMAT",
    "Commitments",
    "ItemCheck",
    "CategoryDiff",
    "reveal",
    "check_reveal",
    "check_opening",
    "proved_bodies",
    "diff_proof",
    "check_diff",
    "load_json",
]

REVEAL_FORMAT = "cwledger-escrow-reveal/v1"
DIFF_FORMAT = "cwledger-escrow-diff/v1"

Commitments = Mapping[tuple[int, int], SumRoot]


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


# -- reveals ------------------------------------------------------------------------------


def reveal(trees: Mapping[int, EscrowTree], item_ids: Sequence[str], to: str) -> dict[str, Any]:
    """The reveal document of ``item_ids`` for party ``to``, in the order given.

    Raises MalformedInput naming every id that is no leaf of these trees."""
    unknown = [i for i in item_ids if not any(i in t.positions for t in trees.values())]
    if unknown:
        raise MalformedInput(f"not in this escrow version: {', '.join(unknown)}")
    openings = [
        next(t for t in trees.values() if i in t.positions).opening(i)
        for i in dict.fromkeys(item_ids)
    ]
    return {
        "format": REVEAL_FORMAT,
        "to": to,
        "items": [o.model_dump(mode="json", exclude_none=True) for o in openings],
    }


@dataclass(frozen=True)
class ItemCheck:
    """One revealed item checked: ``problem`` is None when it is a leaf of its tree."""

    opening: EscrowItemChecked
    problem: str | None


def check_opening(opening: EscrowItemChecked, commitments: Commitments) -> str | None:
    """Why an opening is not a leaf of the committed tree it names (None if it is)."""
    root = commitments.get((opening.version, opening.category))
    if root is None:
        return f"no committed tree of category {opening.category} in version {opening.version}"
    if opening.record.category != opening.category:
        return f"its record says category {opening.record.category}"
    try:
        leaf = opening.record.leaf(bytes.fromhex(opening.salt))
        verify_sum_inclusion(leaf, opening.index, [node_of(n) for n in opening.path], root)
    except VerificationError as e:
        return str(e)
    return None


def _document(doc: Any, fmt: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise MalformedInput(f"not an escrow proof of format {fmt!r}")
    return doc


def check_reveal(doc: Any, commitments: Commitments) -> list[ItemCheck]:
    """Check every item of a reveal document. Raises MalformedInput for a document that is
    not one; an item that is no leaf of its tree is an ``ItemCheck`` with its problem."""
    items = _document(doc, REVEAL_FORMAT).get("items")
    if not isinstance(items, list) or not items:
        raise MalformedInput("a reveal document lists its items under 'items'")
    out = []
    for n, raw in enumerate(items):
        try:
            opening = EscrowItemChecked.model_validate(raw)
        except ValidationError as e:
            raise MalformedInput(f"items[{n}]: {_first_line(e)}") from None
        out.append(ItemCheck(opening, check_opening(opening, commitments)))
    return out


# -- destroyed totals ---------------------------------------------------------------------


def proved_bodies(
    tree: EscrowTree,
    item_ids: Iterable[str],
    *,
    what: ProvedKind,
    at: str,
    proven: Iterable[int] = (),
    proven_g: int = 0,
    budget: int = 39_000,
) -> list[SubsetProved]:
    """The ``escrow.<what>_proved`` bodies that prove the leaves of ``item_ids`` in this
    tree destroyed (or removed) by ``at``, leaving out those ``proven`` of that kind before
    (leaf indices, with their grams ``proven_g``); ids that are no leaf of the tree are
    ignored. Each body reveals at most MAX_PROOF_LEAVES leaves and is at most ``budget``
    bytes of JSON; the running totals continue from the proofs before. Empty when nothing
    is left to prove."""
    body_type = PROVED_TYPES[what]
    done = set(proven)
    todo = sorted({tree.positions[i] for i in item_ids if i in tree.positions} - done)
    count, grams = len(done), proven_g
    bodies = []
    while todo:
        take = min(len(todo), MAX_PROOF_LEAVES)
        while True:
            proof = tree.subset(todo[:take])
            body = body_type(
                version=tree.version,
                category=tree.category,  # type: ignore[arg-type]
                at=at,
                count=take,
                grams=proof.grams,
                total_count=count + take,
                total_grams=grams + proof.grams,
                proof=SubsetProofJson.of(proof),
            )
            if take == 1 or len(body.model_dump_json()) <= budget:
                break
            take //= 2
        bodies.append(body)
        count, grams = body.total_count, body.total_grams
        todo = todo[take:]
    return bodies


# -- diffs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryDiff:
    """One category from one version to the next: leaves kept, removed and added."""

    category: int
    kept: int
    kept_g: int
    removed: int
    removed_g: int
    added: int
    added_g: int

    @property
    def change_g(self) -> int:
        """The change of the category's total (new minus old)."""
        return self.added_g - self.removed_g

    def to_json(self) -> dict[str, int]:
        return {
            "category": self.category,
            "kept": self.kept,
            "kept_grams": self.kept_g,
            "removed": self.removed,
            "removed_grams": self.removed_g,
            "added": self.added,
            "added_grams": self.added_g,
            "change_grams": self.change_g,
        }


def diff_proof(
    old: Mapping[int, EscrowTree], new: Mapping[int, EscrowTree], v1: int, v2: int
) -> dict[str, Any]:
    """The diff document from version ``v1``'s trees to ``v2``'s: per category that both
    hold, a subset proof in each tree of the leaves kept (the same leaf hash)."""
    categories = []
    for c in sorted(old.keys() & new.keys()):
        a, b = old[c], new[c]
        in_new = {leaf.node[0] for leaf in b.leaves}
        kept = {leaf.node[0] for leaf in a.leaves} & in_new
        if not kept:
            continue
        old_ix = [i for i, leaf in enumerate(a.leaves) if leaf.node[0] in kept]
        new_ix = [i for i, leaf in enumerate(b.leaves) if leaf.node[0] in kept]
        categories.append(
            {
                "category": c,
                "old": SubsetProofJson.of(a.subset(old_ix)).model_dump(mode="json"),
                "new": SubsetProofJson.of(b.subset(new_ix)).model_dump(mode="json"),
            }
        )
    return {"format": DIFF_FORMAT, "from": v1, "to": v2, "categories": categories}


def _kept(entry: Any, c: int, r1: SumRoot, r2: SumRoot) -> tuple[int, int]:
    try:
        old = SubsetProofJson.model_validate(entry["old"]).proof()
        new = SubsetProofJson.model_validate(entry["new"]).proof()
    except (KeyError, TypeError, ValidationError) as e:
        raise MalformedInput(f"category {c}: {_first_line(e)}") from None
    try:
        count, grams = verify_sum_subset(old, r1)
        verify_sum_subset(new, r2)
    except VerificationError as e:
        raise VerificationError(f"category {c}: {e}") from None
    if Counter(n for _, n in old.leaves) != Counter(n for _, n in new.leaves):
        raise VerificationError(f"category {c}: the leaves shown kept differ between the versions")
    return count, grams


def check_diff(doc: Any, commitments: Commitments) -> tuple[int, int, list[CategoryDiff]]:
    """Check a diff document against the commitments; returns ``(v1, v2, per category)``.

    Raises MalformedInput for a document that is not one or names an uncommitted version,
    VerificationError for a proof that fails."""
    d = _document(doc, DIFF_FORMAT)
    v1, v2, entries = d.get("from"), d.get("to"), d.get("categories")
    if type(v1) is not int or type(v2) is not int or not isinstance(entries, list):
        raise MalformedInput("a diff document has integer 'from' and 'to' and a 'categories' list")
    for v in (v1, v2):
        if not any(key[0] == v for key in commitments):
            raise MalformedInput(f"escrow version {v} is not committed in this log")
    shown: dict[int, Any] = {}
    for e in entries:
        c = e.get("category") if isinstance(e, dict) else None
        if type(c) is not int or c in shown:
            raise MalformedInput("each entry of 'categories' names a category once")
        shown[c] = e
    out = []
    categories = sorted({c for v, c in commitments if v in (v1, v2)} | shown.keys())
    for c in categories:
        r1, r2 = commitments.get((v1, c)), commitments.get((v2, c))
        kept = (0, 0)
        if c in shown:
            if r1 is None or r2 is None:
                raise MalformedInput(f"category {c} is not committed in both versions")
            kept = _kept(shown[c], c, r1, r2)
        old_n, old_g = (r1.size, r1.grams) if r1 else (0, 0)
        new_n, new_g = (r2.size, r2.grams) if r2 else (0, 0)
        k, kg = kept
        out.append(CategoryDiff(c, k, kg, old_n - k, old_g - kg, new_n - k, new_g - kg))
    return v1, v2, out


def load_json(text: str, where: str) -> Any:
    """Parse a proof file's JSON; MalformedInput naming ``where``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise MalformedInput(f"{where}: not JSON ({e})") from None
