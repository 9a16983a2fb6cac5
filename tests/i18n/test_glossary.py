"""The glossary (`cwledger/i18n/glossary.csv`): the terms as the OPCW and the United Nations
write them in each official language, and every catalogue uses them.

Each row is one term: its key, its English, its translation in each of the other five
languages, and the source it comes from where one is known (blank otherwise). A
translation may list its grammatical forms after the first, separated by `` | `` (Russian
declines its nouns, Arabic and Spanish write plurals): a message uses the term when it
holds any of them. A catalogue message whose English holds a term (a whole word, its
plural allowed, case ignored) must hold the glossary's translation in its own.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from cwledger import i18n

GLOSSARY = Path(i18n.__file__).with_name("glossary.csv")
COLUMNS = ["key", "en", "ar", "zh", "fr", "ru", "es", "source"]
OTHERS = [lang.code for lang in i18n.LANGUAGES if lang.code != "en"]


@dataclass(frozen=True)
class Term:
    key: str
    en: str
    forms: dict[str, tuple[str, ...]]  # language -> the term and its grammatical forms
    source: str

    def in_english(self, text: str) -> bool:
        """Whether `text` holds the English term as whole words (its plural allowed)."""
        pattern = r"(?<![\w-])" + re.escape(self.en) + r"(?:s|es)?(?![\w-])"
        return re.search(pattern, text, flags=re.IGNORECASE) is not None

    def in_translation(self, code: str, text: str) -> bool:
        folded = text.casefold()
        return any(form.casefold() in folded for form in self.forms[code])


def _rows() -> list[dict[str, str]]:
    with GLOSSARY.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def _terms() -> list[Term]:
    return [
        Term(
            row["key"],
            row["en"],
            {code: tuple(f.strip() for f in row[code].split(" | ")) for code in OTHERS},
            row["source"],
        )
        for row in _rows()
    ]


def test_the_glossary_is_complete() -> None:
    rows = _rows()
    keys = [row["key"] for row in rows]
    assert len(keys) == len(set(keys)), "a key is listed twice"
    assert {"convention", "opcw", "executive_council", "category_1", "priority_1"} <= set(keys)
    for row in rows:
        for code in ["en", *OTHERS]:
            forms = [f.strip() for f in row[code].split(" | ")]
            assert all(forms), f"{row['key']}: no {code} (or an empty form)"
        assert row["source"] == row["source"].strip()


def test_the_glossary_agrees_with_itself() -> None:
    """A term written inside another (the Convention's full name holds "chemical weapons")
    is translated there as it is on its own."""
    terms = _terms()
    for outer in terms:
        for inner in terms:
            if inner is outer or not inner.in_english(outer.en):
                continue
            for code in OTHERS:
                text = " ".join(outer.forms[code])
                assert inner.in_translation(code, text), (inner.key, outer.key, code)
