"""`cwledger report`: the monthly progress report, in the manner of the Director-General's
monthly reports to the Executive Council, as HTML, PDF or Markdown. Thin: the report is
`cwledger.reports.monthly.build` over one read of the log, rendered by
`cwledger.reports.render`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cwledger.cli.bundle import period_bundle
from cwledger.cli.common import LedgerDir, err, shown, write_file
from cwledger.ledger.ledger import Ledger
from cwledger.time import parse_month

__all__ = ["report_command"]


def report_command(
    month: Annotated[
        str | None,
        typer.Option("--month", help="The calendar month (UTC), YYYY-MM, e.g. 2014-03."),
    ] = None,
    first: Annotated[
        str | None,
        typer.Option("--from", help="The period's first day, YYYY-MM-DD (with --to)."),
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="The period's last day, YYYY-MM-DD (included).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="html, pdf, md (Markdown), json or csv.")
    ] = "html",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write it (default: report-YYYY-MM.<ext> here)."),
    ] = None,
    bundle: Annotated[
        bool,
        typer.Option(
            "--bundle",
            help="Also write the offline bundle of the period's entries beside it "
            "(<report>.bundle.json; check it with check-bundle).",
        ),
    ] = False,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """The progress report for a month (--month) or any period (--from/--to), with its
    number, symbol and mandate; the declarant's submissions, causes of delay, consignments
    with cumulative percentages by priority, production facilities, outstanding declaration
    issues; as HTML, PDF, Markdown, JSON or CSV. For a month: milestones, removal and destruction by
    category and priority with charts, the month's removals, destruction batches,
    inspections, findings and documents, and a verification statement (the end-of-month
    checkpoint and how to check it)."""
    # Start-up time: Jinja2 (and WeasyPrint), only here.
    from cwledger.reports import monthly, render

    try:
        kind = render.as_format(fmt)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--format") from None
    if (month is None) == (first is None and last is None) or (first is None) != (last is None):
        raise typer.BadParameter("give --month, or --from and --to", param_hint="--month")
    period = (
        parse_month(month) if month is not None else monthly.parse_span(first or "", last or "")
    )
    name = period.month if month is not None else f"{period.first_day}_{period.last_day}"
    if kind == "pdf":
        render.load_weasyprint()  # fail before reading the ledger, naming what to install
    ledger = Ledger.open(ledger_dir)
    try:
        with ledger.store.read() as r:
            if month is not None:
                report = monthly.build(r, period.month, late_after=ledger.late_after)
            else:
                report = monthly.build_period(r, period, late_after=ledger.late_after)
            bundled = period_bundle(ledger, r, period) if bundle else None
    finally:
        ledger.close()
    data = render.render(report, kind)
    path = out_file or Path(f"report-{name}.{render.EXTENSIONS[kind]}")
    if bundled is not None:
        write_file(path.with_name(f"{path.stem}.bundle.json"), bundled)
    write_file(path, data)
    v = report.verification
    err.print(
        f"report {shown(report.symbol)} for {shown(report.label)} ({kind}, {len(data):,} bytes):"
        f" checkpoint of {v.size} entries, root {v.root_hex[:16]}...",
        highlight=False,
    )
    sys.stdout.write(f"{path}\n")
