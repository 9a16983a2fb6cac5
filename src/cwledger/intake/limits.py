"""What a declaration sheet may hold, in one place, and how a sheet is refused.

A sheet is read as a stream, one row at a time, and every limit is checked as the bytes
arrive, before anything is allocated for what they claim: a row number, a column letter,
a compressed part's size or a cell's length never sizes a buffer. A sheet past a limit is
refused with :class:`SheetTooLarge` (413), naming the limit and where it was passed; a
sheet that cannot be read, or whose rows are wrong, with :class:`SheetRejected` (422).

The limits are far above any real declaration (the largest, of 2013, had a few thousand
items) and far below what would strain the machine that reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cwledger.errors import EventRejected, Problem, TooLarge
from cwledger.words import plural

__all__ = [
    "EXCEL_COLUMNS",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_PROBLEMS",
    "MAX_RATIO",
    "MAX_RECORD_CHARS",
    "MAX_ROWS",
    "MAX_SHARED_CHARS",
    "MAX_SHARED_STRINGS",
    "MAX_SHEET_ROWS",
    "MAX_UNZIPPED_BYTES",
    "MAX_WORKBOOK_ENTRIES",
    "MAX_XML_DEPTH",
    "MAX_XML_TOKEN_BYTES",
    "RATIO_FLOOR",
    "SheetRejected",
    "SheetTooLarge",
    "refused",
    "too_large",
]

MiB = 1024 * 1024

# Both formats.
MAX_FILE_BYTES = 128 * MiB
"""The sheet file on disk."""
MAX_ROWS = 200_000
"""Rows of items: rows that are not blank, after the header."""
MAX_SHEET_ROWS = 1_048_576
"""Rows in all, blank ones included (Excel's grid); in CSV, records."""
MAX_COLUMNS = 64
"""Columns that hold a value (a sheet's own columns are 19)."""
MAX_CELL_CHARS = 4_096
"""Characters in one cell (the longest text a declaration takes is 500)."""
MAX_PROBLEMS = 1_000
"""Problems listed before reading stops."""

# CSV.
MAX_RECORD_CHARS = MAX_COLUMNS * (MAX_CELL_CHARS + 3)
"""Characters in one CSV record (its lines together): every column's cell, quoted."""

# XLSX.
MAX_UNZIPPED_BYTES = 512 * MiB
"""The workbook's parts that are read (workbook, relationships, styles, shared strings,
the worksheet), unzipped, together: as declared in the archive and as actually read."""
MAX_RATIO = 100
"""How many times a part may grow when unzipped (a sheet's XML grows about 10 times)."""
RATIO_FLOOR = 1 * MiB
"""Parts smaller than this, unzipped, are not held to MAX_RATIO."""
MAX_SHARED_STRINGS = 1_000_000
"""Strings in the workbook's shared string table."""
MAX_SHARED_CHARS = 32_000_000
"""Characters in the shared string table, together."""
MAX_WORKBOOK_ENTRIES = 65_536
"""Relationships, worksheets, number formats and cell formats, each."""
MAX_XML_DEPTH = 64
"""Elements open at once in a part's XML."""
MAX_XML_TOKEN_BYTES = 1 * MiB
"""Bytes of XML in one tag, comment or declaration (text is read in pieces)."""
EXCEL_COLUMNS = 16_384
"""Columns of Excel's grid (A to XFD): a cell further right is no cell at all."""


class SheetRejected(EventRejected):
    """A declaration sheet was refused: every problem at once, each with row and column."""

    code = "sheet-rejected"
    status = 422

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(problems)
        self.args = (self.diagnostics(),)

    def diagnostics(self) -> str:
        lines = [f"declaration sheet refused ({plural(len(self.problems), 'problem')}):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class SheetTooLarge(TooLarge):
    """A declaration sheet past one of the limits of :mod:`cwledger.intake.limits`."""

    code = "sheet-too-large"


def refused(reason: str) -> SheetRejected:
    """The sheet as a whole cannot be read."""
    return SheetRejected([Problem("file", reason)])


def too_large(where: str, what: str) -> SheetTooLarge:
    """``where`` the sheet passed a limit, and ``what`` the limit is."""
    return SheetTooLarge(f"declaration sheet too large: {where}: {what}")
