"""What every `cwledger` command shares: the consoles, the common options."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cwledger.model.events import ROLES, Role
from cwledger.tables import shown

__all__ = [
    "out",
    "err",
    "LedgerDir",
    "JsonFlag",
    "parse_role",
    "progress",
    "print_json",
    "shown",
    "write_file",
    "PinnedLogKey",
    "PinnedWitnesses",
    "PinnedQuorum",
]

out = Console(soft_wrap=True)
err = Console(stderr=True)

LedgerDir = Annotated[
    Path,
    typer.Option(
        "--ledger",
        envvar="CWLEDGER_LEDGER",
        help="Ledger directory (default: $CWLEDGER_LEDGER, else the current directory).",
        show_default=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
PinnedLogKey = Annotated[
    str | None,
    typer.Option(
        "--log-key",
        help="The log's verifier key, pinned (default: the one the ledger's genesis names).",
    ),
]
PinnedWitnesses = Annotated[
    list[str] | None,
    typer.Option(
        "--witness",
        help="A witness's cosignature verifier key, pinned (repeatable; default: the "
        "ledger's own witness policy).",
    ),
]
PinnedQuorum = Annotated[
    int | None,
    typer.Option(
        "--quorum",
        min=0,
        help="How many witnesses must have cosigned (default: the policy's; with --witness, "
        "all of them).",
    ),
]


def parse_role(value: str) -> Role:
    """The role named `value`; a usage error otherwise."""
    for r in ROLES:
        if value == r:
            return r
    raise typer.BadParameter(f"{value!r} is not a role; one of {', '.join(ROLES)}")


def progress(auto_refresh: bool = True) -> Progress:
    """A transient progress bar on stderr."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        auto_refresh=auto_refresh,
    )


def print_json(value: Any) -> None:
    """Print a JSON document on stdout."""
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path`; a clear error (exit 1) if it cannot be written."""
    try:
        path.write_bytes(data)
    except OSError as e:
        err.print(
            f"[bold red]error[/] (cannot-write): {shown(path)}: {shown(e.strerror or e)}",
            highlight=False,
        )
        raise typer.Exit(1) from None
