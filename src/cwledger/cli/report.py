"""`cwledger report`: the monthly progress report, in the manner of the Director-General's
monthly reports to the Executive Council, as HTML, PDF or Markdown in any of the six
official languages (``--lang``), or as JSON or CSV data. Thin: the report is
`cwledger.reports.monthly.build` over one read of the log, rendered by
`cwledger.reports.render`."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from cwledger.cli.bundle import period_bundle
from cwledger.cli.common import LedgerDir, err, shown, write_file
from cwledger.errors import KeyNotFound, NotEntitled
from cwledger.ledger.confidential import OPERATOR
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import public_view
from cwledger.store import LogReader
from cwledger.time import parse_month

__all__ = ["report_command"]


@contextmanager
def _view(r: LogReader, public: bool) -> Iterator[LogReader]:
    """The log as the report reads it: with its public book only when `public`."""
    if not public:
        yield r
        return
    with public_view(r) as pr:
        yield pr


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
    lang: Annotated[
        str,
        typer.Option(
            "--lang",
            help="The language of an HTML, PDF or Markdown report: ar, zh, en, fr, ru or es"
            " (JSON and CSV are data, the same in every language).",
        ),
    ] = "en",
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
    confidential: Annotated[
        bool,
        typer.Option(
            "--confidential",
            help="In a confidential ledger, report from the whole book (opened with the"
            " operator's keys, which this keystore must hold): not for the public.",
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
    checkpoint and how to check it). In a confidential ledger, public fields only (and it
    says so), unless --confidential. HTML, PDF and Markdown in --lang (ar, zh, en, fr, ru,
    es): the report's own sentences translated, numbers and dates as the language writes
    them; the ledger's names and text as recorded."""
    # Start-up time: Jinja2, Babel (and WeasyPrint), only here.
    from cwledger import i18n
    from cwledger.reports import monthly, render

    try:
        kind = render.as_format(fmt)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--format") from None
    try:
        code = i18n.language(lang).code
    except i18n.UnknownLanguage as e:
        raise typer.BadParameter(str(e), param_hint="--lang") from None
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
        public = ledger.authority().confidential and not confidential
        if ledger.authority().confidential and confidential:
            try:
                ledger.keystore.decryption_key(OPERATOR)
            except KeyNotFound:
                raise NotEntitled(
                    f"this keystore lacks the {OPERATOR}'s encryption key: a confidential"
                    " ledger's whole book is not for it (without --confidential: public"
                    " fields only)"
                ) from None
        with ledger.store.read() as r, _view(r, public) as shown_r:
            if month is not None:
                report = monthly.build(shown_r, period.month, late_after=ledger.late_after)
            else:
                report = monthly.build_period(shown_r, period, late_after=ledger.late_after)
            bundled = period_bundle(ledger, r, period) if bundle else None
    finally:
        ledger.close()
    if public:
        report = dataclasses.replace(report, visibility=monthly.PUBLIC_ONLY)
    data = render.render(report, kind, code)
    path = out_file or Path(f"report-{name}.{render.EXTENSIONS[kind]}")
    if bundled is not None:
        write_file(path.with_name(f"{path.stem}.bundle.json"), bundled)
    write_file(path, data)
    v = report.verification
    if public:
        err.print("this ledger is confidential: the report shows public fields only")
    err.print(
        f"report {shown(report.symbol)} for {shown(report.label)} ({kind}, {len(data):,} bytes):"
        f" checkpoint of {v.size} entries, root {v.root_hex[:16]}...",
        highlight=False,
    )
    sys.stdout.write(f"{path}\n")
