"""Declaration sheets for the intake tests: a sample declaration, its rows, CSV and XLSX."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.utils import get_column_letter

from cwledger.intake import COLUMNS
from cwledger.model import Chemical, Declaration

Row = dict[str, object]

LEGAL_BASIS = "EC-M-33/DEC.1"
DUE = "2013-10-27"


def sample() -> Declaration:
    """Three chemicals, three sites, five items of every kind (one unfilled munition)."""
    w = {"u_random_kg": 5.0, "u_systematic_kg": 3.0, "method": "weighing"}
    return Declaration.model_validate(
        {
            "version": 1,
            "legal_basis": LEGAL_BASIS,
            "due": DUE,
            "chemicals": [
                {"label": "Chem-A", "cwc_category": 1, "schedule": _s(1, "A", 3),
                 "removal_priority": "1"},
                {"label": "Chem-B", "cwc_category": 2, "removal_priority": "in-country"},
                {"label": "Chem-C", "cwc_category": 3, "schedule": _s(2, "B", 4),
                 "removal_priority": "2"},
            ],
            "sites": [
                _site("S-1", "Depot north", "storage", 34.5, 36.75),
                _site("S-3", "Field store 3", "storage", -1.25, -70.5, parent="S-1"),
                _site("S-2", "Port of departure", "port", 35.5, 35.75),
            ],
            "items": [
                _item("I-1", "container", "Chem-A", "S-1", {"kg": 1000.5, **w}, tag="T-1"),
                _item("I-2", "munition", "Chem-A", "S-3", {"kg": 2.5, **w}, mt="projectile P1"),
                _item("I-3", "munition", None, "S-3", {"kg": 0.0, "method": "declared"},
                      mt="projectile P2"),
                _item("I-4", "bulk_lot", "Chem-B", "S-2", {"kg": 12000.0, **w}),
                _item("I-5", "container", "Chem-C", "S-1", {"kg": 800.0, **w}),
            ],
        }
    )  # fmt: skip


def _s(number: int, part: str, entry: int) -> dict[str, object]:
    return {"number": number, "part": part, "entry": entry}


def _site(
    id_: str, name: str, kind: str, lat: float, lon: float, parent: str | None = None
) -> dict[str, object]:
    site = {"id": id_, "name": name, "kind": kind, "coordinates": {"lat": lat, "lon": lon}}
    return {**site, "party": "dec", **({"parent": parent} if parent else {})}


def _item(
    id_: str,
    kind: str,
    chemical: str | None,
    site: str,
    declared: dict[str, object],
    tag: str | None = None,
    mt: str | None = None,
) -> dict[str, object]:
    item = {"id": id_, "kind": kind, "chemical": chemical, "site": site, "declared": declared}
    return {**item, "tag": tag, "munition_type": mt}


def schedule_text(chemical: Chemical | None) -> str | None:
    if chemical is None or chemical.schedule is None:
        return None
    s = chemical.schedule
    return f"{s.number}{s.part}{s.entry}"


def rows_of(declaration: Declaration) -> list[Row]:
    """One row per item, its chemical and site repeated on it (every site must be used)."""
    chemicals = {c.label: c for c in declaration.chemicals}
    sites = {s.id: s for s in declaration.sites}
    rows: list[Row] = []
    for item in declaration.items:
        chem = chemicals[item.chemical] if item.chemical is not None else None
        site = sites[item.site]
        rows.append(
            {
                "item_id": item.id,
                "kind": item.kind.value,
                "chemical": item.chemical,
                "cwc_category": chem.cwc_category if chem else None,
                "schedule": schedule_text(chem),
                "removal_priority": chem.removal_priority if chem else None,
                "munition_type": item.munition_type,
                "equipment_type": item.equipment_type,
                "tag": item.tag,
                "site_id": site.id,
                "site_name": site.name,
                "site_kind": site.kind.value,
                "lat": site.coordinates.lat,
                "lon": site.coordinates.lon,
                "site_parent": site.parent,
                "kg": item.declared.kg,
                "u_random_kg": item.declared.u_random_kg,
                "u_systematic_kg": item.declared.u_systematic_kg,
                "method": item.declared.method,
            }
        )
    return rows


def csv_cell(value: object) -> str:
    """A cell as CSV text; floats with repr, so that they read back exactly."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def write_csv(
    path: Path,
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str] = COLUMNS,
    *,
    header: Sequence[str] | None = None,
    bom: bool = False,
) -> Path:
    """Rows as a CSV file with ``columns`` in that order (headed ``header`` if given)."""
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        out = csv.writer(f)
        out.writerow(header or columns)
        for row in rows:
            out.writerow([csv_cell(row.get(c)) for c in columns])
    return path


def write_xlsx(
    path: Path,
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[str] = COLUMNS,
    *,
    header: Sequence[str] | None = None,
    title: str = "items",
    before: Sequence[str] = (),
) -> Path:
    """Rows on a worksheet ``title``, after worksheets named ``before`` (holding a note)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in before:
        book.create_sheet(name)["A1"] = "a note, not the items"
    sheet = book.create_sheet(title)
    sheet.append(list(header or columns))
    for row in rows:
        sheet.append([row.get(c) for c in columns])
    book.save(path)
    return path


def replaced_parts(path: Path, base: Path, parts: Mapping[str, bytes | Iterable[bytes]]) -> Path:
    """The workbook ``base`` with ``parts`` replaced or added, each given whole or streamed
    in pieces (so that a part of hundreds of megabytes never sits in memory)."""
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename not in parts:
                out.writestr(info.filename, src.read(info))
        for name, content in parts.items():
            with out.open(name, "w", force_zip64=True) as f:
                for piece in [content] if isinstance(content, bytes) else content:
                    f.write(piece)
    return path


SHEET = "xl/worksheets/sheet1.xml"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sheet_xml(rows: Iterable[Sequence[object]], *, tail: str = "") -> Iterator[bytes]:
    """A worksheet's XML, row by row: text as inline strings, numbers as numbers; ``tail``
    is written as it is after the last row."""
    yield f'<worksheet xmlns="{_MAIN}"><sheetData>'.encode()
    for number, values in enumerate(rows, start=1):
        cells = []
        for index, value in enumerate(values):
            ref = f"{get_column_letter(index + 1)}{number}"
            if value is None or value == "":
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
        yield f'<row r="{number}">{"".join(cells)}</row>'.encode()
    yield f"{tail}</sheetData></worksheet>".encode()


def big_rows(n: int) -> Iterator[list[object]]:
    """The header and ``n`` good rows: containers of three chemicals on fifty sites."""
    yield list(COLUMNS)
    chemicals = [("Chem-A", 1, "1A3", "1"), ("Chem-B", 2, "", "2"), ("Chem-C", 3, "", "1")]
    for i in range(n):
        label, category, schedule, priority = chemicals[i % 3]
        s = i % 50
        yield [
            f"C-{i:07d}", "container", label, category, schedule, priority, "", "", f"T-{i:07d}",
            f"S-{s}", f"Site {s}", "storage", 34 + s / 100, 36 + s / 100, "",
            100 + i % 997 + 0.5, 2.5, 1.0, "weighing",
        ]  # fmt: skip


def write_big_csv(path: Path, n: int) -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([csv_cell(v) for v in row] for row in big_rows(n))
    return path


def write_big_xlsx(path: Path, n: int, base: Path) -> Path:
    """``n`` good rows as XLSX, its sheet XML written directly (openpyxl takes minutes)."""
    return replaced_parts(path, base, {SHEET: sheet_xml(big_rows(n))})
