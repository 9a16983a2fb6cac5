"""The report as the council read it (`cwledger report --from --to`): its number, symbol
and mandate; the declarant's submissions; causes of delay; consignments with cumulative
percentages by priority; production facilities; the register of outstanding declaration
issues; the tree as it stood at the period's end; JSON and CSV; and the look (round chart
ticks, plurals)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cwledger.book.records import FacilityRecord
from cwledger.charts import month_ticks, nice_ticks
from cwledger.cli import app
from cwledger.ledger.ledger import Ledger
from cwledger.reports import MonthlyReport, build, render
from cwledger.reports.data import SECTIONS, tables
from cwledger.reports.monthly import build_period, parse_span
from cwledger.scenario import syria_2013
from cwledger.scenario.syria_2013.facts.declaration import (
    ISSUES_CLOSED,
    NEW_ISSUES,
    OUTSTANDING_ISSUES,
)
from cwledger.scenario.syria_2013.world import TS
from cwledger.time import from_rfc3339, parse_moment, parse_month
from cwledger.words import plural

runner = CliRunner()


@pytest.fixture(scope="module")
def ledger_dir(syria_2013_copy: Callable[..., Path]) -> Path:
    return syria_2013_copy(confidential=False)


def _report(ledger_dir: Path, first: str, last: str | None = None) -> MonthlyReport:
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r:
            if last is None:
                return build(r, first)
            return build_period(r, parse_span(first, last))
    finally:
        led.close()


@pytest.fixture(scope="module")
def spring(ledger_dir: Path) -> MonthlyReport:
    return _report(ledger_dir, "2014-03-22", "2014-04-24")


def test_the_period_report_has_number_symbol_and_mandate(spring: MonthlyReport) -> None:
    assert not spring.monthly and spring.label == "2014-03-22 to 2014-04-24"
    assert (spring.period.first_day, spring.period.last_day) == ("2014-03-22", "2014-04-24")
    assert spring.number == 7 and spring.symbol == "CWL/R.7/2014-04-24"
    for words in ("EC-M-33/DEC.1", "2(f)", "resolution 2118", "paragraph 12"):
        assert words in spring.mandate
    html = render.html(spring)
    assert spring.symbol in html and "EC-M-33/DEC.1" in html
    assert "--from 2014-03-22 --to 2014-04-24" in html


def test_the_march_and_june_reports_cite_the_tree_as_it_stood_then(ledger_dir: Path) -> None:
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r:
            entries = r.entries(0, r.size())
            reports = {m: build(r, m) for m in ("2014-03", "2014-06")}
    finally:
        led.close()
    sizes = set()
    for month, rep in reports.items():
        v = rep.verification
        end = parse_month(month).last
        logged_by_end = sum(1 for e in entries if e.logged_at is not None and e.logged_at <= end)
        assert v.as_of_end and from_rfc3339(v.signed_at) <= end
        assert v.size == logged_by_end  # the log's size at that date
        assert v.after_checkpoint == []  # the scenario logs each day's events that day
        sizes.add((v.size, v.root_hex))
    assert len(sizes) == 2
    assert reports["2014-03"].verification.size < reports["2014-06"].verification.size


def test_entries_logged_after_the_checkpoint_are_listed(tmp_path: Path) -> None:
    """An entry dated inside the period but logged after its end is not in the tree the
    report cites, and the report lists it."""
    told = [from_rfc3339("2014-03-01T00:00:00Z")]
    led = Ledger.init(
        tmp_path / "l",
        "example.org/late",
        founding=syria_2013.PARTIES,
        time="2014-03-01T00:00:00Z",
        key_seed=syria_2013.KEY_SEED,
        log_clock=lambda: told[0],
    )
    try:
        doc = {"document": "D-1", "kind": "note", "title": "on time", "issued_by": "TS"}
        told[0] = from_rfc3339("2014-03-10T09:00:00Z")
        led.append(
            led.sign(
                [
                    {
                        "type": "document.filed",
                        "id": "d1",
                        "time": "2014-03-10T09:00:00Z",
                        "body": doc,
                    }
                ],
                TS,
            )
        )
        told[0] = from_rfc3339("2014-05-02T09:00:00Z")  # logged in May, dated in March
        late = {**doc, "document": "D-2", "title": "back-dated"}
        led.append(
            led.sign(
                [
                    {
                        "type": "document.filed",
                        "id": "d2",
                        "time": "2014-03-20T09:00:00Z",
                        "body": late,
                    }
                ],
                TS,
            )
        )
        with led.store.read() as r:
            march = build(r, "2014-03")
    finally:
        led.close()
    v = march.verification
    assert v.as_of_end and v.size == 2
    [row] = v.after_checkpoint
    assert (row.entry, row.event_id, row.days_late) == (2, "d2", 43)
    assert "d2" in render.html(march) and "d2" in render.markdown(march)


def test_consignments_are_cumulative_by_priority(spring: MonthlyReport) -> None:
    rows = spring.consignments
    assert [c.number for c in rows] == list(range(1, len(rows) + 1))
    assert rows[0].day == "2014-01-07"  # the first consignment (section 2.3)
    assert all(a.day < b.day for a, b in zip(rows, rows[1:], strict=False))
    for a, b in zip(rows, rows[1:], strict=False):
        assert a.cumulative_pct <= b.cumulative_pct
        assert all(a.by_priority_pct[k] <= b.by_priority_pct[k] for k in a.by_priority_pct)
    in_period = [c for c in rows if c.in_period]
    assert in_period and all("2014-03-22" <= c.day <= "2014-04-24" for c in in_period)
    assert all(c.day < "2014-03-22" for c in rows if not c.in_period)
    # The last consignment of the period ends where the status at the period's end stands.
    last = rows[-1]
    assert last.day == "2014-04-24" and last.cumulative_pct == spring.status["removed_pct"]
    for k, t in spring.status["by_priority"].items():
        assert last.by_priority_pct[k] == t["removed_pct"]
    assert sum(c.items for c in in_period) == sum(t.items for t in spring.removals)


def test_the_declarants_submissions_and_the_delays(ledger_dir: Path, spring: MonthlyReport) -> None:
    october = _report(ledger_dir, "2013-10")
    types = {s.type for s in october.submissions}
    assert "declaration.amended" in types  # the formal declaration of 24 Oct 2013 (M08)
    assert all(s.type.startswith(("declaration.", "document.")) for s in october.submissions)
    assert sum(october.declarant_entries.values()) >= len(october.submissions)
    assert spring.delays
    for d in spring.delays:
        assert d.due <= "2014-04-24" and d.status not in ("met", "due", "at_risk")
    assert {"M14", "M17", "M20"} <= {d.milestone for d in spring.delays}


def test_production_facilities_from_the_record(ledger_dir: Path, spring: MonthlyReport) -> None:
    # The table is the book's facility records as they stood at the period's end: every
    # facility declared by then, each functionally destroyed by then (section 2.6: by
    # 31 Oct 2013), so verified destroyed unless one of the 12 structures stands on it
    # (none destroyed before 31 Jan 2015).
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r:
            records = r.book.records(FacilityRecord)
    finally:
        led.close()
    end = parse_moment("2014-04-24T23:59:59Z")
    assert {f.facility for f in spring.facilities} == {
        rec.facility for rec in records if rec.declared_at <= end
    }
    standing = [f for f in spring.facilities if f.structure]
    assert len(standing) == 12 and {f.state for f in standing} == {"functionally destroyed"}
    assert {f.state for f in spring.facilities if not f.structure} == {"verified destroyed"}
    assert spring.facility_summary is not None and spring.facility_summary.endswith(
        f"of {len(spring.facilities)} verified destroyed"
    )
    none = replace(spring, facilities=[])
    assert "No production facilities in the record" in render.html(none)
    assert "No production facilities in the record" in render.markdown(none)


def test_the_register_of_outstanding_issues(ledger_dir: Path) -> None:
    sep_2024 = _report(ledger_dir, "2024-09").issues
    assert sep_2024 is not None
    opened = OUTSTANDING_ISSUES.value + NEW_ISSUES.value  # 24, then 2 more (section 2.7)
    assert (sep_2024.opened, sep_2024.resolved) == (opened, ISSUES_CLOSED.value)
    assert sep_2024.unresolved == opened - ISSUES_CLOSED.value
    assert sep_2024.opened_in_period == NEW_ISSUES.value
    march_2014 = _report(ledger_dir, "2014-03").issues
    assert march_2014 is not None and march_2014.opened == 0  # the team began in April 2014


def test_json_has_every_section_and_csv_every_table(spring: MonthlyReport) -> None:
    doc = json.loads(render.render(spring, "json"))
    assert set(SECTIONS) <= set(doc) and doc["report"]["symbol"] == spring.symbol
    assert len(doc["consignments"]) == len(spring.consignments)
    assert doc["verification"]["size"] == spring.verification.size
    text = render.render(spring, "csv").decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    headers = {row[0] for row in rows if row and row[0].startswith("table ")}
    for name, _, _ in tables(spring):
        assert f"table {name}" in headers
    assert sum(1 for row in rows if row and row[0] == "consignments") == len(spring.consignments)


def test_the_cli_writes_a_period_report(ledger_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    args = ["report", "--from", "2014-03-22", "--to", "2014-04-24", "--format", "json"]
    result = runner.invoke(app, [*args, "--out", str(out), "--ledger", str(ledger_dir)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["report"]["number"] == 7
    bad = runner.invoke(app, ["report", "--ledger", str(ledger_dir)])
    assert bad.exit_code != 0


def test_plurals_agree_with_their_counts(spring: MonthlyReport) -> None:
    assert plural(1, "finding") == "1 finding" and plural(2, "finding") == "2 findings"
    assert (
        plural(1, "batch", "batches") == "1 batch" and plural(0, "batch", "batches") == "0 batches"
    )
    html = render.html(spring) + render.markdown(spring)
    assert "(s)" not in html and "(es)" not in html
    assert not re.search(r"\b1 (findings|transfers|inspections|items|consignments)\b", html)


def test_chart_ticks_are_round_and_months_labelled(spring: MonthlyReport) -> None:
    assert nice_ticks(0, 1290.1) == [0, 500, 1000, 1500]
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    from datetime import date

    labelled = month_ticks(date(2013, 9, 30), date(2014, 4, 24))
    assert 3 <= len(labelled) <= 7 and all(d.day == 1 for d in labelled)
    [burn, *_] = render.charts(spring)
    svg = burn[1].svg
    ticks = re.findall(r'class="tick">([\d,.]+)</text>', svg)
    assert ticks and all(float(t.replace(",", "")) % 50 == 0 for t in ticks)
    # the removal and destruction deadlines are labelled by milestone
    assert "M14</text>" in svg and "M20</text>" in svg
    # one colour per meaning: every bar of a chart in one colour
    for _, chart in render.charts(spring)[2:]:
        assert len(set(re.findall(r'<rect [^>]*fill="(#[0-9a-f]+)"', chart.svg))) == 1
