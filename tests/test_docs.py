"""The docs cannot drift from the code: every CLI command and event type is documented."""

from __future__ import annotations

import runpy
from pathlib import Path

import typer.main

from cwledger.book.registry import EVENT_TYPES
from cwledger.cli import app
from cwledger.model.classes import Class, field_classes

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    group = typer.main.get_group(app)
    out = []
    for name, cmd in group.commands.items():
        sub = getattr(cmd, "commands", None)
        out += [f"{name} {s}" for s in sub] if sub else [name]
    return out


def test_readme_shows_every_cli_command() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [c for c in _commands() if f"cwledger {c}" not in readme]
    assert not missing, f"README's CLI at a glance lacks: {missing}"


def test_architecture_names_every_store_table_and_governance_event() -> None:
    from cwledger.store.schema import metadata

    text = (ROOT / "docs" / "architecture.md").read_text()
    assert all(f"`{t.name}`" in text for t in metadata.sorted_tables)
    governance = [n for n, t in EVENT_TYPES.items() if t.governance]
    assert all(f"`{n}`" in text for n in governance), governance


def test_changelog_and_performance_exist() -> None:
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()
    assert "ratio" in (ROOT / "docs" / "performance.md").read_text()


def test_confidentiality_doc_lists_every_field_that_is_not_public() -> None:
    script = runpy.run_path(str(ROOT / "scripts" / "confidentiality_table.py"))
    doc = (ROOT / "docs" / "confidentiality.md").read_text()
    assert script["written"](doc) == doc, "run scripts/confidentiality_table.py --write"
    for name, etype in EVENT_TYPES.items():
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{name}` |"))
        for field, mark in field_classes(etype.body).items():
            assert (f"`{field}` (" in row) is (mark.cls is not Class.PUBLIC), (name, field)
