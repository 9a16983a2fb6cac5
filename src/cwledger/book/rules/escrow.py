"""The day-one escrow: commitments to per-category Merkle-sum trees, destroyed and removed
totals proven against them, the public aggregates that sum those proofs, and items
revealed to the inspectorate checked against them.

What can be checked from public data is checked here: versions follow one another, a
destroyed- or removed-total proof recomputes the committed root, no leaf is counted twice
of one kind and the running totals are the sums of the proofs (so they never pass the
committed total); a published aggregate says exactly what the roots and the proofs give.
An item revealed to the inspectorate that is no leaf of the tree, or whose
category or mass is not the declared item's, is a finding, not a refusal: the event
records what the inspectorate found.
"""

from __future__ import annotations

from cwledger.book.aggregates import problems, proofs_of
from cwledger.book.book import Book, Context
from cwledger.book.records import (
    AggregateRecord,
    ChemicalsRecord,
    EscrowTreeRecord,
    ItemRecord,
    ProvedRef,
    grams,
)
from cwledger.book.rules.common import kg_text, raise_finding
from cwledger.errors import VerificationError
from cwledger.model import ItemKind
from cwledger.model.aggregates import AggregatePublished
from cwledger.model.escrow import EscrowCommitted, EscrowItemChecked, SubsetProved, node_of
from cwledger.time import from_rfc3339
from cwledger.tlog.sumtree import SumRoot, verify_sum_inclusion, verify_sum_subset

__all__ = [
    "ESCROW_VERSION",
    "escrow_committed",
    "escrow_proved",
    "escrow_item_checked",
    "aggregate_published",
]

ESCROW_VERSION = "escrow-version"  # the counter of committed versions


def _tree(book: Book, ctx: Context, version: int, category: int) -> EscrowTreeRecord | None:
    rec = book.get(EscrowTreeRecord, f"{version:06d}|{category}")
    if rec is None:
        ctx.refuse("category", f"no escrow tree of category {category} in version {version}")
    return rec


def _root(rec: EscrowTreeRecord) -> SumRoot:
    return SumRoot(bytes.fromhex(rec.root), rec.grams, rec.leaves)


def escrow_committed(book: Book, ctx: Context, body: EscrowCommitted) -> None:
    latest = book.counter(ESCROW_VERSION)
    if body.version != latest + 1:
        ctx.refuse("version", f"escrow version {body.version} follows none: the latest is {latest}")
        return
    book.next_value(ESCROW_VERSION)
    for tree in body.categories:
        book.put(
            EscrowTreeRecord(
                version=body.version,
                category=tree.category,
                root=tree.root,
                grams=tree.grams,
                leaves=tree.leaves,
                entry=ctx.entry,
                at=ctx.at,
                author=ctx.event.author,
            )
        )


def escrow_proved(book: Book, ctx: Context, body: SubsetProved) -> None:
    """``escrow.destroyed_proved`` and ``escrow.removed_proved``: the proof recomputes the
    committed root, no leaf is proven of its kind twice, and the running totals are the
    previous ones plus this proof's (so they never pass the committed total)."""
    what = body.WHAT
    rec = _tree(book, ctx, body.version, body.category)
    if rec is None:
        return
    at = from_rfc3339(body.at)
    if at > ctx.at:
        ctx.refuse("at", f"{body.at} is after the event's own time ({ctx.event.time})")
        return
    try:
        verify_sum_subset(body.proof.proof(), _root(rec))
    except VerificationError as e:
        ctx.refuse("proof", str(e))
        return
    indices = [i for i, _, _ in body.proof.leaves]
    already: set[int] = set(getattr(rec, what))
    again = [i for i in indices if i in already]
    if again:
        ctx.refuse("proof", f"{len(again)} of the leaves were proven {what} before")
        return
    count = len(already) + body.count
    total = getattr(rec, f"{what}_g") + body.grams
    if (body.total_count, body.total_grams) != (count, total):
        ctx.refuse(
            "total_grams",
            f"the running totals are {body.total_count} leaves, {body.total_grams} g; the "
            f"proofs so far give {count} leaves, {total} g",
        )
        return
    latest = max(at, getattr(rec, f"{what}_at") or at)
    ref = ProvedRef(what=what, entry=ctx.entry, at=at, count=body.count, grams=body.grams)
    update = {
        what: sorted(already | set(indices)),
        f"{what}_g": total,
        f"{what}_at": latest,
        "proofs": [*rec.proofs, ref],
    }
    book.put(rec.model_copy(update=update))


def aggregate_published(book: Book, ctx: Context, body: AggregatePublished) -> None:
    """Every number of a published aggregate is the proven one: the committed roots' of
    its version, the sums of every removed and destroyed proof of each tree up to its
    moment (the entries it names are exactly those), remaining = committed - destroyed."""
    if from_rfc3339(body.at) > ctx.at:
        ctx.refuse("at", f"{body.at} is after the event's own time ({ctx.event.time})")
        return
    trees = book.records(EscrowTreeRecord, [f"{body.version:06d}|{c}" for c in (1, 2, 3)])
    roots, proofs = proofs_of(trees, body.version)
    wrong = problems(body, roots, proofs)
    for where, why in wrong:
        ctx.refuse(where, why)
    if wrong:
        return
    book.put(
        AggregateRecord(
            entry=ctx.entry,
            at=from_rfc3339(body.at),
            time=ctx.event.time,
            author=ctx.event.author,
            body=body.model_dump(mode="json"),
        )
    )


def _declared_category(book: Book, item: ItemRecord) -> int | None:
    table = book.get(ChemicalsRecord, "table")
    chemical = item.item.chemical
    if chemical is not None and table is not None and chemical in table.chemicals:
        return table.chemicals[chemical].cwc_category
    if chemical is None and item.item.kind in (ItemKind.MUNITION, ItemKind.EQUIPMENT):
        return 3
    return None


def escrow_item_checked(book: Book, ctx: Context, body: EscrowItemChecked) -> None:
    rec = _tree(book, ctx, body.version, body.category)
    if rec is None:
        return
    item = body.record
    subjects = [item.id]
    where = f"category {body.category} of escrow version {body.version}"
    try:
        if item.category != body.category:
            raise VerificationError(f"its record says category {item.category}")
        path = [node_of(n) for n in body.path]
        verify_sum_inclusion(item.leaf(bytes.fromhex(body.salt)), body.index, path, _root(rec))
    except VerificationError as e:
        title = f"item {item.id} revealed as a leaf of {where} is not in its root: {e}"
        raise_finding(book, ctx, "escrow-not-in-root", title, subjects, [ctx.event.id])
        return
    declared = book.get(ItemRecord, item.id)
    if declared is None:
        return
    if (g := grams(declared.item.declared.kg)) != item.grams:
        title = (
            f"item {item.id}: escrow version {body.version} committed {kg_text(item.grams)},"
            f" the declaration says {kg_text(g)}"
        )
        raise_finding(book, ctx, "escrow-mass-differs", title, subjects, [ctx.event.id])
    category = _declared_category(book, declared)
    if category is not None and category != item.category:
        title = (
            f"item {item.id}: escrow version {body.version} committed it in category"
            f" {item.category}, the declaration in category {category}"
        )
        raise_finding(book, ctx, "escrow-category-differs", title, subjects, [ctx.event.id])
