"""The messages of a domain as the code and templates hold them, and the catalogues brought
up to date with them (`scripts/catalogues.py`); the tests check each catalogue against the
same extraction, so a message added to a template without its translations fails them.

What is extracted for a domain is named by ``babel-<domain>.cfg`` beside this module (a
Babel mapping, its paths from the repository's root). The keywords are Babel's own
(``_``, ``gettext``, ``ngettext``, ``N_``...) and ``Nn_`` (a message and its plural,
marked where it is written and translated where it is shown).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from cwledger.i18n import CATALOGUES, DEFAULT, DOMAINS, LANGUAGES, catalogue_path

__all__ = ["KEYWORDS", "ROOT", "Outcome", "extract", "mapping", "read", "update"]

ROOT = Path(__file__).resolve().parents[3]
"""The repository's root (``src/cwledger/i18n`` is three levels below it)."""

KEYWORDS = {**DEFAULT_KEYWORDS, "Nn_": (1, 2)}

WIDTH = 100  # the catalogues' line width, as the code's
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # no clock in a catalogue: the same code, the same file


def mapping(domain: str) -> Path:
    """The Babel mapping of `domain`: which files its messages are extracted from."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown message domain {domain!r}: one of {', '.join(DOMAINS)}")
    return CATALOGUES.parent / f"babel-{domain}.cfg"


def extract(domain: str, root: Path = ROOT) -> Catalog:
    """Every message of `domain` in the code and templates under `root`, as a template
    catalogue (msgids only), with where each is used."""
    with mapping(domain).open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(mapping(domain)))  # type: ignore[no-untyped-call]
    template = Catalog(domain=domain, project="cwledger", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root),
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read(code: str, domain: str) -> Catalog:
    """The catalogue of `domain` in language `code` as stored (an empty one if none is)."""
    path = catalogue_path(code, domain)
    if not path.exists():
        name = next(lang.name for lang in LANGUAGES if lang.code == code)
        return Catalog(
            locale=code,
            domain=domain,
            header_comment=f"# cwledger's {domain} messages in {name} ({code}):"
            " scripts/catalogues.py keeps them up to date with the code.",
            project="cwledger",
            version="",
            copyright_holder="",
            msgid_bugs_address="",
            last_translator="cwledger",
            language_team=f"{name} ({code})",
            creation_date=EPOCH,
            revision_date=EPOCH,
            fuzzy=False,
        )
    with path.open("rb") as fh:
        return read_po(fh, locale=code, domain=domain)


@dataclass(frozen=True)
class Outcome:
    """What updating one catalogue did, and what it still lacks."""

    code: str
    path: Path
    changed: bool
    messages: int
    untranslated: int
    fuzzy: int


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # No line numbers: a catalogue changes when its messages do, not when code moves.
    write_po(buffer, catalog, width=WIDTH, ignore_obsolete=True, include_lineno=False)
    return buffer.getvalue()


def update(domain: str, codes: list[str] | None = None, *, write: bool = True) -> list[Outcome]:
    """Bring the catalogues of `domain` (every language but English, the source, unless
    `codes` names some) up to date with the code: new messages added untranslated, the
    ones no longer used dropped, every reference refreshed. No fuzzy matching: a changed
    message is a new message, never a guess. Writes them unless `write` is false."""
    template = extract(domain)
    outcomes = []
    for code in codes or [lang.code for lang in LANGUAGES if lang.code != DEFAULT]:
        path = catalogue_path(code, domain)
        before = path.read_bytes() if path.exists() else b""
        catalog = read(code, domain)
        catalog.update(
            template,
            no_fuzzy_matching=True,
            update_header_comment=False,
            update_creation_date=False,
        )
        catalog.obsolete.clear()
        after = _po_bytes(catalog)
        if write and after != before:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(after)
        messages = [m for m in catalog if m.id]
        outcomes.append(
            Outcome(
                code=code,
                path=path,
                changed=after != before,
                messages=len(messages),
                untranslated=sum(1 for m in messages if not m.string or not all(m.string)),
                fuzzy=sum(1 for m in messages if m.fuzzy),
            )
        )
    return outcomes
