"""Rich tables of the progress answers, shared by the CLI and the demo (presentation only:
every figure comes from ``cwledger.book.progress``), and `shown`, the one way the CLI and
the demo print ledger text (``cwledger.cli.common`` hands it to every command)."""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape
from rich.table import Table

__all__ = [
    "status_table",
    "facilities_table",
    "whereabouts_table",
    "milestones_table",
    "milestone_state",
    "STATE_LABEL",
    "shown",
]

# C0 controls but newline, DEL, C1 controls, and the bidirectional overrides and isolates
# (which reorder what is printed after them).
_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile("\n")


def shown(value: object, *, lines: bool = False) -> str:
    """Text from the ledger (or from any input) as the terminal must print it: as text.

    Control characters are dropped (escape sequences, bells, carriage returns; a newline
    becomes a space unless `lines`, for a cell that may span lines) and Rich markup is
    escaped, so that ``[/bold]`` or ``[link=...]`` print as themselves. Every table cell
    and line that carries ledger data goes through this."""
    text = _UNPRINTABLE.sub("", str(value))
    if not lines:
        text = _NEWLINES.sub(" ", text)
    return escape(text)


COLOUR = {
    "met": "green",
    "met_late": "yellow",
    "overdue": "red",
    "at_risk": "yellow",
    "due": "cyan",
}
STATE_LABEL = {
    "met": "met",
    "met_late": "met late",
    "overdue": "overdue",
    "at_risk": "at risk",
    "due": "due",
}
"""How each milestone state (``progress.MILESTONE_STATES``) is written for people."""


def milestone_state(d: dict[str, Any]) -> str:
    """A judged milestone's state for people: ``met late (174 d)``, ``overdue (12 d)``."""
    label = STATE_LABEL.get(d["status"], d["status"])
    return label if d["days_late"] is None else f"{label} ({d['days_late']} d)"


def status_table(doc: dict[str, Any], title: str, *, detail: bool = True) -> Table:
    """``status --json`` as a table: the total, then by category (with `detail`) and priority.

    "not yet destroyed" is what the book holds, wherever it is (`whereabouts_table` says
    where); the weighings' difference from the declaration is never "remaining"."""
    columns = ["", "declared t", "removed t", "removed %", "destroyed t", "destroyed %"]
    columns += ["not yet destroyed t"]
    if detail:
        columns += ["items destroyed"]
    table = Table(*columns, title=title, title_justify="left")

    def row(name: str, t: dict[str, Any]) -> None:
        cells = [
            shown(name),
            f"{t['declared_t']:,.1f}",
            f"{t['removed_t']:,.1f}",
            f"{t['removed_pct']:.1f}",
            f"{t['destroyed_t']:,.1f}",
            f"{t['destroyed_pct']:.1f}",
            f"{t['not_destroyed_t']:,.1f}",
        ]
        if detail:
            cells += [f"{t['destroyed_items']}/{t['declared_items']}"]
        table.add_row(*cells)

    for name, t in _groups(doc, detail):
        row(name, t)
    return table


def facilities_table(doc: dict[str, Any], title: str) -> Table:
    """The facilities block of ``status --json`` as a table: one count per row."""
    table = Table("", "facilities", title=title, title_justify="left")
    kinds = ", ".join(f"{shown(k.replace('_', ' '))}: {n}" for k, n in doc["by_kind"].items())
    types = ", ".join(f"{shown(k)}: {n}" for k, n in doc["structures_by_type"].items())
    rows = [
        ("declared", f"{doc['declared']}" + (f" ({kinds})" if kinds else "")),
        ("functionally destroyed", f"{doc['functionally_destroyed']}"),
        ("structures to destroy", f"{doc['structures']}" + (f" ({types})" if types else "")),
        ("structures destroyed", f"{doc['physically_destroyed']}"),
        ("verified destroyed", f"{doc['verified_destroyed']} of {doc['declared']}"),
        (
            "inaccessible",
            f"{doc['inaccessible']} ({doc['structures_inaccessible']} with a structure standing)",
        ),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def whereabouts_table(doc: dict[str, Any], title: str) -> Table:
    """Where what is not yet destroyed is (in the country, in transit, at a destruction
    venue), and the unaccounted difference: declared less destroyed less what is held."""
    table = Table(
        "",
        "in country t",
        "in transit t",
        "at venue t",
        "not yet destroyed t",
        "unaccounted t",
        title=title,
        title_justify="left",
    )
    for name, t in _groups(doc, True):
        table.add_row(
            shown(name),
            f"{t['in_country_t']:,.1f}",
            f"{t['in_transit_t']:,.1f}",
            f"{t['at_venue_t']:,.1f}",
            f"{t['not_destroyed_t']:,.1f}",
            f"{t['unaccounted_t']:,.3f}",
        )
    return table


def _groups(doc: dict[str, Any], detail: bool) -> list[tuple[str, dict[str, Any]]]:
    groups = [*doc["by_category"].items()] if detail else []
    return [
        ("chemicals, categories 1-2", doc),
        *((f"  {name}", t) for name, t in [*groups, *doc["by_priority"].items()]),
    ]


def milestones_table(docs: list[dict[str, Any]], title: str, *, detail: bool = True) -> Table:
    """``milestones --json`` as a table (with `detail`: what is still outstanding)."""
    columns = ["id", "due", "status", "met on"]
    columns += ["outstanding"] if detail else []
    table = Table(*columns, "milestone", title=title, title_justify="left")
    for d in docs:
        cells = [
            shown(d["id"]),
            shown(d["due"] or "open"),
            f"[{COLOUR.get(d['status'], 'white')}]{shown(milestone_state(d))}[/]"
            + (" (recorded late)" if d.get("late_entry") else ""),
            shown(d["met_on"] or ""),
        ]
        if detail:
            left = d["outstanding"] or {}
            cells.append(shown(", ".join(f"{v:g} {k}" for k, v in left.items() if v)))
        table.add_row(*cells, shown(d["description"], lines=True))
    return table
