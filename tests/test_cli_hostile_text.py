"""Ledger text reaches the terminal as text (issue 13, item 6): Rich markup in a finding's
title, a milestone's description, a site's name or a document's title is printed as
itself, and control characters (escape sequences, bells) are dropped, by every listing
command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cwledger.cli import app, common
from cwledger.ledger.ledger import Ledger
from cwledger.tables import shown
from tests.book.builders import Book, item, site
from tests.conftest import FOUNDING, ORIGIN
from tests.test_cli import _cli

MARKUP = "unbalanced [/bold] closing tag, [/i] and [link=http://evil.example]click[/link]"
CONTROL = "\x1b[2J\x1b]0;pwned\x07\x9b31m\u202eevil"
HOSTILE = f"{MARKUP} {CONTROL} end"


def test_shown_escapes_markup_and_drops_control_characters() -> None:
    text = shown(f"{HOSTILE}\nnext line\r")
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text and "\r" not in text
    assert "\u202e" not in text and "\n" not in text
    assert shown("a\nb", lines=True) == "a\nb"
    from rich.console import Console

    console = Console(width=500, record=True, force_terminal=True)
    console.print(shown(HOSTILE))
    plain = console.export_text()
    assert MARKUP in plain and "\x1b]8;" not in plain


@pytest.fixture
def ledger_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ledger whose every printable text field carries markup and control characters."""
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    book = Book(led)
    hostile_site = {**site("S-1"), "name": HOSTILE}
    book.declare([item("C-1"), item("C-2", "S-2")], sites=[hostile_site, site("S-2")])
    book.append("finding.raised", {"title": HOSTILE, "subjects": ["S-1"]})
    book.append(
        "milestone.set",
        {
            "milestone": "M-1",
            "description": HOSTILE,
            "instrument": HOSTILE,
            "due": "2014-06-30",
            "predicate": {"kind": "document", "document_kind": "plan"},
            "note": HOSTILE,
        },
    )
    doc = {"document": "D-1", "kind": "plan", "title": HOSTILE, "issued_by": HOSTILE}
    book.append("document.filed", doc)
    led.close()
    monkeypatch.setenv("CWLEDGER_LEDGER", str(tmp_path / "ledger"))
    monkeypatch.setattr(common.out, "width", 2000)  # one line per row, whatever the terminal
    return tmp_path / "ledger"


LISTINGS = [
    ["findings"],
    ["milestones"],
    ["milestones", "--at", "2014-07-01"],
    ["status"],
    ["holdings"],
    ["holdings", "--by", "chemical"],
    ["holdings", "--site", "S-1", "--by", "item"],
    ["where", "C-1"],
    ["item", "C-1"],
    ["log"],
    ["keys", "list"],
    ["balances"],
]


@pytest.mark.parametrize("args", LISTINGS, ids=[" ".join(a) for a in LISTINGS])
def test_every_listing_prints_ledger_text_as_text(ledger_dir: Path, args: list[str]) -> None:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for bad in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert bad not in result.output
    if args[0] in ("findings", "milestones"):
        assert MARKUP in result.output


def test_the_error_line_prints_its_message_as_text(ledger_dir: Path) -> None:
    result = _cli("where", "[/bold]x\x1b[2J")
    assert result.returncode == 1
    assert "[/bold]x" in result.stderr and "\x1b" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
