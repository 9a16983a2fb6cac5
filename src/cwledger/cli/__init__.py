"""The `cwledger` command: one Typer app, built here from each command group's module.

Every command is registered below, explicitly and in the order `cwledger --help` lists
them; the group modules (`ledger`, `accountancy`, `book`, `report`, `scenario`, `server`,
`epcis`, `bundle`, `monitor`, `publish`, `witness`, `witnesses`, `escrow`, `aggregates`)
define the commands and register nothing themselves. Errors are mapped once, in `main`: a
`CwledgerError` prints one line (its code and diagnostics) and exits 1, unless
`--verbose`, which the root callback keeps in the context's object (`Options`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Annotated, NoReturn

import typer
from sqlalchemy.exc import OperationalError

from cwledger import __version__
from cwledger.cli import (
    accountancy,
    aggregates,
    book,
    bundle,
    epcis,
    escrow,
    late,
    ledger,
    monitor,
    publish,
    report,
    scenario,
    server,
    witness,
    witnesses,
)
from cwledger.cli.common import ask_witnesses, err, out, shown
from cwledger.errors import CwledgerError, DatabaseUnavailable, DiskFull, clip
from cwledger.heap import freeze_start_up
from cwledger.store import disk_full

__all__ = ["app", "main", "Options"]


@dataclass
class Options:
    """What the root options set for every command (the context's object)."""

    verbose: bool = False


def _print_version(asked: bool) -> None:
    if asked:
        out.print(__version__)
        raise typer.Exit()


def _root(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    ctx.ensure_object(Options).verbose = verbose
    ctx.call_on_close(ask_witnesses)


app = typer.Typer(
    name="cwledger",
    help="Tamper-evident, multi-party ledger of a chemical weapons stockpile elimination.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.callback()(_root)

for name, command in (
    ("init", ledger.init),
    ("append", ledger.append),
    ("share", ledger.share),
    ("log", ledger.log),
    ("late-entries", late.late_entries),
    ("checkpoint", ledger.checkpoint),
    ("verify", ledger.verify),
    ("monitor", monitor.monitor),
    ("balances", accountancy.balances),
    ("estimates", accountancy.estimates),
    ("declare", book.declare),
    ("amend", book.amend),
    ("diff", book.diff_command),
    ("holdings", book.holdings),
    ("where", book.where),
    ("item", book.item),
    ("findings", book.findings_command),
    ("rebuild", book.rebuild),
    ("status", book.status_command),
    ("milestones", book.milestones_command),
    ("report", report.report_command),
    ("bundle", bundle.bundle_command),
    ("check-bundle", bundle.check_bundle_command),
    ("synth", scenario.synth),
    ("serve", server.serve),
    ("publish", publish.publish),
    ("mirror", publish.mirror),
):
    app.command(name)(command)

for name, group in (
    ("keys", ledger.keys_app),
    ("prove", ledger.prove_app),
    ("inspect", accountancy.inspect_app),
    ("accountancy", accountancy.accountancy_app),
    ("export", epcis.export_app),
    ("import", epcis.import_app),
    ("epcis", epcis.epcis_app),
    ("scenario", scenario.scenario_app),
    ("tokens", server.tokens_app),
    ("witness", witness.witness_app),
    ("witnesses", witnesses.witnesses_app),
    ("escrow", escrow.escrow_app),
    ("aggregates", aggregates.aggregates_app),
):
    app.add_typer(group, name=name)


def main() -> NoReturn:
    """Entry point: run the app; a CwledgerError prints its diagnostics and exits 1. The
    commands' modules are imported by now: their objects are out of the cyclic
    collector's sight (`freeze_start_up`) for the command's work."""
    options = Options()
    freeze_start_up()
    try:
        app(obj=options)
    except CwledgerError as e:
        if options.verbose:
            raise
        _fail(e)
    except OperationalError as e:  # the database is not there, refuses, or its disk is full
        if options.verbose:
            raise
        if disk_full(e):
            _fail(DiskFull("disk full: nothing was written (free space, then retry)"))
        _fail(DatabaseUnavailable(str(e.orig or e).strip().splitlines()[0]))
    except Exception as e:  # a full disk, seen by the driver itself (the append path's hot
        # statements) or by a file write
        if options.verbose or not disk_full(e):
            raise
        what = f" writing {e.filename}" if isinstance(e, OSError) and e.filename else ""
        _fail(DiskFull(f"disk full{what}: nothing was written (free space, then retry)"))
    sys.exit(0)


def _clipped(text: str) -> str:
    return "\n".join(clip(line) for line in text.splitlines())


def _fail(e: CwledgerError) -> NoReturn:
    err.print(
        f"[bold red]error[/] ({e.code}): {shown(_clipped(e.diagnostics()), lines=True)}",
        highlight=False,
        soft_wrap=True,
    )
    sys.exit(1)
