"""Scenarios and synthetic ledgers: `cwledger scenario load`, `cwledger synth`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cwledger.cli_common import app, err, progress
from cwledger.errors import ConflictError

__all__ = ["scenario_load"]

scenario_app = typer.Typer(help="Ready-made ledgers from public facts.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")

SCENARIOS = ("syria-2013",)


@scenario_app.command("load")
def scenario_load(
    name: Annotated[str, typer.Argument(help="Scenario name: syria-2013.")],
    directory: Annotated[Path, typer.Argument(help="Directory of the new ledger.")] = Path(
        "syria-2013"
    ),
) -> None:
    """Build a scenario into a new ledger, through the real append path, deterministically
    (its keys derive from a published seed: a demonstration, never for real use)."""
    if name not in SCENARIOS:
        raise typer.BadParameter(f"{name!r}: known scenarios are {', '.join(SCENARIOS)}")
    if (directory / "ledger.db").exists():
        raise ConflictError(f"{directory} already holds a ledger")
    from cwledger.scenario import syria_2013

    events = len(syria_2013.build())
    with progress() as bar:
        task = bar.add_task(f"loading {name}", total=events)
        ledger = syria_2013.load(directory, progress=lambda n: bar.advance(task, n))
    cp = ledger.latest_checkpoint()
    ledger.close()
    err.print(
        f"loaded {name} into {directory}: {cp.size} entries, root {cp.root_hash.hex()}"
        f" (keys derived from a published seed: a demonstration ledger)"
    )
