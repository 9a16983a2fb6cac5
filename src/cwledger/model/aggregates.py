"""The public aggregates (issue 16 section 3): per category, what the day-one escrow
committed and what has been proven removed and destroyed against it, at a moment.

An ``aggregate.published`` body is all public. Each number in it follows from public
entries of the log: the committed grams and items are the escrow root's
(``escrow.committed``), the removed and destroyed ones are the sums of the
``escrow.removed_proved`` and ``escrow.destroyed_proved`` entries it names by their log
indices, and remaining is committed less destroyed. The book refuses a body whose
numbers do not follow (:mod:`cwledger.book.aggregates`), and an observer recomputes them
from the log alone (``cwledger aggregates check``).

Priorities and facility counts are not in it: the escrow commits neither (a leaf's record
holds no priority, and facilities are not escrowed), so no proof could back them.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from pydantic import Field, StrictInt, model_validator

from cwledger.model._base import Strict, Timestamp, empty_list
from cwledger.model.chemicals import CwcCategory
from cwledger.model.classes import PUBLIC
from cwledger.tlog.sumtree import MAX_GRAMS

__all__ = ["AggregateCategory", "AggregatePublished", "MAX_REFERENCES"]

MAX_REFERENCES = 2_000
"""Proof entries one category of an aggregate may name (a bound inside the 64 KiB entry)."""

Grams = Annotated[StrictInt, Field(ge=0, le=MAX_GRAMS)]
Count = Annotated[StrictInt, Field(ge=0)]
Entries = Annotated[list[Annotated[StrictInt, Field(ge=0)]], Field(max_length=MAX_REFERENCES)]


class AggregateCategory(Strict):
    """One category at the aggregate's moment: committed (the escrow root's), removed and
    destroyed (the sums of the proofs named), and remaining (committed less destroyed);
    each in grams and items (leaves)."""

    category: CwcCategory
    committed_grams: Grams
    committed_items: Count
    removed_grams: Grams
    removed_items: Count
    destroyed_grams: Grams
    destroyed_items: Count
    remaining_grams: Grams
    remaining_items: Count
    removed_proofs: Entries = empty_list()
    destroyed_proofs: Entries = empty_list()


class AggregatePublished(Strict):
    """Public totals of one escrow version at a moment, each proven by the entries named."""

    at: Annotated[Timestamp, PUBLIC]
    version: Annotated[StrictInt, Field(ge=1), PUBLIC]
    categories: Annotated[list[AggregateCategory], Field(min_length=1, max_length=3), PUBLIC]

    @model_validator(mode="after")
    def _one_row_per_category(self) -> AggregatePublished:
        dups = sorted(c for c, n in Counter(r.category for r in self.categories).items() if n > 1)
        if dups:
            raise ValueError(f"category {dups[0]} is published more than once")
        return self
