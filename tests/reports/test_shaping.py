"""Arabic for a renderer that draws letter by letter (`cwledger.reports.shaping`): the
letters in their joined presentation forms, in visual order, digits left to right, and
text with no right-to-left letter untouched."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from cwledger.reports.shaping import chart_in_visual_order, visual

# The Arabic letters (hamza to ghain, feh to yeh), without harakat or tatweel.
LETTERS = [chr(c) for c in [*range(0x0621, 0x063B), *range(0x0641, 0x064B)]]
WORDS = st.lists(st.text(st.sampled_from(LETTERS), min_size=1, max_size=8), min_size=1, max_size=4)
NOT_RTL = st.characters(
    blacklist_categories=["Cs"],
    blacklist_characters=[
        chr(c) for c in [*range(0x0590, 0x0900), *range(0xFB1D, 0xFE00), *range(0xFE70, 0xFF00)]
    ],
)


def _presentation_form(c: str) -> bool:
    return 0xFB50 <= ord(c) <= 0xFDFF or 0xFE70 <= ord(c) <= 0xFEFF


def test_a_label_with_a_number_is_joined_reversed_and_keeps_its_digits() -> None:
    # "priority 12": alef isolated, lam-alef-with-hamza ligature isolated, waw isolated, lam
    # initial, waw final, yeh initial, teh marbuta final; drawn left to right from the end.
    assert visual("الأولوية 12") == "12 \ufe94\ufef3\ufeee\ufedf\ufeed\ufef7\ufe8d"


def test_a_day_reads_from_the_right_and_brackets_are_mirrored() -> None:
    # "20 March 2014": the day at the right end, where an Arabic reader starts.
    assert visual("20 مارس 2014") == "2014 \ufeb1\ufead\ufe8e\ufee3 20"
    # "(category 1)": the bracket that opens, at the right, drawn as an opening one.
    assert visual("(الفئة 1)") == "(1 \ufe94\ufe8c\ufed4\ufedf\ufe8d)"


def test_harakat_are_dropped_not_drawn_alone() -> None:
    # "not yet destroyed", vocalised as the catalogue writes it.
    shown = visual("لم يُدمَّر بعد")
    assert not any(unicodedata.category(c) == "Mn" for c in shown)
    assert unicodedata.normalize("NFKC", shown[::-1]) == "لم يدمر بعد"


@given(WORDS)
def test_arabic_words_come_back_in_presentation_forms_in_visual_order(words: list[str]) -> None:
    text = " ".join(words)
    shown = visual(text)
    assert all(_presentation_form(c) for c in shown if c != " ")
    # Read from the right and decomposed, the words as written (lam-alef back in two).
    assert unicodedata.normalize("NFKC", shown[::-1]) == text


@given(WORDS, st.integers(min_value=0, max_value=10**9))
def test_digits_after_arabic_stay_left_to_right(words: list[str], n: int) -> None:
    text = f"{' '.join(words)} {n:,}"
    assert visual(text).startswith(f"{n:,} ")


@given(st.text(NOT_RTL))
def test_text_without_a_right_to_left_letter_is_unchanged(text: str) -> None:
    assert visual(text) == text


def test_a_chart_s_text_elements_change_and_nothing_else() -> None:
    svg = (
        '<svg viewBox="0 0 720 320" aria-label="لم يُدمَّر"><title>لم</title>'
        '<text x="656" y="40" text-anchor="start" class="tick">طن &amp; %</text>'
        '<text x="10" y="40" class="tick">1,500</text></svg>'
    )
    out = chart_in_visual_order(svg)
    assert out == svg.replace("طن &amp; %", "% &amp; \ufee6\ufec3")
