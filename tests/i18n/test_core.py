"""The languages' core: negotiation, Babel's formats, and one environment for six languages."""

from __future__ import annotations

import datetime as dt

import pytest
from babel.numbers import parse_decimal
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment

from cwledger import i18n

CODES = [lang.code for lang in i18n.LANGUAGES]


def test_the_six_official_languages_with_their_own_names_and_directions() -> None:
    assert CODES == ["ar", "zh", "en", "fr", "ru", "es"]
    by_code = {lang.code: lang for lang in i18n.LANGUAGES}
    assert by_code["ar"].direction == "rtl"
    assert {lang.direction for lang in i18n.LANGUAGES if lang.code != "ar"} == {"ltr"}
    assert by_code["ru"].name == "русский"
    assert by_code["zh"].name == "中文"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("de-DE, de;q=0.9, ru;q=0.5, en;q=0.4", "ru"),
        ("en;q=0.1, ar;q=0.9", "ar"),
        ("zh-Hans-CN", "zh"),
        ("es-419", "es"),
        ("de, it", "en"),
        ("ar;q=0, fr", "fr"),
        ("ru;q=oops, es;q=0.5", "es"),
    ],
)
def test_accept_language_chooses_the_first_official_language_by_quality(
    header: str | None, expected: str
) -> None:
    assert i18n.negotiate(header) == expected


@given(st.text(max_size=200))
def test_any_accept_language_header_gives_one_of_the_six(header: str) -> None:
    assert i18n.negotiate(header) in CODES


def test_an_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(i18n.UnknownLanguage, match="one of ar, zh, en, fr, ru, es"):
        i18n.language("de")
    assert i18n.language("fr_CA").code == "fr"


def test_english_is_the_source_and_translates_to_itself() -> None:
    assert i18n.translations("en", "web").gettext("Overview") == "Overview"
    with pytest.raises(ValueError, match="unknown message domain"):
        i18n.translations("fr", "cli")


@pytest.mark.parametrize("code", CODES)
@given(value=st.decimals(min_value=-(10**12), max_value=10**12, places=1))
def test_numbers_read_back_as_the_same_number_in_every_locale(code: str, value: object) -> None:
    written = i18n.number(float(value), code, digits=1)  # type: ignore[arg-type]
    assert parse_decimal(written, locale=code) == value


def test_formats_come_from_cldr() -> None:
    assert i18n.number(1234567.5, "fr", 1) == "1\u202f234\u202f567,5"
    assert i18n.number(1234567.5, "es", 1) == "1.234.567,5"
    assert i18n.percent(0.939, "en") == "93.9%"
    assert i18n.tonnes(1300, "ru", 0) == "1\xa0300 тонн"
    assert i18n.date(dt.date(2014, 6, 23), "fr", "long") == "23 juin 2014"
    assert i18n.date(dt.date(2014, 6, 23), "zh", "long") == "2014年6月23日"


def test_one_environment_renders_each_language_per_render() -> None:
    env = Environment(autoescape=True)
    i18n.install(env, "web")
    template = env.from_string(
        "{{ _('Overview') }} {{ 0.5 | percent }} {{ '2014-06-23' | date('long') }}"
    )
    assert template.render(lang="en") == "Overview 50.0% June 23, 2014"
    assert template.render(lang="es").endswith("23 de junio de 2014")
    assert template.render() == template.render(lang="en")
