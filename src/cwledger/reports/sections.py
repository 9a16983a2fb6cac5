"""The sections of the report as the council read it, beyond the month's events: the
declarant's own submissions in the period, the causes of delay and revised plans, the
consignments from the port of loading with cumulative percentages by priority, the
production facilities, and the register of outstanding declaration issues.

Pure functions over the book's records (`progress.Facts`) and the log's entries: nothing
here states a fact the ledger does not hold. A cause of delay is a milestone the period
found overdue or met late, with its description and note as set; a revised plan is a
document filed in the period whose kind or title names a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cwledger.book import progress
from cwledger.ledger.admission import decode_entry
from cwledger.model.sites import SiteKind
from cwledger.reports.words import N_
from cwledger.time import Period, date_text, parse_date

if TYPE_CHECKING:
    from cwledger.store import LogReader

__all__ = [
    "MANDATE",
    "SubmissionRow",
    "DelayRow",
    "ConsignmentRow",
    "FacilityRow",
    "IssueRow",
    "IssueRegister",
    "submissions",
    "delays",
    "consignments",
    "production_facilities",
    "issue_register",
    "report_number",
    "document_symbol",
]

MANDATE = N_(
    "This report is made under paragraph 2(f) of Executive Council decision EC-M-33/DEC.1"
    " (27 September 2013), by which the Director-General reports to the Council monthly, and"
    " paragraph 12 of Security Council resolution 2118 (2013), by which the report goes to the"
    " Security Council through the Secretary-General within 30 days and monthly thereafter."
)


def report_number(first_event: int, period: Period) -> int:
    """The report's number: the months from the month of the ledger's first event to the
    month the period ends in (a log begun in September, its October report is number 1)."""
    a, b = date_text(first_event), period.last_day
    return max(1, (int(b[:4]) - int(a[:4])) * 12 + int(b[5:7]) - int(a[5:7]))


def document_symbol(number: int, period: Period) -> str:
    """The report's symbol in this ledger's series: CWL/R.<number>/<last day>."""
    return f"CWL/R.{number}/{period.last_day}"


# -- the declarant's own submissions ------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionRow:
    """An entry the declarant made in the period: a declaration, an amendment, a document
    (its national reports and plans), a destruction it recorded. `what` is in English (the
    data's words); `message` and `values` say it again for the catalogues (a title, an id,
    a version: the values as recorded)."""

    day: str
    entry: int
    type: str
    event_id: str
    what: str
    message: str = field(default="", compare=False)
    values: dict[str, Any] = field(default_factory=dict, compare=False)


_SUBJECTS = {
    "batch": N_("batch %(id)s"),
    "transfer": N_("transfer %(id)s"),
    "inspection": N_("inspection %(id)s"),
    "item": N_("item %(id)s"),
    "site": N_("site %(id)s"),
    "document": N_("document %(id)s"),
}
"""What a submission is about, by the key of the body that names it."""


def _what(etype: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What an entry is: a message of the catalogues and its values."""
    if "title" in body and isinstance(body["title"], str):
        return "%(title)s", {"title": body["title"]}
    if etype.startswith("declaration."):
        values = {"version": body.get("version")}
        if "part" in body and "parts" in body:
            values |= {"part": body["part"], "parts": body["parts"]}
            return N_("version %(version)s, part %(part)s of %(parts)s"), values
        return N_("version %(version)s"), values
    for key, message in _SUBJECTS.items():
        if isinstance(body.get(key), str):
            return message, {"id": body[key]}
    return "", {}


SUBMISSION_TYPES = ("declaration.", "document.")


def submissions(
    reader: LogReader, declarants: set[str], p: Period
) -> tuple[list[SubmissionRow], dict[str, int]]:
    """The declarant's declarations, amendments and documents (its national reports and
    plans) dated in the period, in log order; and how many entries of each type it made in
    the period in all (transfers, destruction batches...)."""
    rows = []
    counts: dict[str, int] = {}
    for chunk in reader.iter_entries():
        for e in chunk:
            if e.author not in declarants or e.event_at not in p:
                continue
            counts[e.event_type] = counts.get(e.event_type, 0) + 1
            if not e.event_type.startswith(SUBMISSION_TYPES):
                continue
            body = decode_entry(e.envelope, check_canonical=False).event.body
            message, values = _what(e.event_type, body)
            rows.append(
                SubmissionRow(
                    date_text(e.event_at),
                    e.index,
                    e.event_type,
                    e.event_id,
                    message % values,
                    message,
                    values,
                )
            )
    return rows, dict(sorted(counts.items()))


# -- causes of delay and revised plans -----------------------------------------------------------


@dataclass(frozen=True)
class DelayRow:
    """A milestone due by the period's end and not met on time, as judged at its end."""

    milestone: str
    description: str
    due: str
    status: str
    days_late: int | None
    met_on: str | None
    outstanding: dict[str, float]
    note: str | None


_ON_TIME = {"met", "due", "at_risk", "at risk"}


def delays(f: progress.Facts, judged: list[dict[str, Any]], p: Period) -> list[DelayRow]:
    """The milestones due by the period's end that were overdue at its end or met late in
    it (or after it began), with their description and the note they were set with."""
    notes = {m.milestone.milestone: m.milestone.note for m in f.milestones}
    rows = []
    for m in judged:
        due = m.get("due")
        if due is None or due > p.last_day:
            continue
        late = m["status"] not in _ON_TIME or (m.get("days_late") or 0) > 0
        if not late or (m.get("met_on") is not None and m["met_on"] < p.first_day):
            continue
        rows.append(
            DelayRow(
                milestone=m["id"],
                description=m["description"],
                due=due,
                status=m["status"],
                days_late=m.get("days_late"),
                met_on=m.get("met_on"),
                outstanding={k: v for k, v in (m.get("outstanding") or {}).items() if v},
                note=notes.get(m["id"]),
            )
        )
    return rows


def plans(f: progress.Facts, p: Period) -> list[tuple[str, str, str, str, int]]:
    """The documents filed in the period that are plans (by kind or title): document, kind,
    title, day, entry."""
    return [
        (d.document, d.type, d.title, date_text(d.at), d.entry)
        for d in sorted(f.documents, key=lambda d: (d.at, d.document))
        if d.at in p and ("plan" in d.type.lower() or "plan" in d.title.lower())
    ]


# -- consignments from the port of loading -------------------------------------------------------


@dataclass(frozen=True)
class ConsignmentRow:
    """The transfers abroad that left a port of loading on one day, with the cumulative
    share of the declared chemicals removed or destroyed in the country at that day's end,
    overall and by removal priority."""

    number: int
    day: str
    port: str
    transfers: list[str]
    destinations: list[str]
    items: int
    tonnes: float
    cumulative_pct: float
    by_priority_pct: dict[str, float]
    in_period: bool


def consignments(f: progress.Facts, p: Period) -> list[ConsignmentRow]:
    """Every consignment shipped by the period's end (numbered from the first), those in
    the period marked."""
    ports = {s.site.id for s in f.sites if s.site.kind is SiteKind.PORT}
    by_day: dict[tuple[str, str], list[Any]] = {}
    for t in sorted(f.removals, key=lambda t: (t.shipped_at, t.transfer)):
        if t.shipped_at > p.last or (ports and t.origin not in ports):
            continue
        by_day.setdefault((date_text(t.shipped_at), t.origin), []).append(t)
    rows = []
    for n, ((day, port), ts) in enumerate(sorted(by_day.items()), start=1):
        s = progress.status(f, min(parse_date(day).last, p.last))
        rows.append(
            ConsignmentRow(
                number=n,
                day=day,
                port=port,
                transfers=[t.transfer for t in ts],
                destinations=sorted({t.destination for t in ts}),
                items=sum(len(t.lines) for t in ts),
                tonnes=round(sum(line.shipped_g for t in ts for line in t.lines) / 1e6, 3),
                cumulative_pct=s.total.pct(s.total.removed_g + s.total.destroyed_in_country_g),
                by_priority_pct={
                    k: v.pct(v.removed_g + v.destroyed_in_country_g)
                    for k, v in sorted(s.by_priority.items())
                },
                in_period=parse_date(day).start >= p.start,
            )
        )
    return rows


# -- production facilities -----------------------------------------------------------------------
# The book's facility records (``book.facilities``) as they stood at the period's end.


@dataclass(frozen=True)
class FacilityRow:
    """A declared production facility and what the record says of it at the period's end."""

    facility: str
    name: str
    kind: str
    structure: str | None
    access: str
    state: str


def production_facilities(f: progress.Facts, at: int) -> list[FacilityRow]:
    """The production facilities declared by `at`, with their state and access then."""
    names = {s.site.id: s.site.name for s in f.sites}
    return [
        FacilityRow(
            facility=r.facility,
            name=names.get(r.facility, ""),
            kind=r.facility_kind.replace("_", " "),
            structure=r.structure,
            access="inaccessible" if r.inaccessible_at(at) else "accessible",
            state=r.status_at(at),
        )
        for r in sorted(f.facilities, key=lambda r: r.facility)
        if r.declared_at <= at
    ]


# -- the register of outstanding declaration issues ----------------------------------------------


@dataclass(frozen=True)
class IssueRow:
    """An outstanding issue of the declaration (a finding raised by hand)."""

    number: int
    title: str
    opened: str
    resolved: str | None  # the day it was resolved or closed, if by the period's end
    status: str  # at the period's end


@dataclass(frozen=True)
class IssueRegister:
    """The issues as the assessment team counted them at the period's end, and in it."""

    opened: int
    resolved: int
    unresolved: int
    opened_in_period: int
    resolved_in_period: int
    issues: list[IssueRow]


def issue_register(f: progress.Facts, reader: LogReader, p: Period) -> IssueRegister:
    """The findings raised by hand (the declaration issues the inspectorate opened), as they
    stood at the period's end: opened, resolved (or closed), unresolved."""
    raised = [r for r in f.findings if r.rule == "raised" and r.opened_at <= p.last]
    events = {c.event for r in raised for c in r.finding.history}
    stored = reader.entries_by_event_id(events)
    rows = []
    for r in sorted(raised, key=lambda r: r.finding.number):
        status, when = "open", None
        for c in r.finding.history:
            e = stored.get(c.event)
            if e is None or e.event_at > p.last:
                continue
            status = c.status.value
            when = None if status == "open" else e.event_at
        rows.append(
            IssueRow(
                r.finding.number,
                r.finding.title,
                date_text(r.opened_at),
                None if when is None else date_text(when),
                status,
            )
        )
    done = [r for r in rows if r.resolved is not None]
    return IssueRegister(
        opened=len(rows),
        resolved=len(done),
        unresolved=len(rows) - len(done),
        opened_in_period=sum(1 for r in rows if r.opened >= p.first_day),
        resolved_in_period=sum(1 for r in done if r.resolved and r.resolved >= p.first_day),
        issues=rows,
    )
