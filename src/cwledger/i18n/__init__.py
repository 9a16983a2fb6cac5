"""The parties' languages: the six official languages of the OPCW and the United Nations.

The interface and the reports' own sentences are translated; the data never is (site names,
item ids and free text are shown as recorded). Messages are gettext catalogues, one per
language and domain, in ``catalogues/<lang>/LC_MESSAGES/<domain>.po``: ``web`` for the
dashboard, ``reports`` for the monthly report. English is the source language: its
messages are the msgids, so English needs no catalogue. The `.po` files are read as they
are (compiled in memory on first use), so there is no build step and nothing to forget.

Numbers, percentages, tonnes and dates are formatted by Babel from CLDR's data for each
locale, never by hand; data files keep ISO 8601 and plain numbers.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from babel.units import format_unit
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

__all__ = [
    "CATALOGUES",
    "DEFAULT",
    "DOMAINS",
    "LANGUAGES",
    "Language",
    "UnknownLanguage",
    "catalogue_path",
    "context_language",
    "date",
    "datetime",
    "fixed",
    "install",
    "language",
    "negotiate",
    "number",
    "percent",
    "tonnes",
    "translations",
]

CATALOGUES = Path(__file__).resolve().parent / "catalogues"
DOMAINS = ("web", "reports")
DEFAULT = "en"


@dataclass(frozen=True)
class Language:
    """One official language: its code (BCP 47, as the catalogues are named), its name as
    its readers write it (the language switch shows that) and its writing direction."""

    code: str
    name: str
    direction: str  # "ltr" or "rtl"


LANGUAGES: tuple[Language, ...] = tuple(
    Language(code, Locale.parse(code).display_name or code, Locale.parse(code).text_direction)
    for code in ("ar", "zh", "en", "fr", "ru", "es")
)
"""In the order the UN lists them (alphabetical in English: Arabic, Chinese, English,
French, Russian, Spanish)."""

_BY_CODE = {lang.code: lang for lang in LANGUAGES}


class UnknownLanguage(ValueError):
    """A language that is not one of the six."""

    def __init__(self, code: str) -> None:
        known = ", ".join(lang.code for lang in LANGUAGES)
        super().__init__(f"unknown language {code!r}: one of {known}")
        self.code = code


def language(code: str) -> Language:
    """The language of `code` (``fr``, ``fr-CH`` or ``fr_CH``: a region is dropped)."""
    base = code.replace("_", "-").split("-", 1)[0].lower()
    try:
        return _BY_CODE[base]
    except KeyError:
        raise UnknownLanguage(code) from None


def negotiate(accept_language: str | None) -> str:
    """The language to serve for a browser's ``Accept-Language`` header: the first of its
    preferences, by quality, that is one of the six; English when none is (or no header).
    A malformed header is treated as absent, never as an error."""
    if not accept_language:
        return DEFAULT
    preferences: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            preferences.append((-quality, position, tag.strip()))
    for _, _, tag in sorted(preferences):
        try:
            return language(tag).code
        except UnknownLanguage:
            continue
    return DEFAULT


def catalogue_path(code: str, domain: str) -> Path:
    """Where the catalogue of `domain` in language `code` lives."""
    return CATALOGUES / code / "LC_MESSAGES" / f"{domain}.po"


@cache
def translations(code: str, domain: str) -> gettext.NullTranslations:
    """The messages of `domain` in language `code`; English (the source) translates to
    itself. A catalogue is compiled in memory the first time it is asked for."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown message domain {domain!r}: one of {', '.join(DOMAINS)}")
    lang = language(code)
    path = catalogue_path(lang.code, domain)
    if lang.code == DEFAULT or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang.code, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


def fixed(digits: int) -> str:
    """The CLDR number pattern of a grouped number with exactly `digits` decimals."""
    return "#,##0" + ("." + "0" * digits if digits else "")


def context_language(context: Context) -> str:
    """The language a template is rendered in: its context's ``lang`` (English if none)."""
    return language(str(context.get("lang") or DEFAULT)).code


def _locale(code: str) -> Locale:
    return Locale.parse(language(code).code)


def number(value: float, code: str, digits: int | None = None) -> str:
    """A number as `code`'s locale writes it (grouping, decimal sign); `digits` fixes the
    number of decimals, None keeps the value's own."""
    if digits is None:
        return format_decimal(value, locale=_locale(code))
    return format_decimal(
        value, format=fixed(digits), locale=_locale(code), decimal_quantization=True
    )


def percent(fraction: float, code: str, digits: int = 1) -> str:
    """A fraction (0.939) as a percentage in `code`'s locale ("93.9%", "93,9 %", "٪")."""
    return format_percent(fraction, format=fixed(digits) + "%", locale=_locale(code))


def tonnes(value: float, code: str, digits: int = 1) -> str:
    """A mass in tonnes with the locale's own unit name ("1,234.5 metric tons", "1 234,5
    tonnes", "1,234.5公吨")."""
    return format_unit(value, "mass-tonne", format=fixed(digits), locale=_locale(code))


def date(value: dt.date, code: str, form: str = "medium") -> str:
    """A date as `code`'s locale writes it (`form`: short, medium, long, full)."""
    return format_date(value, format=form, locale=_locale(code))


def datetime(value: dt.datetime, code: str, form: str = "medium") -> str:
    """A moment as `code`'s locale writes it, in the moment's own time zone."""
    return format_datetime(value, format=form, tzinfo=value.tzinfo, locale=_locale(code))


def install(env: Environment, domain: str) -> None:
    """Give `env`'s templates gettext (``{% trans %}``, ``_()``, ``ngettext``) in `domain`
    and the locale filters (``number``, ``percent``, ``tonnes``, ``date``), all in the
    language named by the render context's ``lang`` (English when it names none). One
    environment serves every language: the language is per render, not per environment."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown message domain {domain!r}: one of {', '.join(DOMAINS)}")
    env.add_extension("jinja2.ext.i18n")

    @pass_context
    def _gettext(context: Context, message: str) -> str:
        return translations(context_language(context), domain).gettext(message)

    @pass_context
    def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
        return translations(context_language(context), domain).ngettext(singular, plural, n)

    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )

    @pass_context
    def _number(context: Context, value: float, digits: int | None = None) -> str:
        return number(value, context_language(context), digits)

    @pass_context
    def _percent(context: Context, fraction: float, digits: int = 1) -> str:
        return percent(fraction, context_language(context), digits)

    @pass_context
    def _tonnes(context: Context, value: float, digits: int = 1) -> str:
        return tonnes(value, context_language(context), digits)

    @pass_context
    def _date(context: Context, value: Any, form: str = "medium") -> str:
        if isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        if isinstance(value, dt.datetime):
            return datetime(value, context_language(context), form)
        return date(value, context_language(context), form)

    env.filters.update(number=_number, percent=_percent, tonnes=_tonnes, date=_date)
    env.globals.update(languages=LANGUAGES)
