"""The map, site, item, balances and findings pages in a browser: each loads clean at a
desktop and a phone width, and shows the API's answers (holdings at a date, an item's
chain of custody, the findings of a status); the balances page runs the CLI's sequential
test."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
import pytest
from babel.dates import format_skeleton
from fastapi.testclient import TestClient

from cwledger.api import create_app
from cwledger.http.settings import Settings
from tests.web.conftest import Site, Watched, open_page

DAY = "2014-04-24"  # the date of the reports' "about 92.5 % removed"


def _api(site: Site, path: str) -> Any:
    resp = httpx.get(f"{site.base}/api/v1{path}", headers={"Authorization": f"Bearer {site.token}"})
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def ids(site: Site) -> dict[str, str]:
    """Real ids from the API: the item and the sites of the first shipment."""
    [event] = _api(site, "/events?type=transfer.shipped&limit=1")["events"]
    body = event["event"]["body"]
    return {"item": body["items"][0]["item"], "origin": body["origin"], "to": body["destination"]}


def _country_total_t(site: Site, at: str) -> float:
    """What the API's holdings at `at` put at the sites in the declaring state's territory
    (`in_country`: declared by the declarant), in tonnes."""
    in_country = {s["site"]["id"] for s in _api(site, "/sites") if s["in_country"]}
    lines = _api(site, f"/holdings?at={at}")
    return sum(line["kg"] for line in lines if line["key"] in in_country) / 1000


def _shown_total_t(view: Watched) -> float:
    return float(view.page.get_attribute("[data-total-t]", "data-total-t"))


def test_every_page_loads_clean_without_sideways_scrolling(
    site: Site, browser: Any, width: int, ids: dict[str, str]
) -> None:
    w = open_page(browser, width)
    paths = [
        "/map",
        f"/map?at={DAY}",
        f"/sites/{ids['origin']}?at=2013-11-01",
        f"/sites/{ids['to']}",
        f"/items/{ids['item']}",
        "/balances",
        f"/balances?site={ids['to']}",
        "/findings",
        "/findings?status=open",
    ]
    for path in paths:
        response = w.page.goto(f"{site.base}{path}")
        assert response is not None and response.status == 200, path
        scroll = w.page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width + 1, f"{path} scrolls sideways at {width} px: {scroll} px"
        unlabelled = w.page.evaluate(
            "[...document.querySelectorAll('main input, main select')]"
            ".filter(e => e.type !== 'hidden' && e.labels.length === 0).map(e => e.id)"
        )
        assert unlabelled == [], f"{path}: inputs without a label: {unlabelled}"
    w.assert_clean()
    w.page.context.close()


def test_the_map_holds_what_the_api_holds_at_a_date_and_follows_its_slider(
    site: Site, view: Watched
) -> None:
    expected = _country_total_t(site, DAY)
    assert expected > 0
    view.page.goto(f"{site.base}/map?at={DAY}")
    assert view.page.get_attribute("#map-date", "datetime") == DAY  # shown as "Apr 24, 2014"
    assert _shown_total_t(view) == pytest.approx(expected, abs=1e-6)
    listed = view.page.eval_on_selector_all(
        "#site-holdings tbody tr[data-site]", "rows => rows.map(r => r.dataset.site)"
    )
    api_sites = [x["key"] for x in _api(site, f"/holdings?at={DAY}") if x["key"] != "in transit"]
    assert listed == sorted(api_sites)

    # From the latest day, move the slider back to DAY: the circles, totals and table follow.
    view.page.goto(f"{site.base}/map")
    before = view.page.get_attribute("#map-date", "datetime")
    first = date.fromisoformat(view.page.get_attribute("#day", "data-first-day"))
    view.page.eval_on_selector(
        "#day",
        "(el, v) => { el.value = String(v);"
        " el.dispatchEvent(new Event('input', {bubbles: true})); }",
        (date.fromisoformat(DAY) - first).days,
    )
    # Predicates as functions: the pages' policy forbids eval, which a string predicate needs.
    view.page.wait_for_function(
        "d => document.querySelector('#map-date').getAttribute('datetime') === d", arg=DAY
    )
    assert before != DAY
    assert _shown_total_t(view) == pytest.approx(expected, abs=1e-6)
    assert view.page.url.endswith(f"/map?at={DAY}")  # a link to what is shown
    assert view.page.input_value("#at") == DAY

    # The keyboard moves it too, one day at a time.
    view.page.focus("#day")
    view.page.keyboard.press("ArrowRight")
    view.page.wait_for_function(
        "() => document.querySelector('#map-date').getAttribute('datetime') === '2014-04-25'"
    )
    assert _shown_total_t(view) == pytest.approx(_country_total_t(site, "2014-04-25"), abs=1e-6)

    # Every circle is a link to its site.
    hrefs = view.page.eval_on_selector_all(
        "svg.map a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert hrefs and all(h.startswith("/sites/") for h in hrefs)

    # The state the reports gave for that day: about 92.5 % removed.
    view.page.goto(f"{site.base}/?at={DAY}")
    removed = view.page.text_content("[data-figure=removed_pct]")
    assert removed is not None and 85 <= float(removed.rstrip(" %")) <= 95
    view.assert_clean()


def test_the_site_page_shows_the_apis_site(site: Site, view: Watched, ids: dict[str, str]) -> None:
    doc = _api(site, f"/sites/{ids['origin']}?at=2013-11-01")
    view.page.goto(f"{site.base}/sites/{ids['origin']}?at=2013-11-01")
    held = view.page.eval_on_selector_all(
        "#held-then tbody a", "links => links.map(a => a.textContent)"
    )
    assert held and held == [line["key"] for line in doc["holdings"]]
    entries = view.page.eval_on_selector_all(
        "#site-entries tbody a", "links => links.map(a => Number(a.textContent.slice(1)))"
    )
    assert entries == doc["entries"]
    view.assert_clean()


def test_the_item_page_lists_the_apis_chain_of_custody(
    site: Site, view: Watched, ids: dict[str, str]
) -> None:
    doc = _api(site, f"/items/{ids['item']}")
    view.page.goto(f"{site.base}/items/{ids['item']}")
    shown = view.page.eval_on_selector_all(
        "#custody li[data-entry]", "items => items.map(li => Number(li.dataset.entry))"
    )
    assert shown == [c["index"] for c in doc["custody"]]
    assert view.page.locator("#custody .in-log.ok").count() == len(shown)
    for index in shown:
        assert view.page.locator(f'#custody a[href="/log?entry={index}"]').count() == 2
    assert doc["state"].replace("_", " ") in (view.page.text_content("#where") or "")
    view.assert_clean()


def test_the_findings_filter_shows_only_that_status(site: Site, view: Watched) -> None:
    view.page.goto(f"{site.base}/findings")
    view.page.select_option("#status", "open")
    view.page.click("form.filters button")
    view.page.wait_for_url("**/findings?status=open*")
    for status in ("open", "resolved"):
        if status != "open":
            view.page.goto(f"{site.base}/findings?status={status}")
        rows = view.page.eval_on_selector_all(
            "#findings tbody tr",
            "rows => rows.map(r => [Number(r.dataset.number), r.dataset.status])",
        )
        expected = [f["number"] for f in _api(site, f"/findings?status={status}")]
        assert expected and [n for n, _ in rows] == expected
        assert {s for _, s in rows} == {status}
    milestones = view.page.locator("#milestones-table tbody tr").count()
    assert milestones == len(_api(site, "/milestones"))
    view.assert_clean()


def test_an_unknown_site_or_item_is_a_404_page(site: Site) -> None:
    for path in ("/sites/NO-SUCH-SITE", "/items/NO-SUCH-ITEM"):
        resp = httpx.get(f"{site.base}{path}")
        assert resp.status_code == 404
        assert "text/html" in resp.headers["content-type"]
        assert "NO-SUCH" in resp.text


def test_the_balances_page_runs_the_clis_sequential_test(book: Any) -> None:
    """A site with a weighed inventory every month and a steady loss: the page shows the
    Page statistics and the first alarm that `cwledger accountancy site` reports."""
    from tests.accountancy.test_routes import _monthly_counts, _site_report

    _monthly_counts(book, 5.0)
    report = _site_report(book)
    app = create_app(Settings(ledger=book.ledger.path, public_pages=True), ledger=book.ledger)
    with TestClient(app) as client:
        html = client.get("/balances?site=S-1&first=2014-01&last=2014-06").text
        assert report["alarms"]
        for alarm in report["alarms"]:
            cells = re.findall(rf'data-page="{alarm["name"]}">([^<]*)<', html)
            assert cells == [f"{v:.3f}" for v in alarm["page"]]
        month = report["first_alarms"]["protracted"]
        shown = format_skeleton("yMMM", date.fromisoformat(f"{month}-01"), locale="en")
        assert f"first in {shown}" in html  # the month as the reader's locale writes it
        assert "<svg" in html and "Data table" in html
        without = client.get("/balances?site=S-2").text
        assert 'id="no-inventories"' in without
