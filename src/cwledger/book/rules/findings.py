"""Findings raised and resolved by the inspectorate, and independent estimates."""

from __future__ import annotations

from cwledger.book.book import Book, Context
from cwledger.book.records import (
    CorrelationRecord,
    EstimateRecord,
    FindingRecord,
)
from cwledger.book.rules.common import (
    raise_finding,
)
from cwledger.model import (
    FindingStatus,
    apply_status,
)
from cwledger.model.bodies import (
    EstimateRecorded,
    EstimatesCorrelated,
    FindingRaised,
    FindingResolved,
)
from cwledger.model.errors import IllegalTransition


def finding_raised(book: Book, ctx: Context, body: FindingRaised) -> None:
    raise_finding(book, ctx, "raised", body.title, body.subjects, body.evidence)


def finding_resolved(book: Book, ctx: Context, body: FindingResolved) -> None:
    rec = book.get(FindingRecord, f"{body.finding:08d}")
    if rec is None:
        ctx.refuse("finding", f"there is no finding {body.finding}")
        return
    try:
        finding = apply_status(rec.finding, body.status, ctx.event.id)
    except IllegalTransition as e:
        ctx.refuse("status", str(e))
        return
    evidence = [*finding.evidence, *(e for e in body.evidence if e not in finding.evidence)]
    closed_at = None if finding.status is FindingStatus.OPEN else ctx.at
    finding = finding.model_copy(update={"evidence": evidence})
    book.put(rec.model_copy(update={"finding": finding, "closed_at": closed_at}))


def estimate_recorded(book: Book, ctx: Context, body: EstimateRecorded) -> None:
    book.put(
        EstimateRecord(
            event=ctx.event.id, entry=ctx.entry, author=ctx.event.author, estimate=body.estimate
        )
    )


def estimates_correlated(book: Book, ctx: Context, body: EstimatesCorrelated) -> None:
    unknown = [e for e in body.estimates if book.get(EstimateRecord, e) is None]
    if unknown:
        ctx.refuse("estimates", f"no estimate recorded as {', '.join(unknown)}")
        return
    a, b = sorted(body.estimates)
    book.put(CorrelationRecord(estimates=(a, b), rho=body.rho, basis=body.basis, entry=ctx.entry))
