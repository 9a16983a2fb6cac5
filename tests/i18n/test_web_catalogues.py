"""The dashboard's catalogues: every message the templates and the code use is in every
language's catalogue, translated (no empty string, nothing fuzzy), with the same
placeholders and the same markup as the English (Babel's own checkers, and a stricter
look); the words of the record the pages show as words are all marked for translation."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

import cwledger.errors as errors
from cwledger import i18n
from cwledger.book.progress import MILESTONE_STATES
from cwledger.book.records import ItemState
from cwledger.book.registry import EVENT_TYPES
from cwledger.i18n import extraction
from cwledger.model.events import ROLES
from cwledger.model.findings import FindingStatus
from cwledger.model.items import ItemKind, SealCondition, SealState, SealType
from cwledger.model.sites import AccessStatus, SiteKind
from cwledger.web.terms import ERROR_TITLES, VOCABULARY, group

TRANSLATED = [lang.code for lang in i18n.LANGUAGES if lang.code != i18n.DEFAULT]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TAG = re.compile(r"</?[a-z][^>]*>")


TEMPLATE: Catalog = extraction.extract("web")


def _catalogue(lang: str) -> Catalog:
    with i18n.catalogue_path(lang, "web").open("rb") as fh:
        return read_po(fh, locale=lang, domain="web")


def _forms(m: Message) -> list[str]:
    return list(m.string) if isinstance(m.string, tuple | list) else [m.string]


def _ids(m: Message) -> list[str]:
    return list(m.id) if isinstance(m.id, tuple | list) else [m.id]


def test_the_templates_and_the_code_have_messages() -> None:
    ids = {_ids(m)[0] for m in TEMPLATE if m.id}
    assert len(ids) > 400
    # from a template, from the code (the reader's gettext) and from N_ (the navigation)
    assert {"Where the elimination stands", "site %(site)s is not declared", "Log explorer"} <= ids


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_and_markup_match_the_english(lang: str) -> None:
    """Stricter than Babel's check (which lets a translation drop a placeholder): every
    form has exactly the English placeholders and the same tags."""
    wrong = []
    for m in _catalogue(lang):
        if not m.id:
            continue
        english = _ids(m)[-1]
        for form in _forms(m):
            if set(PLACEHOLDER.findall(form)) != set(PLACEHOLDER.findall(english)):
                wrong.append((english, form, "placeholders"))
            if Counter(TAG.findall(form)) != Counter(TAG.findall(english)):
                wrong.append((english, form, "markup"))
    assert wrong == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_a_page_sentence_is_translated_and_formats(lang: str) -> None:
    t = i18n.translations(lang, "web")
    msg = "removed (%(tonnes)s)"
    assert t.gettext(msg) != msg
    assert "12" in t.gettext(msg) % {"tonnes": "12"}
    assert t.ngettext("%(num)s item", "%(num)s items", 5) % {"num": 5} != "5 items"


def _words(values: Any) -> set[str]:
    return {str(v).replace("_", " ") for v in values}


def test_the_vocabulary_covers_the_records_words() -> None:
    shown = (
        _words(MILESTONE_STATES)
        | _words(FindingStatus)
        | _words(ItemState)
        | _words(ItemKind)
        | _words(SealType)
        | _words(SealCondition)
        | _words(SealState)
        | _words(SiteKind)
        | _words(AccessStatus)
        | _words(ROLES)
        | {etype.label for etype in EVENT_TYPES.values()}
    )
    assert shown <= set(VOCABULARY)


def test_every_problem_title_is_translatable() -> None:
    titles = {
        c.title
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, errors.CwledgerError)
    }
    assert titles <= set(ERROR_TITLES)


def test_groups_are_translated_with_their_number() -> None:
    assert group("category 2") == ("Category %(n)s", "2")
    assert group("priority 1") == ("Priority %(n)s", "1")
    assert group("priority in-country") is None
    fr = i18n.translations("fr", "web")
    assert fr.gettext("Category %(n)s") % {"n": "2"} == "Catégorie 2"


def _glossary() -> list[dict[str, str]]:
    import csv

    with (i18n.CATALOGUES.parent / "glossary.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_glossarys_terms_are_used(lang: str) -> None:
    """A message holding a term of the glossary (the OPCW's and the UN's words) says it
    with one of the glossary's forms in that language."""
    catalog = _catalogue(lang)
    checked, wrong = 0, []
    for row in _glossary():
        en = row["en"]
        plural = rf"{re.escape(en[:-1])}(?:y|ies)" if en.endswith("y") else rf"{re.escape(en)}s?"
        term = re.compile(rf"\b{plural}\b", re.IGNORECASE)
        forms = [f.strip().lower() for f in row[lang].split("|")]
        for m in catalog:
            if not m.id or not any(term.search(i) for i in _ids(m)):
                continue
            checked += 1
            for form in _forms(m):
                if not any(f in form.lower() for f in forms):
                    wrong.append((row["key"], _ids(m)[0], form))
    assert checked > 10
    assert wrong == []
