"""The report as HTML, Markdown, PDF, JSON or CSV (presentation only: every figure is the
`MonthlyReport`'s).

HTML is one self-contained document (`templates/monthly.html`): inline CSS with print
rules, the charts as inline SVG (`cwledger.charts`) each followed by the table behind
it, and no external URL. Markdown (`templates/monthly.md`) is GitHub-flavoured, with the
charts replaced by their tables. PDF is WeasyPrint's rendering of that same HTML, with
every URL fetch refused; WeasyPrint and its system libraries are loaded only then, so HTML
and Markdown work without them.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from cwledger import __version__
from cwledger.charts import (
    COLOURS,
    Chart,
    Marker,
    Series,
    bar_chart,
    deadline_met,
    deadline_shown,
    line_chart,
)
from cwledger.errors import PdfUnavailable
from cwledger.reports.data import csv_text, json_text
from cwledger.reports.monthly import MonthlyReport
from cwledger.words import plural

__all__ = [
    "Format",
    "as_format",
    "FORMATS",
    "EXTENSIONS",
    "PDF_PACKAGES",
    "charts",
    "html",
    "markdown",
    "pdf",
    "render",
    "load_weasyprint",
    "md_text",
]

Format = Literal["html", "pdf", "md", "json", "csv"]
FORMATS: tuple[Format, ...] = ("html", "pdf", "md", "json", "csv")
EXTENSIONS: dict[Format, str] = {
    "html": "html",
    "pdf": "pdf",
    "md": "md",
    "json": "json",
    "csv": "csv",
}

# WeasyPrint's documented runtime libraries on Debian and Ubuntu (its "First steps":
# Debian >= 11 lists libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0, Ubuntu adds
# libharfbuzz0b; it loads libharfbuzz.so.0 itself, so both are named).
PDF_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0"

TEMPLATES = Path(__file__).parent / "templates"

# Inline SVG in a PDF takes its style from a <style> inside the <svg> only (WeasyPrint),
# so each chart carries its own; browsers use it too.
CHART_STYLE = "<style>.axis{stroke:#8a939e}.tick{fill:#4a525a}.legend{fill:#1b1f24}</style>"


def as_format(text: str) -> Format:
    """The format `text` names. Raises ValueError."""
    for f in FORMATS:
        if text == f:
            return f
    raise ValueError(f"{text!r}: one of {', '.join(FORMATS)}")


# -- filters -------------------------------------------------------------------------------------


def _t(value: float) -> str:
    """Tonnes as `status --json` gives them (to the kg)."""
    return f"{value:,.3f}"


def _pct(value: float) -> str:
    return f"{value:.1f}"


def _outstanding(left: dict[str, float] | None) -> str:
    """What a milestone still lacks, as `cwledger milestones` prints it."""
    return ", ".join(
        f"{v:g} {k[:-1] if v == 1 and k.endswith('s') else k}" for k, v in (left or {}).items() if v
    )


_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# What begins emphasis, a link or image (with `[` escaped, `(` and `!` begin nothing), a code
# span, a heading, strikethrough, or ends a table cell.
_MARKDOWN_SPECIAL = set("\\`*_[]#|~")


def md_text(value: Any) -> Markup:
    """Text from the ledger as Markdown that shows it literally: HTML's special characters
    as entities (no raw tag survives, whatever renders the file) and Markdown's control
    characters backslash-escaped (no link, image, emphasis or code span begins), on one
    line. Every value the Markdown template prints goes through this (its `finalize`)."""
    if isinstance(value, Markup):
        return value
    text = " ".join(("" if value is None else str(value)).split())
    out = [_HTML_SPECIAL.get(ch) or ("\\" + ch if ch in _MARKDOWN_SPECIAL else ch) for ch in text]
    return Markup("".join(out))


def _code(value: Any) -> Markup:
    """Text as a Markdown code span (inert in CommonMark): fenced by more backticks than
    any run inside it; `<` and `>` as entities all the same, for renderers that are not."""
    text = " ".join(str(value).split()).replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("|", "\\|")  # in a table (GFM reads the cells before the spans)
    run = max((len(r) for r in re.findall("`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def _block(value: Any) -> Markup:
    """Text for a fenced code block (the note, the proof): `<` and `>` as entities."""
    return Markup(str(value).replace("<", "&lt;").replace(">", "&gt;").replace("```", "`\u200b``"))


def _cell(value: Any) -> Markup:
    """A Markdown table cell: one line, as text (`md_text`; pipes escaped with the rest)."""
    return md_text(value)


def _days(value: float) -> str:
    """A number of days: whole when it is."""
    return f"{value:g}"


def _status_label(status: str) -> str:
    return status.replace("_", " ")


def _env(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]) if autoescape else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Markdown has no autoescape of its own: every value printed is made literal text.
        finalize=None if autoescape else md_text,
    )
    env.filters.update(
        t=_t,
        pct=_pct,
        outstanding=_outstanding,
        cell=_cell,
        status_label=_status_label,
        days=_days,
        code=_code,
        block=_block,
        plural=plural,
    )
    env.globals.update(version=__version__)
    return env


_HTML = _env(autoescape=True)
_MARKDOWN = _env(autoescape=False)


# -- charts ----------------------------------------------------------------------------------------


def _styled(chart: Chart) -> Chart:
    svg = chart.svg
    if svg.startswith("<svg"):
        head = svg.index(">") + 1
        svg = svg[:head] + CHART_STYLE + svg[head:]
    return Chart(svg, chart.columns, chart.rows)


def charts(report: MonthlyReport) -> list[tuple[str, Chart]]:
    """The report's charts with their captions: the burn-down up to the period's end (with
    the removal and destruction deadlines in that time), the cumulative share removed by
    priority at each consignment, and the shares removed and destroyed by group at the
    period's end. Each chart's table holds the figures it draws."""
    points = report.burndown
    first = points[0][0] if points else None
    last = date.fromisoformat(report.period.last_day)
    markers = [
        Marker(date.fromisoformat(m["due"]), m["id"], deadline_met(m["status"]))
        for m in report.milestones
        if m["due"] is not None
        and deadline_shown(m["description"])
        and first is not None
        and first <= date.fromisoformat(m["due"]) <= last
    ]
    burn = line_chart(
        f"Declared chemicals at each month's end up to {report.period.last_day}",
        [
            Series("not yet destroyed", [(d, s["not_destroyed_t"]) for d, s in points]),
            Series("removed abroad", [(d, s["removed_t"]) for d, s in points]),
            Series("destroyed", [(d, s["destroyed_t"]) for d, s in points]),
        ],
        markers,
    )
    cons = report.consignments
    names = sorted({k for c in cons for k in c.by_priority_pct})
    by_priority = line_chart(
        f"Removed or destroyed in country by priority, % of declared, to {report.period.last_day}",
        [Series("all chemicals", [(date.fromisoformat(c.day), c.cumulative_pct) for c in cons])]
        + [
            Series(k, [(date.fromisoformat(c.day), c.by_priority_pct.get(k, 0.0)) for c in cons])
            for k in names
        ],
        unit="%",
    )
    s = report.status
    groups = [("all chemicals", s)] + [
        (name, g)
        for name, g in [*s["by_category"].items(), *s["by_priority"].items()]
        if g["declared_t"]
    ]
    removed = bar_chart(
        f"Removed or destroyed in the country, % of declared, {report.period.last_day}",
        [(name, g["removed_pct"]) for name, g in groups],
        unit="%",
        colour=COLOURS["removed"],
    )
    destroyed = bar_chart(
        f"Destroyed, % of declared, {report.period.last_day}",
        [(name, g["destroyed_pct"]) for name, g in groups],
        unit="%",
        colour=COLOURS["destroyed"],
    )
    return [
        (
            "Burn-down: tonnes not yet destroyed (held, wherever it is), removed from the"
            " territory and destroyed, at each month's end; dashed lines are the removal and"
            " destruction deadlines, labelled by milestone (green met on time, red met late or"
            " overdue, grey not yet judged).",
            _styled(burn),
        ),
        (
            "Removal by priority: the cumulative share of the declared chemicals removed from"
            " the territory or destroyed in it, overall and by removal priority, at the end of"
            " each consignment's day (section 6).",
            _styled(by_priority),
        ),
        (
            "Share of the declared chemicals removed from the territory or destroyed in it"
            " (as the 2014 reports counted), by category and priority.",
            _styled(removed),
        ),
        (
            "Share of the declared chemicals destroyed, by category and priority.",
            _styled(destroyed),
        ),
    ]


# -- formats -----------------------------------------------------------------------------------


def _context(report: MonthlyReport) -> dict[str, Any]:
    return {"r": report, "v": report.verification, "charts": charts(report)}


def html(report: MonthlyReport) -> str:
    """The report as one self-contained HTML document."""
    return _HTML.get_template("monthly.html").render(_context(report))


def markdown(report: MonthlyReport) -> str:
    """The report as GitHub-flavoured Markdown (the charts as their tables)."""
    return _MARKDOWN.get_template("monthly.md").render(_context(report))


def load_weasyprint() -> Any:
    """Import WeasyPrint. Raises PdfUnavailable naming what to install when it or its
    system libraries (Pango, HarfBuzz) cannot be loaded."""
    try:
        # Imported here for start-up time (0.5 s), and so that a machine without Pango can
        # still write HTML and Markdown.
        import weasyprint
    except ImportError as e:
        missing_module = isinstance(e, ModuleNotFoundError) and e.name == "weasyprint"
        raise PdfUnavailable(_pdf_message(e, python_package=missing_module)) from e
    except OSError as e:  # a system library WeasyPrint loads at import is missing
        raise PdfUnavailable(_pdf_message(e, python_package=False)) from e
    return weasyprint


def _pdf_message(cause: BaseException, *, python_package: bool) -> str:
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]
    first = (
        "pip install weasyprint (in this environment), and on Debian or Ubuntu "
        if python_package
        else "on Debian or Ubuntu: "
    )
    return (
        f"PDF output needs WeasyPrint and its system libraries, which could not be loaded"
        f" ({reason}). Install them: {first}apt-get install {PDF_PACKAGES}."
        " HTML and Markdown need neither: use --format html or --format md."
    )


def _refuse_url(url: str) -> dict[str, Any]:
    raise ValueError(f"the report fetches no URL ({url})")


def pdf(report: MonthlyReport) -> bytes:
    """The report's HTML rendered by WeasyPrint, no URL fetched. Raises PdfUnavailable."""
    weasyprint = load_weasyprint()
    fetcher_class = getattr(weasyprint, "URLFetcher", None)  # older WeasyPrint: a function
    fetcher = _refuse_url if fetcher_class is None else fetcher_class(allowed_protocols=())
    document = weasyprint.HTML(string=html(report), base_url=None, url_fetcher=fetcher)
    data = document.write_pdf()
    assert isinstance(data, bytes)
    return data


def render(report: MonthlyReport, fmt: Format) -> bytes:
    """The report in `fmt`, as the bytes of the file to write."""
    if fmt == "pdf":
        return pdf(report)
    if fmt == "json":
        return json_text(report).encode("utf-8")
    if fmt == "csv":
        return csv_text(report).encode("utf-8")
    text = html(report) if fmt == "html" else markdown(report)
    return text.encode("utf-8")
