"""Findings and milestones: the numbered findings (filtered by status and rule) with the
entries that opened them and their evidence, then every milestone judged now.

The findings are `cwledger.book.answers.findings` (as `cwledger findings` and the API's
`/findings`), the milestones `cwledger.book.progress.milestones` (as `cwledger milestones`);
evidence is named by event id and linked to its log entry. A finding's title and remarks
are `highly-protected`: in a confidential ledger the page is for a viewer cleared to read
them (a destruction facility is answered 403, and not linked to it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cwledger.book import answers
from cwledger.book.records import ItemRecord, SiteRecord
from cwledger.errors import InvalidQuery
from cwledger.http.documents import milestone_documents
from cwledger.model.findings import FindingStatus
from cwledger.web.views import HighlyProtectedBook, Viewer, page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

STATUSES = [s.value for s in FindingStatus]


def _subject_kinds(r: HighlyProtectedBook, subjects: set[str]) -> dict[str, str]:
    """Which subjects are sites and which items (the rest: seals, transfers...)."""
    kinds = {}
    for s in subjects:
        if r.book.get(SiteRecord, s) is not None:
            kinds[s] = "site"
        elif r.book.get(ItemRecord, s) is not None:
            kinds[s] = "item"
    return kinds


@router.get("/findings", response_class=HTMLResponse)
def findings_page(
    request: Request,
    who: Viewer,
    r: HighlyProtectedBook,
    status: Annotated[str | None, Query(description="open, resolved, closed_unresolvable")] = None,
    rule: Annotated[str | None, Query(description="The rule that raised them.")] = None,
) -> HTMLResponse:
    """The findings, filtered, each with its subjects, the entry that opened it, its
    evidence and its history; then the milestones with their status and evidence."""
    status, rule = status or None, rule or None
    if status is not None and status not in STATUSES:
        raise InvalidQuery("query.status", f"{status!r} is not one of {', '.join(STATUSES)}")
    everything = answers.findings(r.book)
    rules = sorted({f.rule for f in everything})
    shown = [
        answers.finding_document(f, answers.finding_sites(r.book, f))
        for f in answers.findings(r.book, status)
        if rule is None or f.rule == rule
    ]
    judged = milestone_documents(r, None)
    events = {e for f in shown for e in [f["opened_by"], *f["evidence"]]}
    events |= {h["event"] for f in shown for h in f["history"]}
    events |= {e for m in judged for e in m["evidence"]}
    index = {eid: e.index for eid, e in r.entries_by_event_id(events).items()}
    counts = {s: sum(1 for f in everything if f.status == s) for s in STATUSES}
    return page(
        request,
        "findings.html",
        who,
        active="findings",
        status=status,
        rule=rule,
        statuses=STATUSES,
        rules=rules,
        findings=shown,
        total=len(everything),
        counts=counts,
        kinds=_subject_kinds(r, {s for f in shown for s in f["subjects"]}),
        index=index,
        milestones=judged,
    )
