"""Answers from the accountancy: the balance periods, the monthly balances, a site's
sequential test, the route tests, the findings their alarms raise, and the whole-stockpile
reconciliation. The CLI (`cwledger balances`, `cwledger accountancy ...`), the pages and
the reports print these; none of them computes a figure of its own.

Layer: answers (it reads the book through a ``LogReader``), with
:mod:`cwledger.accountancy.balances` and :mod:`cwledger.accountancy.draws`. A series is
built as a document (``balances.route_series``/``site_series``) and validated as Python
data (``series.series_from_document``): nothing goes through JSON text in the process.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cwledger.accountancy.balances import (
    MOVES,
    SiteBalance,
    differences,
    route_series,
    site_balances,
    site_series,
    site_series_name,
)
from cwledger.accountancy.estimates import ScopeKey, reconcile, scopes
from cwledger.accountancy.series import series_from_document
from cwledger.accountancy.statistics import Analysis, PageTest, analyse, page_pair
from cwledger.book.progress import Facts, load_facts
from cwledger.book.records import (
    CorrelationRecord,
    CountRecord,
    EstimateRecord,
    MethodRecord,
    ThresholdsRecord,
)
from cwledger.errors import MalformedInput
from cwledger.model.bodies import MethodRegistered
from cwledger.time import Period, months, parse_month, rfc3339

if TYPE_CHECKING:
    from cwledger.store import LogReader

__all__ = [
    "ALPHA",
    "ROUTES",
    "Alarm",
    "SiteTest",
    "RouteTests",
    "Term",
    "balance_periods",
    "monthly_balances",
    "month_range",
    "counted_months",
    "registered_methods",
    "page_tests",
    "site_test",
    "route_tests",
    "alarm_findings",
    "reconciliation",
    "estimate_comparisons",
]

ALPHA = 0.05  # the default false-alarm probability of the two Page tests together
ROUTES = "shipper/receiver differences, every route, monthly"  # the routes' thresholds


# -- periods and balances ----------------------------------------------------------------------


def balance_periods(reader: LogReader, site: str | None = None) -> list[Period]:
    """The months `cwledger balances` shows: every calendar month from the first holdings
    change (or receipt) to the last, of one site or of all."""
    moments = [d.received_at for d in differences(reader)] or [0]
    changes = [c[1] for c in reader.book.changes_by_event(site)]
    return months(min(changes + moments), max(changes + moments))


def monthly_balances(
    reader: LogReader, site: str | None = None, periods: Sequence[Period] | None = None
) -> list[SiteBalance]:
    """The balances with a movement (see ``balances.MOVES``), by site then period, over
    `periods` (default: :func:`balance_periods`)."""
    rows = site_balances(reader, periods or balance_periods(reader, site), site)
    return [b for b in rows if any(b.to_json()[k] for k in MOVES)]


def month_range(first: str, last: str) -> list[Period]:
    """The calendar months from `first` to `last` (YYYY-MM, both included). Raises
    MalformedInput for a malformed month or a first month after the last."""
    periods = months(parse_month(first).start, parse_month(last).start)
    if not periods:
        raise MalformedInput(f"the first month ({first}) is after the last ({last})")
    return periods


def counted_months(reader: LogReader, site: str) -> list[str]:
    """The months (YYYY-MM) in which the site took a complete physical inventory, in order."""
    return sorted(c.month for c in reader.book.records(CountRecord, place=site))


def registered_methods(reader: LogReader) -> dict[str, MethodRegistered]:
    """The measurement methods registered as signed reference data, by name."""
    return {m.method.method: m.method for m in reader.book.records(MethodRecord)}


def page_tests(
    fixed: ThresholdsRecord | None, first_at: int, n: int, alpha: float
) -> tuple[tuple[PageTest, ...], str]:
    """The Page tests to run on a series, and where they come from: the thresholds fixed
    (`fixed`) before the series' first data if there are any, else computed now for `n`
    periods and the false-alarm probability `alpha`."""
    if fixed is not None and fixed.at <= first_at:
        tests = tuple(PageTest(t.k, t.h, t.name) for t in fixed.thresholds.tests)
        return tests, f"fixed in advance at entry {fixed.entry}"
    return page_pair(
        n, alpha
    ), "computed now: not fixed before the data (see accountancy thresholds)"


# -- alarms and the findings they raise --------------------------------------------------------


@dataclass(frozen=True)
class Alarm:
    """The first alarm of one Page test on a site's balance (`subjects`: the site) or on a
    route's shipper/receiver differences (`subjects`: origin, destination)."""

    subjects: tuple[str, ...]
    test: str
    k: float
    h: float
    first_alarm: str  # the month, YYYY-MM
    cumuf_kg: float  # the cumulated MUF (SRD for a route) at the series' end

    @property
    def title(self) -> str:
        """The finding's title."""
        if len(self.subjects) == 2:
            origin, destination = self.subjects
            return (
                f"Page's test ({self.test}) alarms on the shipper/receiver differences from"
                f" {origin} to {destination}, first in {self.first_alarm} (cumulated"
                f" {self.cumuf_kg:,.1f} kg)"
            )
        return (
            f"Page's test ({self.test}) alarms on the material balance of {self.subjects[0]},"
            f" first in {self.first_alarm} (CUMUF {self.cumuf_kg:,.1f} kg)"
        )


def alarm_findings(alarms: Sequence[Alarm], periods: Sequence[Period]) -> list[dict[str, Any]]:
    """One `finding.raised` event (unsigned) per alarm, dated at the end of the series."""
    return [
        {
            "type": "finding.raised",
            "id": f"page-{'-'.join(a.subjects)}-{a.test}-{a.first_alarm}",
            "time": rfc3339(periods[-1].end),
            "body": {"title": a.title, "subjects": list(a.subjects)},
        }
        for a in alarms
    ]


# -- a site's sequential test ------------------------------------------------------------------


@dataclass(frozen=True)
class SiteTest:
    """`cwledger accountancy site`: a site's monthly balances against its weighed physical
    inventories, analysed with Page's two tests."""

    site: str
    periods: list[Period]
    analysis: Analysis
    thresholds: str  # where the thresholds come from

    @property
    def months(self) -> list[str]:
        """The tested months, YYYY-MM."""
        return [p.month for p in self.periods]

    @property
    def alarms(self) -> list[Alarm]:
        """The tests that alarm, each at its first alarming month."""
        cumuf = float(self.analysis.cumuf[-1])
        return [
            Alarm((self.site,), a.name, a.k, a.h, self.months[a.first_alarm], cumuf)
            for a in self.analysis.alarms
            if a.first_alarm is not None
        ]

    def to_json(self) -> dict[str, Any]:
        """As `cwledger accountancy site --json` prints it."""
        return {
            **self.analysis.to_json(),
            "site": self.site,
            "thresholds": self.thresholds,
            "months": self.months,
            "first_alarms": {a.test: a.first_alarm for a in self.alarms},
        }


def site_test(
    reader: LogReader, site: str, periods: Sequence[Period], alpha: float = ALPHA
) -> SiteTest:
    """A site's balance series over `periods` (``balances.site_series``), analysed with the
    thresholds fixed in advance for it, else computed now for `alpha`. Raises
    MalformedInput naming the months without a complete weighed inventory."""
    if not periods:
        raise MalformedInput(f"site {site}: no month to test")
    doc = site_series(reader, site, periods, registered=registered_methods(reader))
    fixed = reader.book.get(ThresholdsRecord, site_series_name(site))
    tests, origin_of_h = page_tests(fixed, periods[0].start, len(periods), alpha)
    result = analyse(series_from_document(doc), tests=tests)
    return SiteTest(site, list(periods), result, origin_of_h)


# -- the routes' sequential tests --------------------------------------------------------------


@dataclass(frozen=True)
class RouteTests:
    """`cwledger accountancy routes`: Page's tests on every route's monthly shipper/receiver
    differences, over the months from the first receipt weighed at both ends to the last."""

    periods: list[Period]
    thresholds: str  # where the thresholds come from
    alarms: list[Alarm]

    def to_json(self) -> list[dict[str, Any]]:
        """As `cwledger accountancy routes --json` prints it: one object per alarm."""
        return [
            {
                "origin": a.subjects[0],
                "destination": a.subjects[1],
                "test": a.test,
                "k": a.k,
                "h": a.h,
                "first_alarm": a.first_alarm,
                "cumuf_kg": a.cumuf_kg,
                "thresholds": self.thresholds,
            }
            for a in self.alarms
        ]


def route_tests(reader: LogReader, alpha: float = ALPHA) -> RouteTests | None:
    """Each route's differences as a balance series, analysed with the routes' thresholds
    fixed in advance, else computed now for `alpha`; None when no transfer was weighed at
    both ends."""
    diffs = differences(reader)
    if not diffs:
        return None
    registered = registered_methods(reader)
    fixed = reader.book.get(ThresholdsRecord, ROUTES)
    first = min(d.received_at for d in diffs)
    periods = months(first, max(d.received_at for d in diffs))
    tests, origin_of_h = page_tests(fixed, first, len(periods), alpha)
    alarms = []
    for origin, destination in sorted({(d.origin, d.destination) for d in diffs}):
        doc = route_series(diffs, origin, destination, periods, registered=registered)
        result = analyse(series_from_document(doc), tests=tests)
        alarms += [
            Alarm(
                (origin, destination),
                a.name,
                a.k,
                a.h,
                periods[a.first_alarm].month,
                float(result.cumuf[-1]),
            )
            for a in result.alarms
            if a.first_alarm is not None
        ]
    return RouteTests(periods, origin_of_h, alarms)


# -- the whole-stockpile reconciliation --------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One term of the whole-stockpile reconciliation: kilograms and standard uncertainty."""

    name: str
    kg: float
    u_kg: float

    def to_json(self) -> dict[str, Any]:
        """As `cwledger balances --reconcile --json` prints it."""
        return {"term": self.name, "kg": self.kg, "u_kg": self.u_kg}


def reconciliation(reader: LogReader, at: int | None = None) -> list[Term]:
    """declared (the latest version) = destroyed + in transit + held at sites + sum MUF + sum SRD
    + the rest, each term with its standard uncertainty.

    Masses and uncertainties are the book's: declared items carry their declared
    uncertainties (random parts in quadrature, systematic parts added, as one method); the
    other terms scale those of the items they hold. "The rest" is what the book changed
    otherwise (declaration corrections of items already moved, destruction products): it
    closes the equation and should be small.

    With `at`, the equation as it stood at that moment: the declaration then, what was
    destroyed, in transit and held by then (the items' positions), the differences of the
    receipts and the MUF of the months up to it.
    """
    book = reader.book
    facts = load_facts(book)
    t = 2**62 if at is None else at
    decl = facts.declaration_at(t)
    items = (
        [] if decl is None else [i for i in decl.declaration.items if facts.category(i) in (1, 2)]
    )
    declared = {i.id: i for i in items}

    def term(name: str, grams_by_item: dict[str, int]) -> Term:
        rand, sys = 0.0, 0.0
        for item_id, g in grams_by_item.items():
            d = declared[item_id].declared
            scale = (g / 1000) / d.kg if d.kg else 0.0
            rand += (d.u_random_kg * scale) ** 2
            sys += d.u_systematic_kg * abs(scale)
        return Term(name, sum(grams_by_item.values()) / 1000, math.hypot(math.sqrt(rand), sys))

    destroyed: dict[str, int] = defaultdict(int)
    for batch in facts.batches:
        for line in batch.lines:
            if line.item in declared and batch.at <= t:
                destroyed[line.item] += line.grams
    transit: dict[str, int] = {}
    remaining: dict[str, int] = {}
    for item in items:  # in transit: on the move, aboard a vessel, at a port abroad
        where, held = facts.whereabouts(item, t)
        if held:
            (transit if where == "in_transit" else remaining)[item.id] = held
    diffs = [d for d in differences(reader) if d.item in declared and d.received_at <= t]
    srd = Term(
        "sum of shipper/receiver differences",
        sum(d.srd_kg for d in diffs),
        math.sqrt(sum(d.u_kg**2 for d in diffs)),
    )
    moments = [c[1] for c in book.changes_by_event() if c[1] <= t]
    periods = months(min(moments), max(moments)) if moments else []
    muf = [b for b in site_balances(reader, periods) if b.muf_g is not None]
    sum_muf = Term("sum of MUF (physical inventories)", sum(b.muf_g or 0 for b in muf) / 1000, 0.0)
    terms = [
        term("declared", {i: round(x.declared.kg * 1000) for i, x in declared.items()}),
        term("destroyed", dict(destroyed)),
        term("in transit", transit),
        term("held at sites, not yet destroyed", remaining),
        sum_muf,
        srd,
    ]
    rest = terms[0].kg - sum(t.kg for t in terms[1:])
    return [*terms, Term("the rest: shipper weighings against the book, corrections", rest, 0.0)]


# -- the declaration against the independent estimates ---------------------------------------


def _declared_of(facts: Facts, key: ScopeKey, at: int) -> tuple[float, float, str] | None:
    """The declared total of exactly an estimate's scope (tonnes, or a count of sites) in
    the declaration as it stood at `at`, its standard uncertainty, and what it counts; None
    without a declaration."""
    decl = facts.declaration_at(at)
    if decl is None:
        return None
    scope, category, excludes = key
    if scope == "sites":
        sites = [s for s in decl.declaration.sites if s.parent is None]
        return float(len(sites)), 0.0, f"{len(sites)} declared sites"
    categories = (1, 2) if scope == "total" else (category,)
    items = [
        i
        for i in decl.declaration.items
        if facts.category(i) in categories and (i.chemical or "") not in excludes
    ]
    u_random = math.sqrt(sum(i.declared.u_random_kg**2 for i in items))
    u_systematic = sum(i.declared.u_systematic_kg for i in items)
    chemicals = sorted({i.chemical or "" for i in items} - {""})
    return (
        sum(i.declared.kg for i in items) / 1000,
        math.hypot(u_random, u_systematic) / 1000,
        f"{len(items)} declared items of {', '.join(chemicals) or 'no chemical'}",
    )


def estimate_comparisons(reader: LogReader, at: int | None = None) -> list[dict[str, Any]]:
    """The declaration against the recorded estimates, scope by scope: each estimate is
    compared with the declared total of exactly its scope (its category, less the declared
    chemicals it leaves out; or the count of declared sites), never with a total of
    another scope, in the declaration as it stood at `at` (None: the latest version).
    Each comparison lists its estimates with their uncertainty (stated or
    assumed) and source, the fusion and the one-sided test of under-declaration."""
    book = reader.book
    facts = load_facts(book)
    recorded = book.records(EstimateRecord)
    position = {e.event: i for i, e in enumerate(recorded)}
    correlations = {
        (position[c.estimates[0]], position[c.estimates[1]]): c.rho
        for c in book.records(CorrelationRecord)
        if c.estimates[0] in position and c.estimates[1] in position
    }
    estimates = [e.estimate for e in recorded]
    out = []
    for key in scopes(estimates):
        declared = _declared_of(facts, key, 2**62 if at is None else at)
        if declared is None:
            continue
        value, u, counts = declared
        scope, category, excludes = key
        result = reconcile(
            value,
            u,
            estimates,
            correlations or None,
            unit="sites" if scope == "sites" else "t",
            scope=scope,
            category=category,
            excludes=excludes,
        )
        doc = result.to_json()
        doc["left_out"] = [x for x in doc["left_out"] if x["same_scope"]]
        decl = facts.declaration_at(2**62 if at is None else at)
        version = None if decl is None else decl.declaration.version
        out.append(doc | {"declared_counts": counts, "declaration_version": version})
    return out
