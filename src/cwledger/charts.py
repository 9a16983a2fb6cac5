"""Charts as inline SVG, drawn on the server from the same figures as the tables behind
them (pure functions: figures in, markup out). Each chart comes with its data as rows, so
that every page and report shows a table behind each chart (a text alternative).

What a reader needs from a chart: round ticks (0, 250, 500 t, not 645.1), a label on each
axis every few months, one colour per meaning (removed is the same blue in every chart and
every row; `COLOURS`), the milestone deadlines drawn *and labelled* (their ids, staggered
so they do not overlap), and text large enough to read when a phone scales the chart down
(the pages keep a chart at least `MIN_WIDTH_PX` wide and let it scroll).

Each chart is drawn in a language (`lang`, one of `cwledger.i18n.LANGUAGES`): its tick
numbers, dates and table cells as that locale writes them (Babel's CLDR data), and, for a
language written right to left, mirrored: time runs from right to left, the value axis and
the labels of bars stand on the right. English ("en", the default) keeps the figures as
they always were (ISO dates, "1,234.5"). The titles, series names and units are the
caller's, in the caller's language; `empty` is what an empty chart says."""

from __future__ import annotations

import itertools
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from html import escape

from babel.dates import format_skeleton

from cwledger import i18n

__all__ = [
    "Series",
    "Marker",
    "Chart",
    "COLOURS",
    "MIN_WIDTH_PX",
    "nice_ticks",
    "deadline_shown",
    "deadline_met",
    "month_ticks",
    "line_chart",
    "bar_chart",
]

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 46, 58
MARKER_ROWS = 3
LABEL_GAP = 8  # px between two labels of the time axis
FONT = 14  # px in the viewBox: about 11 px on a phone, where the chart is MIN_WIDTH_PX wide
MIN_WIDTH_PX = 560

# One colour per meaning, the same in every chart (and a fallback cycle for the rest).
COLOURS: dict[str, str] = {
    "remaining": "#5b6470",
    "not yet destroyed": "#5b6470",
    "removed": "#1f5fa8",
    "removed abroad": "#1f5fa8",
    "removed or destroyed in country": "#1f5fa8",
    "destroyed": "#2e8b57",
    "all chemicals": "#1b1f24",
    "priority 1": "#c8553d",
    "priority 2": "#7a4fa0",
    "isopropanol": "#b8860b",
    "priority in-country": "#b8860b",
}
_CYCLE = ["#1f5fa8", "#c8553d", "#2e8b57", "#7a4fa0", "#b8860b", "#5b6470"]


def colour_of(name: str, i: int = 0) -> str:
    """The colour a meaning is drawn in (by its name), else the i-th of a fixed cycle."""
    return COLOURS.get(name, _CYCLE[i % len(_CYCLE)])


@dataclass(frozen=True)
class Series:
    """A named line: (day, value) points in time order; `colour` overrides the meaning's."""

    name: str
    points: list[tuple[date, float]]
    colour: str | None = None


@dataclass(frozen=True)
class Marker:
    """A vertical line at a day, labelled (a milestone's deadline)."""

    day: date
    label: str
    met: bool | None = None


@dataclass(frozen=True)
class Chart:
    """An SVG chart and the rows of the table behind it."""

    svg: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)


def deadline_shown(description: str) -> bool:
    """Whether a burn-down labels a milestone's deadline: those of removal, destruction and
    disposal (their first two words say so), not every decision and report."""
    return any(w.startswith(("remov", "destr", "dispos")) for w in description.lower().split()[:2])


def deadline_met(status: str) -> bool | None:
    """A deadline's colour: met on time (True, green), not met on time (False, red: overdue,
    missed or met late), not yet judged (None, grey: due or at risk)."""
    return True if status == "met" else None if status in ("due", "at_risk", "at risk") else False


def _fmt(v: float) -> str:
    return f"{v:,.1f}"


def _tick_text(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


@dataclass(frozen=True)
class _Locale:
    """How a chart writes its figures and which way it runs, for one language."""

    lang: str

    @property
    def english(self) -> bool:
        return i18n.language(self.lang).code == i18n.DEFAULT

    @property
    def rtl(self) -> bool:
        return i18n.language(self.lang).direction == "rtl"

    def x(self, v: float) -> float:
        """A horizontal position, mirrored for a language written right to left."""
        return WIDTH - v if self.rtl else v

    def anchor(self, a: str) -> str:
        """A text anchor, mirrored with the position (the chart's text runs left to right
        as SVG places it: its `direction` is fixed, so that every renderer agrees)."""
        if not self.rtl:
            return a
        return {"start": "end", "end": "start"}.get(a, a)

    def box(self, left: float, width: float) -> float:
        """The left edge of a box `width` wide whose unmirrored left edge is `left`."""
        return WIDTH - left - width if self.rtl else left

    def tick(self, v: float) -> str:
        if self.english:
            return _tick_text(v)
        return i18n.number(v, self.lang, 0 if float(v).is_integer() else 1)

    def value(self, v: float) -> str:
        if self.english:
            return _fmt(v)
        return "\u2014" if math.isnan(v) else i18n.number(v, self.lang, 1)

    def month(self, d: date) -> str:
        """An axis label on the first of a month."""
        if self.english:
            return d.isoformat()[:7]
        return format_skeleton("yMMM", d, locale=i18n.language(self.lang).code)

    def day(self, d: date) -> str:
        """An axis label on a day."""
        if self.english:
            return d.isoformat()
        return format_skeleton("yMMMd", d, locale=i18n.language(self.lang).code)

    def row_day(self, d: date) -> str:
        """A day in the table behind a chart."""
        return d.isoformat() if self.english else i18n.date(d, self.lang)

    def text_width(self, text: str) -> int:
        """About how wide `text` is at the chart's font size."""
        if self.english:
            return int(8.2 * len(text))
        wide = sum(1 for c in text if unicodedata.east_asian_width(c) in "WF")
        return int(8.2 * (len(text) - wide) + FONT * wide)


def nice_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round ticks covering [lo, hi]: steps of 1, 2, 2.5 or 5 times a power of ten, at most
    `most` of them, the first at or below `lo` and the last at or above `hi`."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(lo / step + 1e-9) * step
    last = math.ceil(hi / step - 1e-9) * step
    n = round((last - first) / step)
    return [round(first + k * step, 10) for k in range(n + 1)]


def month_ticks(first: date, last: date, most: int = 7) -> list[date]:
    """First days of months between `first` and `last`, every 1, 2, 3, 6 or 12 months so
    that at most `most` are labelled (quarters and years fall on round months)."""
    span = (last.year - first.year) * 12 + last.month - first.month + 1
    step = next((s for s in (1, 2, 3, 6, 12, 24, 60) if span / s <= most), 120)
    out = []
    y, m = first.year, first.month
    if first.day > 1:
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    while date(y, m, 1) <= last:
        if (y * 12 + m - 1) % step == 0:
            out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _svg_open(title: str, height: int, loc: _Locale | None = None) -> str:
    # A mirrored chart places its text itself: its direction is fixed (an inline SVG would
    # otherwise inherit the page's right-to-left direction, and flip every anchor again).
    direction = ' direction="ltr"' if loc is not None and loc.rtl else ""
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}"'
        f' class="chart" xmlns="http://www.w3.org/2000/svg"{direction}'
        f' font-size="{FONT}">'
    )


def _empty(title: str, empty: str) -> str:
    return f'<p class="empty">{escape(title)}: {escape(empty)}.</p>'


def line_chart(
    title: str,
    series: list[Series],
    markers: list[Marker] | None = None,
    unit: str = "t",
    *,
    lang: str = "en",
    empty: str = "no data yet",
) -> Chart:
    """Lines over time with labelled vertical markers; its table has one row per day. In
    `lang`'s numbers and dates, mirrored when it is written right to left."""
    loc = _Locale(lang)
    X, anchor = loc.x, loc.anchor
    markers = markers or []
    days = sorted({d for s in series for d, _ in s.points} | {m.day for m in markers})
    if not days:
        return Chart(_empty(title, empty), ["day"])
    values = [v for s in series for _, v in s.points if not math.isnan(v)]
    ticks = nice_ticks(min([0.0, *values]), max([1.0, *values]))
    lo, hi = ticks[0], ticks[-1]
    d0, d1 = days[0].toordinal(), max(days[-1].toordinal(), days[0].toordinal() + 1)
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(d: date) -> float:
        return LEFT + w * (d.toordinal() - d0) / (d1 - d0)

    def y(v: float) -> float:
        return TOP + h * (1 - (v - lo) / (hi - lo))

    parts = [_svg_open(title, HEIGHT, loc)]
    for v in ticks:
        parts.append(
            f'<line x1="{X(LEFT)}" y1="{y(v):.1f}" x2="{X(LEFT + w)}" y2="{y(v):.1f}"'
            ' class="grid" stroke="#e3e7eb"/>'
            f'<text x="{X(LEFT - 6)}" y="{y(v) + 5:.1f}" text-anchor="{anchor("end")}"'
            f' class="tick">{loc.tick(v)}</text>'
        )
    parts.append(
        f'<text x="{X(LEFT - 6)}" y="{TOP - 22}" text-anchor="{anchor("end")}"'
        f' class="tick unit">{unit}</text>'
        f'<line x1="{X(LEFT)}" y1="{TOP + h}" x2="{X(LEFT + w)}" y2="{TOP + h}" class="axis"'
        ' stroke="#8a939e"/>'
        f'<line x1="{X(LEFT)}" y1="{TOP}" x2="{X(LEFT)}" y2="{TOP + h}" class="axis"'
        ' stroke="#8a939e"/>'
    )

    def axis_labels(most: int) -> list[tuple[date, str, str, float, float]]:
        """The time axis's labels, each with its anchor and the span it covers."""
        labelled = month_ticks(days[0], days[-1], most)
        if len(labelled) < 3:  # a short span: its first and last days too, as dates
            labelled = sorted({days[0], *labelled, days[-1]})
        out = []
        for d in labelled:
            text = loc.month(d) if d.day == 1 and d not in (days[0], days[-1]) else loc.day(d)
            width = loc.text_width(text)
            reach = max(40, width / 2)
            edge = (
                "start" if x(d) - LEFT < reach else "end" if LEFT + w - x(d) < reach else "middle"
            )
            start = x(d) - {"start": 0, "middle": width / 2, "end": width}[edge]
            out.append((d, text, edge, start, start + width))
        return out

    # Fewer labels while two neighbours would touch (long month names, a first day just
    # before the first month).
    most = 7
    time_labels = axis_labels(most)
    while most > 2 and any(b[3] - a[4] < LABEL_GAP for a, b in itertools.pairwise(time_labels)):
        most -= 1
        time_labels = axis_labels(most)
    for d, text, edge, _, _ in time_labels:
        parts.append(
            f'<line x1="{X(x(d)):.1f}" y1="{TOP + h}" x2="{X(x(d)):.1f}" y2="{TOP + h + 5}"'
            ' class="axis" stroke="#8a939e"/>'
            f'<text x="{X(x(d)):.1f}" y="{TOP + h + 20}" text-anchor="{anchor(edge)}"'
            f' class="tick">{text}</text>'
        )
    # Deadlines: a dashed line a day (the milestones due that day labelled together), the
    # label above the plot, on up to three rows so that close ones do not overlap.
    by_deadline: dict[date, list[Marker]] = {}
    for m in markers:
        by_deadline.setdefault(m.day, []).append(m)
    placed: list[tuple[float, float, int]] = []  # x, half width, row
    for day, group in sorted(by_deadline.items()):
        label = "/".join(m.label for m in group)
        flags = {m.met for m in group}
        met = False if False in flags else None if None in flags else True
        cls = "marker" + ("" if met is None else " met" if met else " missed")
        stroke = "#8a939e" if met is None else "#2e7d32" if met else "#c62828"
        xm, half = X(x(day)), 3.5 * len(label) + 3
        used = {row for px, ph, row in placed if abs(px - xm) < half + ph}
        row = next((r for r in range(MARKER_ROWS) if r not in used), None)
        parts.append(
            f'<line x1="{xm:.1f}" y1="{TOP}" x2="{xm:.1f}" y2="{TOP + h}" class="{cls}"'
            f' stroke="{stroke}" stroke-dasharray="4 3"><title>{escape(label)}'
            f" ({loc.row_day(day)})</title></line>"
        )
        if row is not None:
            placed.append((xm, half, row))
            parts.append(
                f'<text x="{xm:.1f}" y="{TOP - 5 - 12 * row}" text-anchor="middle"'
                f' class="marker-label" font-size="11" fill="{stroke}">'
                f"{escape(label)}</text>"
            )
    legend_x = LEFT
    for i, s in enumerate(series):
        colour = s.colour or colour_of(s.name, i)
        pts = " ".join(f"{X(x(d)):.1f},{y(v):.1f}" for d, v in s.points if not math.isnan(v))
        legend = (
            f'<text x="{X(legend_x + 18)}" y="{HEIGHT - 10}" class="legend">'
            if not loc.rtl
            else f'<text x="{X(legend_x + 18)}" y="{HEIGHT - 10}" text-anchor="end" class="legend">'
        )
        parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2.5">'
            f"<title>{escape(s.name)}</title></polyline>"
            f'<rect x="{loc.box(legend_x, 14)}" y="{HEIGHT - 17}" width="14" height="4"'
            f' fill="{colour}"/>'
            f"{legend}{escape(s.name)}</text>"
        )
        legend_x += 30 + loc.text_width(s.name)
    parts.append("</svg>")
    by_day: dict[date, dict[str, float]] = {}
    for s in series:
        for d, v in s.points:
            by_day.setdefault(d, {})[s.name] = v
    labels: dict[date, list[str]] = {}
    for m in markers:
        labels.setdefault(m.day, []).append(m.label)
    rows = [
        [loc.row_day(d), *(loc.value(by_day.get(d, {}).get(s.name, float("nan"))) for s in series)]
        + [", ".join(labels.get(d, []))]
        for d in days
        if d in by_day
    ]
    return Chart(
        "".join(parts), ["day", *(f"{s.name} ({unit})" for s in series), "milestone"], rows
    )


def bar_chart(
    title: str,
    bars: list[tuple[str, float]],
    unit: str = "t",
    colour: str | None = None,
    *,
    lang: str = "en",
    empty: str = "no data yet",
) -> Chart:
    """Horizontal bars, one per label, all in one colour (the chart's meaning: `colour`,
    default the blue of "removed"); its table has one row per bar. With unit "%" the
    scale runs to 100. In `lang`'s numbers; for a language written right to left the
    labels stand on the right and the bars grow leftwards."""
    loc = _Locale(lang)
    X, anchor = loc.x, loc.anchor
    if not bars:
        return Chart(_empty(title, empty), ["group", unit])
    top = 100.0 if unit == "%" else nice_ticks(0.0, max([v for _, v in bars] + [1.0]))[-1]
    row_h, label_w = 30, 190
    height = TOP + row_h * len(bars) + 8
    w = WIDTH - label_w - 100
    fill = colour or COLOURS["removed"]
    parts = [_svg_open(title, height, loc)]
    for v in nice_ticks(0.0, top, 5):
        xv = X(label_w + w * v / top)
        parts.append(
            f'<line x1="{xv:.1f}" y1="{TOP - 4}" x2="{xv:.1f}" y2="{height - 8}" stroke="#e3e7eb"/>'
            f'<text x="{xv:.1f}" y="{TOP - 10}" text-anchor="middle" class="tick">'
            f"{loc.tick(v)}{'' if unit == '%' else ' '}{unit if v == top else ''}</text>"
        )
    for i, (label, v) in enumerate(bars):
        yy = TOP + i * row_h
        bw = w * v / top
        value = loc.value(v)
        after = "" if not loc.rtl else f' text-anchor="{anchor("start")}"'
        bar_x = f"{loc.box(label_w, bw):.1f}" if loc.rtl else f"{label_w}"
        parts.append(
            f'<text x="{X(label_w - 8)}" y="{yy + 20}" text-anchor="{anchor("end")}"'
            f' class="tick">{escape(label)}</text>'
            f'<rect x="{bar_x}"'
            f' y="{yy + 5}" width="{bw:.1f}" height="{row_h - 10}"'
            f' fill="{fill}"><title>{escape(label)}: {value} {unit}</title></rect>'
            f'<text x="{X(label_w + bw + 6):.1f}" y="{yy + 20}"{after} class="tick">'
            f"{value} {unit}</text>"
        )
    parts.append("</svg>")
    return Chart("".join(parts), ["group", unit], [[label, loc.value(v)] for label, v in bars])
