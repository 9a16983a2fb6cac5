"""The monthly report (`cwledger report`) on the syria-2013 scenario: it renders as HTML,
Markdown and PDF; its figures are those of `cwledger status` and `cwledger milestones` at
the end of the month; its verification statement names the first checkpoint that includes
every entry dated up to the end of the month, and that checkpoint verifies with the log's
key; bad months are clear errors; without WeasyPrint, PDF fails naming what to install.

WeasyPrint is present here and on CI: outside CI a missing WeasyPrint skips the PDF
rendering with the reason; under `CI=true` it fails instead.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cwledger import i18n
from cwledger.book.answers import NotInBook
from cwledger.cli import app, main
from cwledger.errors import InvalidQuery, MalformedInput, PdfUnavailable
from cwledger.ledger.keystore import CHECKPOINT_SIGNER
from cwledger.ledger.ledger import Ledger
from cwledger.reports import MonthlyReport, build, render
from cwledger.scenario import syria_2013
from cwledger.time import from_rfc3339, parse_moment, parse_month
from cwledger.tlog import verify_consistency, verify_inclusion
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.note import Verifier
from tests.conftest import event

runner = CliRunner()
MONTH, END = "2014-03", "2014-03-31"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}
SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def _need_weasyprint() -> None:
    try:
        render.load_weasyprint()
    except PdfUnavailable as e:
        if _ci():
            pytest.fail(str(e))
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def ledger_dir(syria_2013_copy: Callable[..., Path]) -> Path:
    return syria_2013_copy(confidential=False)


@pytest.fixture(scope="module")
def report(ledger_dir: Path) -> MonthlyReport:
    return _build(ledger_dir, MONTH)


def _build(ledger_dir: Path, month: str) -> MonthlyReport:
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r:
            return build(r, month)
    finally:
        led.close()


# -- reading the HTML back ------------------------------------------------------------------


class Page(HTMLParser):
    """Parses a document strictly enough to fail on unbalanced tags; keeps every table's rows
    (the row's attributes and its cells' attributes and text) and the text by element id."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tables: dict[str, list[tuple[dict[str, str], list[tuple[dict[str, str], str]]]]] = {}
        self.by_id: dict[str, str] = {}
        self._table: list[str] = []
        self._cell: tuple[dict[str, str], list[str]] | None = None
        self._ids: list[tuple[str, int]] = []
        self._text: dict[str, list[str]] = {}
        self.attrs: list[tuple[str, dict[str, str]]] = []
        self.feed(text)
        self.close()
        assert self.stack == [], f"unclosed: {self.stack}"
        self.by_id = {k: "".join(v) for k, v in self._text.items()}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.attrs.append((tag, a))
        if tag in VOID:
            return
        self.stack.append(tag)
        if "id" in a:
            self._ids.append((a["id"], len(self.stack)))
            self._text[a["id"]] = []
        if tag == "table":
            self._table.append(a.get("id", f"table-{len(self.tables)}"))
            self.tables[self._table[-1]] = []
        elif tag == "tr" and self._table:
            self.tables[self._table[-1]].append((a, []))
        elif tag in ("td", "th") and self._table:
            self._cell = (a, [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        if tag in ("td", "th") and self._cell is not None and self._table:
            attrs, text = self._cell
            self.tables[self._table[-1]][-1][1].append((attrs, " ".join("".join(text).split())))
            self._cell = None
        if tag == "table":
            self._table.pop()
        while self._ids and self._ids[-1][1] == len(self.stack):
            self._ids.pop()
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)
        for key, _ in self._ids:
            self._text[key].append(data)


@pytest.fixture(scope="module")
def page(report: MonthlyReport) -> Page:
    return Page(render.html(report))


@pytest.fixture(scope="module")
def markdown(report: MonthlyReport) -> str:
    return render.markdown(report)


def _status_cells(page: Page, table: str) -> dict[str, dict[str, str]]:
    return {
        row["data-group"]: {c["data-field"]: text for c, text in cells if "data-field" in c}
        for row, cells in page.tables[table]
        if "data-group" in row
    }


def _groups(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(the row's data-group, its label in Markdown, its figures), in the report's order."""
    yield "total", "chemicals, categories 1-2", doc
    for part in ("by_category", "by_priority"):
        for name, t in sorted(doc[part].items()):
            yield name, name, t


def _formatted(t: dict[str, Any]) -> dict[str, str]:
    out = {k: f"{t[k]:,.3f}" for k in t if k.endswith("_t")}
    out |= {k: f"{t[k]:.1f}" for k in t if k.endswith("_pct")}
    out |= {k: f"{t[k]:,}" for k in t if k.endswith("_items")}  # counts grouped, as CLDR
    return out


def _pdf_pages(data: bytes) -> int:
    """Page objects in a PDF, looking inside its compressed object streams too."""
    blobs = [data]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            blobs.append(zlib.decompress(m.group(1)))
        except zlib.error:
            pass
    return sum(len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", b)) for b in blobs)


# -- the three formats --------------------------------------------------------------------------


def test_the_cli_writes_html_markdown_and_pdf(
    ledger_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for fmt in ("html", "md"):
        out = run("report", "--month", MONTH, "--format", fmt, "--ledger", str(ledger_dir))
        assert out.strip() == f"report-{MONTH}.{fmt}"
        assert (tmp_path / f"report-{MONTH}.{fmt}").stat().st_size > 5000
    html = (tmp_path / f"report-{MONTH}.html").read_text(encoding="utf-8")
    parsed = Page(html)
    assert parsed.stack == [] and "status-end" in parsed.tables
    for section in ("summary", "milestones", "progress", "removals", "destruction"):
        assert section in parsed.by_id
    for section in ("inspections", "findings", "documents", "verification"):
        assert section in parsed.by_id
    md = (tmp_path / f"report-{MONTH}.md").read_text(encoding="utf-8")
    assert md.startswith("# Progress in the elimination of the declared stockpile: March 2014")
    assert "| id | milestone | instrument | due | status |" in md
    assert "| group | declared t | removed abroad t |" in md
    assert "| day | not yet destroyed (t) | removed abroad (t) | destroyed (t) | milestone |" in md
    assert "<svg" not in md  # the charts become their tables

    _need_weasyprint()
    target = tmp_path / "march.pdf"
    out = run(
        "report", "--month", MONTH, "--format", "pdf", "--out", str(target),
        "--ledger", str(ledger_dir),
    )  # fmt: skip
    assert out.strip() == str(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert _pdf_pages(data) >= 3


def test_the_html_is_self_contained(report: MonthlyReport, page: Page) -> None:
    html = render.html(report)
    for tag, attrs in page.attrs:
        for name in ("src", "href", "action", "srcset", "data"):
            assert name not in attrs, f"<{tag} {name}={attrs[name]!r}>"
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert "url(" not in html
    # No http anywhere but the SVG namespace name (an identifier, never fetched).
    assert "http" not in html.replace(SVG_NS, "")
    assert html.count("<svg") == 4 and html.count("<style>") == 5  # the page's and each chart's


# -- the figures are the core functions' --------------------------------------------------------


def test_totals_equal_cwledger_status(
    ledger_dir: Path, report: MonthlyReport, page: Page, markdown: str
) -> None:
    for at, doc, table in (
        (END, report.status, "status-end"),
        ("2014-02-28", report.previous, "status-previous"),
    ):
        cli = json.loads(run("status", "--at", at, "--json", "--ledger", str(ledger_dir)))
        assert doc == cli
        shown = _status_cells(page, table)
        for group, label, t in _groups(cli):
            f = _formatted(t)
            # The table shows not yet destroyed; where it is (in country, in transit, at a
            # venue) and the unaccounted difference are in the text and in --json.
            hidden = {"in_country_t", "in_transit_t", "at_venue_t", "unaccounted_t"}
            assert shown[group] == {k: v for k, v in f.items() if k not in hidden}, group
            line = (
                f"| {label} | {f['declared_t']} | {f['removed_t']} | {f['destroyed_in_country_t']}"
                f" | {f['removed_pct']} | {f['destroyed_t']} | {f['destroyed_pct']}"
                f" | {f['not_destroyed_t']} | {f['declared_items']} | {f['removed_items']}"
                f" | {f['destroyed_items']} |"
            )
            assert line in markdown, line
    # Where March 2014 stood (section 2.3 of the facts: 49.3 % removed on 20 March).
    assert report.status["removed_pct"] == 50.0 and report.declaration_version == 3
    assert set(report.status["by_priority"]) == {"priority 1", "priority 2", "priority in-country"}


def test_the_milestone_table_equals_cwledger_milestones(
    ledger_dir: Path, report: MonthlyReport, page: Page, markdown: str
) -> None:
    cli = json.loads(run("milestones", "--at", END, "--json", "--ledger", str(ledger_dir)))
    assert report.milestones == cli
    rows = {
        row["data-milestone"]: {c.get("data-col", "id"): text for c, text in cells}
        for row, cells in page.tables["milestone-table"]
        if "data-milestone" in row
    }
    assert list(rows) == [m["id"] for m in cli]
    for m in cli:
        shown = rows[m["id"]]
        assert shown["due"] == (m["due"] or "open-ended")
        assert shown["status"] == m["status"].replace("_", " ")
        assert shown["met_on"] == (m["met_on"] or "")
        assert shown["days_late"] == ("" if m["days_late"] is None else str(m["days_late"]))
        # "1 item", not "1 items"; the amounts as English's CLDR format writes them
        left = ", ".join(
            f"{i18n.number(v, 'en')} {k[:-1] if v == 1 else k}"
            for k, v in (m["outstanding"] or {}).items()
            if v
        )
        assert shown["outstanding"] == left
        assert f"| {m['id']} | {m['description']} |" in markdown
    states = {m["id"]: m["status"] for m in cli}
    assert states["M14"] == "overdue" and states["M01"] == "met"  # priority 1 removal: late


# -- the verification statement -------------------------------------------------------------------


def test_the_end_of_month_checkpoint_verifies_and_includes_the_month(
    ledger_dir: Path, report: MonthlyReport, page: Page
) -> None:
    v = report.verification
    led = Ledger.open(ledger_dir)
    try:
        # The observer's pinned key: the log key from the keystore, not from the report.
        pinned = Verifier.from_vkey(led.keystore.signer(CHECKPOINT_SIGNER).vkey())
        signed, opened = Checkpoint.from_note(v.note.encode(), [pinned], origin=syria_2013.ORIGIN)
        assert (signed.size, signed.root_hash.hex()) == (v.size, v.root_hex)
        assert [s.line for s in opened.sigs] == v.signatures and v.cosignatures == []
        assert pinned.vkey() == v.log_key
        end = parse_moment(END)
        with led.store.read() as r:
            entries = r.entries(0, r.size())
            sizes = [cp.size for cp in r.checkpoints()]
            latest = r.latest_checkpoint()
        dated = [e.index for e in entries if from_rfc3339(e.event_time) <= end]
        assert max(dated) == v.last_index and all(i < v.size for i in dated)
        # ... and it is the first stored checkpoint that does.
        assert v.size in sizes and all(s <= v.last_index for s in sizes if s < v.size)
        later = [e for e in entries if e.index < v.size and from_rfc3339(e.event_time) > end]
        # The scenario is logged a day at a time (its log times are its event times), so
        # no batch straddles the month's end here; tests/ledger/test_timing.py has one that does.
        assert v.entries_dated_later == len(later)
    finally:
        led.close()
    assert latest is not None
    # The report's own audit path, and the commands it names, from the CLI.
    (entry,) = [e for e in entries if e.index == v.last_index]
    proof = [bytes.fromhex(h) for h in v.inclusion_proof]
    verify_inclusion(entry.leaf_hash, v.last_index, v.size, proof, signed.root_hash)
    inc = json.loads(
        run(
            "prove",
            "inclusion",
            str(v.last_index),
            "--size",
            str(v.size),
            "--ledger",
            str(ledger_dir),
        )
    )
    assert inc["root_hash"] == v.root_hex and inc["proof"] == v.inclusion_proof
    con = json.loads(run("prove", "consistency", str(v.size), "--ledger", str(ledger_dir)))
    latest_signed, _ = Checkpoint.from_note(latest.note.encode(), [pinned])
    verify_consistency(
        v.size,
        latest_signed.size,
        [bytes.fromhex(h) for h in con["proof"]],
        bytes.fromhex(con["root1"]),
        latest_signed.root_hash,
    )
    assert con["root1"] == v.root_hex
    commands = " ".join(c.command for c in v.commands)
    for expected in (
        f"cwledger prove inclusion {v.last_index} --size {v.size}",
        f"cwledger prove consistency {v.size}",
        "cwledger verify",
        "GET /log/checkpoint",
    ):
        assert expected in commands
    # The statement shows the note exactly, its size and root.
    assert page.by_id["note"] == v.note
    assert v.root_hex in page.by_id["checkpoint"] and str(v.size) in page.by_id["checkpoint"]


def test_a_back_dated_entry_moves_the_checkpoint(ledger: Ledger) -> None:
    """Entries are not appended in the order of their times: the report's checkpoint is the
    first whose tree holds every entry dated up to the month's end, not the last one signed
    in the month nor the count of entries dated in it."""
    for n, time in enumerate(("2014-03-10", "2014-04-05", "2014-03-20"), 1):
        ledger.append(ledger.sign([{**event(n), "time": f"{time}T10:00:00Z"}], "insp"))
    with ledger.store.read() as r:
        march = build(r, MONTH)
        february = build(r, "2014-02")
    v = march.verification
    assert (v.last_index, v.size, v.entries_dated_later) == (3, 4, 1)
    assert (february.verification.last_index, february.verification.size) == (0, 1)
    # Without a declaration or milestones, every section still renders.
    for r in (march, february):
        assert r.status["declaration_version"] is None and r.milestones == []
        Page(render.html(r))
        assert "No declaration was complete" in render.markdown(r)


# -- what happened during other months ------------------------------------------------------------


def test_inspections_and_findings_of_their_months(ledger_dir: Path) -> None:
    october = _build(ledger_dir, "2013-10")
    assert len(october.inspections) == 21 and all(i.kind == "initial" for i in october.inspections)
    assert all(i.closed is not None for i in october.inspections)
    december = _build(ledger_dir, "2013-12")
    [broken] = december.findings_opened
    assert broken.rule == "seal-broken" and broken.status == "open"
    assert [f.number for f in december.findings_open] == [broken.number]
    january = _build(ledger_dir, "2014-01")
    [change] = january.findings_changed
    assert (change.number, change.status, change.day) == (broken.number, "resolved", "2014-01-20")
    assert change.remarks and change.remarks in render.markdown(january)
    assert broken.number not in [f.number for f in january.findings_open]
    assert Page(render.html(january)).tables["findings-changed"]


def test_the_months_of_the_ledgers_span_are_the_first_and_the_last(ledger_dir: Path) -> None:
    first = _build(ledger_dir, "2013-09")
    assert first.period.first_day == "2013-09-01" and first.verification.last_index >= 0
    last = _build(ledger_dir, "2024-09")
    assert last.verification.size == last.log_size  # every entry is dated up to then
    Page(render.html(first))
    render.markdown(last)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("month", ["2014-13", "14-03", "2014-3", "2014-00", "March 2014", ""])
def test_malformed_months_are_clear_errors(ledger_dir: Path, month: str) -> None:
    with pytest.raises(MalformedInput) as e:
        parse_month(month)
    assert repr(month) in str(e.value) and ("YYYY-MM" in str(e.value) or "01 to 12" in str(e.value))
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r, pytest.raises(InvalidQuery):
            build(r, month)
    finally:
        led.close()


@pytest.mark.parametrize("month", ["2013-08", "2024-10", "1999-01", "2100-01"])
def test_months_outside_the_ledgers_span_are_clear_errors(ledger_dir: Path, month: str) -> None:
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r, pytest.raises(NotInBook) as e:
            build(r, month)
    finally:
        led.close()
    text = str(e.value)
    assert f"{month} is outside the ledger's time span" in text
    assert "2013-09-14" in text and "2024-09-12" in text


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwledger", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_the_cli_says_what_is_wrong_with_a_month(ledger_dir: Path, tmp_path: Path) -> None:
    bad = _cli("report", "--month", "2014-13", "--ledger", str(ledger_dir), cwd=tmp_path)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "'2014-13': the month must be 01 to 12" in " ".join(bad.stderr.split())
    outside = _cli("report", "--month", "2012-01", "--ledger", str(ledger_dir), cwd=tmp_path)
    assert outside.returncode == 1 and "Traceback" not in outside.stderr
    assert "outside the ledger's time span" in " ".join(outside.stderr.split())
    assert not list(tmp_path.iterdir())  # no report-*.html left behind


# -- PDF without WeasyPrint ---------------------------------------------------------------------


def _names_what_to_install(text: str) -> None:
    flat = " ".join(text.split())
    assert f"apt-get install {render.PDF_PACKAGES}" in flat
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "libharfbuzz-subset0"):
        assert package in flat
    assert "--format html" in flat


def test_without_weasyprint_pdf_names_what_to_install(
    ledger_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The Python package missing.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with pytest.raises(PdfUnavailable) as missing:
        render.load_weasyprint()
    _names_what_to_install(str(missing.value))
    assert "pip install weasyprint" in str(missing.value)
    monkeypatch.delitem(sys.modules, "weasyprint")

    # Its system libraries missing: WeasyPrint raises OSError on import.
    real_import = builtins.__import__

    def no_pango(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise OSError(
                "cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared"
                " object file: No such file or directory"
            )
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    with pytest.raises(PdfUnavailable) as no_libs:
        render.load_weasyprint()
    _names_what_to_install(str(no_libs.value))
    assert "cannot load library 'libpango-1.0-0'" in str(no_libs.value)

    # The command: one clear message, exit 1, nothing written ...
    out = tmp_path / "r.pdf"
    args = ["--month", MONTH, "--format", "pdf", "--out", str(out), "--ledger", str(ledger_dir)]
    monkeypatch.setattr(sys, "argv", ["cwledger", "report", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "error (pdf-unavailable)" in captured.err and "Traceback" not in captured.err
    _names_what_to_install(captured.err)
    assert not out.exists()
    # ... while HTML and Markdown still work.
    for fmt in ("html", "md"):
        target = tmp_path / f"r.{fmt}"
        run(
            "report",
            "--month",
            MONTH,
            "--format",
            fmt,
            "--out",
            str(target),
            "--ledger",
            str(ledger_dir),
        )
        assert target.stat().st_size > 5000
