"""The overview in a browser: its totals are the API's status, at any date."""

from __future__ import annotations

from typing import Any

import httpx

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
    assert figures["removed_pct"] == f"{status['removed_pct']} %"
    view.assert_clean()


def test_the_overview_at_a_past_date_is_the_apis_status_then(site: Site, view: Watched) -> None:
    view.page.goto(f"{site.base}/")
    view.page.fill("#at", "2014-04-24")
    view.page.click("form.filters button")
    view.page.wait_for_url("**/?at=2014-04-24")
    status = _api_status(site, "2014-04-24")
    assert _figures(view)["removed_pct"] == f"{status['removed_pct']} %"
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
