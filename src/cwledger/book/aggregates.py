"""Public aggregates proven against the day-one escrow: what an ``aggregate.published``
body must say, from the committed roots and the proof entries, and the observer's check
of a whole log from its public entries alone.

* :func:`figures` - the aggregate of one escrow version at a moment: per category the
  root's grams and leaves, the sums of every removed and destroyed proof entry of that
  tree up to the moment (and their entries), and remaining = committed - destroyed.
* :func:`problems` - where a published body differs from :func:`figures` (the book
  refuses it naming each field; the observer reports it).
* :func:`observe` - replays the public escrow entries of a log (commitments, proofs,
  aggregates) as an observer would, checking every proof against its root, and says of
  each aggregate whether it is proven.

Pure: entries come in decoded, as ``(index, type, body)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from cwledger.book.records import EscrowTreeRecord
from cwledger.errors import VerificationError
from cwledger.model.aggregates import AggregateCategory, AggregatePublished
from cwledger.model.escrow import PROVED_TYPES, EscrowCommitted, ProvedKind, SubsetProved
from cwledger.time import from_rfc3339
from cwledger.tlog.sumtree import SumRoot, verify_sum_subset

__all__ = [
    "AGGREGATE_PUBLISHED",
    "PROVED_EVENT",
    "Proven",
    "AggregateCheck",
    "figures",
    "problems",
    "observe",
    "proofs_of",
]

AGGREGATE_PUBLISHED = "aggregate.published"
PROVED_EVENT: dict[ProvedKind, str] = {what: f"escrow.{what}_proved" for what in PROVED_TYPES}
"""The event type of each kind of subset proof."""


@dataclass(frozen=True)
class Proven:
    """One proof entry against a tree, as an aggregate sums it."""

    what: ProvedKind
    entry: int
    version: int
    category: int
    at: int  # µs
    count: int
    grams: int


def figures(
    version: int, roots: Mapping[int, SumRoot], proofs: Iterable[Proven], at: int
) -> list[AggregateCategory]:
    """The rows of the aggregate of escrow ``version`` at moment ``at`` (µs): one per
    committed category (``roots`` by category), each summing every proof entry of its
    tree whose moment is not after ``at``."""
    mine = sorted((p for p in proofs if p.version == version and p.at <= at), key=lambda p: p.entry)
    rows = []
    for c, root in sorted(roots.items()):
        sums: dict[ProvedKind, tuple[int, int, list[int]]] = {}
        for what in PROVED_TYPES:
            ps = [p for p in mine if p.category == c and p.what == what]
            sums[what] = (sum(p.count for p in ps), sum(p.grams for p in ps), [p.entry for p in ps])
        rn, rg, re = sums["removed"]
        dn, dg, de = sums["destroyed"]
        rows.append(
            AggregateCategory(
                category=c,  # type: ignore[arg-type]
                committed_grams=root.grams,
                committed_items=root.size,
                removed_grams=rg,
                removed_items=rn,
                destroyed_grams=dg,
                destroyed_items=dn,
                remaining_grams=root.grams - dg,
                remaining_items=root.size - dn,
                removed_proofs=re,
                destroyed_proofs=de,
            )
        )
    return rows


def problems(
    body: AggregatePublished, roots: Mapping[int, SumRoot], proofs: Iterable[Proven]
) -> list[tuple[str, str]]:
    """Where ``body`` is not the proven aggregate of its version at its moment, as
    ``(field, why)``: a category missing or not committed, a number that does not follow,
    a proof entry named that is not one (or one left out). Empty when it is proven.
    ``roots`` are the version's committed roots by category; ``proofs`` every proof entry
    logged before the aggregate."""
    if not roots:
        return [("version", f"no escrow version {body.version} is committed")]
    want = {r.category: r for r in figures(body.version, roots, proofs, from_rfc3339(body.at))}
    out: list[tuple[str, str]] = []
    given = {r.category: (n, r) for n, r in enumerate(body.categories)}
    for c in sorted(want.keys() - given.keys()):
        out.append(("categories", f"category {c} of escrow version {body.version} is left out"))
    for c, (n, row) in sorted(given.items()):
        proven = want.get(c)
        if proven is None:
            out.append(
                (f"categories[{n}].category", f"escrow version {body.version} has no category {c}")
            )
            continue
        for name in type(row).model_fields:
            got, should = getattr(row, name), getattr(proven, name)
            if got == should:
                continue
            if name.endswith("_proofs"):
                extra = sorted(set(got) - set(should))
                missing = sorted(set(should) - set(got))
                why = (
                    f"names {extra} (no {name.removesuffix('_proofs')} proof of this tree by"
                    f" {body.at})"
                    if extra
                    else f"leaves out {missing}"
                    if missing
                    else "names an entry twice or out of order"
                )
                out.append((f"categories[{n}].{name}", f"category {c}: {why}; want {should}"))
            else:
                out.append(
                    (
                        f"categories[{n}].{name}",
                        f"category {c}: {name} is {got}; the committed root and the proofs"
                        f" give {should}",
                    )
                )
    return out


# -- the observer's check -----------------------------------------------------------------


@dataclass
class AggregateCheck:
    """One published aggregate as an observer checked it from the log's public entries:
    ``problems`` empty when every number is proven."""

    entry: int
    at: str
    version: int
    categories: list[AggregateCategory]
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def proven(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "at": self.at,
            "version": self.version,
            "proven": self.proven,
            "problems": [f"{where}: {why}" for where, why in self.problems],
            "categories": [r.model_dump(mode="json") for r in self.categories],
        }


@dataclass
class _Tree:
    root: SumRoot
    seen: dict[str, set[int]] = field(default_factory=dict)
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)


def _proof_problem(tree: _Tree | None, body: SubsetProved) -> str | None:
    """Why a proof entry does not hold against its tree (None when it does)."""
    if tree is None:
        return f"no committed tree of category {body.category} in version {body.version}"
    try:
        verify_sum_subset(body.proof.proof(), tree.root)
    except VerificationError as e:
        return str(e)
    seen = tree.seen.setdefault(body.WHAT, set())
    indices = {i for i, _, _ in body.proof.leaves}
    if seen & indices:
        return f"{len(seen & indices)} of its leaves were proven {body.WHAT} before"
    count, grams = tree.totals.get(body.WHAT, (0, 0))
    count, grams = count + body.count, grams + body.grams
    if (body.total_count, body.total_grams) != (count, grams):
        return f"its running totals are not {count} leaves, {grams} g"
    seen |= indices
    tree.totals[body.WHAT] = (count, grams)
    return None


def observe(entries: Iterable[tuple[int, str, BaseModel | None]]) -> list[AggregateCheck]:
    """Check every ``aggregate.published`` of a log from its public entries, in log order
    (``(index, type, body)``; other types are passed over, a body None is one not read).

    Every proof entry is checked against its committed root (a leaf counted once per kind,
    running totals that add up); one that does not hold counts for nothing, so an
    aggregate that names it is not proven. Each aggregate is then held to
    :func:`problems` against the roots and the proofs that came before it."""
    trees: dict[tuple[int, int], _Tree] = {}
    proofs: list[Proven] = []
    out: list[AggregateCheck] = []
    for index, type_, body in entries:
        if isinstance(body, EscrowCommitted):
            for t in body.categories:
                trees[(body.version, t.category)] = _Tree(t.sum_root())
        elif isinstance(body, SubsetProved) and type_ == PROVED_EVENT[body.WHAT]:
            tree = trees.get((body.version, body.category))
            if _proof_problem(tree, body) is None:
                proofs.append(
                    Proven(
                        body.WHAT,
                        index,
                        body.version,
                        body.category,
                        from_rfc3339(body.at),
                        body.count,
                        body.grams,
                    )
                )
        elif isinstance(body, AggregatePublished) and type_ == AGGREGATE_PUBLISHED:
            roots = {c: t.root for (v, c), t in trees.items() if v == body.version}
            out.append(
                AggregateCheck(
                    index, body.at, body.version, body.categories, problems(body, roots, proofs)
                )
            )
    return out


def proofs_of(
    records: Iterable[EscrowTreeRecord], version: int
) -> tuple[dict[int, SumRoot], list[Proven]]:
    """The roots (by category) and proof entries of one version from the book's escrow
    tree records (``EscrowTreeRecord``)."""
    roots: dict[int, SumRoot] = {}
    proofs: list[Proven] = []
    for rec in records:
        if rec.version != version:
            continue
        roots[rec.category] = SumRoot(bytes.fromhex(rec.root), rec.grams, rec.leaves)
        proofs += [
            Proven(p.what, p.entry, rec.version, rec.category, p.at, p.count, p.grams)
            for p in rec.proofs
        ]
    return roots, proofs
