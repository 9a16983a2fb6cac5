"""The overview in a browser: its totals are the API's status, at any date."""

from __future__ import annotations

import re
from typing import Any

import httpx

from cwledger.i18n import percent
from tests.web.conftest import Site, Watched, open_page


def _api_status(site: Site, at: str | None = None) -> dict[str, Any]:
    query = f"?at={at}" if at else ""
    resp = httpx.get(
        f"{site.base}/api/v1/status{query}", headers={"Authorization": f"Bearer {site.token}"}
    )
    assert resp.status_code == 200
    doc: dict[str, Any] = resp.json()
    return doc


def _figures(view: Watched) -> dict[str, str]:
    cards = view.page.locator("[data-figure]")
    return {
        cards.nth(i).get_attribute("data-figure"): cards.nth(i).inner_text()
        for i in range(cards.count())
    }


def test_the_overviews_totals_are_the_apis_status(site: Site, view: Watched) -> None:
    view.page.goto(f"{site.base}/")
    status = _api_status(site)
    figures = _figures(view)
    assert figures["declared_t"] == f"{status['declared_t']:,.1f} t"
    assert figures["destroyed_t"] == f"{status['destroyed_t']:,.1f} t"
    assert figures["not_destroyed_t"] == f"{status['not_destroyed_t']:,.1f} t"
    assert figures["unaccounted_t"] == f"{status['unaccounted_t']:,.1f} t"
    assert figures["removed_pct"] == percent(status["removed_pct"] / 100, "en")  # "93.9%"
    view.assert_clean()


def test_the_overview_at_a_past_date_is_the_apis_status_then(site: Site, view: Watched) -> None:
    view.page.goto(f"{site.base}/")
    view.page.fill("#at", "2014-04-24")
    view.page.click("form.filters button")
    view.page.wait_for_url("**/?at=2014-04-24")
    status = _api_status(site, "2014-04-24")
    assert _figures(view)["removed_pct"] == percent(status["removed_pct"] / 100, "en")
    assert 85 <= status["removed_pct"] <= 95  # the reported state: about 92 % on 24 April
    view.assert_clean()


def test_the_overview_is_usable_at_a_phone_width(site: Site, browser: Any) -> None:
    w = open_page(browser, 390)
    w.page.goto(f"{site.base}/")
    width = w.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the page scrolls sideways: {width} px"
    w.page.keyboard.press("Tab")
    assert w.page.evaluate("document.activeElement.textContent") == "Skip to the content"
    w.assert_clean()
    w.page.context.close()


def test_the_date_is_asked_and_shown_as_iso(site: Site, view: Watched) -> None:
    """The date picker is ISO (YYYY-MM-DD), not the browser's locale format (04/24/2014)."""
    view.page.goto(f"{site.base}/?at=2014-04-24")
    box = view.page.locator("#at")
    assert box.get_attribute("type") == "text"
    assert box.get_attribute("placeholder") == "YYYY-MM-DD"
    assert box.input_value() == "2014-04-24"
    view.assert_clean()


def test_the_burn_down_labels_what_matters_with_round_ticks(site: Site, view: Watched) -> None:
    """Removal and destruction deadlines are labelled by milestone (not every decision and
    report), the tonnage axis has round ticks, and each meaning keeps one colour."""
    view.page.goto(f"{site.base}/")
    svg = view.page.locator("figure.chart svg").first.inner_html()
    labels = set(re.findall(r'class="marker-label"[^>]*>(M\d+)<', svg))
    assert {"M14", "M17", "M20", "M21"} <= labels
    assert not labels & {"M01", "M02", "M03", "M04", "M10"}  # decisions and reports
    ticks = [float(t.replace(",", "")) for t in re.findall(r'class="tick">([\d,.]+)<', svg)]
    assert ticks and all(t % 50 == 0 for t in ticks)
    view.assert_clean()


def test_the_overview_counts_the_production_facilities(site: Site, view: Watched) -> None:
    """Issue 14, item 3: the facilities' count, as the API's status gives it (section 2.6:
    in March 2015, 3 of the 12 structures destroyed, 3 inaccessible)."""
    view.page.goto(f"{site.base}/?at=2015-03-31")
    facilities = _api_status(site, "2015-03-31")["facilities"]
    assert _figures(view)["facilities"] == facilities["summary"] == "17 of 27 verified destroyed"
    text = view.page.text_content("#facilities") or ""
    assert "3 of 12 structures destroyed" in text and "3 of them with a structure" in text
    view.assert_clean()


def test_category_3_is_counted_in_items_not_tonnes(site: Site, view: Watched) -> None:
    """Unfilled munitions and equipment are counted, not weighed: their row gives items
    (declared, removed, destroyed and the share destroyed), never "0.0 t, 0.0 %"."""
    view.page.goto(f"{site.base}/")
    row = view.page.locator("tr", has_text="Category 3").first
    cells = [c.strip() for c in row.locator("th, td").all_text_contents()]
    assert cells[0] == "Category 3 (items)"
    declared, destroyed = int(cells[1].replace(",", "")), int(cells[4].replace(",", ""))
    assert declared > 1000 and destroyed == declared and cells[5] == "100.0%"
    view.assert_clean()
