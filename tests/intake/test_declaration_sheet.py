"""Reading declaration sheets: CSV and XLSX alike, every problem at once, bad files refused."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cwledger.errors import EventRejected, Problem
from cwledger.intake import COLUMNS, REQUIRED_COLUMNS, SheetRejected, read_declaration
from cwledger.model import Declaration

from .sheets import DUE, LEGAL_BASIS, Row, rows_of, sample, write_csv, write_xlsx


def read(path: Path, **kw: Any) -> Declaration:
    args: dict[str, Any] = {"version": 1, "legal_basis": LEGAL_BASIS, "due": DUE, "party": "dec"}
    return read_declaration(path, **{**args, **kw})


def refused(path: Path, **kw: Any) -> list[Problem]:
    with pytest.raises(SheetRejected) as e:
        read(path, **kw)
    return e.value.problems


def padded(row: Row) -> Row:
    """The row as a careless hand types it: stray spaces around every text."""
    return {k: f"  {v} " if isinstance(v, str) else v for k, v in row.items()}


def test_csv_and_xlsx_give_the_same_declaration(tmp_path: Path) -> None:
    expected = sample()
    rows = [padded(r) for r in rows_of(expected)]
    columns = list(reversed(COLUMNS))
    header = [f" {c.upper()}" for c in columns]
    from_csv = read(write_csv(tmp_path / "d.csv", rows, columns, header=header, bom=True))
    # In XLSX the numbers are numeric cells: floats, and ints where the value is whole.
    numeric = [{k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in r.items()}
               for r in rows]  # fmt: skip
    book = write_xlsx(tmp_path / "d.xlsx", numeric, columns, header=header, before=["notes"])
    from_xlsx = read(book)
    assert from_csv == expected
    assert from_xlsx == expected


def test_xlsx_without_an_items_sheet_is_read_from_its_first_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "d.xlsx", rows_of(sample()), title="Sheet1")
    assert read(path) == sample()


def test_text_cells_may_hold_the_numbers(tmp_path: Path) -> None:
    rows = [{k: str(v) if isinstance(v, int | float) else v for k, v in r.items()}
            for r in rows_of(sample())]  # fmt: skip
    assert read(write_xlsx(tmp_path / "d.xlsx", rows)) == sample()


def test_the_declaration_carries_the_arguments(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", rows_of(sample()))
    v2 = read(path, version=2, legal_basis="EC-M-34/DEC.1", due="2014-06-30", party="dec")
    assert (v2.version, v2.amends, v2.legal_basis, v2.due) == (2, 1, "EC-M-34/DEC.1", "2014-06-30")
    assert read(path, version=3, amends=2).amends == 2
    assert [c.label for c in v2.chemicals] == ["Chem-A", "Chem-B", "Chem-C"]
    assert [s.id for s in v2.sites] == ["S-1", "S-3", "S-2"]  # the order of their first rows


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    expected = sample()
    rows = [r for r in rows_of(expected) if r["kind"] != "munition"]
    rows = [{**r, "u_random_kg": 0.0, "u_systematic_kg": 0.0} for r in rows]
    path = write_csv(tmp_path / "d.csv", rows, REQUIRED_COLUMNS + ("schedule", "tag"))
    got = read(path)
    assert [i.id for i in got.items] == ["I-1", "I-4", "I-5"]
    assert got.items[0].declared.u_random_kg == 0.0 and got.items[0].tag == "T-1"
    assert got.sites[0].parent is None


def _bad_rows() -> list[Row]:
    good = rows_of(sample())[0]  # I-1, a container of Chem-A at S-1

    def row(n: int, **changes: object) -> Row:
        return {**good, "item_id": f"I-{n}", **changes}

    return [
        good,  # row 2
        row(3, kg="-5"),
        row(4, kg="abc", lat="91"),
        row(5, kind="rocket"),
        row(6, site_kind="harbour", cwc_category="4", removal_priority="3"),
        row(7, schedule="1C3"),
        {**good},  # row 8: I-1 again
        row(9, kind="munition"),
        row(10, cwc_category=2),
        row(11, site_name="Depot south"),
        row(12, u_random_kg="nan", u_systematic_kg="inf"),
        row(13, item_id="", method=" "),
        row(14, item_id="I 14", tag="tag 14"),
        row(15, chemical=None, cwc_category=None, schedule=None, removal_priority=None),
        row(16, lat=-90.5, lon="181"),
        row(17, site_id="S-9", site_parent="S-9"),
        row(18, kind="bulk_lot", munition_type="projectile P1"),
        row(19, chemical=None),
    ]


def test_every_bad_row_is_reported_at_once_with_row_and_column(tmp_path: Path) -> None:
    problems = refused(write_csv(tmp_path / "bad.csv", _bad_rows()))
    assert [p.location for p in problems] == [
        "row 3, column kg",
        "row 4, column lat",
        "row 4, column kg",
        "row 5, column kind",
        "row 6, column cwc_category",
        "row 6, column removal_priority",
        "row 6, column site_kind",
        "row 7, column schedule",
        "row 8, column item_id",
        "row 9, column munition_type",
        "row 10, column cwc_category",
        "row 11, column site_name",
        "row 12, column u_random_kg",
        "row 12, column u_systematic_kg",
        "row 13, column item_id",
        "row 13, column method",
        "row 14, column item_id",
        "row 14, column tag",
        "row 15, column chemical",
        "row 16, column lat",
        "row 16, column lon",
        "row 17, column site_parent",
        "row 18, column munition_type",
        "row 19, column chemical",
        "row 19, column cwc_category",
        "row 19, column schedule",
        "row 19, column removal_priority",
    ]
    said = {p.location: p.message for p in problems}
    assert said["row 3, column kg"].startswith("negative (-5.0)")
    assert said["row 4, column kg"] == "not a number: 'abc'"
    assert said["row 4, column lat"] == "out of range (91.0): must be from -90 to 90"
    assert said["row 5, column kind"].startswith("unknown kind 'rocket': one of container,")
    assert said["row 6, column cwc_category"] == "unknown cwc_category '4': one of 1, 2, 3"
    assert said["row 7, column schedule"].startswith("not a schedule entry: '1C3'")
    assert said["row 8, column item_id"] == "item I-1 is already on row 2"
    assert said["row 9, column munition_type"] == "required: this row is a munition"
    assert said["row 10, column cwc_category"] == (
        "chemical Chem-A has cwc_category 2 here but 1 on row 2"
    )
    assert said["row 11, column site_name"] == (
        "site S-1 has site_name 'Depot south' here but 'Depot north' on row 2"
    )
    assert said["row 12, column u_random_kg"] == "not a finite number: 'nan'"
    assert said["row 13, column method"] == "empty; this cell is required"
    assert said["row 14, column item_id"].startswith("not an identifier: 'I 14'")
    assert said["row 15, column chemical"] == "required: a container holds a chemical"
    assert said["row 17, column site_parent"] == "site S-9 cannot be its own parent"
    assert said["row 19, column schedule"] == "given, but the chemical cell is empty"


def test_the_same_problems_in_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "bad.xlsx", _bad_rows())
    assert refused(path) == refused(write_csv(tmp_path / "bad.csv", _bad_rows()))


def test_a_site_and_a_chemical_disagreeing_in_every_column(tmp_path: Path) -> None:
    first = rows_of(sample())[0]
    other = {"cwc_category": 3, "schedule": "2B4", "removal_priority": "2", "site_name": "B",
             "site_kind": "port", "lat": 1.0, "lon": 2.0, "site_parent": "S-0"}  # fmt: skip
    rows = [first, {**first, "item_id": "I-2", **other}, {**first, "item_id": "I-3", **other}]
    problems = refused(write_csv(tmp_path / "d.csv", rows))
    assert {p.location for p in problems} == {f"row {n}, column {c}" for n in (3, 4) for c in other}
    assert all(p.message.endswith("on row 2") for p in problems)


def test_missing_and_unknown_columns_and_the_rows_still_checked(tmp_path: Path) -> None:
    columns = [c for c in COLUMNS if c not in {"kg", "method"}] + ["colour"]
    rows = [{**r, "colour": "red"} for r in rows_of(sample())]
    rows[1]["lat"] = 95
    problems = refused(write_csv(tmp_path / "d.csv", rows, columns))
    assert [str(p).split(":")[0] for p in problems] == [
        "row 1, column colour",
        "row 1",
        "row 3, column lat",
    ]
    assert problems[1].message == "missing required columns: kg, method"


def test_a_column_given_twice(tmp_path: Path) -> None:
    rows = [{**r, "x": r["kg"]} for r in rows_of(sample())]
    header = [*COLUMNS, "KG"]
    problems = refused(write_csv(tmp_path / "d.csv", rows, [*COLUMNS, "x"], header=header))
    assert problems == [Problem("row 1, column kg", "given twice (columns P and T)")]


def test_values_under_no_header(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write_csv(path, rows_of(sample()))
    lines = path.read_text().splitlines()
    lines[3] += ",stray"
    lines[4] += ",again,stray"
    path.write_text("\n".join(lines) + "\n")
    assert refused(path) == [
        Problem("row 4, column T", "a value in a column that has no header"),
        Problem("row 5, column U", "a value in a column that has no header"),
    ]


def test_a_semicolon_separated_file_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(";".join(COLUMNS) + "\nI-1;container\n")
    problems = refused(path)
    assert "separated by ';'" in problems[0].message
    assert problems[1].message.startswith("missing required columns: item_id, kind,")


def test_rows_are_numbered_as_the_spreadsheet_shows_them(tmp_path: Path) -> None:
    rows = rows_of(sample())
    rows[0]["munition_type"] = "two\nlines"  # one CSV record over two lines: still row 2
    rows[0]["kind"] = "munition"
    rows[2]["kg"] = -1.0
    problems = refused(write_csv(tmp_path / "d.csv", rows))
    assert problems == [
        Problem("row 2, column munition_type", "must be one line of text: 'two\\nlines'"),
        Problem("row 4, column kg", problems[1].message),
    ]
    book = write_xlsx(tmp_path / "d.xlsx", [rows[1], {}, {}, rows[2]])  # blank rows 3 and 4
    assert refused(book) == [Problem("row 5, column kg", problems[1].message)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty: no header row, no items"),
        ("\n , ,\n", "empty: no header row, no items"),
        (",".join(COLUMNS) + "\n", "no data rows: the sheet has a header but no items"),
    ],
)
def test_a_sheet_without_items(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(content)
    assert refused(path) == [Problem("file", message)]


def _xlsx_bytes(tmp_path: Path) -> bytes:
    return write_xlsx(tmp_path / "good.xlsx", rows_of(sample())).read_bytes()


def _zip_without_workbook() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


def _damaged_sheet(tmp_path: Path) -> bytes:
    """A sound ZIP whose worksheet XML breaks off in the middle (found only when read)."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx_bytes(tmp_path)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in source.infolist():
            data = source.read(info)
            z.writestr(info, data[: len(data) // 2] if "worksheets/" in info.filename else data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("damaged.xlsx", _damaged_sheet, "not a readable XLSX workbook (ParseError"),
        ("cut.xlsx", lambda p: _xlsx_bytes(p)[:1500], "not a readable XLSX workbook"),
        ("cut.csv", lambda p: _xlsx_bytes(p)[:-200], "not a readable XLSX workbook"),
        ("zip.xlsx", lambda p: _zip_without_workbook(), "not a readable XLSX workbook"),
        ("image.png", lambda p: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content"),
        ("noise.bin", lambda p: bytes(range(256)) * 4, "binary content"),
        ("latin1.csv", lambda p: "item_id\nI-\xe9\n".encode("latin-1"), "not UTF-8 text (byte 10)"),
        ("old.xls", lambda p: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old binary Excel"),
        ("text.xlsx", lambda p: b"item_id,kind\n", "text.xlsx is not an XLSX workbook"),
        ("quote.csv", lambda p: b'item_id,kind\n"I-1"x,container\n', "not valid CSV (line 2)"),
    ],
)
def test_unreadable_files_are_refused_cleanly(
    tmp_path: Path, name: str, content: Any, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content(tmp_path))
    problems = refused(path)
    assert len(problems) == 1 and problems[0].location == "file"
    assert message in problems[0].message


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    [problem] = refused(tmp_path / "nowhere.csv")
    assert problem.location == "file" and problem.message.startswith("cannot read nowhere.csv")


def test_bad_arguments_are_reported_with_the_sheet(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"\x00")
    problems = refused(path, due="30/06/2014", party="Dec", legal_basis=" ")
    assert [p.location for p in problems] == ["legal_basis", "due", "party", "file"]
    assert problems[2].message.startswith("not a party name: 'Dec'")
    problems = refused(path, version=3, amends=1)
    assert problems[0] == Problem("amends", "version 3 can only amend version 2, not 1")


def test_sheet_rejected_is_an_event_rejected_listing_one_problem_a_line(tmp_path: Path) -> None:
    rows = rows_of(sample())
    rows[0]["kg"] = "x"
    rows[1]["lat"] = "y"
    with pytest.raises(SheetRejected) as e:
        read(write_csv(tmp_path / "d.csv", rows))
    assert isinstance(e.value, EventRejected)
    assert (e.value.code, e.value.status) == ("sheet-rejected", 422)
    assert str(e.value).splitlines() == [
        "declaration sheet refused (2 problems):",
        "  - row 2, column kg: not a number: 'x'",
        "  - row 3, column lat: not a number: 'y'",
    ]
    assert e.value.diagnostics() == str(e.value)


def test_a_date_cell_is_refused_once(tmp_path: Path) -> None:
    rows = rows_of(sample())
    rows[0]["item_id"] = datetime(2024, 1, 2)  # what a spreadsheet makes of "1-2"
    rows[0]["chemical"] = datetime(2024, 1, 3)
    assert refused(write_xlsx(tmp_path / "d.xlsx", rows)) == [
        Problem("row 2, column item_id", "a date or time cell (2024-01-02 00:00:00): format"
                " the column as text"),
        Problem("row 2, column chemical", "a date or time cell (2024-01-03 00:00:00): format"
                " the column as text"),
    ]  # fmt: skip
