"""The catalogues against the code: every message the templates and the code of a domain
hold (as `scripts/catalogues.py` extracts them) is in every language's catalogue,
translated, not fuzzy, with the same placeholders (Babel's own checkers) and the right
number of plural forms; and a catalogue holds no message the code no longer uses."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog, Message

from cwledger import i18n
from cwledger.i18n import extraction

OTHERS = [lang.code for lang in i18n.LANGUAGES if lang.code != i18n.DEFAULT]
# The domains whose messages are extracted here (the dashboard's once its mapping exists).
DOMAINS = [d for d in i18n.DOMAINS if extraction.mapping(d).exists()]


def _key(message: Message) -> tuple[str | None, str]:
    mid = message.id
    return message.context, mid if isinstance(mid, str) else "\x00".join(mid)


@pytest.fixture(scope="module", params=DOMAINS)
def template(request: pytest.FixtureRequest) -> tuple[str, Catalog]:
    return request.param, extraction.extract(request.param)


def test_the_reports_messages_are_extracted() -> None:
    assert DOMAINS == ["web", "reports"]
    found = {_key(m) for m in extraction.extract("reports") if m.id}
    # from a template, from the code (N_), with a context, with a plural
    assert (None, "Verification statement") in found
    assert (None, "priority in-country") in found
    assert ("column", "due") in found
    assert (None, "%(num)s item\x00%(num)s items") in found
    assert len(found) > 150


@pytest.mark.parametrize("code", OTHERS)
def test_every_message_is_translated_in_every_catalogue(
    template: tuple[str, Catalog], code: str
) -> None:
    domain, extracted = template
    catalog = extraction.read(code, domain)
    wanted = {_key(m) for m in extracted if m.id}
    held = {_key(m): m for m in catalog if m.id}
    assert wanted - set(held) == set(), f"{code}/{domain}: not in the catalogue"
    assert set(held) - wanted == set(), f"{code}/{domain}: no longer in the code"
    for key, m in held.items():
        assert not m.fuzzy, f"{code}/{domain}: fuzzy {key}"
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert strings and all(s.strip() for s in strings), f"{code}/{domain}: untranslated {key}"
        if isinstance(m.id, tuple):
            assert len(strings) == catalog.num_plurals, f"{code}/{domain}: plural forms {key}"


@pytest.mark.parametrize("code", OTHERS)
def test_placeholders_agree_by_babels_checkers(template: tuple[str, Catalog], code: str) -> None:
    domain, _ = template
    catalog = extraction.read(code, domain)
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == []


def test_the_checkers_catch_a_wrong_placeholder() -> None:
    """The check above is not vacuous: a translation that renames a placeholder fails it."""
    catalog = Catalog(locale="fr")
    catalog.add("Milestones: %(total)s", "Jalons : %(totals)s", flags=["python-format"])
    assert list(catalog.check())


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_script_finds_the_catalogues_up_to_date(domain: str) -> None:
    """`scripts/catalogues.py --check` would pass: writing them again changes nothing."""
    outcomes = extraction.update(domain, write=False)
    assert [o.code for o in outcomes] == OTHERS
    assert not any(o.changed or o.untranslated or o.fuzzy for o in outcomes)
