"""The dashboard's pages. Thin: every figure comes from `cwledger.book.answers`,
`cwledger.book.progress` or `cwledger.accountancy`, read in the API's snapshot, and the
heavy ones are remembered per log size as the API's are."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cwledger.book import answers, progress
from cwledger.charts import Marker, Series, colour_of, deadline_met, deadline_shown, line_chart
from cwledger.http.deps import Snapshot, entitled, query_moment
from cwledger.http.documents import aggregate_documents, milestone_documents, status_document
from cwledger.ledger.access import Caller
from cwledger.model.classes import Class
from cwledger.time import day_of
from cwledger.web.views import LogSnapshot, Viewer, gettext, page, page_language

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

At = Annotated[str | None, Query(description="A date (YYYY-MM-DD): the end of that day.")]


def _burndown(r: Snapshot) -> dict[str, Any]:
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


GRAMS_PER_TONNE = 1_000_000


def _share(part: int, whole: int) -> float | None:
    """`part` as a percentage of `whole`, to one decimal (None when `whole` is 0)."""
    return round(100 * part / whole, 1) if whole else None


def public_figures(doc: dict[str, Any]) -> dict[str, Any]:
    """A published aggregate as the public overview shows it: its rows in tonnes and
    items with the shares removed and destroyed, and the totals over its categories."""
    rows = []
    for c in doc["categories"]:
        row = {
            "category": c["category"],
            "removed_proofs": c.get("removed_proofs", []),
            "destroyed_proofs": c.get("destroyed_proofs", []),
        }
        for kind in ("committed", "removed", "destroyed", "remaining"):
            row[f"{kind}_t"] = c[f"{kind}_grams"] / GRAMS_PER_TONNE
            row[f"{kind}_items"] = c[f"{kind}_items"]
        row["removed_pct"] = _share(c["removed_grams"], c["committed_grams"])
        row["destroyed_pct"] = _share(c["destroyed_grams"], c["committed_grams"])
        rows.append(row)
    total = {
        k: sum(c[k] for c in doc["categories"])
        for k in ("committed_grams", "removed_grams", "destroyed_grams", "remaining_grams")
    }
    return {
        **{k: doc[k] for k in ("entry", "at", "time", "author", "version")},
        "rows": rows,
        "committed_t": total["committed_grams"] / GRAMS_PER_TONNE,
        "removed_t": total["removed_grams"] / GRAMS_PER_TONNE,
        "destroyed_t": total["destroyed_grams"] / GRAMS_PER_TONNE,
        "remaining_t": total["remaining_grams"] / GRAMS_PER_TONNE,
        "removed_pct": _share(total["removed_grams"], total["committed_grams"]),
        "destroyed_pct": _share(total["destroyed_grams"], total["committed_grams"]),
    }


def _public_overview(
    request: Request, who: Caller | None, r: Snapshot, at: str | None, when: int | None
) -> HTMLResponse:
    """The overview of a confidential ledger for a viewer not cleared to read the book:
    the published aggregates only (public, each proven against the day-one escrow)."""
    published = [public_figures(d) for d in aggregate_documents(r, when)]
    newest = max(published, key=lambda a: (a["at"], a["entry"]), default=None)
    return page(
        request,
        "overview_public.html",
        who,
        active="overview",
        at=at,
        newest=newest,
        published=sorted(published, key=lambda a: (a["at"], a["entry"]), reverse=True),
    )


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, who: Viewer, r: LogSnapshot, at: At = None) -> HTMLResponse:
    """Declared, removed, destroyed, and where what is not yet destroyed is; the burn-down
    with the milestones' deadlines; the open findings; the milestones by state. In a
    confidential ledger, to a viewer not cleared to read the book, the published
    aggregates instead; to one cleared below `highly-protected`, the number of open
    findings without their titles."""
    when = None if at is None else query_moment(at, "at")
    if not entitled(request, who, Class.PROTECTED):
        return _public_overview(request, who, r, at, when)
    status = status_document(r, when)
    judged = milestone_documents(r, when)
    burn = r.answer(("burndown",), lambda: _burndown(r))
    _ = gettext(request)
    points = burn["points"]
    chart = line_chart(
        _("Chemicals declared, removed and destroyed, month by month"),
        [
            Series(
                _("not yet destroyed"),
                [(d, s["not_destroyed_t"]) for d, s in points],
                colour_of("not yet destroyed"),
            ),
            Series(
                _("removed"),
                [(d, s["removed_t"] + s["destroyed_in_country_t"]) for d, s in points],
                colour_of("removed"),
            ),
            Series(
                _("destroyed"), [(d, s["destroyed_t"]) for d, s in points], colour_of("destroyed")
            ),
        ],
        [Marker(date.fromisoformat(due), label, met) for due, label, met in burn["markers"]],
        unit=_("t"),
        lang=page_language(request),
        empty=_("no data yet"),
    )
    still_open = answers.findings(r.book, "open")
    # A finding's title is highly-protected: a viewer cleared below is told how many are open.
    titled = entitled(request, who, Class.HIGHLY_PROTECTED)
    open_findings = [answers.finding_document(f) for f in still_open] if titled else None
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
        open_count=len(still_open),
    )
