"""Properties: parts assemble into the declaration; a sheet reads back what was written."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from cwledger.intake import COLUMNS, assemble, declaration_parts, read_declaration
from cwledger.model import Chemical, Declaration, Item, ItemKind, Schedule

from ..model.strategies import declarations, ids, masses, sites, texts
from .sheets import rows_of, write_csv
from .test_parts import typed

schedules = st.builds(
    Schedule,
    number=st.sampled_from([1, 2, 3]),
    part=st.sampled_from(["A", "B"]),
    entry=st.integers(min_value=1, max_value=999),
)
chemicals = st.builds(
    Chemical,
    label=texts,
    cwc_category=st.sampled_from([1, 2, 3]),
    schedule=st.none() | schedules,
    removal_priority=st.sampled_from(["1", "2", "in-country"]),
)


@st.composite
def any_declarations(draw: st.DrawFn) -> Declaration:
    """A declaration of the model strategies, with chemicals, of any version."""
    base = draw(declarations)
    version = draw(st.integers(min_value=1, max_value=5))
    fields = {
        **base.model_dump(),
        "version": version,
        "amends": version - 1 if version > 1 else None,
        "chemicals": draw(st.lists(chemicals, max_size=4, unique_by=lambda c: c.label)),
    }
    return Declaration.model_validate(fields)


@given(any_declarations())
def test_parts_assemble_into_the_declaration(declaration: Declaration) -> None:
    assert assemble(typed(declaration_parts(declaration))) == declaration


@st.composite
def _item(draw: st.DrawFn, sites: list[str], labels: list[str]) -> Item:
    kind = draw(st.sampled_from(ItemKind))
    munition = kind is ItemKind.MUNITION
    equipment = kind is ItemKind.EQUIPMENT
    unfilled = equipment or (munition and draw(st.booleans()))
    return Item(
        id=draw(ids),
        kind=kind,
        tag=draw(st.none() | ids),
        chemical=None if unfilled else draw(st.sampled_from(labels)),
        declared=draw(masses),
        site=draw(st.sampled_from(sites)),
        munition_type=draw(texts) if munition else None,
        equipment_type=draw(texts) if equipment else None,
    )


@st.composite
def sheet_declarations(draw: st.DrawFn) -> Declaration:
    """A declaration a sheet can hold: every site and chemical on some item's row, in the
    order of their first row, every site declared by ``dec`` and accessible."""
    site_list = draw(st.lists(sites, min_size=1, max_size=4, unique_by=lambda s: s.id))
    site_list = [s.model_copy(update={"party": "dec"}) for s in site_list]
    chems = draw(st.lists(chemicals, min_size=1, max_size=3, unique_by=lambda c: c.label))
    labels = [c.label for c in chems]
    item_strategy = _item([s.id for s in site_list], labels)
    items = draw(st.lists(item_strategy, min_size=1, max_size=8, unique_by=lambda i: i.id))
    by_label = {c.label: c for c in chems}
    by_id = {s.id: s for s in site_list}
    return Declaration(
        version=1,
        legal_basis="EC-M-33/DEC.1",
        due="2013-10-27",
        # dicts keep the order of the first row that names each
        chemicals=[by_label[c] for c in dict.fromkeys(i.chemical for i in items) if c],
        sites=[by_id[s] for s in dict.fromkeys(i.site for i in items)],
        items=items,
    )


@given(sheet_declarations(), st.permutations(COLUMNS))
def test_a_csv_sheet_reads_back_as_written(declaration: Declaration, columns: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(Path(tmp) / "d.csv", rows_of(declaration), columns)
        got = read_declaration(
            path, version=1, legal_basis="EC-M-33/DEC.1", due="2013-10-27", party="dec"
        )
    assert got == declaration
