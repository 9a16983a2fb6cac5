"""Small sheets that exhausted memory (issue 13, item 3), and the limits that stop them.

Each attack runs in a process of its own whose address space is capped at 1 GiB: before
the fix it died there (23.5 GB, 4.2 GB, 5.5 GB uncapped); now it is refused at once with
the limit it passed. A legitimate sheet of 100,000 rows is declared within 500 MB.
"""

from __future__ import annotations

import json
import random
import resource
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cwledger.errors import Problem, TooLarge
from cwledger.intake import SheetRejected, SheetTooLarge, read_declaration
from cwledger.intake import limits as lim

from .sheets import (
    DUE,
    LEGAL_BASIS,
    SHEET,
    replaced_parts,
    rows_of,
    sample,
    sheet_xml,
    write_big_csv,
    write_big_xlsx,
    write_csv,
    write_xlsx,
)

CAP = 1 << 30  # the address space of the process that reads an attack

DECLARE = """
import json, sys, time
from pathlib import Path
from cwledger.errors import CwledgerError
from cwledger.intake import declaration_parts, read_declaration
start = time.perf_counter()
try:
    d = read_declaration(Path(sys.argv[1]), version=1, legal_basis="EC-M-33/DEC.1",
                         due="2013-10-27", party="dec")
    out = {"items": len(d.items), "parts": len(declaration_parts(d))}
except CwledgerError as e:
    out = {"error": type(e).__name__, "status": e.status, "message": str(e)}
out["seconds"] = time.perf_counter() - start
# VmHWM, not ru_maxrss: the latter keeps the forking parent's size across exec.
status = Path("/proc/self/status").read_text()
out["peak_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps(out))
"""


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def declare_capped(path: Path, timeout: float = 120) -> dict[str, Any]:
    """Read ``path`` into a declaration and its parts in a process capped at 1 GiB."""
    done = subprocess.run(
        [sys.executable, "-c", DECLARE, str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_cap,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def read(path: Path) -> Any:
    return read_declaration(path, version=1, legal_basis=LEGAL_BASIS, due=DUE, party="dec")


def too_large(path: Path) -> str:
    with pytest.raises(SheetTooLarge) as e:
        read(path)
    assert isinstance(e.value, TooLarge) and (e.value.status, e.value.code) == (
        413,
        "sheet-too-large",
    )
    return str(e.value)


def refused(path: Path) -> list[Problem]:
    with pytest.raises(SheetRejected) as e:
        read(path)
    return e.value.problems


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A good workbook of the sample declaration, to graft attacks onto."""
    return write_xlsx(tmp_path / "base.xlsx", rows_of(sample()))


def _with_sheet(tmp_path: Path, base: Path, name: str, xml: Any) -> Path:
    return replaced_parts(tmp_path / name, base, {SHEET: xml})


# --- the three attacks ---------------------------------------------------------------------


def test_a_5_kb_workbook_with_row_two_billion_is_refused_at_once(
    tmp_path: Path, base: Path
) -> None:
    header = [["item_id", "kind"]]
    far = '<row r="2000000000"><c r="A2000000000" t="inlineStr"><is><t>x</t></is></c></row>'
    path = _with_sheet(tmp_path, base, "far.xlsx", sheet_xml(header, tail=far))
    assert path.stat().st_size < 10_000
    out = declare_capped(path)
    assert out["error"] == "SheetTooLarge" and out["status"] == 413
    assert "row 2,000,000,000" in out["message"]
    assert "past the last row a sheet may have, 1,048,576" in out["message"]
    assert out["seconds"] < 10


def _long_cell(size: int, piece: bytes) -> Any:
    yield b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    yield b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>item_id</t></is></c></row>'
    yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    for _ in range(size // len(piece)):
        yield piece
    yield b"</t></is></c></row></sheetData></worksheet>"


def test_a_300_mb_cell_in_a_300_kb_workbook_is_refused_before_it_is_unzipped(
    tmp_path: Path, base: Path
) -> None:
    path = _with_sheet(tmp_path, base, "cell.xlsx", _long_cell(300_000_000, b"A" * 1_000_000))
    assert path.stat().st_size < 400_000
    out = declare_capped(path)
    assert out["error"] == "SheetTooLarge" and out["status"] == 413
    assert out["message"].startswith(f"declaration sheet too large: {SHEET}: unzips to 300,")
    assert "a part may grow at most 100 times" in out["message"]
    assert out["seconds"] < 10


def test_a_million_row_csv_is_refused_before_a_row_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "million.csv"
    with path.open("w") as f:
        f.write("item_id,kind,chemical,cwc_category,removal_priority,site_id,site_name,")
        f.write("site_kind,lat,lon,kg,method\n")
        f.writelines(f"I{i},container,A,1,1,S,S,storage,0,0,1,w\n" for i in range(1_000_000))
    out = declare_capped(path)
    assert out["error"] == "SheetTooLarge" and out["status"] == 413
    assert out["message"] == (
        "declaration sheet too large: row 200,002: more than 200,000 rows of items"
        " (after the header)"
    )
    assert out["seconds"] < 30 and out["peak_mb"] < 200


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_100_000_row_sheet_is_declared_within_500_mb(
    tmp_path: Path, base: Path, kind: str
) -> None:
    path = tmp_path / f"big.{kind}"
    if kind == "csv":
        write_big_csv(path, 100_000)
    else:
        write_big_xlsx(path, 100_000, base)
    out = declare_capped(path, timeout=300)
    assert out.get("items") == 100_000, out
    assert out["peak_mb"] < 500, out


# --- each limit, where it is passed --------------------------------------------------------


NOISE = "".join(random.Random(13).choices(string.ascii_letters, k=100_000))
"""Letters that compress poorly: the ratio lets them through, another limit must not."""


def test_a_long_cell_is_refused_as_it_arrives(tmp_path: Path, base: Path) -> None:
    path = _with_sheet(tmp_path, base, "long.xlsx", _long_cell(1_000_000, NOISE.encode()))
    assert too_large(path) == (
        "declaration sheet too large: row 2, column A: a cell of more than 4,096 characters"
    )
    rows = rows_of(sample())
    rows[1]["method"] = "w" * 5000
    assert too_large(write_csv(tmp_path / "long.csv", rows)) == (
        "declaration sheet too large: row 3, column S: a cell of 5,000 characters; at most 4,096"
    )


def test_a_long_shared_string_is_refused(tmp_path: Path, base: Path) -> None:
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    )
    strings = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<si><t>item_id</t></si><si><t>{'x' * 5000}</t></si></sst>"
    )
    parts = {"xl/_rels/workbook.xml.rels": rels.encode(), "xl/sharedStrings.xml": strings.encode()}
    path = replaced_parts(tmp_path / "sst.xlsx", base, parts)
    assert too_large(path) == (
        "declaration sheet too large: xl/sharedStrings.xml, string 2:"
        " more than 4,096 characters in one cell"
    )


def test_a_value_beyond_the_last_column_is_refused(tmp_path: Path, base: Path) -> None:
    far = '<row r="9"><c r="BM9" t="inlineStr"><is><t>x</t></is></c></row>'
    path = _with_sheet(tmp_path, base, "wide.xlsx", sheet_xml([["item_id"]], tail=far))
    message = "a value beyond column BL; a sheet has at most 64 columns"
    assert too_large(path) == f"declaration sheet too large: row 9, column BM: {message}"
    path = tmp_path / "wide.csv"
    path.write_text("item_id\nI-1" + "," * 64 + "x\n")
    assert too_large(path) == f"declaration sheet too large: row 2, column BM: {message}"
    # Empty cells further right (a formatted column, trailing commas) are no value.
    empty = '<row r="2"><c r="BM2" t="inlineStr"><is><t> </t></is></c><c r="XFD2" s="1"/></row>'
    path = _with_sheet(tmp_path, base, "styled.xlsx", sheet_xml([["item_id"]], tail=empty))
    assert refused(path)[-1] == Problem("file", "no data rows: the sheet has a header but no items")


def test_too_many_records_blank_ones_included(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("item_id\n" + "\n" * lim.MAX_SHEET_ROWS)
    assert too_large(path) == (
        "declaration sheet too large: row 1,048,577: more than 1,048,576 rows"
    )


def test_a_record_over_many_lines_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text("item_id\n" + '"a\n",' * 100_000 + "\n")  # one record, 100,000 cells
    assert "a record longer than 262,336 characters" in too_large(path)


def test_a_file_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cwledger.intake.sheet_file.MAX_FILE_BYTES", 100)
    path = write_csv(tmp_path / "d.csv", rows_of(sample()))
    size = path.stat().st_size
    assert too_large(path) == (
        f"declaration sheet too large: d.csv: {size:,} bytes; a sheet file has at most 100"
    )


def test_the_unzipped_budget_holds_across_parts(
    tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cwledger.intake.sheet_xlsx.MAX_UNZIPPED_BYTES", 3000)
    message = too_large(base)
    # The relationships and the workbook fit; the styles would pass what is left.
    assert message.startswith("declaration sheet too large: xl/styles.xml: unzips to ")
    assert message.endswith("may unzip to 3,000 bytes together")


def test_a_part_that_unzips_to_more_than_it_declares(tmp_path: Path, base: Path) -> None:
    """The central directory says 100 bytes, the deflated stream holds 3 MB: zipfile stops at
    the declared size and the CRC fails; nothing past the declared size is unzipped."""
    path = _with_sheet(tmp_path, base, "lie.xlsx", _long_cell(3_000_000, b"A" * 100_000))
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02" + bytes(0))  # the last entry: the sheet, added last
    name_at = central + 46
    assert data[name_at : name_at + len(SHEET)] == SHEET.encode()
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")  # uncompressed size
    extra = int.from_bytes(data[central + 30 : central + 32], "little")
    if extra:  # zip64: the sizes are in the extra field
        field = name_at + len(SHEET)
        data[field + 4 : field + 12] = (100).to_bytes(8, "little")
    path.write_bytes(bytes(data))
    [problem] = refused(path)
    assert problem.location == "file" and "not a readable XLSX workbook" in problem.message


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("<a>" * 100 + "</a>" * 100, "more than 64 elements nested"),
        ('<row r="9" x="' + NOISE * 20 + '"/>', "a tag of more than 1,048,576 bytes"),
    ],
)
def test_the_xml_is_bounded(tmp_path: Path, base: Path, tail: str, message: str) -> None:
    path = _with_sheet(tmp_path, base, "x.xlsx", sheet_xml([["item_id"]], tail=tail))
    assert too_large(path) == f"declaration sheet too large: {SHEET}: {message}"


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (
            b'<!DOCTYPE w [<!ENTITY a "aaaa">]><worksheet/>',
            f"not a readable XLSX workbook ({SHEET} has a DOCTYPE)",
        ),
        (
            b'<worksheet><sheetData><row r="5"/><row r="3"/></sheetData></worksheet>',
            "not a readable XLSX workbook (row 3 comes after row 5)",
        ),
        (
            b'<worksheet><sheetData><row r="1"><c r="AAAAA1"><v>1</v></c></row></sheetData>'
            b"</worksheet>",
            "not a readable XLSX workbook (row 1: a cell at 'AAAAA1')",
        ),
        (
            b'<worksheet><sheetData><row r="1"><c r="12"><v>1</v></c></row></sheetData>'
            b"</worksheet>",
            "not a readable XLSX workbook (row 1: a cell at '12')",
        ),
        (
            b'<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>7</v></c></row></sheetData>'
            b"</worksheet>",
            "not a readable XLSX workbook (row 1: no shared string 7)",
        ),
    ],
)
def test_malformed_sheets_are_refused(tmp_path: Path, base: Path, xml: bytes, message: str) -> None:
    assert refused(_with_sheet(tmp_path, base, "m.xlsx", xml)) == [Problem("file", message)]


def test_problems_are_listed_up_to_the_limit(tmp_path: Path) -> None:
    rows = rows_of(sample()) * 300  # every item five times over: 1,495 repeated ids
    problems = refused(write_csv(tmp_path / "d.csv", rows))
    assert len(problems) == lim.MAX_PROBLEMS + 1
    assert problems[-1].location == "file"
    assert problems[-1].message.startswith("more than 1,000 problems: reading stopped at row ")
