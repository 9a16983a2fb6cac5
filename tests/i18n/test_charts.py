"""The charts in each language: English as it always was, the others in their locale's
numbers and dates, Arabic mirrored (time runs right to left, the value axis on the right)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from babel.numbers import parse_decimal

from cwledger.charts import WIDTH, Marker, Series, bar_chart, line_chart
from cwledger.i18n import LANGUAGES

POINTS = [(date(2013, 10, 31), 1300.0), (date(2014, 1, 31), 912.5), (date(2014, 6, 30), 3.25)]


def _chart(lang: str) -> tuple[str, list[list[str]]]:
    c = line_chart(
        "burn-down",
        [Series("not yet destroyed", POINTS)],
        [Marker(date(2014, 2, 5), "M1", True)],
        lang=lang,
    )
    return c.svg, c.rows


def _ticks(svg: str) -> list[tuple[float, str, str]]:
    """(x, anchor, text) of every value-axis tick label."""
    return [
        (float(x), a, t)
        for x, a, t in re.findall(
            r'<text x="([0-9.]+)" y="[0-9.]+" text-anchor="(\w+)" class="tick">([^<]*)</text>',
            svg,
        )
    ]


def test_english_is_the_default_and_unchanged() -> None:
    svg, rows = _chart("en")
    assert (svg, rows) == _chart("en")
    assert (
        line_chart("b", [Series("s", POINTS)]).svg
        == line_chart("b", [Series("s", POINTS)], lang="en").svg
    )
    assert rows[0] == ["2013-10-31", "1,300.0", ""]
    assert "2014-01" in svg and 'direction="ltr"' not in svg


@pytest.mark.parametrize("lang", [x.code for x in LANGUAGES if x.code != "en"])
def test_table_numbers_are_the_english_numbers(lang: str) -> None:
    _, english = _chart("en")
    _, rows = _chart(lang)
    assert len(rows) == len(english)
    for row, en in zip(rows, english, strict=True):
        assert parse_decimal(row[1], locale=lang) == parse_decimal(en[1], locale="en")
        assert row[0] != en[0]  # a date as the locale writes it, not ISO


def test_french_writes_its_own_numbers() -> None:
    svg, rows = _chart("fr")
    assert rows[0][1] == "1\u202f300,0"
    assert "janv. 2014" in svg


def test_arabic_is_mirrored() -> None:
    en_svg, _ = _chart("en")
    ar_svg, _ = _chart("ar")
    assert 'direction="ltr"' in ar_svg  # anchors placed physically, not flipped again
    en_axis = [x for x, a, t in _ticks(en_svg) if a == "end" and t.replace(",", "").isdigit()]
    ar_axis = [x for x, a, t in _ticks(ar_svg) if a == "start" and t.replace(",", "").isdigit()]
    assert en_axis and ar_axis
    assert max(en_axis) < WIDTH / 2 < min(ar_axis)  # the value axis stands on the right
    # time runs right to left: the first point of the line is at the right
    first_x = float(re.search(r'<polyline points="([0-9.]+),', ar_svg).group(1))  # type: ignore[union-attr]
    assert first_x > WIDTH / 2


def test_bars_grow_leftwards_in_arabic() -> None:
    en = bar_chart("b", [("category 1", 10.0)])
    ar = bar_chart("b", [("category 1", 10.0)], lang="ar")
    (ex, ew), (ax, aw) = (
        tuple(
            map(
                float,
                re.search(r'<rect x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"', c.svg).groups(),
            )
        )  # type: ignore[union-attr]
        for c in (en, ar)
    )
    assert ew == aw and ax + aw == pytest.approx(WIDTH - ex)


def test_an_empty_chart_says_so_in_the_callers_words() -> None:
    c = line_chart("Burn-down", [], lang="fr", empty="pas encore de données")
    assert c.svg == '<p class="empty">Burn-down: pas encore de données.</p>'
