"""Charts as inline SVG, drawn on the server from the same figures as the tables behind
them (pure functions: figures in, markup out). Each chart comes with its data as rows, so
that every page and report shows a table behind each chart (a text alternative)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html import escape

__all__ = ["Series", "Marker", "line_chart", "bar_chart"]

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40
COLOURS = ["#1f5fa8", "#c8553d", "#2e8b57", "#7a4fa0", "#b8860b"]


@dataclass(frozen=True)
class Series:
    """A named line: (day, value) points in time order."""

    name: str
    points: list[tuple[date, float]]


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


def _fmt(v: float) -> str:
    return f"{v:,.1f}"


def line_chart(
    title: str, series: list[Series], markers: list[Marker] | None = None, unit: str = "t"
) -> Chart:
    """Lines over time with labelled vertical markers; its table has one row per day."""
    markers = markers or []
    days = sorted({d for s in series for d, _ in s.points} | {m.day for m in markers})
    if not days:
        return Chart(f'<p class="empty">{escape(title)}: no data yet.</p>', ["day"])
    top = max([v for s in series for _, v in s.points] + [1.0])
    d0, d1 = days[0].toordinal(), max(days[-1].toordinal(), days[0].toordinal() + 1)
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(d: date) -> float:
        return LEFT + w * (d.toordinal() - d0) / (d1 - d0)

    def y(v: float) -> float:
        return TOP + h * (1 - v / top)

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
        ' class="chart" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{LEFT}" y1="{TOP + h}" x2="{LEFT + w}" y2="{TOP + h}" class="axis"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + h}" class="axis"/>',
    ]
    for frac in (0, 0.5, 1):
        v = top * frac
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" class="tick">'
            f"{_fmt(v)} {unit}</text>"
        )
    for d, anchor in ((days[0], "start"), (days[len(days) // 2], "middle"), (days[-1], "end")):
        parts.append(
            f'<text x="{x(d):.1f}" y="{TOP + h + 16}" text-anchor="{anchor}" class="tick">'
            f"{d.isoformat()}</text>"
        )
    for m in markers:
        cls = "marker" + ("" if m.met is None else " met" if m.met else " missed")
        parts.append(
            f'<line x1="{x(m.day):.1f}" y1="{TOP}" x2="{x(m.day):.1f}" y2="{TOP + h}"'
            f' class="{cls}"><title>{escape(m.label)} ({m.day.isoformat()})</title></line>'
        )
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        pts = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in s.points)
        parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(s.name)}</title></polyline>"
        )
        parts.append(
            f'<text x="{LEFT + 8 + 150 * i}" y="{HEIGHT - 4}" fill="{colour}" class="legend">'
            f"&#9632; {escape(s.name)}</text>"
        )
    parts.append("</svg>")
    by_day: dict[date, dict[str, float]] = {}
    for s in series:
        for d, v in s.points:
            by_day.setdefault(d, {})[s.name] = v
    labels = {m.day: m.label for m in markers}
    rows = [
        [d.isoformat(), *(_fmt(by_day.get(d, {}).get(s.name, float("nan"))) for s in series)]
        + [labels.get(d, "")]
        for d in days
        if d in by_day
    ]
    return Chart(
        "".join(parts), ["day", *(f"{s.name} ({unit})" for s in series), "milestone"], rows
    )


def bar_chart(title: str, bars: list[tuple[str, float]], unit: str = "t") -> Chart:
    """Horizontal bars, one per label; its table has one row per bar."""
    if not bars:
        return Chart(f'<p class="empty">{escape(title)}: no data yet.</p>', ["group", unit])
    top = max([v for _, v in bars] + [1.0])
    row_h, label_w = 26, 170
    height = TOP + row_h * len(bars) + 8
    w = WIDTH - label_w - 90
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}"'
        ' class="chart" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, v) in enumerate(bars):
        yy = TOP + i * row_h
        bw = w * v / top
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<text x="{label_w - 6}" y="{yy + 16}" text-anchor="end" class="tick">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{yy + 4}" width="{bw:.1f}" height="{row_h - 8}"'
            f' fill="{colour}"><title>{escape(label)}: {_fmt(v)} {unit}</title></rect>'
            f'<text x="{label_w + bw + 6:.1f}" y="{yy + 16}" class="tick">{_fmt(v)} {unit}</text>'
        )
    parts.append("</svg>")
    return Chart("".join(parts), ["group", unit], [[label, _fmt(v)] for label, v in bars])
