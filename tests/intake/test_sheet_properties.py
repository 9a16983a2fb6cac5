"""Properties of the sheet readers: XLSX read as openpyxl reads it, CSV as the csv module
reads it, and any bytes at all either read or refused (never another exception)."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwledger.intake import SheetRejected, SheetTooLarge
from cwledger.intake.sheet_csv import csv_rows
from cwledger.intake.sheet_file import is_blank, sheet_rows
from cwledger.intake.sheet_xlsx import xlsx_rows

from .sheets import rows_of, sample, write_xlsx

# Text a worksheet can hold: no control characters but tab and newline, no surrogates.
texts = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n"), max_size=30
)
values = st.one_of(
    texts,
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2099, 12, 31)),
)
cells = st.dictionaries(st.tuples(st.integers(1, 40), st.integers(1, 12)), values, max_size=40)


def _openpyxl_rows(path: Path) -> list[tuple[int, tuple[object, ...]]]:
    """What openpyxl reads (read-only, values only): the rows that hold a value, trimmed."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        rows = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            kept = list(row)
            while kept and kept[-1] is None:
                kept.pop()
            if kept:
                rows.append((number, tuple(kept)))
        return rows
    finally:
        book.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells)
def test_the_xlsx_reader_reads_what_openpyxl_reads(grid: dict[tuple[int, int], object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.xlsx"
        book = openpyxl.Workbook()
        sheet = book.active
        for (row, column), value in grid.items():
            sheet.cell(row=row, column=column, value=value)
        book.save(path)
        ours = [(n, tuple(v)) for n, v in xlsx_rows(path)]
        theirs = _openpyxl_rows(path)
    # openpyxl gives an empty string where a text cell is empty; so do we: both as kept.
    assert ours == theirs


rows = st.lists(st.lists(texts.filter(lambda t: "\r" not in t), max_size=8), max_size=30)


@settings(max_examples=100, deadline=None)
@given(rows)
def test_the_csv_reader_reads_what_csv_reads(table: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(table)
        ours = [list(v) for _, v in csv_rows(path)]
        theirs = list(csv.reader(io.StringIO(path.read_text("utf-8"), newline="")))
    assert ours == theirs


@pytest.fixture(scope="module")
def good_xlsx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_xlsx(tmp_path_factory.mktemp("x") / "g.xlsx", rows_of(sample())).read_bytes()


def _read_or_refuse(path: Path) -> None:
    try:
        for _, values in sheet_rows(path):
            assert not is_blank(values)
    except (SheetRejected, SheetTooLarge):
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_damaged_workbook_is_read_or_refused(good_xlsx: bytes, data: st.DataObject) -> None:
    damaged = bytearray(good_xlsx)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.xlsx"
        path.write_bytes(bytes(damaged))
        _read_or_refuse(path)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_are_read_or_refused(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        path.write_bytes(content)
        _read_or_refuse(path)
