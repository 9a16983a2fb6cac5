"""A sheet file as a stream of its rows that are not blank: CSV or XLSX, told by content.

The rows come one at a time (nothing holds the whole sheet); the file's size, its rows and
its columns are bounded (:mod:`cwledger.intake.limits`). A CSV file is read twice: once
through every limit, cheaply, before any row is parsed, so that a sheet too large for
them is refused in the time it takes to read it, not to parse it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

from cwledger.intake.limits import MAX_FILE_BYTES, MAX_ROWS, refused, too_large
from cwledger.intake.sheet_csv import csv_rows
from cwledger.intake.sheet_xlsx import xlsx_rows

__all__ = ["Rows", "is_blank", "sheet_rows"]

Rows = Generator[tuple[int, Sequence[object]], None, None]

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary Excel (.xls) and other OLE files
_ZIP = b"PK\x03\x04"


def is_blank(values: Sequence[object]) -> bool:
    """No cell holds anything but spaces."""
    return not any(v is not None and (not isinstance(v, str) or v.strip()) for v in values)


def sheet_rows(path: Path) -> Rows:
    """The rows of the sheet at ``path`` that are not blank, numbered as the spreadsheet
    shows them (the header first). Raises SheetRejected for a file that cannot be read,
    SheetTooLarge past a limit."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(len(_OLE))
    except OSError as e:
        raise refused(f"cannot read {path.name}: {e.strerror or e}") from e
    if size > MAX_FILE_BYTES:
        raise too_large(path.name, f"{size:,} bytes; a sheet file has at most {MAX_FILE_BYTES:,}")
    if head.startswith(_ZIP):
        yield from _counted(xlsx_rows(path))
        return
    if head.startswith(_OLE):
        raise refused("an old binary Excel (.xls) or other OLE file: save it as XLSX or CSV")
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        raise refused(f"{path.name} is not an XLSX workbook (it is no ZIP archive)")
    for _ in _counted(csv_rows(path)):  # every limit first, before a row is parsed
        pass
    yield from _counted(csv_rows(path))


def _counted(rows: Iterator[tuple[int, Sequence[object]]]) -> Rows:
    """The rows that are not blank, at most MAX_ROWS after the header."""
    seen = 0
    for number, values in rows:
        if is_blank(values):
            continue
        seen += 1
        if seen > MAX_ROWS + 1:
            raise too_large(
                f"row {number:,}", f"more than {MAX_ROWS:,} rows of items (after the header)"
            )
        yield number, values
