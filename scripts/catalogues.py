#!/usr/bin/env python
"""`make catalogues`: extract the messages of a domain's code and templates (the mapping in
``src/cwledger/i18n/babel-<domain>.cfg``, as ``pybabel extract`` reads it) and bring every
language's catalogue up to date with them: a new message lands in all five catalogues,
untranslated (the catalogue check in the tests then fails until it is translated), a
message no longer used is dropped.

    python scripts/catalogues.py [--check] [DOMAIN ...]     (default: every domain with a .cfg)

With ``--check`` nothing is written: it lists what is missing, untranslated, fuzzy or no
longer used, and exits 1 if anything is.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
I18N = ROOT / "src" / "cwledger" / "i18n"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
LANGUAGES = ("ar", "zh", "fr", "ru", "es")  # English is the source: its msgids


def mapping(domain: str) -> Path:
    """The extraction mapping of `domain`."""
    return I18N / f"babel-{domain}.cfg"


def extract(domain: str) -> Catalog:
    """Every message of `domain`'s code and templates, as a template catalogue."""
    with mapping(domain).open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    template = Catalog(domain=domain, project="cwledger", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def path(lang: str, domain: str) -> Path:
    """Where `lang`'s catalogue of `domain` is."""
    return I18N / "catalogues" / lang / "LC_MESSAGES" / f"{domain}.po"


def read(lang: str, domain: str) -> Catalog:
    """`lang`'s catalogue of `domain` (empty if there is none yet)."""
    p = path(lang, domain)
    if not p.exists():
        return Catalog(locale=lang, domain=domain, project="cwledger", fuzzy=False)
    with p.open("rb") as fh:
        return read_po(fh, locale=lang, domain=domain)


def problems(catalog: Catalog, template: Catalog) -> list[str]:
    """What is wrong with `catalog` against `template`: missing, untranslated, fuzzy or
    unused messages."""
    out = []
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    have = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    for mid in sorted(wanted - have.keys()):
        out.append(f"missing: {mid!r}")
    for mid, m in sorted(have.items()):
        if mid not in wanted:
            out.append(f"no longer used: {mid!r}")
        elif m.fuzzy:
            out.append(f"fuzzy: {mid!r}")
        elif not (all(m.string) if isinstance(m.string, tuple | list) else m.string):
            out.append(f"untranslated: {mid!r}")
    return out


def update(domain: str) -> list[Path]:
    """Bring every language's catalogue of `domain` up to date with its messages."""
    template = extract(domain)
    written = []
    for lang in LANGUAGES:
        catalog = read(lang, domain)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        p = path(lang, domain)
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("wb") as fh:
            write_po(fh, catalog, width=100, sort_output=False, include_lineno=False)
        written.append(p)
    return written


def main() -> int:
    args = sys.argv[1:]
    check = "--check" in args
    domains = [a for a in args if not a.startswith("--")] or sorted(
        p.stem.removeprefix("babel-") for p in I18N.glob("babel-*.cfg")
    )
    bad = 0
    for domain in domains:
        if not check:
            for p in update(domain):
                print(p.relative_to(ROOT))
            continue
        template = extract(domain)
        for lang in LANGUAGES:
            for problem in problems(read(lang, domain), template):
                print(f"{lang}/{domain}: {problem}")
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
