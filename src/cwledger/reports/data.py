"""The report as data: JSON (the whole document, section by section) and CSV (its tables,
one block each). Presentation only, like the HTML: every value is the `MonthlyReport`'s.

JSON is the report object as it is, its sections named as in the HTML. CSV holds one
block per table: a first row naming the table and its columns (``table <name>``, then
the column names), then its rows each starting with the table's name, and a blank line
between blocks, so a spreadsheet shows each table and a script can pick one by its
first cell.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Any

from cwledger import __version__
from cwledger.reports.monthly import MonthlyReport

__all__ = ["SECTIONS", "document", "json_text", "csv_text", "tables"]

SECTIONS = (
    "summary",
    "submissions",
    "delays",
    "milestones",
    "progress",
    "consignments",
    "removals",
    "destruction",
    "facilities",
    "inspections",
    "findings",
    "issues",
    "documents",
    "late_entries",
    "verification",
)


def document(r: MonthlyReport) -> dict[str, Any]:
    """The report as one JSON object: what it is, then each section."""
    v = asdict(r.verification)
    return {
        "report": {
            "symbol": r.symbol,
            "number": r.number,
            "title": r.title,
            "kind": "monthly" if r.monthly else "period",
            "period": {"first_day": r.period.first_day, "last_day": r.period.last_day},
            "mandate": r.mandate,
            "origin": r.origin,
            "log_size": r.log_size,
            "generator": f"cwledger {__version__}",
            **({} if r.visibility is None else {"visibility": r.visibility}),
        },
        "summary": {
            "declaration_version": r.declaration_version,
            "declaration_basis": r.declaration_basis,
            "milestone_counts": r.milestone_counts,
        },
        "submissions": {
            # what each is, in English (its message for the catalogues is the HTML's)
            "entries": [
                {k: v for k, v in asdict(s).items() if k not in ("message", "values")}
                for s in r.submissions
            ],
            "declarant_entries_by_type": r.declarant_entries,
        },
        "delays": {
            "milestones": [asdict(d) for d in r.delays],
            "plans": [asdict(d) for d in r.plans],
        },
        "milestones": r.milestones,
        "progress": {
            "at_end": r.status,
            "at_start": r.previous,
            "burndown": [{"day": d.isoformat(), **s} for d, s in r.burndown],
        },
        "consignments": [asdict(c) for c in r.consignments],
        "removals": [asdict(t) for t in r.removals],
        "destruction": [asdict(b) for b in r.batches],
        "facilities": [asdict(f) for f in r.facilities],
        "inspections": [asdict(i) for i in r.inspections],
        "findings": {
            "opened": [asdict(f) for f in r.findings_opened],
            "changed": [asdict(f) for f in r.findings_changed],
            "open_at_end": [asdict(f) for f in r.findings_open],
        },
        "issues": None if r.issues is None else asdict(r.issues),
        "documents": [asdict(d) for d in r.documents],
        "late_entries": {
            "late_after_days": r.late_after_days,
            "entries": [asdict(e) for e in r.late_entries],
        },
        "verification": v,
    }


def json_text(r: MonthlyReport) -> str:
    """The report as JSON text (keys in the report's order, UTF-8, a newline at the end)."""
    return json.dumps(document(r), indent=2, ensure_ascii=False) + "\n"


def _groups(doc: dict[str, Any]) -> list[list[Any]]:
    rows = [["chemicals, categories 1-2", *_tally(doc)]]
    for part in ("by_category", "by_priority"):
        rows += [[name, *_tally(t)] for name, t in sorted(doc[part].items())]
    return rows


_TALLY = (
    "declared_t",
    "removed_t",
    "destroyed_in_country_t",
    "removed_pct",
    "destroyed_t",
    "destroyed_pct",
    "not_destroyed_t",
    "in_country_t",
    "in_transit_t",
    "at_venue_t",
    "unaccounted_t",
    "declared_items",
    "removed_items",
    "destroyed_items",
)


def _tally(t: dict[str, Any]) -> list[Any]:
    return [t[k] for k in _TALLY]


def tables(r: MonthlyReport) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report's tables: name, columns, rows."""
    priorities = sorted({k for c in r.consignments for k in c.by_priority_pct})
    out: list[tuple[str, list[str], list[list[Any]]]] = [
        (
            "report",
            ["symbol", "number", "first_day", "last_day", "origin", "checkpoint_size", "root"],
            [
                [
                    r.symbol,
                    r.number,
                    r.period.first_day,
                    r.period.last_day,
                    r.origin,
                    r.verification.size,
                    r.verification.root_hex,
                ]
            ],
        ),
        ("status_at_end", ["group", *_TALLY], _groups(r.status)),
        (
            "milestones",
            ["id", "description", "due", "status", "met_on", "days_late"],
            [
                [m["id"], m["description"], m["due"], m["status"], m["met_on"], m["days_late"]]
                for m in r.milestones
            ],
        ),
        (
            "consignments",
            [
                "number",
                "day",
                "port",
                "items",
                "tonnes",
                "cumulative_pct",
                *(f"{p} pct" for p in priorities),
                "in_period",
            ],
            [
                [
                    c.number,
                    c.day,
                    c.port,
                    c.items,
                    c.tonnes,
                    c.cumulative_pct,
                    *(c.by_priority_pct.get(p) for p in priorities),
                    c.in_period,
                ]
                for c in r.consignments
            ],
        ),
        (
            "submissions",
            ["day", "entry", "type", "event_id", "what"],
            [[s.day, s.entry, s.type, s.event_id, s.what] for s in r.submissions],
        ),
        (
            "delays",
            ["milestone", "description", "due", "status", "days_late", "met_on", "note"],
            [
                [d.milestone, d.description, d.due, d.status, d.days_late, d.met_on, d.note]
                for d in r.delays
            ],
        ),
        (
            "facilities",
            ["facility", "name", "kind", "structure", "access", "state"],
            [[f.facility, f.name, f.kind, f.structure, f.access, f.state] for f in r.facilities],
        ),
        (
            "issues",
            ["number", "title", "opened", "resolved", "status"],
            []
            if r.issues is None
            else [[i.number, i.title, i.opened, i.resolved, i.status] for i in r.issues.issues],
        ),
        (
            "removals",
            ["transfer", "origin", "destination", "shipped", "items", "shipped_t", "received"],
            [
                [t.transfer, t.origin, t.destination, t.shipped, t.items, t.shipped_t, t.received]
                for t in r.removals
            ],
        ),
        (
            "destruction",
            ["batch", "venue", "day", "in_country", "items", "destroyed_t", "verified_on"],
            [
                [b.batch, b.venue, b.day, b.in_country, b.items, b.destroyed_t, b.verified_on]
                for b in r.batches
            ],
        ),
        (
            "late_entries",
            ["entry", "event_id", "type", "author", "event_time", "logged", "days_late"],
            [
                [e.entry, e.event_id, e.type, e.author, e.event_time, e.logged, e.days_late]
                for e in r.late_entries
            ],
        ),
        (
            "after_checkpoint",
            ["entry", "event_id", "type", "author", "event_time", "logged", "days_late"],
            [
                [e.entry, e.event_id, e.type, e.author, e.event_time, e.logged, e.days_late]
                for e in r.verification.after_checkpoint
            ],
        ),
    ]
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    # A cell a spreadsheet would run as a formula is quoted as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_text(r: MonthlyReport) -> str:
    """The report's tables as CSV blocks (see the module's docstring)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for n, (name, columns, rows) in enumerate(tables(r)):
        if n:
            w.writerow([])
        w.writerow([f"table {name}", *columns])
        for row in rows:
            w.writerow([name, *(_cell(v) for v in row)])
    return buf.getvalue()
