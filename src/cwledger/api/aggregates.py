"""The published aggregates over HTTP, without a token (issue 16 section 3).

An ``aggregate.published`` event is public in every ledger, confidential or not: per
category of one escrow version at a moment, what the day-one escrow committed and what
has been proven removed and destroyed against it, each number following from public
entries of the log (the book refuses any that does not; ``cwledger aggregates check``
recomputes them from the log alone). So anyone reads them here, as anyone reads the log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from cwledger.http.deps import Snapshot, query_moment, snapshot
from cwledger.http.documents import aggregate_documents
from cwledger.http.problems import problem_responses
from cwledger.model.aggregates import AggregateCategory

__all__ = ["router", "AggregateDoc"]

router = APIRouter(tags=["aggregates"])

PublicBook = Annotated[Snapshot, Depends(snapshot)]


class AggregateDoc(BaseModel):
    """A published aggregate: one escrow version's totals by category at a moment, as
    logged, with the entries that prove them."""

    entry: int = Field(description="Its entry in the log (`/log?entry=N` in the dashboard).")
    at: str = Field(description="The moment its totals are as of (RFC 3339 UTC).")
    time: str = Field(description="The event's time (RFC 3339 UTC).")
    author: str = Field(description="The party that published it (the inspectorate).")
    version: int = Field(description="The escrow version (declaration version) it sums.")
    categories: list[AggregateCategory] = Field(
        description="One row per committed category: grams and items committed, removed,"
        " destroyed and remaining (committed less destroyed), and the log entries of the"
        " removed and destroyed proofs summed."
    )


@router.get(
    "/aggregates",
    response_model=list[AggregateDoc],
    responses=problem_responses(422),
)
def aggregates(
    r: PublicBook,
    at: Annotated[
        str | None,
        Query(
            description="Only those whose moment is not after this one: a date (end of that"
            " day, UTC) or an RFC 3339 UTC time; default all."
        ),
    ] = None,
) -> list[dict[str, Any]]:
    """The published aggregates, in log order. Public: no token, in any ledger."""
    return aggregate_documents(r, None if at is None else query_moment(at, "at"))
