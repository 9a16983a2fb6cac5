"""Can we account for it: `cwledger balances`, `accountancy`, `inspect`, `estimates`.

Thin: every figure comes from ``cwledger.accountancy``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cwledger.accountancy.balances import differences, route_series, site_series, site_series_name
from cwledger.accountancy.draws import check_draw, draw, draw_inputs
from cwledger.accountancy.selection import commitment
from cwledger.accountancy.series import load_series
from cwledger.book.records import ItemRecord, SiteRecord
from cwledger.cli.book import AtOption, moment_option
from cwledger.cli.common import JsonFlag, LedgerDir, err, open_ledger, out, print_json, shown
from cwledger.ledger.ledger import Ledger, utc_now
from cwledger.time import parse_month
from cwledger.words import plural

__all__ = ["balances", "estimates", "inspect_app", "accountancy_app"]


def balances(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    period: Annotated[str | None, typer.Option(help="Only this calendar month, YYYY-MM.")] = None,
    export_series: Annotated[
        Path | None,
        typer.Option(help="Write a route's shipper/receiver differences as a balance series."),
    ] = None,
    route: Annotated[
        str | None, typer.Option(help="The route to export, ORIGIN:DESTINATION.")
    ] = None,
    reconcile: Annotated[
        bool, typer.Option("--reconcile", help="The whole-stockpile reconciliation instead.")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option("--at", help="With --reconcile: as it stood at this date or moment."),
    ] = None,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Material balances per site and calendar month: BI, receipts, shipments, destroyed,
    other, EI (book and physical) and MUF; with --export-series, a route as a balance series;
    with --reconcile, declared = destroyed + in transit + held at sites + sum MUF + sum SRD
    (with --at, as it stood at that moment)."""
    from cwledger.accountancy import answers  # numpy and scipy: only when run (start-up time)

    if at is not None and not reconcile:
        raise typer.BadParameter("--at goes with --reconcile", param_hint="--at")
    if reconcile:
        _reconcile(ledger_dir, as_json, moment_option(at))
        return
    month = None if period is None else parse_month(period).month
    with Ledger.open(ledger_dir).store.read() as r:
        periods = answers.balance_periods(r, site)
        rows = answers.monthly_balances(r, site, periods)
        diffs = differences(r) if export_series is not None else []
    if export_series is not None:
        if route is not None and ":" in route:
            origin, destination = route.split(":", 1)
            doc = route_series(diffs, origin, destination, periods)
        elif site is not None:
            doc = _site_export(ledger_dir, site)
        else:
            raise typer.BadParameter(
                "give --route ORIGIN:DESTINATION, or --site S", param_hint="--export-series"
            )
        text = json.dumps(doc, indent=1) + "\n"
        if str(export_series) == "-":
            sys.stdout.write(text)
        else:
            export_series.write_text(text)
        err.print(
            f"wrote {len(doc['measurements'])} measurements over {len(doc['periods'])} periods"
        )
        return
    docs = [b.to_json() for b in rows if month is None or b.period.month == month]
    if as_json:
        print_json(docs)
        return
    table = Table(
        "site",
        "month",
        "BI kg",
        "receipts",
        "shipments",
        "destroyed",
        "other",
        "EI book",
        "EI physical",
        "MUF kg",
        title="material balances",
    )
    for d in docs:
        table.add_row(
            shown(d["site"]),
            shown(d["start"][:7]),
            *(
                _kg(d[k])
                for k in (
                    "beginning_kg",
                    "receipts_kg",
                    "shipments_kg",
                    "destroyed_kg",
                    "other_kg",
                    "ending_book_kg",
                    "ending_physical_kg",
                    "muf_kg",
                )
            ),
        )
    out.print(table)


def _site_export(ledger_dir: Path, site: str) -> dict[str, Any]:
    """A site's balance series over the months between its first and last monthly counts."""
    from cwledger.accountancy import answers  # numpy and scipy: only when run (start-up time)

    with Ledger.open(ledger_dir).store.read() as r:
        months = answers.counted_months(r, site)
        if len(months) < 2:
            raise typer.BadParameter(f"{site} needs complete inventories in two months at least")
        periods = answers.month_range(months[1], months[-1])
        return site_series(r, site, periods, registered=answers.registered_methods(r))


def _reconcile(ledger_dir: Path, as_json: bool, at: int | None = None) -> None:
    from cwledger.accountancy.answers import reconciliation  # numpy, scipy: start-up time

    with Ledger.open(ledger_dir).store.read() as r:
        terms = reconciliation(r, at)
    if as_json:
        print_json([t.to_json() for t in terms])
        return
    table = Table("term", "kg", "standard uncertainty kg", title="can we account for it")
    for t in terms:
        table.add_row(t.name, f"{t.kg:,.3f}", f"{t.u_kg:,.3f}")
    out.print(table)


def _kg(value: Any) -> str:
    return "" if value is None else f"{value:,.1f}"


inspect_app = typer.Typer(help="Inspection sampling plans.", no_args_is_help=True)


@inspect_app.command("plan")
def inspect_plan(
    site: Annotated[str, typer.Option(help="The site (material balance area) to inspect.")],
    detect: Annotated[float, typer.Option(help="Detection probability 1 - beta.")] = 0.95,
    missing_items: Annotated[
        int, typer.Option(help="Items that would have to be falsified (per stratum).")
    ] = 1,
    at: AtOption = None,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """How many items to verify at a site, one stratum per chemical (or per kind of item
    counted, not weighed): the exact hypergeometric size and the IAEA approximation, each
    with the detection it achieves; at a moment with --at."""
    from cwledger.accountancy.sampling import Stratum, plan  # scipy: start-up time

    moment = moment_option(at)
    with Ledger.open(ledger_dir).store.read() as r:
        if r.book.get(SiteRecord, site) is None:
            raise typer.BadParameter(f"no site {site} in the book", param_hint="--site")
        held = r.book.items_at(site, moment)
        records = {p.item: r.book.get(ItemRecord, p.item) for p in held}
    strata: dict[str, list[int]] = {}
    for p in held:
        rec = records[p.item]
        label = (rec.chemical or rec.item.kind.value) if rec is not None else "unknown"
        strata.setdefault(label, []).append(p.held_g)
    when = "now" if at is None else f"at {at}"
    if not strata:
        if as_json:
            print_json({"site": site, "at": at, "detect": detect, "strata": []})
        else:
            out.print(
                shown(f"nothing to verify: the book holds no item at {site} {when}")
                + (" (--at for another moment)" if at is None else "")
            )
        return
    try:
        result = plan(
            [
                Stratum(name, len(g), sum(g) / len(g) / 1000, missing=min(missing_items, len(g)))
                for name, g in sorted(strata.items())
            ],
            detect,
        )
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    doc = {"site": site, "at": at, **result.to_json()}
    if as_json:
        print_json(doc)
        return
    table = Table(
        "stratum",
        "items",
        "n exact",
        "achieved",
        "n IAEA",
        "achieved",
        title=shown(f"sampling plan at {site} {when}: detect {detect:.0%}"),
    )
    for s in doc["strata"]:
        table.add_row(
            shown(s["name"]),
            str(s["N"]),
            str(s["n_exact"]),
            f"{s['detect_exact']:.3f}",
            str(s["n_iaea"]),
            f"{s['detect_iaea']:.3f}",
        )
    out.print(table)


def estimates(
    at: AtOption = None, ledger_dir: LedgerDir = Path("."), as_json: JsonFlag = False
) -> None:
    """The declaration tested against the independent estimates, scope by scope (an
    estimate is compared with the declared total of its own scope: a category less the
    chemicals it leaves out, or the count of sites): each estimate with its uncertainty
    (stated or assumed) and source, the fused value, the one-sided test of
    under-declaration and the upper bound of what is undeclared. With --at, against the
    declaration as it stood then."""

    from cwledger.accountancy.answers import estimate_comparisons  # numpy: start-up time

    with Ledger.open(ledger_dir).store.read() as r:
        comparisons = estimate_comparisons(r, moment_option(at))
    if not comparisons:
        raise typer.BadParameter("no complete declaration and recorded estimate to compare")
    if as_json:
        print_json({"comparisons": comparisons})
        return
    for doc in comparisons:
        _print_comparison(doc)


def _print_comparison(doc: dict[str, Any]) -> None:
    unit = " sites" if doc["unit"] == "sites" else " t"
    out.print(
        shown(
            f"{doc['scope_label']}: declared {doc['declared']:,.1f}{unit}"
            f" (u {doc['declared_u']:,.1f}; {doc['declared_counts']},"
            f" declaration version {doc['declaration_version']})"
        )
    )
    for e in doc["used"]:
        out.print(
            shown(
                f"  {e['party']}: {e['value']:,.1f}{unit} (u {e['u']:,.1f}, {e['u_basis']});"
                f" {e['method']}; source {e['source'] or 'not given'}"
            )
        )
    for left in doc["left_out"]:
        out.print(shown(f"  left out: {left['party']} ({left['reason']})"))
    t, f = doc["test"], doc["fusion"]
    if t is None or f is None:
        out.print("  no quantified estimate of this scope: nothing to test")
        return
    direction = "more" if t["difference"] > 0 else "less"
    out.print(
        shown(
            f"  estimates fused to {f['value']:,.1f}{unit} (u {f['sigma_scaled']:,.1f}):"
            f" {abs(t['difference']):,.1f}{unit} {direction} than declared;"
            f" z = {t['z']:+.2f}, one-sided p = {t['p_value']:.3g};"
            f" upper bound of what is undeclared ({t['level']:.0%}): {t['upper']:,.1f}{unit}"
        )
    )
    if doc["assumed_u_only"]:
        out.print(
            f"  under-declaration test rests on {plural(len(doc['used']), 'estimate')} whose"
            " uncertainty was assumed, not stated by the source: indicative only"
        )
    else:
        out.print("  under-declaration test on the stated uncertainties")


accountancy_app = typer.Typer(
    help="The sequential tests on any balance series, and on the ledger's routes.",
    no_args_is_help=True,
)

AlphaOption = Annotated[
    float, typer.Option(help="False-alarm probability of the two Page tests together.")
]
RaiseFindings = Annotated[
    str | None,
    typer.Option("--raise-findings", help="Sign a finding for each alarm as this party."),
]


HOption = Annotated[list[float] | None, typer.Option("--h", help="A Page threshold (repeatable).")]


@accountancy_app.command("analyse")
def accountancy_analyse(
    file: Annotated[Path, typer.Argument(help="A balance series (JSON).")],
    h: HOption = None,
    as_json: JsonFlag = False,
) -> None:
    """MUF, sigma-MUF, CUMUF, the covariance, SITMUF, Page and GEMUF of a balance series,
    with each measurement point's contribution to the variance."""
    from cwledger.accountancy.statistics import analyse  # numpy, scipy: start-up time

    result = analyse(load_series(file), h=h or ()).to_json()
    if as_json:
        print_json(result)
        return
    table = Table("period", "MUF", "sigma-MUF", "CUMUF", "SITMUF", "Page", title=shown(file))
    for i, muf in enumerate(result["muf"]):
        table.add_row(
            str(i + 1),
            f"{muf:,.3f}",
            f"{result['sigma_muf'][i]:,.3f}",
            f"{result['cumuf'][i]:,.3f}",
            f"{result['sitmuf'][i]:+.2f}",
            f"{result['page'][i]:.2f}",
        )
    out.print(table)
    out.print(
        f"GEMUF {result['gemuf']:.2f} on {result['gemuf_dof']} dof, p = {result['gemuf_p']:.3g}"
    )


@accountancy_app.command("simulate")
def accountancy_simulate(
    file: Annotated[Path, typer.Argument(help="A balance series (JSON).")],
    iterations: Annotated[int, typer.Option(min=1, help="Monte Carlo iterations.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    h: HOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Treat the values as true, draw the systematic and random errors N times, and report
    the share of iterations whose Page statistic exceeds each h at some period."""
    from cwledger.accountancy.simulate import simulate  # numpy: start-up time

    result = simulate(load_series(file), iterations, seed, h or (3.0, 4.0, 5.0)).to_json()
    if as_json:
        print_json(result)
        return
    out.print_json(json.dumps(result))


@accountancy_app.command("routes")
def accountancy_routes(
    alpha: AlphaOption = 0.05,
    raise_findings: RaiseFindings = None,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Page's tests (abrupt and protracted) on every route's monthly shipper/receiver
    differences, thresholds fixed for `alpha` by the series' length; alarms can be raised as
    findings naming the route and the first alarming month."""
    from cwledger.accountancy import answers  # numpy and scipy: only when run (start-up time)

    ledger = open_ledger(ledger_dir)
    with ledger.store.read() as reader:
        tested = answers.route_tests(reader, alpha)
    if tested is None:
        raise typer.BadParameter("no transfer was weighed at both ends")
    err.print(shown(f"thresholds {tested.thresholds}"))
    if raise_findings is not None and tested.alarms:
        events = answers.alarm_findings(tested.alarms, tested.periods)
        ledger.append(ledger.sign(events, raise_findings))
    reports = tested.to_json()
    if as_json:
        print_json(reports)
        return
    if not reports:
        out.print(f"no alarm on any route (false-alarm probability {alpha:g})")
    for r in reports:
        out.print(
            shown(
                f"ALARM {r['origin']} -> {r['destination']}: {r['test']} test (k {r['k']:g},"
                f" h {r['h']:.2f}), first in {r['first_alarm']}; cumulated SRD"
                f" {r['cumuf_kg']:,.1f} kg"
            )
        )


def _secret_file(ledger: Ledger, plan: str) -> Path:
    return ledger.keystore.path / f"selection-{plan}.secret"


@inspect_app.command("commit")
def inspect_commit(
    site: Annotated[str, typer.Option(help="The site whose items are drawn from.")],
    n: Annotated[int, typer.Option(min=1, help="How many items to select.")],
    plan: Annotated[str, typer.Option(help="The plan id.")],
    party: Annotated[str, typer.Option("--as", help="The inspectorate party that signs.")],
    ahead: Annotated[
        int, typer.Option(min=1, help="The randomness: the root this many entries ahead.")
    ] = 10,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Commit to a fresh secret for a random selection (kept 0600 in the keystore until
    reveal) and name a future checkpoint of this log as the randomness."""

    ledger = open_ledger(ledger_dir)
    with ledger.store.read() as r:
        size = r.size()
    secret = secrets.token_bytes(32)
    body = {
        "plan": plan,
        "site": site,
        "n": n,
        "commitment": commitment(secret),
        "randomness_size": size + ahead,
    }
    event = {
        "type": "selection.committed",
        "id": f"selection-{plan}",
        "time": utc_now(),
        "body": body,
    }
    [receipt] = ledger.append(ledger.sign([event], party))
    file = _secret_file(ledger, plan)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret.hex())
    err.print(
        f"committed selection {plan} at entry {receipt.index}; randomness: the root of"
        f" size {size + ahead}; secret kept in {file}"
    )


@inspect_app.command("reveal")
def inspect_reveal(
    plan: Annotated[str, typer.Argument(help="The plan id.")],
    party: Annotated[str, typer.Option("--as", help="The inspectorate party that signs.")],
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """Reveal the secret and log the draw it gives (once the named checkpoint exists)."""

    ledger = open_ledger(ledger_dir)
    secret = bytes.fromhex(_secret_file(ledger, plan).read_text().strip())
    with ledger.store.read() as r:
        selected = draw(draw_inputs(r, ledger.tree(r), plan), secret)
    event = {
        "type": "selection.revealed",
        "id": f"selection-{plan}-revealed",
        "time": utc_now(),
        "body": {"plan": plan, "secret": secret.hex(), "selected": selected},
    }
    ledger.append(ledger.sign([event], party))
    if as_json:
        print_json(selected)
        return
    out.print(shown(f"selection {plan}: {', '.join(selected)}"))


@inspect_app.command("check-selection")
def inspect_check_selection(
    plan: Annotated[str, typer.Argument(help="The plan id.")],
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Recompute a revealed selection from the log alone; exit 1 if it does not match."""

    ledger = Ledger.open(ledger_dir)
    with ledger.store.read() as r:
        inputs = check_draw(r, ledger.tree(r), plan)
    out.print(
        shown(
            f"selection {plan} verified: {inputs.n} of {len(inputs.population)} items, seed"
            f" from the declaration root at size {inputs.declaration_size} and the root at"
            f" size {inputs.randomness_size}"
        )
    )


@accountancy_app.command("site")
def accountancy_site(
    site: Annotated[str, typer.Argument(help="The site (material balance area).")],
    first: Annotated[str, typer.Option(help="First month, YYYY-MM.")],
    last: Annotated[str, typer.Option(help="Last month, YYYY-MM.")],
    alpha: AlphaOption = 0.05,
    raise_findings: RaiseFindings = None,
    ledger_dir: LedgerDir = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """A site's monthly material balances against its weighed physical inventories: MUF,
    sigma-MUF, SITMUF and the two Page tests; alarms can be raised as findings."""
    from cwledger.accountancy import answers  # numpy and scipy: only when run (start-up time)

    ledger = open_ledger(ledger_dir)
    periods = answers.month_range(first, last)
    with ledger.store.read() as reader:
        tested = answers.site_test(reader, site, periods, alpha)
    err.print(shown(f"thresholds {tested.thresholds}"))
    alarms = tested.alarms
    report = tested.to_json()
    if raise_findings is not None and alarms:
        ledger.append(ledger.sign(answers.alarm_findings(alarms, periods), raise_findings))
    if as_json:
        print_json(report)
        return
    for name, month in report["first_alarms"].items():
        out.print(shown(f"ALARM {site}: {name} test, first in {month}"))
    if not alarms:
        out.print(shown(f"no alarm at {site} (false-alarm probability {alpha:g})"))


@accountancy_app.command("thresholds")
def accountancy_thresholds(
    periods: Annotated[int, typer.Option(min=1, help="Balance periods the series will run.")],
    party: Annotated[str, typer.Option("--as", help="The inspectorate party that signs.")],
    alpha: AlphaOption = 0.05,
    site: Annotated[
        str | None, typer.Option(help="For this site's balance (default: the routes).")
    ] = None,
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Fix and sign the two Page thresholds (abrupt, protracted) of the route tests, or of a
    site's balance, before the data arrive, for `periods` monthly periods and `alpha`."""
    from cwledger.accountancy import answers  # numpy and scipy: only when run (start-up time)
    from cwledger.accountancy.statistics import page_pair  # numpy, scipy: start-up time

    tests = [{"name": t.name, "k": t.k, "h": t.h} for t in page_pair(periods, alpha)]
    series = answers.ROUTES if site is None else site_series_name(site)
    body = {"series": series, "alpha": alpha, "periods": periods, "tests": tests}
    ledger = open_ledger(ledger_dir)
    event = {
        "type": "thresholds.fixed",
        "id": f"thresholds-{site or 'routes'}",
        "time": utc_now(),
        "body": body,
    }
    [receipt] = ledger.append(ledger.sign([event], party))
    err.print(
        f"thresholds fixed at entry {receipt.index}: "
        + ", ".join(f"{t['name']} k {t['k']:g} h {t['h']:.3f}" for t in tests)
    )


@accountancy_app.command("method")
def accountancy_method(
    method: Annotated[str, typer.Argument(help="The method's name as measurements give it.")],
    rsd_random: Annotated[float, typer.Option(help="Relative random standard deviation.")],
    rsd_systematic: Annotated[float, typer.Option(help="Relative systematic standard deviation.")],
    source: Annotated[str, typer.Option(help="Where the values come from.")],
    party: Annotated[str, typer.Option("--as", help="The inspectorate party that signs.")],
    calibration: Annotated[
        str, typer.Option(help="period (recalibrated each period) or series.")
    ] = "period",
    ledger_dir: LedgerDir = Path("."),
) -> None:
    """Register a measurement method's uncertainties as signed reference data."""

    body = {
        "method": method,
        "rsd_random": rsd_random,
        "rsd_systematic": rsd_systematic,
        "calibration": calibration,
        "source": source,
    }

    ledger = open_ledger(ledger_dir)
    when = utc_now()
    digest = hashlib.sha256(f"{method}|{when}".encode()).hexdigest()[:20]
    event = {"type": "method.registered", "time": when, "body": body, "id": f"method-{digest}"}
    [receipt] = ledger.append(ledger.sign([event], party))
    err.print(shown(f"method {method!r} registered at entry {receipt.index}"))
