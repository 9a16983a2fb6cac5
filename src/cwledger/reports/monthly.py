"""The progress report: what the ledger says about one calendar month or any period (UTC).

`build(reader, "2014-03")` reads one snapshot of the log (one read transaction) into a
`MonthlyReport`, a pure data object that `cwledger.reports.render` turns into HTML,
Markdown or PDF. Every figure comes from the core functions: `progress.status` at the end
of the month and of the month before, `progress.milestones` at the end of the month,
`progress.month_ends`/`status_series` for the burn-down, the book's records (findings,
inspections, transfers abroad, destruction batches, documents) for what happened during
the month, and the log itself for the verification statement. The only arithmetic here is
adding up the lines of one transfer or one batch.

**The tree as it stood at the end of the period.** Every checkpoint is signed when a batch
is appended, and stored with the log's time of signing (the log's clock, which the demo
scenario runs on the story's time, a batch per day). The report cites *the latest stored
checkpoint signed at or before the period's end*: its size is the size of the log at that
moment. Entries dated inside the period but logged after that checkpoint (back-dated, or
filed late) are not in the tree it cites: the statement lists them, so backdating is
visible. A log that signed no checkpoint by the period's end (one loaded after the fact
on the wall clock) falls back to the first stored checkpoint whose tree includes every
entry dated up to the end (with `last` the largest log index of an entry dated at or
before the end, the smallest stored size greater than `last`), and says so.

**Entries recorded late.** Every entry carries the time its author gives the event and
the time the log took it (its own clock, not signed by the author). An entry whose event
time is more than the ledger's `late_after` (7 days by default) before its log time was
recorded late: back-dated, or filed long after the fact. The report lists those whose
event time or log time falls in the month (`cwledger late-entries`), and a milestone met
on the strength of one says "met (recorded late)".

The builder checks what it states: the checkpoint's note carries a valid signature by
the log key the genesis entry names, its size and root are the stored ones, and the last
entry of its tree dated up to the period's end is proved included in it.

`build` makes the monthly report (a calendar month); `build_period` the report for any
span of days, as the council's reports covered (22 March to 24 April 2014), with its
number, symbol and mandate and the sections of `cwledger.reports.sections`.
"""

from __future__ import annotations

import dataclasses
from base64 import b64encode
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from cwledger.book import answers, progress
from cwledger.book.facilities import facility_counts
from cwledger.book.records import FindingRecord
from cwledger.errors import InvalidQuery, MalformedInput, VerificationError
from cwledger.ledger.admission import decode_entry
from cwledger.ledger.ledger import LATE_AFTER, Ledger
from cwledger.reports.sections import (
    MANDATE,
    ConsignmentRow,
    DelayRow,
    FacilityRow,
    IssueRegister,
    SubmissionRow,
    consignments,
    delays,
    document_symbol,
    issue_register,
    plans,
    production_facilities,
    report_number,
    submissions,
)
from cwledger.reports.words import N_
from cwledger.time import (
    DAY,
    Period,
    date_text,
    day_of,
    from_rfc3339,
    month_label,
    parse_date,
    parse_month,
    time_text,
)
from cwledger.tlog import verify_inclusion
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.note import Verifier
from cwledger.tlog.tiled import TiledTree

if TYPE_CHECKING:
    from cwledger.store import LogReader, StoredCheckpoint, StoredEntry

__all__ = [
    "COMMANDS",
    "PUBLIC_ONLY",
    "command_values",
    "TransferRow",
    "BatchRow",
    "InspectionRow",
    "FindingRow",
    "FindingChange",
    "DocumentRow",
    "LateEntryRow",
    "Command",
    "Verification",
    "MonthlyReport",
    "build",
    "build_period",
    "end_of_month_checkpoint",
    "end_of_period_checkpoint",
]

# -- the rows of the report -------------------------------------------------------------------


@dataclass(frozen=True)
class TransferRow:
    """A transfer abroad (a removal) shipped during the month."""

    transfer: str
    origin: str
    destination: str
    shipped: str  # day
    entry: int
    items: int
    shipped_t: float
    received: str | None  # the day its last item was received, if by the end of the month


@dataclass(frozen=True)
class BatchRow:
    """A destruction batch dated in the month."""

    batch: str
    venue: str
    day: str
    entry: int
    in_country: bool
    items: int
    completed_items: int
    destroyed_t: float
    products: int
    verified_entry: int | None  # the destruction.verified entry, if dated by the month's end
    verified_on: str | None


@dataclass(frozen=True)
class InspectionRow:
    """An inspection under way at some moment of the month."""

    inspection: str
    site: str
    kind: str
    opened: str
    opened_entry: int
    closed: str | None  # None: still open at the end of the month
    closed_entry: int | None


@dataclass(frozen=True)
class FindingRow:
    """A finding: what it is, and where it stood at the end of the month."""

    number: int
    title: str
    rule: str
    subjects: list[str]
    opened: str
    opened_entry: int
    author: str
    status: str  # at the end of the month


@dataclass(frozen=True)
class FindingChange:
    """A change of a finding's status during the month (resolved, closed, reopened)."""

    number: int
    title: str
    rule: str
    status: str
    day: str
    entry: int
    event: str
    author: str
    remarks: str | None


@dataclass(frozen=True)
class DocumentRow:
    """A document filed during the month (a decision, a report, a plan)."""

    document: str
    kind: str
    title: str
    day: str
    entry: int


@dataclass(frozen=True)
class LateEntryRow:
    """An entry recorded late whose event time or log time is in the month."""

    entry: int
    event_id: str
    type: str
    author: str
    event_time: str  # as the author dated it
    logged: str  # when the log took it (the log's clock)
    days_late: int  # whole days between the two

    @classmethod
    def of(cls, e: StoredEntry) -> LateEntryRow:
        """The row of a stored entry (its log time "unknown" if the log did not keep it)."""
        logged = e.event_at if e.logged_at is None else e.logged_at
        return cls(
            entry=e.index,
            event_id=e.event_id,
            type=e.event_type,
            author=e.author,
            event_time=time_text(e.event_at),
            logged="unknown" if e.logged_at is None else time_text(logged),
            days_late=(logged - e.event_at) // DAY,
        )


@dataclass(frozen=True)
class Command:
    """A way to check the statement: what it proves, and the exact command or request."""

    purpose: str
    command: str


@dataclass(frozen=True)
class Verification:
    """The checkpoint at the end of the month and how to check it."""

    origin: str
    size: int
    root_hex: str
    root_b64: str
    note: str  # the signed note exactly as stored
    note_text: str  # the checkpoint text the signatures cover
    signatures: list[str]  # signature lines verified with the log key
    cosignatures: list[str]  # any other signature lines (witnesses); not checked here
    log_key: str  # the log's verifier key, as the genesis entry names it
    signed_at: str  # when the operator signed it (its clock, not an event time)
    last_index: int  # the last entry dated at or before the end of the month
    last_event_id: str
    last_event_type: str
    last_time: str
    last_leaf_hash: str
    inclusion_proof: list[str]
    entries_dated_later: int  # entries of this tree dated after the end of the month
    latest_size: int  # the latest checkpoint when the report was made
    commands: list[Command] = field(default_factory=list)
    # True: the latest checkpoint the log signed by the period's end (its log time); False:
    # none was signed by then (a log not kept on the story's clock), so the first one whose
    # tree holds every entry dated up to the end.
    as_of_end: bool = True
    # Entries dated in the period that the log took after this checkpoint: back-dated or late.
    after_checkpoint: list[LateEntryRow] = field(default_factory=list)


@dataclass(frozen=True)
class MonthlyReport:
    """Everything the monthly report shows, as read from one snapshot of the log."""

    period: Period  # the calendar month, half-open
    title: str
    origin: str
    log_size: int  # the log when the report was made
    first_time: str  # the ledger's time span: its earliest and latest event times
    last_time: str
    declaration_version: int | None  # in force at the end of the month
    declaration_basis: str | None
    status: dict[str, Any]  # answers.status_document(at=end): with the facilities
    previous: dict[str, Any]  # ... at the end of the month before
    burndown: list[tuple[date, dict[str, Any]]]  # each month's end up to this one
    milestones: list[dict[str, Any]]  # progress.milestones(at=end) as --json prints them
    removals: list[TransferRow]
    batches: list[BatchRow]
    inspections: list[InspectionRow]
    findings_opened: list[FindingRow]
    findings_changed: list[FindingChange]
    findings_open: list[FindingRow]  # every finding still open at the end of the month
    documents: list[DocumentRow]
    verification: Verification
    late_entries: list[LateEntryRow] = field(default_factory=list)
    late_after_days: float = LATE_AFTER / DAY
    monthly: bool = True  # a calendar month (`--month`), else any span of days (`--from/--to`)
    number: int = 1
    symbol: str = ""
    mandate: str = MANDATE
    submissions: list[SubmissionRow] = field(default_factory=list)
    declarant_entries: dict[str, int] = field(default_factory=dict)  # by type, in the period
    delays: list[DelayRow] = field(default_factory=list)
    plans: list[DocumentRow] = field(default_factory=list)
    consignments: list[ConsignmentRow] = field(default_factory=list)
    facilities: list[FacilityRow] = field(default_factory=list)
    facility_summary: str | None = None  # "24 of 27 verified destroyed" at the period's end
    facility_counts: tuple[int, int] | None = None  # the same: verified destroyed, declared
    issues: IssueRegister | None = None
    # Said when the report shows a confidential ledger's public fields only (`PUBLIC_ONLY`).
    visibility: str | None = None

    @property
    def label(self) -> str:
        """The month by name, "March 2014", or the span, "2014-03-22 to 2014-04-24"."""
        if self.monthly:
            return month_label(self.period.start)
        return f"{self.period.first_day} to {self.period.last_day}"

    @property
    def milestone_counts(self) -> dict[str, int]:
        """How many milestones are in each state (met, met late, overdue, at risk, due)."""
        states = progress.MILESTONE_STATES
        return {k: sum(1 for m in self.milestones if m["status"] == k) for k in states}


# -- reading the log -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    first: int  # µs, the earliest event time in the log
    last: int  # µs, the latest
    last_index: int | None  # the largest index of an entry dated at or before `until`


def _span(reader: LogReader, until: int) -> _Span:
    first: int | None = None
    last: int | None = None
    covered: int | None = None
    for index, text in reader.event_times():
        at = from_rfc3339(text)
        first = at if first is None else min(first, at)
        last = at if last is None else max(last, at)
        if at <= until:
            covered = index
    if first is None or last is None:
        raise answers.NotInBook("the ledger holds no entry")
    return _Span(first, last, covered)


def end_of_month_checkpoint(reader: LogReader, last_index: int) -> StoredCheckpoint:
    """The first stored checkpoint whose tree includes entry `last_index` (and so every
    entry before it): the smallest stored size greater than `last_index`."""
    for cp in reader.checkpoints():
        if cp.size > last_index:
            return cp
    raise VerificationError(f"no stored checkpoint includes entry {last_index} yet")


COMMANDS: tuple[tuple[str, str], ...] = (
    (
        N_(
            "Audit the whole log: every envelope, signature, key, tile and checkpoint, and"
            " the book replayed and compared (names the first bad entry)"
        ),
        "cwledger verify --ledger DIR",
    ),
    (
        N_(
            "Prove that entry %(last)s, the last of this tree dated up to the end of the"
            " period, is in the tree of %(size)s entries; the proof's root_hash must equal"
            " the root above"
        ),
        "cwledger prove inclusion {last} --size {size} --ledger DIR",
    ),
    (
        N_(
            "Prove that the tree of %(size)s entries is a prefix of the latest checkpoint's"
            " tree: nothing in it has been changed since"
        ),
        "cwledger prove consistency {size} --ledger DIR",
    ),
    (
        N_(
            "From the server: the latest signed checkpoint (public, C2SP tlog-checkpoint);"
            " check its signature with the pinned log key"
        ),
        "GET /log/checkpoint",
    ),
    (
        N_(
            "From the server: the same proofs (any party's token); the tiles under /log/tile/"
            " let any tlog client recompute the root of size %(size)s itself"
        ),
        "GET /api/v1/log/proofs/inclusion?index={last}&size={size} ;"
        " GET /api/v1/log/proofs/consistency?first={size}",
    ),
    (
        N_(
            "Offline, an observer needs only this note, an entry and a proof: verify the"
            " note's signature with the log key pinned for %(origin)s (from the genesis"
            " entry or published out of band, never from this report), then the proofs"
        ),
        "cwledger.tlog.checkpoint.Checkpoint.from_note(note, [pinned key]);"
        " cwledger.tlog.verify_inclusion; cwledger.tlog.verify_consistency",
    ),
)
"""The ways to check the statement: what each shows (a message of the catalogues, with
the tree's `size`, the `last` entry proved and the log's `origin`) and its command."""


def command_values(v: Verification) -> dict[str, Any]:
    """What the `COMMANDS` name: the tree's size, the entry proved, the log's origin."""
    return {"size": v.size, "last": v.last_index, "origin": v.origin}


def _commands(v: Verification) -> list[Command]:
    values = command_values(v)
    return [Command(purpose % values, command.format(**values)) for purpose, command in COMMANDS]


def end_of_period_checkpoint(reader: LogReader, last: int) -> StoredCheckpoint | None:
    """The tree as it stood at moment `last`: the latest stored checkpoint the log signed at
    or before it (by the log's clock), or None if it signed none by then."""
    found = None
    for cp in reader.checkpoints():
        if from_rfc3339(cp.signed_at) <= last and (found is None or cp.size > found.size):
            found = cp
    return found


def _verification(reader: LogReader, span: _Span, period: Period) -> Verification:
    authority = Ledger.authority_of(reader)
    if authority.origin is None or authority.log_vkey is None:
        raise VerificationError("the log has no genesis entry naming its origin and log key")
    origin, vkey = authority.origin, authority.log_vkey
    assert span.last_index is not None  # the period is within the span
    times = list(reader.event_times())
    at_end = end_of_period_checkpoint(reader, period.last)
    cp = at_end or end_of_month_checkpoint(reader, span.last_index)
    cp = dataclasses.replace(cp, cosignatures=reader.cosignature_lines(cp.size))
    signed, opened = Checkpoint.from_note(
        cp.cosigned_note.encode("utf-8"), [Verifier.from_vkey(vkey)], origin=origin
    )
    if signed.size != cp.size or signed.root_hash != cp.root_hash:
        raise VerificationError(
            f"the stored checkpoint of size {cp.size} does not match its signed note"
        )
    # The last entry of this tree dated at or before the period's end: proved included.
    last_index = max(
        (i for i, text in times if i < cp.size and from_rfc3339(text) <= period.last), default=0
    )
    [entry] = reader.entries(last_index, last_index + 1)
    proof = TiledTree(reader.size(), reader.tiles).inclusion_proof(entry.index, cp.size)
    verify_inclusion(entry.leaf_hash, entry.index, cp.size, proof, signed.root_hash)
    later = sum(1 for i, text in times if i < cp.size and from_rfc3339(text) >= period.end)
    after = [i for i, text in times if i >= cp.size and from_rfc3339(text) in period]
    after_rows = [LateEntryRow.of(e) for i in after for e in reader.entries(i, i + 1)]
    latest = reader.latest_checkpoint()
    block = cp.cosigned_note[len(opened.text) + 1 :]
    lines = [line for line in block.split("\n") if line]
    own = {s.line for s in opened.sigs if s.name == origin}
    v = Verification(
        origin=origin,
        size=cp.size,
        root_hex=cp.root_hash.hex(),
        root_b64=b64encode(cp.root_hash).decode("ascii"),
        note=cp.cosigned_note,
        note_text=opened.text,
        signatures=[line for line in lines if line in own],
        cosignatures=[line for line in lines if line not in own],
        log_key=vkey,
        signed_at=cp.signed_at,
        last_index=entry.index,
        last_event_id=entry.event_id,
        last_event_type=entry.event_type,
        last_time=entry.event_time,
        last_leaf_hash=entry.leaf_hash.hex(),
        inclusion_proof=[h.hex() for h in proof],
        entries_dated_later=later,
        latest_size=cp.size if latest is None else latest.size,
        as_of_end=at_end is not None,
        after_checkpoint=after_rows,
    )
    return replace(v, commands=_commands(v))


# -- what happened during the month ------------------------------------------------------------


def _removals(f: progress.Facts, p: Period) -> list[TransferRow]:
    rows = []
    for t in sorted(f.removals, key=lambda t: (t.shipped_at, t.transfer)):
        if t.shipped_at not in p:
            continue
        received = [line.received_at for line in t.lines]
        done = all(r is not None and r < p.end for r in received)
        last = max((r for r in received if r is not None), default=None)
        rows.append(
            TransferRow(
                transfer=t.transfer,
                origin=t.origin,
                destination=t.destination,
                shipped=date_text(t.shipped_at),
                entry=t.shipped_entry,
                items=len(t.lines),
                shipped_t=round(sum(line.shipped_g for line in t.lines) / 1e6, 3),
                received=date_text(last) if done and last is not None else None,
            )
        )
    return rows


def _entry_times(reader: LogReader, indices: set[int]) -> dict[int, int]:
    out = {}
    for i in sorted(indices):
        for e in reader.entries(i, i + 1):
            out[e.index] = from_rfc3339(e.event_time)
    return out


def _batches(reader: LogReader, f: progress.Facts, p: Period) -> list[BatchRow]:
    month = [b for b in f.batches if b.at in p]
    verified = _entry_times(reader, {b.verified_entry for b in month if b.verified_entry})
    rows = []
    for b in sorted(month, key=lambda b: (b.at, b.batch)):
        v_at = None if b.verified_entry is None else verified.get(b.verified_entry)
        in_time = v_at is not None and v_at < p.end
        rows.append(
            BatchRow(
                batch=b.batch,
                venue=b.venue,
                day=date_text(b.at),
                entry=b.entry,
                in_country=b.in_country,
                items=len(b.lines),
                completed_items=sum(1 for line in b.lines if line.complete),
                destroyed_t=round(sum(line.grams for line in b.lines) / 1e6, 3),
                products=len(b.products),
                verified_entry=b.verified_entry if in_time else None,
                verified_on=date_text(v_at) if in_time and v_at is not None else None,
            )
        )
    return rows


def _inspections(f: progress.Facts, p: Period) -> list[InspectionRow]:
    rows = []
    for i in sorted(f.inspections, key=lambda i: (i.opened_at, i.inspection)):
        if i.opened_at >= p.end or (i.closed_at is not None and i.closed_at < p.start):
            continue
        closed = i.closed_at is not None and i.closed_at < p.end
        rows.append(
            InspectionRow(
                inspection=i.inspection,
                site=i.site,
                kind=i.type,
                opened=date_text(i.opened_at),
                opened_entry=i.opened_entry,
                closed=date_text(i.closed_at) if closed and i.closed_at is not None else None,
                closed_entry=i.closed_entry if closed else None,
            )
        )
    return rows


def _findings(
    reader: LogReader, p: Period
) -> tuple[list[FindingRow], list[FindingChange], list[FindingRow]]:
    """Findings opened in the month, status changes in the month (from each finding's
    history, dated by the events that made them), and those open at the month's end."""
    found: list[FindingRecord] = answers.findings(reader.book)
    events = {c.event for f in found for c in f.finding.history}
    stored = reader.entries_by_event_id(events)
    opened, changed, still_open = [], [], []
    for f in sorted(found, key=lambda f: f.finding.number):
        if f.opened_at >= p.end:
            continue
        status = "open"
        for c in f.finding.history:
            e = stored.get(c.event)
            if e is None:
                continue
            at = from_rfc3339(e.event_time)
            if at < p.end:
                status = c.status.value
            if at in p:
                body = decode_entry(e.envelope, check_canonical=False).event.body
                remarks = body.get("remarks")
                changed.append(
                    FindingChange(
                        number=f.finding.number,
                        title=f.finding.title,
                        rule=f.rule,
                        status=c.status.value,
                        day=date_text(at),
                        entry=e.index,
                        event=e.event_id,
                        author=e.author,
                        remarks=remarks if isinstance(remarks, str) else None,
                    )
                )
        row = FindingRow(
            number=f.finding.number,
            title=f.finding.title,
            rule=f.rule,
            subjects=list(f.subjects),
            opened=date_text(f.opened_at),
            opened_entry=f.opened_entry,
            author=f.author,
            status=status,
        )
        if f.opened_at >= p.start:
            opened.append(row)
        if status == "open":
            still_open.append(row)
    changed.sort(key=lambda c: (c.day, c.entry))
    return opened, changed, still_open


def _documents(f: progress.Facts, p: Period) -> list[DocumentRow]:
    return [
        DocumentRow(d.document, d.type, d.title, date_text(d.at), d.entry)
        for d in sorted(f.documents, key=lambda d: (d.at, d.document))
        if d.at in p
    ]


# -- the report ----------------------------------------------------------------------------------

PUBLIC_ONLY = N_(
    "public fields only: this ledger is confidential, and this report is built from what"
    " its log shows the public (governance, milestones, documents, estimates, the escrow's"
    " commitments, the sites the inspectorate declares); every entry whose fields above"
    " public are sealed is left out, so the declaration, sites, items, masses, transfers,"
    " destruction batches, inspections and findings are not in it"
)
"""The report's `visibility` when built over `projections.public_view`."""


def build(
    reader: LogReader, month: str, *, now: int | None = None, late_after: int = LATE_AFTER
) -> MonthlyReport:
    """The monthly report for `month` (YYYY-MM) from the snapshot `reader` reads.

    `now` is the moment milestones are judged against when the month is not over yet
    (default: the clock); `late_after` (µs) when an entry counts as recorded late.
    Raises InvalidQuery for a malformed month, NotInBook for a month outside the ledger's
    time span (its earliest to its latest event time), and VerificationError if the
    end-of-month checkpoint does not verify.
    """
    try:
        p = parse_month(month)
    except MalformedInput as e:
        raise InvalidQuery("month", str(e)) from None
    return build_period(reader, p, monthly=True, now=now, late_after=late_after)


def parse_span(first: str, last: str) -> Period:
    """The period from day `first` to day `last` (YYYY-MM-DD, both included, UTC).
    Raises InvalidQuery."""
    try:
        start, end = parse_date(first).start, parse_date(last).end
    except MalformedInput as e:
        raise InvalidQuery("from/to", str(e)) from None
    if end <= start:
        raise InvalidQuery("to", f"the period ends ({last}) before it starts ({first})")
    return Period(start, end)


def build_period(
    reader: LogReader,
    p: Period,
    *,
    monthly: bool = False,
    now: int | None = None,
    late_after: int = LATE_AFTER,
) -> MonthlyReport:
    """The report for the period `p` (any span of whole days, such as 22 March to 24 April
    2014; a calendar month with `monthly`) from the snapshot `reader` reads. Raises
    NotInBook for a period outside the ledger's time span, VerificationError if the
    checkpoint does not verify."""
    span = _span(reader, p.last)
    if p.end <= span.first or p.start > span.last:
        what = p.month if monthly else f"{p.first_day} to {p.last_day}"
        raise answers.NotInBook(
            f"{what} is outside the ledger's time span: its events are dated from"
            f" {date_text(span.first)} to {date_text(span.last)}"
        )
    facts = progress.load_facts(reader.book)
    decl = facts.declaration_at(p.last)
    moments = [t for t in progress.month_ends(facts, until=p.last) if t < p.end]
    if moments and moments[-1] != p.last:
        moments.append(p.last)
    series = progress.status_series(facts, moments)
    opened, changed, still_open = _findings(reader, p)
    verification = _verification(reader, span, p)
    judged = [
        m.to_json()
        for m in progress.milestones(
            facts, p.last, now=now, late=lambda ids: reader.late_among(ids, late_after)
        )
    ]
    authority = Ledger.authority_of(reader)
    declarants = {n for n, party in authority.parties.items() if party.role == "declarant"}
    number = report_number(span.first, p)
    submitted, declarant_entries = submissions(reader, declarants, p)
    label = month_label(p.start) if monthly else f"{p.first_day} to {p.last_day}"
    counted = facility_counts(facts.facilities, p.end - 1) if facts.facilities else None
    return MonthlyReport(
        period=p,
        title=f"Progress in the elimination of the declared stockpile: {label}",
        origin=verification.origin,
        log_size=reader.size(),
        first_time=time_text(span.first),
        last_time=time_text(span.last),
        declaration_version=None if decl is None else decl.declaration.version,
        declaration_basis=None if decl is None else decl.declaration.legal_basis,
        status=answers.status_document(facts, p.last),
        previous=answers.status_document(facts, p.start - 1),
        burndown=[(day_of(t), s.to_json()) for t, s in zip(moments, series, strict=True)],
        milestones=judged,
        removals=_removals(facts, p),
        batches=_batches(reader, facts, p),
        inspections=_inspections(facts, p),
        findings_opened=opened,
        findings_changed=changed,
        findings_open=still_open,
        documents=_documents(facts, p),
        verification=verification,
        late_entries=[
            LateEntryRow.of(e) for e in reader.late_entries(late_after, (p.start, p.end))
        ],
        late_after_days=late_after / DAY,
        monthly=monthly,
        number=number,
        symbol=document_symbol(number, p),
        submissions=submitted,
        declarant_entries=declarant_entries,
        delays=delays(facts, judged, p),
        plans=[DocumentRow(*row) for row in plans(facts, p)],
        consignments=consignments(facts, p),
        facilities=production_facilities(facts, p.end - 1),
        facility_summary=None if counted is None else counted.summary,
        facility_counts=None if counted is None else (counted.verified_destroyed, counted.declared),
        issues=issue_register(facts, reader, p),
    )
