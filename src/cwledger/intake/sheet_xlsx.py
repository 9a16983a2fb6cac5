"""An XLSX sheet as a stream of rows, read from the archive with a bounded streaming parser.

The worksheet named ``items`` (in any case), else the first worksheet. Values are what
openpyxl gives with ``data_only``: a formula's last computed value, shared and inline
strings as text, numbers as int or float, booleans, a date or time cell (a date number
format, or type ``d``) as a datetime, an error as its text (``#N/A``).

Nothing the file claims sizes anything: each part's declared size and compression ratio
are checked before it is opened and its bytes counted as they are unzipped; the XML is
fed to expat in pieces, with the depth of elements, the bytes of any one tag and the
characters of any one cell bounded as they arrive; a row or a column number is only a
number (no row is filled in for the rows it skips), checked against Excel's grid; the
``dimension`` a sheet declares is ignored. Every limit is in :mod:`cwledger.intake.limits`.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import XMLParser

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

from cwledger.intake.limits import (
    EXCEL_COLUMNS,
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_RATIO,
    MAX_SHARED_CHARS,
    MAX_SHARED_STRINGS,
    MAX_SHEET_ROWS,
    MAX_UNZIPPED_BYTES,
    MAX_WORKBOOK_ENTRIES,
    MAX_XML_DEPTH,
    MAX_XML_TOKEN_BYTES,
    RATIO_FLOOR,
    SheetRejected,
    SheetTooLarge,
    refused,
    too_large,
)
from cwledger.intake.sheet_csv import column_letter

__all__ = ["xlsx_rows"]

Row = tuple[int, tuple[object, ...]]
_CHUNK = 1 << 16
_UNREADABLE = "not a readable XLSX workbook"


def xlsx_rows(path: Path) -> Iterator[Row]:
    """The rows of the items worksheet that hold a value, with their numbers."""
    try:
        with zipfile.ZipFile(path) as archive:
            yield from _Workbook(archive).rows()
    except (SheetRejected, SheetTooLarge, MemoryError):
        raise
    except Exception as e:  # a damaged workbook fails in many ways, none of them ours
        raise refused(f"{_UNREADABLE} ({type(e).__name__}: {_short(str(e))})") from e


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:200] + "..."


# --- the archive ---------------------------------------------------------------------------


class _Budget:
    """What the parts may unzip to, together; each part checked before and while it is read."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.left = MAX_UNZIPPED_BYTES

    def open(self, name: str) -> _Counted:
        info = self.archive.getinfo(name)
        size, packed = info.file_size, info.compress_size
        if size > self.left:
            raise too_large(
                name,
                f"unzips to {size:,} bytes; the parts of a workbook that are read may unzip"
                f" to {MAX_UNZIPPED_BYTES:,} bytes together",
            )
        if size > RATIO_FLOOR and size > MAX_RATIO * max(packed, 1):
            raise too_large(
                name,
                f"unzips to {size:,} bytes from {packed:,}, {size // max(packed, 1):,} times;"
                f" a part may grow at most {MAX_RATIO} times",
            )
        return _Counted(self, name, self.archive.open(info), size)


class _Counted:
    """A part's bytes as unzipped, counted against its declared size and the budget."""

    def __init__(self, budget: _Budget, name: str, stream: IO[bytes], declared: int) -> None:
        self.budget, self.name, self.stream, self.declared = budget, name, stream, declared
        self.read_bytes = 0

    def chunks(self) -> Iterator[bytes]:
        with self.stream:
            while chunk := self.stream.read(_CHUNK):
                self.read_bytes += len(chunk)
                self.budget.left -= len(chunk)
                if self.read_bytes > self.declared or self.budget.left < 0:
                    raise too_large(
                        self.name,
                        f"unzips to more than the {self.declared:,} bytes it declares"
                        if self.read_bytes > self.declared
                        else f"the parts read unzip to more than {MAX_UNZIPPED_BYTES:,} bytes",
                    )
                yield chunk


# --- XML, bounded --------------------------------------------------------------------------


class _Target:
    """A parser target that keeps nothing by itself: the depth of elements and whether expat
    is still reporting progress are watched; what a part means is in the subclasses."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.depth = 0
        self.events = 0
        self.names: dict[str, str] = {}

    def local(self, tag: str) -> str:
        name = self.names.get(tag)
        if name is None:
            name = self.names[tag] = tag.rpartition("}")[2]
        return name

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.events += 1
        self.depth += 1
        if self.depth > MAX_XML_DEPTH:
            raise too_large(self.part, f"more than {MAX_XML_DEPTH} elements nested")
        self.opened(self.local(tag), attrib)

    def end(self, tag: str) -> None:
        self.events += 1
        self.depth -= 1
        self.closed(self.local(tag))

    def data(self, text: str) -> None:
        self.events += 1
        self.text(text)

    def doctype(self, *_args: object) -> None:
        raise refused(f"{_UNREADABLE} ({self.part} has a DOCTYPE)")

    def close(self) -> None:
        return None

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        pass

    def closed(self, name: str) -> None:
        pass

    def text(self, text: str) -> None:
        pass


def _feed(part: _Counted, target: _Target) -> Iterator[None]:
    """Feed the part to expat piece by piece; after each piece, hand over to the caller."""
    parser = XMLParser(target=target)
    quiet = 0  # bytes fed since expat last reported anything
    for chunk in part.chunks():
        before = target.events
        parser.feed(chunk)
        quiet = 0 if target.events != before else quiet + len(chunk)
        if quiet > MAX_XML_TOKEN_BYTES:
            raise too_large(part.name, f"a tag of more than {MAX_XML_TOKEN_BYTES:,} bytes")
        yield None
    parser.close()
    yield None


def _parse(part: _Counted, target: _Target) -> None:
    for _ in _feed(part, target):
        pass


def _id_attribute(attrib: dict[str, str]) -> str | None:
    """The relationship id (``r:id``, in whichever namespace)."""
    for key, value in attrib.items():
        if key.startswith("{") and key.endswith("}id"):
            return value
    return None


class _Rels(_Target):
    """A relationships part: id -> (type, target)."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.rels: dict[str, tuple[str, str]] = {}

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        if name == "Relationship":
            if len(self.rels) >= MAX_WORKBOOK_ENTRIES:
                raise too_large(self.part, f"more than {MAX_WORKBOOK_ENTRIES:,} relationships")
            self.rels[attrib.get("Id", "")] = (attrib.get("Type", ""), attrib.get("Target", ""))

    def of_type(self, kind: str) -> list[tuple[str, str]]:
        return [(rid, target) for rid, (t, target) in self.rels.items() if t.endswith("/" + kind)]


class _WorkbookPart(_Target):
    """The workbook's sheets in order (name, relationship id) and its calendar."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.sheets: list[tuple[str, str]] = []
        self.date1904 = False

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        if name == "sheet":
            if len(self.sheets) >= MAX_WORKBOOK_ENTRIES:
                raise too_large(self.part, f"more than {MAX_WORKBOOK_ENTRIES:,} sheets")
            self.sheets.append((attrib.get("name", ""), _id_attribute(attrib) or ""))
        elif name == "workbookPr":
            self.date1904 = attrib.get("date1904", "0").strip().lower() in {"1", "true"}


class _Styles(_Target):
    """Which cell formats (by index, as text) show a number as a date, time or duration."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.custom: dict[str, str] = {}
        self.xfs: list[str] = []
        self.in_xfs = False

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        if name == "numFmt":
            if len(self.custom) >= MAX_WORKBOOK_ENTRIES:
                raise too_large(self.part, f"more than {MAX_WORKBOOK_ENTRIES:,} number formats")
            self.custom[attrib.get("numFmtId", "")] = attrib.get("formatCode", "")
        elif name == "cellXfs":
            self.in_xfs = True
        elif name == "xf" and self.in_xfs:
            if len(self.xfs) >= MAX_WORKBOOK_ENTRIES:
                raise too_large(self.part, f"more than {MAX_WORKBOOK_ENTRIES:,} cell formats")
            self.xfs.append(attrib.get("numFmtId", "0"))

    def closed(self, name: str) -> None:
        if name == "cellXfs":
            self.in_xfs = False

    def dates(self) -> tuple[set[str], set[str]]:
        """The cell formats of dates, and of those the durations (as openpyxl reads them)."""
        dates, durations = set(), set()
        for index, number_format in enumerate(self.xfs):
            code = self.custom.get(number_format)
            if code is None:
                code = BUILTIN_FORMATS.get(int(number_format)) if number_format.isdigit() else None
            if code is not None and is_date_format(code):
                dates.add(str(index))
                if is_timedelta_format(code):
                    durations.add(str(index))
        return dates, durations


class _SharedStrings(_Target):
    """The shared string table: each string's text (phonetic runs left out), bounded."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.strings: list[str] = []
        self.pieces: list[str] | None = None
        self.length = 0
        self.total = 0
        self.phonetic = 0
        self.collecting = False

    def opened(self, name: str, _attrib: dict[str, str]) -> None:
        if name == "si":
            if len(self.strings) >= MAX_SHARED_STRINGS:
                raise too_large(self.part, f"more than {MAX_SHARED_STRINGS:,} shared strings")
            self.pieces, self.length = [], 0
        elif name == "rPh":
            self.phonetic += 1
        elif name == "t" and self.pieces is not None and not self.phonetic:
            self.collecting = True

    def closed(self, name: str) -> None:
        if name == "t":
            self.collecting = False
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "si" and self.pieces is not None:
            self.strings.append("".join(self.pieces).replace("x005F_", ""))
            self.pieces = None

    def text(self, text: str) -> None:
        if self.collecting and self.pieces is not None:
            self.length += len(text)
            self.total += len(text)
            where = f"{self.part}, string {len(self.strings) + 1:,}"
            if self.length > MAX_CELL_CHARS:
                raise too_large(where, f"more than {MAX_CELL_CHARS:,} characters in one cell")
            if self.total > MAX_SHARED_CHARS:
                raise too_large(where, f"more than {MAX_SHARED_CHARS:,} characters in all")
            self.pieces.append(text)


# --- the worksheet -------------------------------------------------------------------------

_LETTERS = {chr(65 + i): i + 1 for i in range(26)}


def _cast_number(text: str) -> int | float:
    """A number cell's value as openpyxl casts it."""
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


class _Sheet(_Target):
    """The worksheet's rows that hold a value, each as (number, values by column)."""

    def __init__(self, part: str, strings: list[str], convert: Callable[[str, str], object]):
        super().__init__(part)
        self.strings = strings
        self.convert_date = convert
        self.ready: list[Row] = []
        self.row = 0
        self.cells: dict[int, object] = {}
        self.column = 0
        self.kind = "n"
        self.style = ""
        self.value: list[str] = []
        self.length = 0
        self.inline: list[str] | None = None
        self.collecting = False
        self.phonetic = 0
        self.columns: dict[str, int] = {}
        self.in_data = False  # cells are read inside sheetData only

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        if not self.in_data:
            self.in_data = name == "sheetData"
        elif name == "c":
            ref = attrib.get("r")
            self.column = self.column_of(ref) if ref else self.column + 1
            if self.column > EXCEL_COLUMNS:
                raise refused(f"{_UNREADABLE} (row {self.row}: a cell right of column XFD)")
            self.kind = attrib.get("t", "n")
            self.style = attrib.get("s", "")
            self.value, self.length, self.inline = [], 0, None
        elif name == "v":
            self.collecting = True
        elif name == "row":
            self.start_row(attrib.get("r"))
        elif name == "is":
            self.inline = []
        elif name == "t" and self.inline is not None and not self.phonetic:
            self.collecting = True
        elif name == "rPh":
            self.phonetic += 1

    def start_row(self, ref: str | None) -> None:
        number = self.row + 1
        if ref is not None:
            if not ref.isdigit() or len(ref) > 12:
                raise refused(f"{_UNREADABLE} (after row {self.row}: a row numbered {ref[:20]!r})")
            number = int(ref)
        if number > MAX_SHEET_ROWS:
            raise too_large(
                f"row {number:,} ({self.part})",
                f"past the last row a sheet may have, {MAX_SHEET_ROWS:,}",
            )
        if number <= self.row:
            raise refused(f"{_UNREADABLE} (row {number} comes after row {self.row})")
        self.row, self.cells, self.column = number, {}, 0

    def column_of(self, ref: str) -> int:
        letters = ref.rstrip("0123456789")
        column = self.columns.get(letters)
        if column is None:
            column = 0
            for letter in letters:
                if letter not in _LETTERS or column > EXCEL_COLUMNS:
                    raise refused(f"{_UNREADABLE} (row {self.row}: a cell at {ref[:20]!r})")
                column = column * 26 + _LETTERS[letter]
            if column == 0:
                raise refused(f"{_UNREADABLE} (row {self.row}: a cell at {ref[:20]!r})")
            if column <= EXCEL_COLUMNS:
                self.columns[letters] = column
        return column

    def text(self, text: str) -> None:
        if self.collecting:
            self.length += len(text)
            if self.length > MAX_CELL_CHARS:
                where = f"row {self.row:,}, column {column_letter(self.column - 1)}"
                raise too_large(where, f"a cell of more than {MAX_CELL_CHARS:,} characters")
            (self.value if self.inline is None else self.inline).append(text)

    def closed(self, name: str) -> None:
        if not self.in_data:
            return
        if name == "v" or name == "t":
            self.collecting = False
        elif name == "c":
            self.end_cell()
        elif name == "row":
            if self.cells:
                values: list[object] = [None] * max(self.cells)
                for column, value in self.cells.items():
                    values[column - 1] = value
                self.ready.append((self.row, tuple(values)))
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "sheetData":
            self.in_data = False

    def end_cell(self) -> None:
        value = self.cell_value()
        if value is None:
            return
        if self.column > MAX_COLUMNS:
            if isinstance(value, str) and not value.strip():
                return  # no value: as a blank cell
            raise too_large(
                f"row {self.row:,}, column {column_letter(self.column - 1)}",
                f"a value beyond column {column_letter(MAX_COLUMNS - 1)};"
                f" a sheet has at most {MAX_COLUMNS} columns",
            )
        self.cells[self.column] = value

    def cell_value(self) -> object:
        kind = self.kind
        if kind == "inlineStr":
            return None if self.inline is None else "".join(self.inline)
        text = "".join(self.value)
        if not text:
            return None
        if kind == "n":
            return self.convert_date(text, self.style)
        if kind == "s":
            index = int(text)
            if not 0 <= index < len(self.strings):
                raise refused(f"{_UNREADABLE} (row {self.row}: no shared string {index})")
            return self.strings[index]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        return text  # str (a formula's text), e (an error such as #N/A)


# --- the workbook --------------------------------------------------------------------------


def _resolve(base: str, target: str) -> str:
    """A relationship's target as a name in the archive."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels_of(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


class _Workbook:
    """Where the items worksheet, the shared strings and the styles are, and its calendar."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.budget = _Budget(archive)

    def part(self, name: str, target: _Target) -> Any:
        _parse(self.budget.open(name), target)
        return target

    def rows(self) -> Iterator[Row]:
        names = set(self.archive.namelist())
        root = self.part("_rels/.rels", _Rels("_rels/.rels"))
        documents = root.of_type("officeDocument")
        book_name = _resolve("", documents[0][1]) if documents else "xl/workbook.xml"
        rels: _Rels = self.part(_rels_of(book_name), _Rels(_rels_of(book_name)))
        book: _WorkbookPart = self.part(book_name, _WorkbookPart(book_name))
        worksheets = dict(rels.of_type("worksheet"))
        sheets = [(name, worksheets[rid]) for name, rid in book.sheets if rid in worksheets]
        if not sheets:
            raise refused("the workbook has no worksheet")
        named = [target for name, target in sheets if name.strip().lower() == "items"]
        sheet_name = _resolve(book_name, named[0] if named else sheets[0][1])
        strings: list[str] = []
        for _, target in rels.of_type("sharedStrings")[:1]:
            name = _resolve(book_name, target)
            if name in names:
                strings = self.part(name, _SharedStrings(name)).strings
        dates: set[str] = set()
        durations: set[str] = set()
        for _, target in rels.of_type("styles")[:1]:
            name = _resolve(book_name, target)
            if name in names:
                dates, durations = self.part(name, _Styles(name)).dates()
        epoch = MAC_EPOCH if book.date1904 else WINDOWS_EPOCH

        def number(text: str, style: str) -> object:
            value = _cast_number(text)
            if style not in dates:
                return value
            try:
                return from_excel(value, epoch, timedelta=style in durations)
            except (OverflowError, ValueError):
                return "#VALUE!"  # a date out of range: openpyxl's reading

        sheet = _Sheet(sheet_name, strings, number)
        for _ in _feed(self.budget.open(sheet_name), sheet):
            yield from sheet.ready
            sheet.ready.clear()
