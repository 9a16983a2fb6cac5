"""A CSV sheet as a stream of records: UTF-8 (a byte order mark is dropped), comma separated.

Records are read one at a time; a line, a record, a cell and the number of records are
bounded (:mod:`cwledger.intake.limits`) before they are kept.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from cwledger.intake.limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_RECORD_CHARS,
    MAX_SHEET_ROWS,
    refused,
    too_large,
)

__all__ = ["BINARY", "column_letter", "csv_rows"]

BINARY = "binary content (NUL bytes): neither a CSV nor an XLSX file"
_SNIFF = 8192


def column_letter(index: int) -> str:
    """The spreadsheet's name of the column at 0-based ``index`` (0: A, 26: AA)."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Lines:
    """The file's lines for the csv reader, each line and each record bounded."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.text = text
        self.line = 0
        self.record_chars = 0  # reset by the reader's loop after each record

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.text.readline(MAX_RECORD_CHARS + 1)
        if not line:
            raise StopIteration
        self.line += 1
        self.record_chars += len(line)
        if self.record_chars > MAX_RECORD_CHARS:
            raise too_large(
                f"line {self.line:,}",
                f"a record longer than {MAX_RECORD_CHARS:,} characters"
                f" ({MAX_COLUMNS} cells of at most {MAX_CELL_CHARS:,})",
            )
        if "\x00" in line:
            raise refused(BINARY)
        return line


def csv_rows(path: Path) -> Iterator[tuple[int, Sequence[str]]]:
    """Every record of the CSV file at ``path`` (blank ones too), numbered from 1."""
    with path.open("rb") as raw:
        if b"\x00" in raw.read(_SNIFF):
            raise refused(BINARY)
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        lines = _Lines(text)
        reader = csv.reader(lines, strict=True)
        number = 0
        try:
            for values in reader:
                number += 1
                lines.record_chars = 0
                if number > MAX_SHEET_ROWS:
                    raise too_large(f"row {number:,}", f"more than {MAX_SHEET_ROWS:,} rows")
                yield number, _bounded(number, values)
        except csv.Error as e:
            raise refused(f"not valid CSV (line {reader.line_num}): {e}") from e
        except UnicodeDecodeError as e:
            raise refused(
                f"not UTF-8 text (byte {_bad_byte(path)}): save the sheet as CSV UTF-8 or as XLSX"
            ) from e


def _bounded(number: int, values: list[str]) -> list[str]:
    """The record's cells, each at most MAX_CELL_CHARS, none with a value past MAX_COLUMNS."""
    for index, value in enumerate(values):
        if len(value) > MAX_CELL_CHARS:
            raise too_large(
                f"row {number:,}, column {column_letter(index)}",
                f"a cell of {len(value):,} characters; at most {MAX_CELL_CHARS:,}",
            )
    if len(values) > MAX_COLUMNS:
        for index in range(MAX_COLUMNS, len(values)):
            if values[index].strip():
                raise too_large(
                    f"row {number:,}, column {column_letter(index)}",
                    f"a value beyond column {column_letter(MAX_COLUMNS - 1)};"
                    f" a sheet has at most {MAX_COLUMNS} columns",
                )
        del values[MAX_COLUMNS:]
    return values


def _bad_byte(path: Path) -> int:
    """Where in the file the first byte that is not UTF-8 is (read again, on error only)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as raw:
        while True:
            chunk = raw.read(1 << 16)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                return offset - pending + e.start
            if not chunk:
                return offset
            offset += len(chunk)
