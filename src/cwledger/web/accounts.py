"""Material balances: each site's monthly balance, and for a site with weighed physical
inventories, Page's sequential tests on its MUF.

The figures are the CLI's, from the same calls: `cwledger balances [--site S]` (the periods
from the first to the last holdings change or receipt, `site_balances`, the months with a
movement) and `cwledger accountancy site S --first --last` (`site_series`, the thresholds
fixed in advance or computed now, `analyse`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cwledger import i18n
from cwledger.accountancy import answers
from cwledger.book.records import SiteRecord
from cwledger.charts import Chart, Marker, Series, colour_of, line_chart
from cwledger.errors import MalformedInput
from cwledger.time import Period, day_of, parse_month
from cwledger.web.terms import N_
from cwledger.web.views import Book, Viewer, gettext, page, page_language

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

ALPHA = answers.ALPHA  # the false-alarm probability the CLI uses by default
Month = Annotated[str | None, Query(description="A calendar month, YYYY-MM.")]


def _balances(r: Book, site: str | None, periods: list[Period] | None) -> list[dict[str, Any]]:
    """The monthly balances with a movement, as `cwledger balances --json` prints them."""
    return [b.to_json() for b in answers.monthly_balances(r, site, periods)]


def _test(r: Book, site: str, periods: list[Period] | None) -> dict[str, Any]:
    """`cwledger accountancy site`: the site's balance series against its weighed
    inventories, analysed with Page's two tests. Without inventories, why not."""
    months = answers.counted_months(r, site)
    if periods is None:
        if len(months) < 2:
            return {"missing": months}
        periods = answers.month_range(months[1], months[-1])
    try:
        tested = answers.site_test(r, site, periods, ALPHA)
    except MalformedInput as e:
        return {"missing": months, "refused": str(e)}
    first = {a.test: a.first_alarm for a in tested.alarms}
    alarms: list[dict[str, Any]] = [
        {
            "name": a.name,
            "k": a.k,
            "h": a.h,
            "page": [float(v) for v in a.statistic],
            "first_alarm": first.get(a.name),
        }
        for a in tested.analysis.alarms
    ]
    doc_json = tested.analysis.to_json()
    rows = [
        {
            "month": m,
            "muf": doc_json["muf"][i],
            "sigma_muf": doc_json["sigma_muf"][i],
            "cumuf": doc_json["cumuf"][i],
            "sitmuf": doc_json["sitmuf"][i],
            "page": {a["name"]: a["page"][i] for a in alarms},
            "alarm": [a["name"] for a in alarms if a["page"][i] > a["h"]],
        }
        for i, m in enumerate(tested.months)
    ]
    return {
        "months": tested.months,
        "rows": rows,
        "alarms": alarms,
        "thresholds": tested.thresholds,
        "gemuf": doc_json["gemuf"],
        "gemuf_p": doc_json["gemuf_p"],
        "gemuf_dof": doc_json["gemuf_dof"],
        "ends": [day_of(p.last) for p in periods],
    }


def _chart(test: dict[str, Any], request: Request) -> Chart:
    """Page's statistics against their thresholds, at each month's end, in the reader's
    language."""
    _ = gettext(request)
    lang = page_language(request)
    series = []
    for i, a in enumerate(test["alarms"]):
        name = _(a["name"])
        k = i18n.number(a["k"], lang)
        series.append(
            Series(
                _("%(test)s (k %(k)s)") % {"test": name, "k": k},
                list(zip(test["ends"], a["page"], strict=True)),
                colour_of(f"{a['name']} (k {a['k']:g})", 2 * i),
            )
        )
        series.append(
            Series(
                _("%(test)s threshold h") % {"test": name},
                [(d, a["h"]) for d in test["ends"]],
                colour_of(f"{a['name']} threshold h", 2 * i + 1),
            )
        )
    ends = dict(zip(test["months"], test["ends"], strict=True))
    first: dict[str, list[str]] = {}
    for a in test["alarms"]:
        if a["first_alarm"] is not None:
            first.setdefault(a["first_alarm"], []).append(a["name"])
    markers = [
        Marker(
            ends[month], _("first alarm: %(tests)s") % {"tests": ", ".join(map(_, names))}, False
        )
        for month, names in sorted(first.items())
    ]
    return line_chart(
        _("Page's statistics against their thresholds"),
        series,
        markers,
        unit="σ",
        lang=lang,
        empty=_("no data yet"),
    )


def _month_arg(value: str | None, name: str, problems: list[str]) -> str | None:
    if not value:
        return None
    try:
        return parse_month(value).month
    except MalformedInput as e:
        problems.append(f"{name}: {e}")
        return None


FIELDS = {"first": N_("first month"), "last": N_("last month")}


@router.get("/balances", response_class=HTMLResponse)
def balances_page(
    request: Request,
    who: Viewer,
    r: Book,
    site: Annotated[str | None, Query(description="Only this site.")] = None,
    first: Month = None,
    last: Month = None,
) -> HTMLResponse:
    """Monthly material balances (BI, receipts, shipments, destroyed, EI by the book and
    weighed, MUF); for one site with weighed inventories, sigma-MUF, SITMUF and Page's
    tests with their alarm state, as a chart with its table."""
    _ = gettext(request)
    problems: list[str] = []
    site = site or None
    first = _month_arg(first, _(FIELDS["first"]), problems)
    last = _month_arg(last, _(FIELDS["last"]), problems)
    sites = r.answer(("web-site-records",), lambda: r.book.records(SiteRecord))
    if site is not None and site not in {s.site.id for s in sites}:
        problems.append(_("site %(site)s is not declared") % {"site": site})
        site = None
    if (first is None) != (last is None):
        problems.append(_("give both the first and the last month, or neither"))
        first = last = None
    periods: list[Period] | None = None
    if first is not None and last is not None:
        try:
            periods = answers.month_range(first, last)
        except MalformedInput as e:
            problems.append(str(e))
            periods, first, last = None, None, None
    key = (None, None) if periods is None else (first, last)
    rows = r.answer(("web-balances", site, *key), lambda: _balances(r, site, periods))
    test = None
    chart = None
    if site is not None:
        test = r.answer(("web-site-test", site, *key), lambda: _test(r, site, periods))
        if "rows" in test:
            chart = _chart(test, request)
    by_month = {row["month"]: row for row in (test or {}).get("rows", [])}
    return page(
        request,
        "balances.html",
        who,
        active="balances",
        sites=sites,
        site=site,
        first=first,
        last=last,
        problems=problems,
        rows=rows,
        tested=by_month,
        test=test,
        chart=chart,
        alpha=ALPHA,
    )
