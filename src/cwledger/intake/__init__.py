"""Intake: declarations as national authorities keep them, and as the events that carry them.

``read_declaration`` reads a CSV or XLSX sheet (one row per item or bulk lot) into a
:class:`~cwledger.model.Declaration`, refusing it with every problem at once
(:class:`SheetRejected`); ``declaration_parts`` splits a declaration into the bodies of
its numbered ``declaration.submitted`` or ``declaration.amended`` parts, each well under
the 64 KiB entry limit, and ``assemble`` puts the parts back together. What a sheet may
hold (rows, columns, a cell, the file, what an XLSX unzips to) is in ``limits``; a sheet
past a limit is refused with :class:`SheetTooLarge`.
"""

from __future__ import annotations

from cwledger.intake.declaration_sheet import (
    COLUMNS,
    REQUIRED_COLUMNS,
    SheetRejected,
    read_declaration,
)
from cwledger.intake.limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    SheetTooLarge,
)
from cwledger.intake.parts import (
    BODY_BUDGET,
    DeclarationPart,
    assemble,
    declaration_event_type,
    declaration_parts,
)

__all__ = [
    "BODY_BUDGET",
    "COLUMNS",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "REQUIRED_COLUMNS",
    "DeclarationPart",
    "SheetRejected",
    "SheetTooLarge",
    "assemble",
    "declaration_event_type",
    "declaration_parts",
    "read_declaration",
]
