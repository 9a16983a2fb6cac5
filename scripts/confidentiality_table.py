#!/usr/bin/env python
"""The tables of ``docs/confidentiality.md`` that come from the code: who reads what (from
``CLEARANCE``) and the fields of each event type that are not public (from the registry).

``python scripts/confidentiality_table.py`` prints them; ``--write`` puts them into the
doc between its ``<!-- generated:begin -->`` and ``<!-- generated:end -->`` lines. A test
(tests/test_docs.py) holds the doc equal to this output.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cwledger.book.registry import EVENT_TYPES
from cwledger.model.classes import CLEARANCE, Class, field_classes, may_read

DOC = Path(__file__).resolve().parents[1] / "docs" / "confidentiality.md"
BEGIN, END = "<!-- generated:begin -->", "<!-- generated:end -->"


def _readers() -> list[str]:
    head = "| role | clearance | " + " | ".join(c.label for c in Class) + " |"
    rule = "|---|---|" + "---|" * len(Class)
    rows = [
        f"| {role} | {clearance.label} | "
        + " | ".join("reads" if may_read(role, c) else "-" for c in Class)
        + " |"
        for role, clearance in CLEARANCE.items()
    ]
    return [head, rule, *rows]


def _fields() -> list[str]:
    out = ["| event type | class | fields that are not public |", "|---|---|---|"]
    for name, etype in EVENT_TYPES.items():
        marks = field_classes(etype.body)
        hidden = []
        for field, mark in marks.items():
            if mark.cls is Class.PUBLIC:
                continue
            lowered = "".join(f"; {c.label} by the {role}" for role, c in mark.by)
            hidden.append(f"`{field}` ({mark.cls.label}{lowered})")
        shown = ", ".join(hidden) if hidden else "none"
        out.append(f"| `{name}` | {etype.confidentiality.label} | {shown} |")
    return out


def table() -> str:
    """The generated part of the doc, between its markers (markers excluded)."""
    fields = "### The fields that are not public, by event type"
    lines = ["", "### Clearances", "", *_readers(), "", fields, "", *_fields(), ""]
    return "\n".join(lines)


def written(doc: str) -> str:
    """The doc with its generated part replaced by :func:`table`."""
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv: list[str]) -> None:
    if argv[1:] == ["--write"]:
        DOC.write_text(written(DOC.read_text()))
    else:
        print(table())


if __name__ == "__main__":
    main(sys.argv)
