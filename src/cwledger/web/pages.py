"""The dashboard's pages. Thin: every figure comes from `cwledger.book.answers`,
`cwledger.book.progress` or `cwledger.accountancy`, read in the API's snapshot, and the
heavy ones are remembered per log size as the API's are."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cwledger.book import answers, progress
from cwledger.charts import Marker, Series, deadline_met, deadline_shown, line_chart
from cwledger.http.deps import query_moment
from cwledger.http.documents import milestone_documents, status_document
from cwledger.time import day_of
from cwledger.web.views import Book, Viewer, page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

At = Annotated[str | None, Query(description="A date (YYYY-MM-DD): the end of that day.")]


def _burndown(r: Book) -> dict[str, Any]:
    facts = progress.load_facts(r.book)
    moments = progress.month_ends(facts)
    series = progress.status_series(facts, moments)
    judged = progress.milestones(facts)
    return {
        "points": [(day_of(t), s.to_json()) for t, s in zip(moments, series, strict=True)],
        "markers": [
            (m.milestone.due, m.milestone.milestone, deadline_met(m.status))
            for m in judged
            if m.milestone.due is not None and deadline_shown(m.milestone.description)
        ],
    }


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, who: Viewer, r: Book, at: At = None) -> HTMLResponse:
    """Declared, removed, destroyed, and where what is not yet destroyed is; the burn-down
    with the milestones' deadlines; the open findings; the milestones by state."""
    when = None if at is None else query_moment(at, "at")
    status = status_document(r, when)
    judged = milestone_documents(r, when)
    burn = r.answer(("burndown",), lambda: _burndown(r))
    chart = line_chart(
        "Chemicals declared, removed and destroyed, month by month",
        [
            Series("not yet destroyed", [(d, s["not_destroyed_t"]) for d, s in burn["points"]]),
            Series(
                "removed",
                [(d, s["removed_t"] + s["destroyed_in_country_t"]) for d, s in burn["points"]],
            ),
            Series("destroyed", [(d, s["destroyed_t"]) for d, s in burn["points"]]),
        ],
        [Marker(date.fromisoformat(due), label, met) for due, label, met in burn["markers"]],
    )
    open_findings = [answers.finding_document(f) for f in answers.findings(r.book, "open")]
    counts = {k: sum(1 for m in judged if m["status"] == k) for k in progress.MILESTONE_STATES}
    return page(
        request,
        "overview.html",
        who,
        active="overview",
        at=at,
        status=status,
        chart=chart,
        milestones=judged,
        counts=counts,
        findings=open_findings,
    )
