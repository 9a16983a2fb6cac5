"""Rich tables of the progress answers, shared by the CLI and the demo (presentation only:
every figure comes from ``cwledger.book.progress``)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

__all__ = ["status_table", "milestones_table"]

COLOUR = {"met": "green", "missed": "red", "at_risk": "yellow", "due": "cyan"}


def status_table(doc: dict[str, Any], title: str, *, detail: bool = True) -> Table:
    """``status --json`` as a table: the total, then by category (with `detail`) and priority."""
    columns = ["", "declared t", "removed t", "removed %", "destroyed t", "destroyed %"]
    if detail:
        columns += ["remaining t", "items destroyed"]
    table = Table(*columns, title=title, title_justify="left")

    def row(name: str, t: dict[str, Any]) -> None:
        cells = [
            name,
            f"{t['declared_t']:,.1f}",
            f"{t['removed_t']:,.1f}",
            f"{t['removed_pct']:.1f}",
            f"{t['destroyed_t']:,.1f}",
            f"{t['destroyed_pct']:.1f}",
        ]
        if detail:
            cells += [f"{t['remaining_t']:,.1f}", f"{t['destroyed_items']}/{t['declared_items']}"]
        table.add_row(*cells)

    row("chemicals, categories 1-2", doc)
    groups = [*doc["by_category"].items()] if detail else []
    for name, t in [*groups, *doc["by_priority"].items()]:
        row(f"  {name}", t)
    return table


def milestones_table(docs: list[dict[str, Any]], title: str, *, detail: bool = True) -> Table:
    """``milestones --json`` as a table (with `detail`: what is still outstanding)."""
    columns = ["id", "due", "status", "met on", "late"]
    columns += ["outstanding"] if detail else []
    table = Table(*columns, "milestone", title=title, title_justify="left")
    for d in docs:
        late = "" if d["days_late"] is None else f"{d['days_late']} d"
        cells = [
            d["id"],
            d["due"] or "open",
            f"[{COLOUR[d['status']]}]{d['status']}[/]"
            + (" (recorded late)" if d.get("late_entry") else ""),
            d["met_on"] or "",
            late,
        ]
        if detail:
            left = d["outstanding"] or {}
            cells.append(", ".join(f"{v:g} {k}" for k, v in left.items() if v))
        table.add_row(*cells, d["description"])
    return table
