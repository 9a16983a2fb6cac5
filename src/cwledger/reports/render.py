"""The report as HTML, Markdown, PDF, JSON or CSV (presentation only: every figure is the
`MonthlyReport`'s).

HTML is one self-contained document (`templates/monthly.html`): inline CSS with print
rules, the charts as inline SVG (`cwledger.charts`) each followed by the table behind
it, and no external URL. Markdown (`templates/monthly.md`) is GitHub-flavoured, with the
charts replaced by their tables. PDF is WeasyPrint's rendering of that same HTML, with
every URL fetch refused; WeasyPrint and its system libraries are loaded only then, so HTML
and Markdown work without them.

Each in any of the six languages (`lang`, `cwledger.i18n.LANGUAGES`): every sentence the
report writes is a message of the `reports` catalogues (the templates' ``{% trans %}`` and
``_()``, and the captions, titles, states and groups built here and in `words`); numbers,
masses, percentages and dates are Babel's forms for the locale. English keeps its ISO 8601
dates. Arabic is right to left (``<html dir="rtl">``; the CSS says start and end), set in
fonts that cover it (`FONTS`), shaped by HarfBuzz in the PDF; the PDF's charts, whose
text WeasyPrint draws letter by letter, get theirs already joined and in visual order
(`shaping`), so that they too are in the report's language. The ledger's own text is
shown as recorded; JSON and CSV are data, the same in every language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_skeleton
from babel.units import format_unit
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from cwledger import __version__, i18n
from cwledger.charts import (
    COLOURS,
    Chart,
    Marker,
    Series,
    bar_chart,
    colour_of,
    deadline_met,
    deadline_shown,
    line_chart,
)
from cwledger.errors import PdfUnavailable
from cwledger.reports import words
from cwledger.reports.data import csv_text, json_text
from cwledger.reports.monthly import COMMANDS, MonthlyReport, command_values
from cwledger.reports.shaping import chart_in_visual_order

__all__ = [
    "DOMAIN",
    "FONTS",
    "Format",
    "as_format",
    "FORMATS",
    "EXTENSIONS",
    "PDF_PACKAGES",
    "charts",
    "html",
    "label",
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
DOMAIN = "reports"  # the report's messages: catalogues/<lang>/LC_MESSAGES/reports.po

# Inline SVG in a PDF takes its style from a <style> inside the <svg> only (WeasyPrint),
# so each chart carries its own; browsers use it too. Each label runs in the direction of
# its first letter (`unicode-bidi: plaintext`): a mirrored chart's SVG says "ltr" for its
# anchors, and an Arabic date ("20 مارس 2014") must still read from the right, as the
# PDF draws it (`shaping.visual`). Browsers keep the anchors as they are.
CHART_STYLE = (
    "<style>.axis{stroke:#8a939e}.tick{fill:#4a525a}.legend{fill:#1b1f24}"
    "text{unicode-bidi:plaintext}</style>"
)


def as_format(text: str) -> Format:
    """The format `text` names. Raises ValueError."""
    for f in FORMATS:
        if text == f:
            return f
    raise ValueError(f"{text!r}: one of {', '.join(FORMATS)}")


# -- filters -------------------------------------------------------------------------------------
# Each in the language of the render (its context's `lang`): Babel's CLDR forms for numbers,
# masses, percentages and dates; the report's own words from the `reports` catalogues.


def _lang(context: Context) -> str:
    return str(context.get("lang") or i18n.DEFAULT)


def _gettext(lang: str) -> Callable[[str], str]:
    return i18n.translations(lang, DOMAIN).gettext


@pass_context
def _t(context: Context, value: float) -> str:
    """Tonnes in a table, to the kg (as `status --json` gives them)."""
    return i18n.number(value, _lang(context), 3)


@pass_context
def _tonnes(context: Context, value: float) -> str:
    """Tonnes in a sentence, with the locale's short unit ("1,290.000 t", "1 290,000 т")."""
    pattern = "#,##0.000"
    return format_unit(value, "mass-tonne", length="short", format=pattern, locale=_locale(context))


@pass_context
def _pct(context: Context, value: float) -> str:
    """A percentage (0-100) in a table whose heading carries the sign."""
    return i18n.number(value, _lang(context), 1)


@pass_context
def _pcts(context: Context, value: float) -> str:
    """A percentage (0-100) in a sentence, with the locale's sign ("93.9%", "93,9 %")."""
    return i18n.percent(value / 100, _lang(context), 1)


@pass_context
def _num(context: Context, value: float) -> str:
    """A count or a size (days late, items, entries in a tree)."""
    return i18n.number(value, _lang(context))


def _locale(context: Context) -> str:
    return i18n.language(_lang(context)).code


@pass_context
def _day(context: Context, value: str) -> str:
    """A day (ISO 8601 in the report's data) as the locale writes it; English keeps ISO
    8601, as the English report always has (and as the charts' English does)."""
    lang = _lang(context)
    if lang == i18n.DEFAULT or not value:
        return value
    return i18n.date(date.fromisoformat(value[:10]), lang)


@pass_context
def _moment(context: Context, value: str) -> str:
    """A moment (RFC 3339, UTC) as the locale writes it (English keeps RFC 3339)."""
    lang = _lang(context)
    if lang == i18n.DEFAULT:
        return value
    try:
        at = datetime.fromisoformat(value.replace(" UTC", "+00:00").replace("Z", "+00:00"))
    except ValueError:  # "unknown": the log kept no time
        return _gettext(lang)(words.STATES.get(value, value))
    return i18n.datetime(at, lang)


def _outstanding_text(left: dict[str, float] | None, lang: str) -> str:
    """What a milestone still lacks ("3 items, 1 facility"), as `cwledger milestones`
    prints it in English."""
    tr = i18n.translations(lang, DOMAIN)
    parts = []
    for unit, v in (left or {}).items():
        if not v:
            continue
        shown = i18n.number(v, lang)
        if unit in words.UNITS:
            one, many = words.UNITS[unit]
            count = int(v) if float(v).is_integer() else 2  # a fraction takes the plural
            parts.append(tr.ngettext(one, many, count) % {"num": shown})
        else:
            parts.append(f"{shown} {unit}")
    return _separator(lang).join(parts)


@pass_context
def _outstanding(context: Context, left: dict[str, float] | None) -> str:
    return _outstanding_text(left, _lang(context))


@pass_context
def _status_label(context: Context, status: str) -> str:
    """A state of a milestone, finding or facility in the report's words."""
    message = words.STATES.get(status, status.replace("_", " "))
    return _gettext(_lang(context))(message)


@pass_context
def _group(context: Context, name: str) -> str:
    """A group of the status tables (a category, a removal priority)."""
    return _gettext(_lang(context))(words.GROUPS.get(name, name))


@pass_context
def _facility_kind(context: Context, kind: str) -> str:
    message = words.FACILITY_KINDS.get(kind)
    return kind.replace("_", " ") if message is None else _gettext(_lang(context))(message)


@pass_context
def _what(context: Context, row: Any) -> str:
    """What a submission is, in the report's language (its values as recorded)."""
    if not row.message:
        return str(row.what)
    return str(_gettext(_lang(context))(row.message) % row.values)


@pass_context
def _type_counts(context: Context, counts: dict[str, int]) -> str:
    """Entries by type ("transfer.shipped 60, transfer.received 48"): the types are the
    log's own names."""
    lang = _lang(context)
    return _separator(lang).join(f"{k} {i18n.number(n, lang)}" for k, n in counts.items())


def _separator(lang: str) -> str:
    """What separates the items of a list in `lang` (CLDR's list patterns add "and" or
    drop the separator in some locales: a list of quantities wants neither)."""
    _ = _gettext(lang)
    # Translators: the separator between the items of a list ("3 items, 1 facility").
    return _(", ")


@pass_context
def _pgettext(context: Context, msgctxt: str, message: str) -> str:
    """A message whose English has more than one sense (a column's "due" date, a
    milestone's state "due"), told apart by its context."""
    return i18n.translations(_lang(context), DOMAIN).pgettext(msgctxt, message)


_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# What begins emphasis, a link or image (with `[` escaped, `(` and `!` begin nothing), a code
# span, a heading, strikethrough, or ends a table cell.
_MARKDOWN_SPECIAL = set("\\`*_[]#|~")
_SPACES = re.compile(r"[^\S\u00a0\u202f]+")


def md_text(value: Any) -> Markup:
    """Text from the ledger as Markdown that shows it literally: HTML's special characters
    as entities (no raw tag survives, whatever renders the file) and Markdown's control
    characters backslash-escaped (no link, image, emphasis or code span begins), on one
    line. Every value the Markdown template prints goes through this (its `finalize`)."""
    if isinstance(value, Markup):
        return value
    # Every run of white space one space, but the locale's no-break spaces (the grouping
    # of "1 300,119" in French and Russian) kept: they break no line.
    text = _SPACES.sub(" ", "" if value is None else str(value)).strip()
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


def _html_code(value: Any) -> Markup:
    """Text as HTML code (escaped), read left to right whatever the page's direction."""
    return Markup("<code>{}</code>").format(value)


def _strong(value: Any) -> Markup:
    return Markup("<strong>{}</strong>").format(value)


def _md_strong(value: Any) -> Markup:
    return Markup(f"**{md_text(value)}**")


def _block(value: Any) -> Markup:
    """Text for a fenced code block (the note, the proof): `<` and `>` as entities."""
    return Markup(str(value).replace("<", "&lt;").replace(">", "&gt;").replace("```", "`\u200b``"))


def _cell(value: Any) -> Markup:
    """A Markdown table cell: one line, as text (`md_text`; pipes escaped with the rest)."""
    return md_text(value)


@pass_context
def _md_gettext(context: Context, message: str, **variables: Any) -> Markup:
    """gettext for the Markdown template: the catalogue's message is the report's own
    Markdown; each value put into it is made literal text (`md_text`), as every value the
    template prints is."""
    text = _gettext(_lang(context))(message)
    return Markup(text % {k: md_text(v) for k, v in variables.items()})


@pass_context
def _md_ngettext(context: Context, singular: str, plural: str, n: int, **variables: Any) -> Markup:
    text = i18n.translations(_lang(context), DOMAIN).ngettext(singular, plural, n)
    values = {"num": n, **variables}
    return Markup(text % {k: md_text(v) for k, v in values.items()})


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
    # A message's whitespace is collapsed (its msgid does not depend on line breaks).
    env.policies["ext.i18n.trimmed"] = True
    i18n.install(env, DOMAIN)
    env.globals.update(pgettext=_pgettext)
    if not autoescape:
        env.globals.update(gettext=_md_gettext, ngettext=_md_ngettext)
    env.filters.update(
        t=_t,
        tonnes=_tonnes,
        pct=_pct,
        pcts=_pcts,
        num=_num,
        day=_day,
        moment=_moment,
        outstanding=_outstanding,
        cell=_cell,
        status_label=_status_label,
        group=_group,
        facility_kind=_facility_kind,
        type_counts=_type_counts,
        what=_what,
        code=_html_code if autoescape else _code,
        strong=_strong if autoescape else _md_strong,
        block=_block,
    )
    env.globals.update(version=__version__)
    return env


_HTML = _env(autoescape=True)
_MARKDOWN = _env(autoescape=False)


# -- charts ----------------------------------------------------------------------------------------


def _styled(chart: Chart, lang: str = i18n.DEFAULT) -> Chart:
    """The chart with its own style, and the columns of its table named in `lang` (the
    charts name them in English: "day", "group", "milestone")."""
    svg = chart.svg
    if svg.startswith("<svg"):
        head = svg.index(">") + 1
        svg = svg[:head] + CHART_STYLE + svg[head:]
    _ = _gettext(lang)
    names = {"day": _("day"), "group": _("group"), "milestone": _("milestone")}
    return Chart(svg, [names.get(c, c) for c in chart.columns], chart.rows)


def _for_pdf(chart: Chart, lang: str) -> Chart:
    """A chart as WeasyPrint is to draw it: set in the report's fonts for `lang` (an inline
    SVG in a PDF inherits no CSS from the page), and its text in the order and the letter
    forms in which WeasyPrint, drawing SVG text letter by letter, shows it shaped
    (`shaping`: Arabic joined, right to left). The browser shapes the HTML's charts itself."""
    svg, fonts = chart.svg, FONTS.get(lang)
    if fonts is not None and svg.startswith("<svg"):
        svg = f"<svg font-family='{fonts}'" + svg[len("<svg") :]
    return Chart(chart_in_visual_order(svg), chart.columns, chart.rows)


def charts(report: MonthlyReport, lang: str = i18n.DEFAULT) -> list[tuple[str, Chart]]:
    """The report's charts with their captions: the burn-down up to the period's end (with
    the removal and destruction deadlines in that time), the cumulative share removed by
    priority at each consignment, and the shares removed and destroyed by group at the
    period's end. Each chart's table holds the figures it draws. The titles, names and
    captions in `lang`."""
    _ = _gettext(lang)
    day = _day_text(report.period.last_day, lang)
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
        _("Declared chemicals at each month's end up to %(day)s") % {"day": day},
        [
            Series(name, [(d, s[key]) for d, s in points], colour_of(meaning))
            for meaning, name, key in (
                ("not yet destroyed", _("not yet destroyed"), "not_destroyed_t"),
                ("removed abroad", _("removed abroad"), "removed_t"),
                ("destroyed", _("destroyed"), "destroyed_t"),
            )
        ],
        markers,
        # Translators: the symbol of the tonne, as a chart's axis and columns show it.
        unit=_("t"),
        lang=lang,
        empty=_("no data yet"),
    )
    cons = report.consignments
    names = sorted({k for c in cons for k in c.by_priority_pct})
    everything = _("all chemicals")
    by_priority = line_chart(
        _("Removed or destroyed in country by priority, %% of declared, to %(day)s") % {"day": day},
        [
            Series(
                everything,
                [(date.fromisoformat(c.day), c.cumulative_pct) for c in cons],
                colour_of("all chemicals"),
            )
        ]
        + [
            Series(
                _(words.GROUPS.get(k, k)),
                [(date.fromisoformat(c.day), c.by_priority_pct.get(k, 0.0)) for c in cons],
                colour_of(words.GROUPS.get(k, k), i),
            )
            for i, k in enumerate(names, start=1)
        ],
        unit="%",
        lang=lang,
        empty=_("no data yet"),
    )
    s = report.status
    groups = [(everything, s)] + [
        (_(words.GROUPS.get(name, name)), g)
        for name, g in [*s["by_category"].items(), *s["by_priority"].items()]
        if g["declared_t"]
    ]
    removed = bar_chart(
        _("Removed or destroyed in the country, %% of declared, %(day)s") % {"day": day},
        [(name, g["removed_pct"]) for name, g in groups],
        unit="%",
        colour=COLOURS["removed"],
        lang=lang,
        empty=_("no data yet"),
    )
    destroyed = bar_chart(
        _("Destroyed, %% of declared, %(day)s") % {"day": day},
        [(name, g["destroyed_pct"]) for name, g in groups],
        unit="%",
        colour=COLOURS["destroyed"],
        lang=lang,
        empty=_("no data yet"),
    )
    return [
        (
            _(
                "Burn-down: tonnes not yet destroyed (held, wherever it is), removed from the"
                " territory and destroyed, at each month's end; dashed lines are the removal"
                " and destruction deadlines, labelled by milestone (green met on time, red met"
                " late or overdue, grey not yet judged)."
            ),
            _styled(burn, lang),
        ),
        (
            _(
                "Removal by priority: the cumulative share of the declared chemicals removed"
                " from the territory or destroyed in it, overall and by removal priority, at"
                " the end of each consignment's day (section 6)."
            ),
            _styled(by_priority, lang),
        ),
        (
            _(
                "Share of the declared chemicals removed from the territory or destroyed in it"
                " (as the 2014 reports counted), by category and priority."
            ),
            _styled(removed, lang),
        ),
        (
            _("Share of the declared chemicals destroyed, by category and priority."),
            _styled(destroyed, lang),
        ),
    ]


# -- formats -----------------------------------------------------------------------------------


def _day_text(value: str, lang: str) -> str:
    if lang == i18n.DEFAULT:
        return value
    return i18n.date(date.fromisoformat(value), lang)


def label(report: MonthlyReport, lang: str = i18n.DEFAULT) -> str:
    """The period in `lang`: the month by name ("March 2014", "mars 2014", "2014年3月"),
    or the span of days ("2014-03-22 to 2014-04-24")."""
    if report.monthly:
        return format_skeleton("yMMMM", date.fromisoformat(report.period.first_day), locale=lang)
    _ = _gettext(lang)
    first, last = (_day_text(d, lang) for d in (report.period.first_day, report.period.last_day))
    return _("%(first)s to %(last)s") % {"first": first, "last": last}


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _page_count(lang: str) -> str:
    """The page footer's CSS content: "page 3 of 12" in `lang`, the counters in place."""
    _ = _gettext(lang)
    text = _("page %(page)s of %(pages)s")
    parts = re.split(r"(%\((?:page|pages)\)s)", text)
    out = []
    for part in parts:
        if part == "%(page)s":
            out.append("counter(page)")
        elif part == "%(pages)s":
            out.append("counter(pages)")
        elif part:
            out.append(_css_string(part))
    return " ".join(out)


FONTS = {
    # Arabic: Noto Naskh Arabic (the text face) then Noto Sans Arabic (fonts-noto-core).
    "ar": '"Noto Naskh Arabic", "Noto Sans Arabic", "DejaVu Sans", sans-serif',
    # Chinese: Noto Sans CJK SC (fonts-noto-cjk), simplified Chinese forms first.
    "zh": '"Noto Sans CJK SC", "Noto Sans SC", "DejaVu Sans", sans-serif',
}
"""The report's font families by language, from Debian's fonts-noto-core (Arabic) and
fonts-noto-cjk (Chinese); the others in DejaVu (fonts-dejavu-core), with both behind it for
the ledger's own text in those scripts."""
DEFAULT_FONTS = (
    '"DejaVu Sans", "Liberation Sans", Arial, "Noto Sans Arabic", "Noto Sans CJK SC", sans-serif'
)


def _context(report: MonthlyReport, lang: str, *, pdf: bool = False) -> dict[str, Any]:
    lang = i18n.language(lang).code
    _ = _gettext(lang)
    shown = label(report, lang)
    title = _("Progress in the elimination of the declared stockpile: %(label)s") % {"label": shown}
    c = report
    values = command_values(report.verification)
    invocation = (
        f"cwledger report --month {c.period.month}"
        if c.monthly
        else f"cwledger report --from {c.period.first_day} --to {c.period.last_day}"
    ) + ("" if lang == i18n.DEFAULT else f" --lang {lang}")
    head = (report.origin, f"{report.symbol} · {shown}")
    rtl = i18n.language(lang).direction == "rtl"
    return {
        "r": report,
        "v": report.verification,
        "charts": [
            (caption, _for_pdf(chart, lang) if pdf else chart)
            for caption, chart in charts(report, lang)
        ],
        "lang": lang,
        "dir": i18n.language(lang).direction,
        "label": shown,
        "title": title,
        "fonts": Markup(FONTS.get(lang, DEFAULT_FONTS)),
        "page_start": head[1] if rtl else head[0],
        "page_end": head[0] if rtl else head[1],
        "page_count": Markup(_page_count(lang)),
        "invocation": invocation,
        "counts": [
            (_("transfers that left the territory"), len(c.removals)),
            (_("consignments"), sum(1 for x in c.consignments if x.in_period)),
            (_("destruction batches recorded"), len(c.batches)),
            (_("inspections under way"), len(c.inspections)),
            (_("findings opened"), len(c.findings_opened)),
            (_("findings that changed status"), len(c.findings_changed)),
            (_("findings open at the end of the period"), len(c.findings_open)),
        ],
        "commands": [
            (_(purpose) % values, command.format(**values)) for purpose, command in COMMANDS
        ],
    }


def html(report: MonthlyReport, lang: str = i18n.DEFAULT, *, pdf: bool = False) -> str:
    """The report as one self-contained HTML document, in `lang` (one of the six); `pdf`:
    the document WeasyPrint renders (see `_context` on its charts)."""
    return _HTML.get_template("monthly.html").render(_context(report, lang, pdf=pdf))


def markdown(report: MonthlyReport, lang: str = i18n.DEFAULT) -> str:
    """The report as GitHub-flavoured Markdown (the charts as their tables), in `lang`."""
    return _MARKDOWN.get_template("monthly.md").render(_context(report, lang))


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


def pdf(report: MonthlyReport, lang: str = i18n.DEFAULT) -> bytes:
    """The report's HTML rendered by WeasyPrint, no URL fetched, in `lang`; its text shaped
    by HarfBuzz (Arabic joined, right to left) in the fonts `FONTS` names. Raises
    PdfUnavailable."""
    weasyprint = load_weasyprint()
    fetcher_class = getattr(weasyprint, "URLFetcher", None)  # older WeasyPrint: a function
    fetcher = _refuse_url if fetcher_class is None else fetcher_class(allowed_protocols=())
    document = weasyprint.HTML(
        string=html(report, lang, pdf=True), base_url=None, url_fetcher=fetcher
    )
    data = document.write_pdf()
    assert isinstance(data, bytes)
    return data


def render(report: MonthlyReport, fmt: Format, lang: str = i18n.DEFAULT) -> bytes:
    """The report in `fmt`, as the bytes of the file to write: HTML, PDF and Markdown in
    `lang`; JSON and CSV are data (ISO 8601 dates, plain numbers, the code's own names)
    whatever the language."""
    if fmt == "pdf":
        return pdf(report, lang)
    if fmt == "json":
        return json_text(report).encode("utf-8")
    if fmt == "csv":
        return csv_text(report).encode("utf-8")
    text = html(report, lang) if fmt == "html" else markdown(report, lang)
    return text.encode("utf-8")
