"""The syria-2013 fact tables against the facts file (shared/SCENARIO-2013.md): every row
names a section of the file and words of that section, the tables hold what they should,
and the declared stock adds up to the totals the scenario keeps."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cwledger.scenario.syria_2013 import PARTIES
from cwledger.scenario.syria_2013 import facts as facts_
from cwledger.scenario.syria_2013.facts import abroad, declaration, in_country, milestones

# ``shared/`` is a sibling of the clone directory, here and in CI.
FACTS_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "SCENARIO-2013.md"
if not FACTS_FILE.is_file():  # no skip: a run without the facts file must not pass
    raise RuntimeError(f"the facts file is not at {FACTS_FILE}")

MODULES = (facts_, declaration, milestones, in_country, abroad)
HEADING = re.compile(r"^(#{2,3}) (?:(\d+(?:\.\d+)?)\.? )?(.+)$")


def _sections(text: str) -> dict[str, str]:
    """Each section's text (its heading and lines up to the next heading of its level or
    above, whitespace collapsed), by number ("2.3") or, if it has none, by title."""
    found: list[tuple[int, str, int]] = []
    lines = text.splitlines()
    for n, line in enumerate(lines):
        m = HEADING.match(line)
        if m:
            found.append((len(m[1]), m[2] or m[3], n))
    out = {}
    for k, (level, key, start) in enumerate(found):
        end = next((n for lv, _, n in found[k + 1 :] if lv <= level), len(lines))
        out[key] = " ".join(" ".join(lines[start:end]).split())
    return out


SECTIONS = _sections(FACTS_FILE.read_text(encoding="utf-8"))


def _rows(module: ModuleType) -> list[tuple[str, Any]]:
    """Every fact of a module: its public dataclass instances and the rows of its tables."""
    out: list[tuple[str, Any]] = []
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, type):
            continue
        if dataclasses.is_dataclass(value):
            out.append((name, value))
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            out += [(f"{name}[{k}]", row) for k, row in enumerate(value)]
    return out


ROWS = [(f"{m.__name__.rsplit('.', 1)[-1]}.{name}", row) for m in MODULES for name, row in _rows(m)]


def test_the_facts_file_has_its_sections() -> None:
    assert {"1", "2", "2.1", "2.3", "2.4", "2.7", "5", "6", "Sources"} <= set(SECTIONS)


@pytest.mark.parametrize(("name", "row"), ROWS, ids=[name for name, _ in ROWS])
def test_every_fact_names_a_section_and_words_of_it(name: str, row: Any) -> None:
    section, _, words = row.source.partition(": ")
    assert section in SECTIONS, f"{name}: no section {section!r} in {FACTS_FILE.name}"
    assert " ".join(words.split()) in SECTIONS[section], f"{name}: {words!r} not in {section}"


def test_the_tables_hold_what_the_facts_file_has() -> None:
    assert len(ROWS) > 100
    assert [m.id for m in milestones.MILESTONES] == [f"M{n:02d}" for n in range(1, 25)]
    assert [c.number for c in in_country.CONSIGNMENTS] == list(range(1, 20))
    assert len(in_country.REMOVAL_REPORTED) == 10
    assert [d.version for d in declaration.DECLARATIONS] == [1, 2, 3, 4]
    assert (len(declaration.DOCUMENTS), len(declaration.ESTIMATES)) == (9, 3)
    assert (len(declaration.CHEMICALS), len(declaration.STOCK)) == (8, 7)
    assert (len(in_country.VESSELS), len(abroad.VENUES)) == (2, 6)
    assert sum(n for _, n in declaration.FACILITIES.value) == 41
    assert sum(n for _, n in declaration.STRUCTURES.value) == 12
    for table in (
        in_country.CONSIGNMENTS,
        in_country.REMOVAL_REPORTED,
        in_country.BY_PRIORITY_REPORTED,
        abroad.CAPE_RAY_DF_RUNS,
        abroad.EKOKEM_STEPS,
        abroad.PORT_ARTHUR_STEPS,
        abroad.DESTROYED_REPORTED,
    ):
        days = [row.day for row in table]
        assert days == sorted(days)
    for by in ("p1_t", "p2_t"):
        shipped = [getattr(c, by) for c in in_country.CONSIGNMENTS]
        assert shipped == sorted(shipped)
    for steps in (abroad.CAPE_RAY_DF_RUNS, abroad.EKOKEM_STEPS, abroad.PORT_ARTHUR_STEPS):
        done = [s.done for s in steps]
        assert done == sorted(done)


def test_the_stock_adds_up_to_the_totals_kept() -> None:
    """Category 1 about 1,040 t with the isopropanol, Category 2 about 260 t (section 2.2,
    [OPCW-CAT1]; see NOTES); 600 t at sea (581 t DF, 19.8 t HD) and 190 t at Ellesmere Port
    (section 2.4); Priority 1 the Category 1 chemicals for removal."""
    category = {c.label: c.category for c in declaration.CHEMICALS}
    tonnes = {s.label: s.containers * s.tonnes_each for s in declaration.STOCK}
    cat1 = sum(t for label, t in tonnes.items() if category[label] == 1)
    assert cat1 + declaration.ISOPROPANOL_T.value == pytest.approx(1040.0)
    assert sum(t for label, t in tonnes.items() if category[label] == 2) == pytest.approx(260.0)
    priority = {c.label: c.priority for c in declaration.CHEMICALS}
    assert all(priority[s.label] == str(category[s.label]) for s in declaration.STOCK)
    assert (tonnes["DF"], tonnes["HD"]) == (pytest.approx(581.0), pytest.approx(19.8))
    by_venue: dict[str, float] = {}
    for s in declaration.STOCK:
        by_venue[s.venue] = by_venue.get(s.venue, 0.0) + tonnes[s.label]
    assert by_venue["V-ELLESMERE"] == pytest.approx(190.0)
    assert set(by_venue) <= {v.id for v in abroad.VENUES}
    assert in_country.CONSIGNMENTS[-1].cumulative_t == pytest.approx(sum(tonnes.values()))
    assert in_country.CONSIGNMENTS[-1].p1_t == pytest.approx(cat1)


def test_the_parties_of_the_facts_are_founding_parties() -> None:
    founding = {party for party, _ in PARTIES}
    assert {d.filer for d in declaration.DOCUMENTS} <= founding
    assert {e.party for e in declaration.ESTIMATES} <= founding
