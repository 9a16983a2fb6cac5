"""Reading a declaration as national authorities keep it: one row per item or bulk lot.

The sheet is CSV (UTF-8, with or without a byte order mark, comma separated) or XLSX (the
worksheet named ``items``, else the first worksheet). The first row that is not blank is
the header; every further row is one item (a container or a munition) or one bulk lot,
with its chemical and its site repeated on each row that concerns them. Header names are
case-insensitive and may come in any order; cells may carry stray spaces; numbers may be
numeric cells (XLSX) or decimal text with a point (``1234.5``, ``2e3``). Blank rows are
skipped; rows are numbered as the spreadsheet shows them (the header is row 1). A formula
is read as the value the spreadsheet last computed; a date or time cell is refused.

Columns (R: the column must be in the header; what a cell needs is said per column):

=================  ==  =============================================================
item_id            R   the item's or lot's identifier, unique in the sheet (letters,
                       digits, ``.`` ``_`` ``:`` ``-``)
kind               R   ``container``, ``munition`` or ``bulk_lot``
chemical           R   the label as printed; empty only for an unfilled munition
cwc_category       R   ``1``, ``2`` or ``3``; empty when chemical is empty
schedule               the CWC schedule entry, number, part and entry (``1A3``,
                       ``2B4``); empty for an unscheduled chemical
removal_priority   R   ``1``, ``2`` or ``in-country``; empty when chemical is empty
munition_type          required on a munition's row, empty on any other row
equipment_type         required on an equipment row (production, mixing or filling
                       equipment, a structure), empty on any other row
tag                    the tag fixed to the item, if any
site_id            R   the site (material balance area) that holds the item
site_name          R   the site's name
site_kind          R   storage, production, mobile_filling_unit, related, port,
                       vessel, destruction or laboratory
lat, lon           R   WGS 84 decimal degrees, -90 to 90 and -180 to 180
site_parent            the site this site belongs to, if any
kg                 R   declared mass in kg, 0 or more
u_random_kg            standard uncertainty of kg, random part (empty: 0)
u_systematic_kg        standard uncertainty of kg, systematic part (empty: 0)
method             R   how the mass was determined (weighing, level gauge, ...)
=================  ==  =============================================================

A chemical (by label) or a site (by site_id) that appears on many rows must be described
alike on all of them. The declaration lists its chemicals and sites in the order of their
first row and its items in row order. Every site is declared by ``party`` and accessible
(changes of access are events of their own).

Nothing is half read: every problem in the sheet (and in the arguments) is reported at
once by :class:`SheetRejected`, each located as ``row 7, column kg`` (the first
:data:`~cwledger.intake.limits.MAX_PROBLEMS`, then reading stops); a file that cannot be
read at all is located as ``file``. The sheet is read one row at a time
(:mod:`cwledger.intake.sheet_file`); a sheet past one of the limits of
:mod:`cwledger.intake.limits` (rows, columns, a cell, the file, what an XLSX unzips to) is
refused by :class:`~cwledger.intake.limits.SheetTooLarge`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from openpyxl.utils import get_column_letter
from pydantic import BaseModel, TypeAdapter, ValidationError

from cwledger.errors import Problem
from cwledger.intake.limits import MAX_PROBLEMS, SheetRejected
from cwledger.intake.sheet_file import sheet_rows
from cwledger.model import Chemical, Declaration, Item, ItemKind, Schedule, Site, SiteKind
from cwledger.model.events import PartyName

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "SheetRejected", "read_declaration"]

COLUMNS = (
    "item_id",
    "kind",
    "chemical",
    "cwc_category",
    "schedule",
    "removal_priority",
    "munition_type",
    "equipment_type",
    "tag",
    "site_id",
    "site_name",
    "site_kind",
    "lat",
    "lon",
    "site_parent",
    "kg",
    "u_random_kg",
    "u_systematic_kg",
    "method",
)
_OPTIONAL = {
    "schedule",
    "munition_type",
    "equipment_type",
    "tag",
    "site_parent",
    "u_random_kg",
    "u_systematic_kg",
}
REQUIRED_COLUMNS = tuple(c for c in COLUMNS if c not in _OPTIONAL)
_ID_COLUMNS = {"item_id", "tag", "site_id", "site_parent"}

_KINDS = {k.value: k.value for k in ItemKind}
_SITE_KINDS = {k.value: k.value for k in SiteKind}
_CATEGORIES = {"1": 1, "2": 2, "3": 3}
_PRIORITIES = {"1": "1", "2": "2", "in-country": "in-country"}
_SCHEDULE = re.compile(r"([123])\.?([AB])\.?([0-9]{1,4})", re.IGNORECASE)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = {"nan", "inf", "infinity"}
_PARTY: TypeAdapter[str] = TypeAdapter(PartyName)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def read_declaration(
    path: Path,
    *,
    version: int,
    legal_basis: str,
    due: str,
    party: str,
    amends: int | None = None,
) -> Declaration:
    """Read one version of ``party``'s declaration from a CSV or XLSX sheet.

    ``amends`` defaults to the version before (an amendment always amends that one).
    Raises SheetRejected listing every problem of the sheet and of the arguments.
    """
    if amends is None and version > 1:
        amends = version - 1
    problems = _argument_problems(version, amends, legal_basis, due, party)
    gathering = _Gathering()
    try:
        with closing(sheet_rows(path)) as rows:
            problems += _sheet_problems(rows, gathering, party)
    except SheetRejected as e:  # the file cannot be read: that alone, with the arguments
        raise SheetRejected([*problems, *e.problems]) from e
    if problems:
        raise SheetRejected(problems)
    return gathering.declaration(version, amends, legal_basis, due)


def _sheet_problems(
    rows: Iterator[tuple[int, Sequence[object]]], gathering: _Gathering, party: str
) -> list[Problem]:
    """Every problem of the header and of the rows (at most MAX_PROBLEMS, then reading
    stops); what the rows say goes to ``gathering``. The rows are read one at a time."""
    first = next(rows, None)
    if first is None:
        return [Problem("file", "empty: no header row, no items")]
    layout = _Layout.of(*first)
    problems = list(layout.problems)
    data_rows = 0
    for number, values in rows:
        data_rows += 1
        problems += layout.stray(number, values)
        row = _Row(number, layout.cells(values))
        gathering.add(row, _parse(row, party))
        problems += row.sorted_problems()
        if len(problems) > MAX_PROBLEMS:
            stopped = (
                f"more than {MAX_PROBLEMS:,} problems: reading stopped at row {number};"
                f" the first {MAX_PROBLEMS:,} are listed"
            )
            return [*problems[:MAX_PROBLEMS], Problem("file", stopped)]
    if data_rows == 0:
        problems.append(Problem("file", "no data rows: the sheet has a header but no items"))
    return problems


# --- the arguments -------------------------------------------------------------------------


def _argument_problems(
    version: int, amends: int | None, legal_basis: str, due: str, party: str
) -> list[Problem]:
    header = {"version": version, "amends": amends, "legal_basis": legal_basis, "due": due}
    problems = []
    try:
        Declaration.model_validate(header)
    except ValidationError as e:
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"]) or "amends"
            problems.append(Problem(where, _plain(err["msg"])))
    try:
        _PARTY.validate_python(party)
    except ValidationError:
        rule = "a lower-case letter, then letters, digits, '.', '_' or '-'"
        problems.append(Problem("party", f"not a party name: {party!r} ({rule})"))
    return problems


# --- cells ---------------------------------------------------------------------------------


def _as_text(raw: object) -> str | None:
    """A cell as trimmed text (``None`` when empty); an integral number loses its ``.0``."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        text = "TRUE" if raw else "FALSE"
    elif isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    elif isinstance(raw, float):
        text = repr(raw)
    elif isinstance(raw, datetime | date | time):
        text = raw.isoformat()
    else:
        text = str(raw)
    return text.strip() or None


def _to_number(raw: object) -> float | str:
    """A cell as a finite number, or why it is not one."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return f"not a number: {_as_text(raw)!r}"
    if isinstance(raw, str):
        text = raw.strip()
        if text.lstrip("+-").lower() in _NON_FINITE:
            return f"not a finite number: {text!r}"
        if not _DECIMAL.fullmatch(text):
            hint = " (write decimals with a point, no thousands separator)" if "," in text else ""
            return f"not a number: {text!r}{hint}"
        raw = text
    try:
        value = float(raw)
    except OverflowError:
        value = math.inf
    return value if math.isfinite(value) else f"not a finite number: {raw!r}"


def _schedule(text: str) -> dict[str, object] | None:
    match = _SCHEDULE.fullmatch(text.replace(" ", ""))
    if match is None:
        return None
    number, part, entry = match.groups()
    return {"number": int(number), "part": part.upper(), "entry": int(entry)}


@dataclass
class _Layout:
    """The header: which column is where, and what is wrong with it."""

    row: int
    columns: dict[str, int]
    headed: set[int]
    problems: list[Problem]
    stray_seen: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, row: int, header: Sequence[object]) -> _Layout:
        columns: dict[str, int] = {}
        headed: set[int] = set()
        problems: list[Problem] = []
        for index, raw in enumerate(header):
            name = (_as_text(raw) or "").lower()
            if not name:
                continue
            headed.add(index)
            where = f"row {row}, column {name}"
            if name not in COLUMNS:
                problems.append(Problem(where, _unknown_column(name)))
            elif name in columns:
                twice = f"given twice (columns {_letter(columns[name])} and {_letter(index)})"
                problems.append(Problem(where, twice))
            else:
                columns[name] = index
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            problems.append(
                Problem(f"row {row}", f"missing required columns: {', '.join(missing)}")
            )
        return cls(row, columns, headed, problems)

    def cells(self, values: Sequence[object]) -> dict[str, object]:
        """A data row's cells by column name, for the known columns, in sheet order."""
        return {n: values[i] if i < len(values) else None for n, i in self.columns.items()}

    def stray(self, number: int, values: Sequence[object]) -> list[Problem]:
        """Values under no header (reported on the first row that has one, per column)."""
        problems = []
        for index, raw in enumerate(values):
            if index in self.headed or index in self.stray_seen or _as_text(raw) is None:
                continue
            self.stray_seen.add(index)
            where = f"row {number}, column {_letter(index)}"
            problems.append(Problem(where, "a value in a column that has no header"))
        return problems


def _letter(index: int) -> str:
    return str(get_column_letter(index + 1))


def _unknown_column(name: str) -> str:
    if ";" in name or "\t" in name:
        return "unknown column: the header looks separated by ';' or tabs; use commas"
    return f"unknown column (the columns are {', '.join(COLUMNS)})"


class _Row:
    """One data row: its cells by column name and the problems found in them."""

    def __init__(self, number: int, cells: Mapping[str, object]) -> None:
        self.number = number
        self.bad: set[str] = set()
        self.problems: list[tuple[str, Problem]] = []
        self.cells = {c: self._no_date(c, raw) for c, raw in cells.items()}

    def _no_date(self, column: str, raw: object) -> object:
        """A date or time cell is refused (and read as empty): no column holds one, and a
        spreadsheet that turned an identifier into a date has lost what was typed."""
        if isinstance(raw, datetime | date | time):
            self.fail(column, f"a date or time cell ({raw}): format the column as text")
            return None
        return raw

    def has(self, column: str) -> bool:
        """Whether the sheet has this column (its absence is a header problem)."""
        return column in self.cells

    def fail(self, column: str, message: str) -> None:
        self.bad.add(column)
        self.problems.append((column, Problem(f"row {self.number}, column {column}", message)))

    def sorted_problems(self) -> list[Problem]:
        """The problems in the order of the columns in the sheet."""
        order = {name: i for i, name in enumerate(self.cells)}
        ranked = sorted(self.problems, key=lambda cp: order.get(cp[0], len(order)))
        return [p for _, p in ranked]

    def text(self, column: str) -> str | None:
        return _as_text(self.cells.get(column))

    def required(self, column: str) -> str | None:
        value = self.text(column)
        if value is None and self.has(column) and column not in self.bad:
            self.fail(column, "empty; this cell is required")
        return value

    def numeric(
        self, column: str, *, required: bool = True, low: float = 0.0, high: float = math.inf
    ) -> float | None:
        if (self.required(column) if required else self.text(column)) is None:
            return None
        value = _to_number(self.cells[column])
        if isinstance(value, str):
            self.fail(column, value)
            return None
        if not low <= value <= high:
            self.fail(column, _out_of_range(value, low, high))
            return None
        return value

    def choice(self, column: str, allowed: Mapping[str, T], *, required: bool = True) -> T | None:
        text = self.required(column) if required else self.text(column)
        if text is None:
            return None
        if text.lower() not in allowed:
            self.fail(column, f"unknown {column} {text!r}: one of {', '.join(allowed)}")
            return None
        return allowed[text.lower()]

    def validated(self, model: type[M], fields: dict[str, Any], where: _Columns) -> M | None:
        """``model`` from ``fields``; its pydantic errors become problems of their columns.

        Errors on a column already found wrong or absent from the sheet are not repeated.
        ``None`` when any of the model's columns is wrong.
        """
        try:
            value = model.model_validate(_without_none(fields))
        except ValidationError as e:
            self._report(e, where)
            return None
        return None if self.bad & set(where.values()) else value

    def _report(self, error: ValidationError, where: _Columns) -> None:
        already = bool(self.bad & set(where.values()))
        for err in error.errors():
            loc = tuple(str(p) for p in err["loc"])
            column = _column(where, loc)
            if column is None or not self.has(column) or column in self.bad:
                continue
            if loc or not already:  # a whole-model rule may restate a problem already found
                self.fail(column, _message(err, column))


def _out_of_range(value: float, low: float, high: float) -> str:
    if high == math.inf:
        return f"negative ({value!r}): a mass or its uncertainty cannot be below {low:g}"
    return f"out of range ({value!r}): must be from {low:g} to {high:g}"


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _without_none(v) if isinstance(v, dict) else v
        for k, v in fields.items()
        if v is not None
    }


# --- from a row to a chemical, a site and an item ---------------------------------------------

_Columns = Mapping[tuple[str, ...], str]
_CHEMICAL_COLUMNS: _Columns = {
    ("label",): "chemical",
    ("cwc_category",): "cwc_category",
    ("schedule",): "schedule",
    ("removal_priority",): "removal_priority",
    (): "chemical",
}
_SITE_COLUMNS: _Columns = {
    ("id",): "site_id",
    ("name",): "site_name",
    ("kind",): "site_kind",
    ("coordinates", "lat"): "lat",
    ("coordinates", "lon"): "lon",
    ("coordinates",): "lat",
    ("parent",): "site_parent",
    (): "site_parent",
}
_ITEM_COLUMNS: _Columns = {
    ("id",): "item_id",
    ("kind",): "kind",
    ("tag",): "tag",
    ("chemical",): "chemical",
    ("declared", "kg"): "kg",
    ("declared", "u_random_kg"): "u_random_kg",
    ("declared", "u_systematic_kg"): "u_systematic_kg",
    ("declared", "method"): "method",
    ("declared",): "kg",
    ("site",): "site_id",
    ("munition_type",): "munition_type",
    ("equipment_type",): "equipment_type",
    (): "kind",
}


def _column(where: _Columns, loc: tuple[str, ...]) -> str | None:
    """The sheet column of a pydantic error location (its longest known prefix)."""
    if not loc:
        return where.get(())
    for end in range(len(loc), 0, -1):
        if loc[:end] in where:
            return where[loc[:end]]
    return None


def _plain(message: str) -> str:
    return message.removeprefix("Value error, ")


def _message(err: Any, column: str) -> str:
    if err["type"] != "string_pattern_mismatch":
        return _plain(str(err["msg"]))
    if column in _ID_COLUMNS:
        rule = "1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
        return f"not an identifier: {err['input']!r} ({rule})"
    return f"must be one line of text: {err['input']!r}"


@dataclass(frozen=True)
class _Parsed:
    item_id: str | None
    chemical: Chemical | None
    site: Site | None
    item: Item | None


def _parse(row: _Row, party: str) -> _Parsed:
    item_id = row.required("item_id")
    kind = row.choice("kind", _KINDS)
    chemical = _chemical(row)
    site_id = row.required("site_id")
    site = _site(row, site_id, party)
    item = _item(row, item_id, kind, site_id)
    return _Parsed(item_id, chemical, site, item)


def _chemical(row: _Row) -> Chemical | None:
    label = row.text("chemical")
    if "chemical" in row.bad:
        return None
    if label is None:
        for column in ("cwc_category", "schedule", "removal_priority"):
            if row.text(column) is not None:
                row.fail(column, "given, but the chemical cell is empty")
        return None
    fields = {
        "label": label,
        "cwc_category": row.choice("cwc_category", _CATEGORIES),
        "schedule": _schedule_cell(row),
        "removal_priority": row.choice("removal_priority", _PRIORITIES),
    }
    return row.validated(Chemical, fields, _CHEMICAL_COLUMNS)


def _schedule_cell(row: _Row) -> dict[str, object] | None:
    text = row.text("schedule")
    if text is None:
        return None
    schedule = _schedule(text)
    if schedule is None:
        row.fail("schedule", f"not a schedule entry: {text!r} (number, part, entry: 1A3, 2B4)")
    return schedule


def _site(row: _Row, site_id: str | None, party: str) -> Site | None:
    parent = row.text("site_parent")
    if parent is not None and parent == site_id:
        row.fail("site_parent", f"site {site_id} cannot be its own parent")
    fields = {
        "id": site_id,
        "name": row.required("site_name"),
        "kind": row.choice("site_kind", _SITE_KINDS),
        "coordinates": {
            "lat": row.numeric("lat", low=-90.0, high=90.0),
            "lon": row.numeric("lon", low=-180.0, high=180.0),
        },
        "parent": parent,
        "party": party,
    }
    return row.validated(Site, fields, _SITE_COLUMNS)


def _item(row: _Row, item_id: str | None, kind: str | None, site_id: str | None) -> Item | None:
    label = row.text("chemical")
    munition_type = row.text("munition_type")
    equipment_type = row.text("equipment_type")
    _kind_rules(row, kind, label, munition_type)
    _equipment_rules(row, kind, label, equipment_type)
    declared = {
        "kg": row.numeric("kg"),
        "u_random_kg": row.numeric("u_random_kg", required=False),
        "u_systematic_kg": row.numeric("u_systematic_kg", required=False),
        "method": row.required("method"),
    }
    fields = {
        "id": item_id,
        "kind": kind,
        "tag": row.text("tag"),
        "chemical": label,
        "declared": declared,
        "site": site_id,
        "munition_type": munition_type,
        "equipment_type": equipment_type,
    }
    return row.validated(Item, fields, _ITEM_COLUMNS)


def _kind_rules(row: _Row, kind: str | None, label: str | None, munition_type: str | None) -> None:
    """A munition names its munition_type; anything else holds a chemical and has none."""
    if kind == ItemKind.MUNITION and munition_type is None and "munition_type" not in row.bad:
        absent = "" if row.has("munition_type") else " (the sheet has no munition_type column)"
        row.fail("munition_type", f"required: this row is a munition{absent}")
    elif kind is not None and kind != ItemKind.MUNITION:
        if munition_type is not None:
            row.fail("munition_type", f"only a munition has a munition_type; this is a {kind}")
        filled = kind in (ItemKind.CONTAINER, ItemKind.BULK_LOT)
        if filled and label is None and row.has("chemical") and "chemical" not in row.bad:
            row.fail("chemical", f"required: a {kind} holds a chemical")


def _equipment_rules(
    row: _Row, kind: str | None, label: str | None, equipment_type: str | None
) -> None:
    """Equipment names its equipment_type and holds no chemical; nothing else has one."""
    if kind == ItemKind.EQUIPMENT:
        if equipment_type is None and "equipment_type" not in row.bad:
            absent = (
                "" if row.has("equipment_type") else " (the sheet has no equipment_type column)"
            )
            row.fail("equipment_type", f"required: this row is equipment{absent}")
        if label is not None:
            row.fail("chemical", "equipment holds no chemical: leave it empty")
    elif kind is not None and equipment_type is not None:
        row.fail("equipment_type", f"only equipment has an equipment_type; this is a {kind}")


# --- across rows ---------------------------------------------------------------------------

_CHEMICAL_FACTS: dict[str, Callable[[Chemical], object]] = {
    "cwc_category": lambda c: c.cwc_category,
    "schedule": lambda c: c.schedule,
    "removal_priority": lambda c: c.removal_priority,
}
_SITE_FACTS: dict[str, Callable[[Site], object]] = {
    "site_name": lambda s: s.name,
    "site_kind": lambda s: s.kind,
    "lat": lambda s: s.coordinates.lat,
    "lon": lambda s: s.coordinates.lon,
    "site_parent": lambda s: s.parent,
}


class _Gathering:
    """Chemicals, sites and items gathered row by row, each with the row that first said it."""

    def __init__(self) -> None:
        self.item_rows: dict[str, int] = {}
        self.chemicals: dict[str, tuple[int, Chemical]] = {}
        self.sites: dict[str, tuple[int, Site]] = {}
        self.items: list[Item] = []

    def add(self, row: _Row, parsed: _Parsed) -> None:
        if parsed.item_id is not None:
            first = self.item_rows.setdefault(parsed.item_id, row.number)
            if first != row.number:
                row.fail("item_id", f"item {parsed.item_id} is already on row {first}")
        if parsed.chemical is not None:
            _agree(row, self.chemicals, parsed.chemical.label, parsed.chemical, _CHEMICAL_FACTS)
        if parsed.site is not None:
            _agree(row, self.sites, parsed.site.id, parsed.site, _SITE_FACTS)
        if parsed.item is not None:
            self.items.append(parsed.item)

    def declaration(
        self, version: int, amends: int | None, legal_basis: str, due: str
    ) -> Declaration:
        fields = {
            "version": version,
            "amends": amends,
            "legal_basis": legal_basis,
            "due": due,
            "chemicals": [c for _, c in self.chemicals.values()],
            "sites": [s for _, s in self.sites.values()],
            "items": self.items,
        }
        try:
            return Declaration.model_validate(fields)
        except ValidationError as e:  # the rows were checked one by one: not expected
            raise SheetRejected([Problem("file", _plain(err["msg"])) for err in e.errors()]) from e


def _agree(
    row: _Row,
    seen: dict[str, tuple[int, M]],
    key: str,
    new: M,
    facts: Mapping[str, Callable[[M], object]],
) -> None:
    """Each column in which ``new`` differs from the first row that described ``key``."""
    first_row, first = seen.setdefault(key, (row.number, new))
    if first_row == row.number:
        return
    what = "site" if isinstance(new, Site) else "chemical"
    for column, fact in facts.items():
        here, there = fact(new), fact(first)
        if here != there:
            row.fail(
                column,
                f"{what} {key} has {column} {_show(here)} here but {_show(there)}"
                f" on row {first_row}",
            )


def _show(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, Schedule):
        return f"{value.number}{value.part}{value.entry}"
    if isinstance(value, SiteKind):
        return value.value
    return repr(value)
