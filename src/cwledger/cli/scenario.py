"""Scenarios and synthetic ledgers: `cwledger scenario load`, `cwledger synth`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cwledger.cli.common import err, print_json, progress
from cwledger.errors import ConflictError

__all__ = ["scenario_app", "synth"]

scenario_app = typer.Typer(help="Ready-made ledgers from public facts.", no_args_is_help=True)

SCENARIOS = ("syria-2013",)


@scenario_app.command("load")
def scenario_load(
    name: Annotated[str, typer.Argument(help="Scenario name: syria-2013.")],
    directory: Annotated[Path, typer.Argument(help="Directory of the new ledger.")] = Path(
        "syria-2013"
    ),
    plain: Annotated[
        bool,
        typer.Option(
            "--plain",
            help="Every body in the clear, no escrow (default: confidential, as in 2013).",
        ),
    ] = False,
) -> None:
    """Build a scenario into a new ledger, through the real append path (its keys derive
    from a published seed: a demonstration, never for real use). Confidential by default:
    the bodies sealed to the parties cleared to read them, a day-one escrow and public
    aggregates proven against it; `--plain` builds it in the clear, byte for byte the same
    every time."""
    if name not in SCENARIOS:
        raise typer.BadParameter(f"{name!r}: known scenarios are {', '.join(SCENARIOS)}")
    if (directory / "ledger.db").exists():
        raise ConflictError(f"{directory} already holds a ledger")
    from cwledger.scenario import syria_2013  # start-up time: the scenario's facts

    with progress() as bar:
        task = bar.add_task(f"loading {name}", total=None)
        ledger = syria_2013.load(
            directory,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            confidential=not plain,
        )
    cp = ledger.latest_checkpoint()
    ledger.close()
    kind = "in the clear" if plain else "confidential: sealed bodies, a day-one escrow"
    err.print(
        f"loaded {name} into {directory} ({kind}): {cp.size} entries, root"
        f" {cp.root_hash.hex()} (keys derived from a published seed: a demonstration ledger)"
    )


def synth(
    directory: Annotated[Path, typer.Argument(help="Directory of the new ledger.")],
    sites: Annotated[int, typer.Option(min=1, help="Storage sites.")] = 23,
    items: Annotated[int, typer.Option(min=1, help="Containers declared.")] = 2000,
    events: Annotated[
        int, typer.Option(min=10, help="Entries to write (genesis included).")
    ] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed, the same ledger.")] = 1,
    diversion: Annotated[
        str | None, typer.Option(help="abrupt, or protracted:KG (kg in all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the generator's report.")] = False,
) -> None:
    """Write a synthetic signed ledger of that size through the real append path (batched),
    for benchmarks and detection studies; keys derive from the seed (never for real use)."""
    # Start-up time: the generator (numpy), only here.
    from cwledger.scenario.synth import Diversion
    from cwledger.scenario.synth import synth as write_synthetic

    if (directory / "ledger.db").exists():
        raise ConflictError(f"{directory} already holds a ledger")
    try:
        plan = None if diversion is None else Diversion.parse(diversion)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--diversion") from None
    with progress() as bar:
        task = bar.add_task("writing", total=events)
        try:
            report = write_synthetic(
                directory,
                sites=sites,
                items=items,
                events=events,
                seed=seed,
                diversion=plan,
                progress=lambda n: bar.advance(task, n),
            )
        except ValueError as e:
            raise typer.BadParameter(str(e)) from None
    if as_json:
        print_json(
            {
                "events": report.events,
                "root_hash": report.root_hash,
                "seconds": round(report.seconds, 2),
                "events_per_second": round(report.events_per_second),
                "diversion": None if report.diversion is None else str(report.diversion),
                "diverted_kg": report.diverted_g / 1000,
                "held_kg": sum(report.held.values()) / 1000,
                "destroyed_kg": sum(report.destroyed.values()) / 1000,
            }
        )
    err.print(
        f"wrote {report.events:,} entries to {directory} in {report.seconds:.1f} s"
        f" ({report.events_per_second:,.0f} events/s); root {report.root_hash}"
    )
