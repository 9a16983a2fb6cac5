"""Arabic in a PDF chart: each chart's text as a renderer that draws it letter by letter
must be given it (pure functions: text in, text out).

WeasyPrint (70) draws an SVG ``<text>`` one code point at a time, at the positions SVG
allows each glyph (``weasyprint/svg/text.py``): HarfBuzz never sees the word, so Arabic
letters would come out in their isolated forms, unjoined, and left to right in logical
order (upstream: Kozea/WeasyPrint#2249, #2909). Given the letters already in the
presentation form of their place in the word (Unicode's Arabic Presentation Forms-A/B,
which the report's Noto Arabic faces and DejaVu Sans carry) and already in visual order,
each letter drawn alone is the glyph a shaper would have chosen, in its place: the word
joined, read right to left. `arabic_reshaper` picks the forms (and the lam-alef
ligatures), `python-bidi` the order (its Python implementation of the Unicode bidi
algorithm, `bidi.algorithm`: the default Rust one leaves brackets unmirrored).

Text with no right-to-left letter comes back as it was."""

from __future__ import annotations

import re
from html import escape, unescape

from arabic_reshaper import ArabicReshaper
from bidi.algorithm import get_display

__all__ = ["visual", "chart_in_visual_order"]

_RESHAPER = ArabicReshaper(
    configuration={
        "language": "Arabic",
        # A lone mark (damma, shadda) drawn by itself would stand beside its letter (or on
        # a dotted circle): the chart writes its words unvocalised, as most print does.
        "delete_harakat": True,
        "shift_harakat_position": False,
        "delete_tatweel": False,
        "support_zwj": True,
        "use_unshaped_instead_of_isolated": False,
        "support_ligatures": True,  # lam-alef (required); the others as the library's defaults
    }
)

# A right-to-left letter (Hebrew, Arabic, Syriac, Thaana, N'Ko and their presentation
# forms): the only text whose order or forms change.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")

# A chart's text element and its text (cwledger.charts writes no element inside one).
_TEXT = re.compile(r"(<text\b[^>]*>)([^<]*)(</text>)")


def visual(text: str) -> str:
    """`text` (in logical order) as it is drawn, left to right, one code point after the
    other: Arabic letters in their joined presentation forms, harakat dropped, and the
    whole in the visual order of the Unicode bidi algorithm, the label's direction that
    of its first letter (rules P2-P3, as ``dir="auto"``): Arabic words reversed, digits
    and Latin kept left to right, brackets mirrored ("20 مارس 2014" reads from the right,
    the day first)."""
    if not _RTL.search(text):
        return text
    return str(get_display(_RESHAPER.reshape(text)))


def chart_in_visual_order(svg: str) -> str:
    """A chart's SVG with the text of each ``<text>`` element `visual` (its position and
    anchor unchanged: the renderer measures the drawn letters to anchor them)."""

    def one(m: re.Match[str]) -> str:
        return m[1] + escape(visual(unescape(m[2])), quote=False) + m[3]

    return _TEXT.sub(one, svg)
