"""The monthly report in the six official languages (issue 18), on the syria-2013 scenario:
rendered once per language (HTML and Markdown; PDF for Arabic and Chinese). Each
translated report writes no English sentence of its own, shows the same numbers as the
English one (each parsed in its locale's format by Babel), and Arabic is right to left;
the Arabic and Chinese PDFs hold their text in fonts that cover it, and the Arabic PDF's
charts are drawn in Arabic; JSON and CSV are data, the same in every language; `report
--lang` names the six and refuses anything else.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections.abc import Callable, Iterator
from decimal import Decimal
from html import unescape as html_unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.numbers import NumberFormatError, get_group_symbol, parse_decimal
from typer.testing import CliRunner

from cwledger import i18n
from cwledger.cli import app
from cwledger.ledger.ledger import Ledger
from cwledger.reports import MonthlyReport, build, build_period, render
from cwledger.reports.monthly import parse_span
from cwledger.reports.render import DOMAIN
from cwledger.reports.shaping import visual
from tests.reports.test_monthly import Page, _need_weasyprint

CODES = [lang.code for lang in i18n.LANGUAGES]
OTHERS = [c for c in CODES if c != i18n.DEFAULT]
BIDI = dict.fromkeys(
    map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


@pytest.fixture(scope="module")
def ledger_dir(syria_2013_copy: Callable[..., Path]) -> Path:
    return syria_2013_copy(confidential=False)


@pytest.fixture(scope="module")
def report(ledger_dir: Path) -> MonthlyReport:
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r:
            return build(r, "2014-03")
    finally:
        led.close()


@pytest.fixture(scope="module")
def html(report: MonthlyReport) -> dict[str, str]:
    return {code: render.html(report, code) for code in CODES}


@pytest.fixture(scope="module")
def md(report: MonthlyReport) -> dict[str, str]:
    return {code: render.markdown(report, code) for code in CODES}


class Text(HTMLParser):
    """The text a reader sees: each text node (whitespace collapsed), outside the CSS and
    the charts' SVG (the tables behind the charts are read)."""

    SKIP = {"style", "svg"}

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._skip: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP or self._skip:
            self._skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.nodes.append(text)


def _translated(code: str) -> dict[str, str]:
    """The English of every singular message of the catalogue -> its translation."""
    tr = i18n.translations(code, DOMAIN)
    from cwledger.i18n.extraction import read

    return {m.id: tr.gettext(m.id) for m in read(code, DOMAIN) if isinstance(m.id, str) and m.id}


# -- no English left ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", OTHERS)
def test_no_english_label_is_left_in_a_translated_report(html: dict[str, str], code: str) -> None:
    """No text of the page is one of the report's English messages (a heading, a column, a
    state) whose translation differs from it."""
    english = {k for k, v in _translated(code).items() if v != k}
    left = [node for node in Text(html[code]).nodes if node in english]
    assert left == [], f"{code}: untranslated {left}"
    # and the check sees English where there is English
    assert {"Declaration in force", "status"} <= set(Text(html["en"]).nodes) & english


def _fragments(message: str) -> Iterator[str]:
    """The runs of a message's own words between its placeholders, of three words or more."""
    for part in re.split(r"%\(\w+\)s|%%", message):
        words = part.strip(" .,;:()\"'").split()
        if len(words) >= 3:
            yield " ".join(words)


@pytest.mark.parametrize("code", OTHERS)
def test_no_english_sentence_is_left(
    report: MonthlyReport, html: dict[str, str], md: dict[str, str], code: str
) -> None:
    """No run of three words or more of an English message (a sentence, or the words
    around its figures) appears in the translated HTML or Markdown, the ledger's own text
    (shown as recorded) aside."""
    tr = _translated(code)
    texts = {
        "html": " ".join(Text(html[code]).nodes),
        "md": " ".join(md[code].split()),
    }
    recorded = [f.name for f in report.facilities] + [
        m[k] for m in report.milestones for k in ("description", "instrument")
    ]
    for kind, text in texts.items():
        for words in sorted(recorded, key=len, reverse=True):
            text = text.replace(words, " ")
        texts[kind] = text
    found = [
        (kind, fragment)
        for message, translation in tr.items()
        for fragment in _fragments(message)
        if fragment not in translation
        for kind, text in texts.items()
        if fragment in text
    ]
    assert found == [], f"{code}: English in the report: {found}"
    english = " ".join(Text(html["en"]).nodes)
    assert "Every figure of this report is computed from the entries of the signed log" in english


# -- the same numbers --------------------------------------------------------------------------


def _number(text: str, code: str, *, spaces: bool = False) -> Decimal | None:
    """The number `text` writes in `code`'s format (None if it is no number). `spaces`:
    the text's white space was collapsed (a no-break space read as a space), so a space
    stands for the locale's grouping where that is a space."""
    text = text.translate(BIDI).replace("*", "").strip()
    group = get_group_symbol(code)
    if spaces and not group.strip():
        text = text.replace(" ", group)
    if not text or not re.search(r"\d", text):
        return None
    try:
        return parse_decimal(text, locale=code, strict=True)
    except NumberFormatError:
        return None


def _compare(
    english: list[list[str]], other: list[list[str]], code: str, where: str, *, spaces: bool
) -> int:
    assert len(english) == len(other), where
    compared = 0
    for n, (a, b) in enumerate(zip(english, other, strict=True)):
        assert len(a) == len(b), f"{where}, row {n}"
        for x, y in zip(a, b, strict=True):
            value = _number(x, "en")
            if value is None:
                continue
            shown = _number(y, code, spaces=spaces)
            assert shown == value, f"{where}, row {n}: {x!r} in English, {y!r}"
            compared += 1
    return compared


@pytest.mark.parametrize("code", OTHERS)
def test_the_html_shows_the_english_numbers(html: dict[str, str], code: str) -> None:
    """Every figure in the HTML's tables (a number in the English report) is the same
    number in the translated one, read in its locale's format."""
    english, other = Page(html["en"]), Page(html[code])
    ids = list(english.tables)  # those without an id are the charts' (what each draws)
    assert ids == list(other.tables)
    compared = sum(
        _compare(
            [[text for _, text in cells] for _, cells in english.tables[t]],
            [[text for _, text in cells] for _, cells in other.tables[t]],
            code,
            t,
            spaces=True,  # the parser collapses white space
        )
        for t in ids
    )
    assert compared > 250, compared


def _md_tables(text: str) -> list[list[list[str]]]:
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        if current is None:
            current = []
            tables.append(current)
        if not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", line):
            current.append([c.strip() for c in line.strip("|").split(" | ")])
    return tables


@pytest.mark.parametrize("code", OTHERS)
def test_the_markdown_shows_the_english_numbers(
    report: MonthlyReport, md: dict[str, str], code: str
) -> None:
    """The same in the Markdown: every table, cell by cell (the charts' tables too)."""
    english, other = _md_tables(md["en"]), _md_tables(md[code])
    assert len(english) == len(other) > 10
    compared = sum(
        _compare(a, b, code, f"table {n}", spaces=False)
        for n, (a, b) in enumerate(zip(english, other, strict=True))
    )
    assert compared > 250, compared


def test_a_number_in_the_wrong_format_is_caught() -> None:
    """The comparison reads each locale's own format: an English figure in a French or
    Russian report is not the same number there."""
    assert _number("1,300.119", "en") == Decimal("1300.119")
    assert _number("1\u202f300,119", "fr") == Decimal("1300.119")
    assert _number("1\xa0300,119", "ru") == Decimal("1300.119")
    assert _number("1.300,119", "es") == Decimal("1300.119")
    assert _number("1,300.119", "fr") != Decimal("1300.119")
    assert _number("2014-03-31", "en") is None


# -- right to left, and the page's language ------------------------------------------------------


def test_arabic_is_right_to_left_and_the_others_left_to_right(html: dict[str, str]) -> None:
    for code in CODES:
        head = re.search(r"<html [^>]*>", html[code])
        assert head is not None
        direction = "rtl" if code == "ar" else "ltr"
        assert head.group(0) == f'<html lang="{code}" dir="{direction}">', code
    # the layout says start and end, so that it mirrors: no left or right in its tables
    style = re.search(r"<style>(.*?)</style>", html["ar"], re.S)
    assert style is not None
    rules = [line for line in style.group(1).splitlines() if not line.strip().startswith("pre ")]
    assert not re.search(r"text-align:\s*(left|right)", "\n".join(rules))
    assert "Noto Naskh Arabic" in style.group(1)


def test_the_data_stays_as_recorded(html: dict[str, str], report: MonthlyReport) -> None:
    """Site names, ids and descriptions are shown as the ledger holds them."""
    for code in CODES:
        for m in report.milestones:
            assert f"<td>{m['description']}</td>" in html[code], (code, m["id"])
        assert report.symbol in html[code] and report.verification.root_hex in html[code]


def test_json_and_csv_are_the_same_in_every_language(report: MonthlyReport) -> None:
    for fmt in ("json", "csv"):
        english = render.render(report, fmt, "en")
        assert all(render.render(report, fmt, code) == english for code in OTHERS)
        assert b"2014-03-31" in english  # ISO 8601


# -- PDF ------------------------------------------------------------------------------------------


def _pdf_text(data: bytes, tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "3", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.translate(BIDI).split()), fonts


@pytest.fixture(scope="module")
def arabic_pdf(report: MonthlyReport) -> bytes:
    _need_weasyprint()
    return render.pdf(report, "ar")


def test_the_arabic_and_chinese_pdfs_hold_their_text(
    report: MonthlyReport, arabic_pdf: bytes, tmp_path: Path
) -> None:
    """The PDF's text is the report's (pdftotext reads it back in logical order), set in
    fonts that cover the script (HarfBuzz shapes Arabic in them; the pages as pictures are
    in docs/screenshots/)."""
    text, fonts = _pdf_text(arabic_pdf, tmp_path)
    for words in ("التقدم المحرز في إزالة المخزون المعلن", "مجلس الأمن", "المدير العام"):
        assert words in text, words
    assert "Arabic" in fonts, fonts
    text, fonts = _pdf_text(render.pdf(report, "zh"), tmp_path)
    assert "消除已宣布库存的进展" in text and "执行理事会" in text
    assert "CJK" in fonts, fonts


def _chart_labels(report: MonthlyReport, lang: str) -> set[str]:
    """The text of every <text> element of the report's charts in `lang`."""
    return {
        html_unescape(t)
        for _, chart in render.charts(report, lang)
        for t in re.findall(r"<text\b[^>]*>([^<]*)</text>", chart.svg)
    }


def test_the_arabic_pdf_draws_its_charts_in_arabic(
    report: MonthlyReport, arabic_pdf: bytes, tmp_path: Path
) -> None:
    """The charts of the Arabic PDF carry Arabic labels (WeasyPrint draws an SVG's text
    letter by letter: it is handed them joined and in visual order, `shaping`), not the
    English ones."""
    path = tmp_path / "report.pdf"
    path.write_bytes(arabic_pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout.translate(BIDI)
    # A series name as the chart draws it (unvocalised): the table behind the chart writes
    # it with its harakat, so only the chart's legend matches.
    name = i18n.translations("ar", DOMAIN).gettext("not yet destroyed")
    bare = "".join(c for c in name if unicodedata.category(c) != "Mn")
    assert bare != name and bare in text
    english = {t for t in _chart_labels(report, "en") if re.search("[a-z]{2}", t)}
    english -= _chart_labels(report, "ar")  # the data as recorded (milestone ids)
    assert {"not yet destroyed", "all chemicals", "priority 1"} <= english
    assert not [t for t in english if t in text]


def test_the_pdf_s_charts_are_handed_over_shaped_and_the_browser_s_as_written(
    report: MonthlyReport,
) -> None:
    """The HTML WeasyPrint renders has each chart label in presentation forms, in visual
    order; the HTML for a browser (which shapes SVG text itself) as the catalogue writes it."""

    def labels(page: str) -> list[str]:
        return re.findall(r"<text\b[^>]*>([^<]*)</text>", page)

    for_pdf = labels(render.html(report, "ar", pdf=True))
    for_browser = labels(render.html(report, "ar"))
    assert len(for_pdf) == len(for_browser) > 20
    arabic = re.compile("[\u0621-\u064a]")
    assert not [t for t in for_pdf if arabic.search(t)]
    assert [visual(html_unescape(t)) for t in for_browser] == [html_unescape(t) for t in for_pdf]
    assert sum(1 for t in for_browser if arabic.search(t)) > 10


def test_a_series_has_the_colour_of_its_meaning_in_every_language(report: MonthlyReport) -> None:
    """The lines are named in the language, and coloured by what they mean: the same
    colours as in English (not yet destroyed grey, removed blue, destroyed green...)."""

    def colours(lang: str) -> list[list[str]]:
        return [
            re.findall(r'<polyline [^>]*stroke="(#[0-9a-f]{6})"', chart.svg)
            for _, chart in render.charts(report, lang)[:2]
        ]

    english = colours("en")
    assert english[0] == ["#5b6470", "#1f5fa8", "#2e8b57"] and len(english[1]) >= 3
    for code in OTHERS:
        assert colours(code) == english, code


def test_a_chart_label_runs_in_the_direction_of_its_first_letter(html: dict[str, str]) -> None:
    """In the browser, as in the PDF (`shaping.visual`): an Arabic date in a chart whose SVG
    says "ltr" still reads from the right."""
    styles = re.findall(r"<svg\b[^>]*><style>([^<]*)</style>", html["ar"])
    assert len(styles) == 4 and all("text{unicode-bidi:plaintext}" in s for s in styles)
    assert visual("20 مارس 2014").endswith(" 20")  # the day at the right


# -- the command --------------------------------------------------------------------------------


def test_report_lang_names_the_six_and_refuses_others(ledger_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "report.md"
    args = ["report", "--month", "2014-03", "--format", "md", "--ledger", str(ledger_dir)]
    result = runner.invoke(app, [*args, "--lang", "fr", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith(
        "# Progrès accomplis dans l'élimination du stock déclaré : mars 2014"
    )
    bad = runner.invoke(app, [*args, "--lang", "xx", "--out", str(tmp_path / "no.md")])
    assert bad.exit_code == 2
    said = " ".join(bad.output.replace("\u2502", " ").split())  # out of its box
    assert "--lang" in said and "unknown language 'xx': one of ar, zh, en, fr, ru, es" in said
    assert not (tmp_path / "no.md").exists()


def test_what_the_declarant_submitted_is_said_in_the_language(ledger_dir: Path) -> None:
    """October 2013: the declaration's amended parts, said in each language; the data (JSON)
    keeps its English words."""
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r:
            october = build(r, "2013-10")
    finally:
        led.close()
    first = october.submissions[0]
    assert (first.type, first.what) == ("declaration.amended", "version 2, part 1 of 9")
    assert "| версия 2, часть 1 из 9 |" in render.markdown(october, "ru")
    assert "<td>الإصدار 2، الجزء 1 من 9</td>" in render.html(october, "ar")
    assert "version 2, part 1 of 9" not in render.html(october, "fr")
    data = render.render(october, "json", "ru").decode()
    assert '"what": "version 2, part 1 of 9"' in data and '"message"' not in data


def test_a_period_report_in_every_language(ledger_dir: Path) -> None:
    """A report over any span of days (22 March to 24 April 2014) speaks of "the period"
    where the monthly one names its month, in every language, no English left."""
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r:
            spring = build_period(r, parse_span("2014-03-22", "2014-04-24"))
    finally:
        led.close()
    assert "At the end of the period, 92.8% of the" in render.html(spring, "en")
    assert "À la fin de la période (24 avr. 2014)" in render.markdown(spring, "fr")
    assert "du 22 mars 2014 au 24 avr. 2014 (les deux jours inclus, UTC)" in render.html(
        spring, "fr"
    )
    for code in OTHERS:
        english = {k for k, v in _translated(code).items() if v != k}
        nodes = Text(render.html(spring, code)).nodes
        assert [n for n in nodes if n in english] == [], code
        text = " ".join(nodes)
        assert "At the end of" not in text and "No declaration" not in text, code
