"""The public pages of a confidential ledger (issue 16) for an anonymous visitor or an
observer: the public map (the country as one mark with the latest proven aggregate, the
vessels and venues abroad, the movements logged), a navigation without a link that answers
403, and no sideways scroll at a phone's width. An entitled party keeps the whole map."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest

from cwledger.api.process import spawn
from cwledger.ledger.ledger import Ledger
from cwledger.model.escrow import EscrowRemovedProved, SubsetProofJson
from cwledger.model.sites import Site as SiteModel
from cwledger.web.public_map import logged_by_author, out_not_destroyed, public_places
from tests.api.conftest import Api, make_api
from tests.api.test_web_session import _log_in
from tests.web.confidential import ITEMS, SECRETS, SITE, VENUE, VESSEL, build
from tests.web.conftest import open_page

# -- the pure parts ---------------------------------------------------------------------------


def _proof(version: int, category: int, leaves: list[tuple[int, int]]) -> EscrowRemovedProved:
    size = 1 + max(i for i, _ in leaves)
    shown = [[i, f"{i:02x}" * 32, g] for i, g in leaves]
    grams = sum(g for _, g in leaves)
    return EscrowRemovedProved(
        version=version,
        category=category,
        at="2014-06-01T00:00:00Z",
        count=len(leaves),
        grams=grams,
        total_count=len(leaves),
        total_grams=grams,
        proof=SubsetProofJson.model_validate({"size": size, "leaves": shown, "nodes": []}),
    )


def test_out_not_destroyed_counts_each_leaf_once_and_only_the_aggregates_version() -> None:
    proofs = {
        10: _proof(1, 1, [(0, 5), (1, 7), (2, 11)]),
        11: _proof(1, 1, [(2, 11), (3, 13)]),  # leaf 2 again: once
        12: _proof(1, 1, [(1, 7)]),  # destroyed
        13: _proof(2, 1, [(4, 1000)]),  # another version: not counted
        14: _proof(1, 2, [(0, 500)]),  # another category's tree: not counted in 1
    }
    named = {1: {"removed": [10, 11, 13, 14], "destroyed": [12]}, 2: {"removed": [14]}}
    got = out_not_destroyed(1, proofs, named)
    assert got == {1: {"grams": 5 + 11 + 13, "items": 3}, 2: {"grams": 500, "items": 1}}


def test_public_places_skip_sealed_sites_and_keep_the_last_declaration() -> None:
    def site(name: str, kind: str) -> SiteModel:
        return SiteModel.model_validate(
            {
                "id": "V-1",
                "name": name,
                "kind": kind,
                "coordinates": {"lat": 1.0, "lon": 2.0},
                "party": "insp",
            }
        )

    got = public_places([(3, "insp", site("old", "vessel")), (4, "dec", None)])
    assert [(p.site.name, p.entry, p.at_sea) for p in got] == [("old", 3, True)]
    got = public_places([(3, "insp", site("old", "vessel")), (9, "insp", site("new", "port"))])
    assert [(p.site.name, p.entry, p.at_sea) for p in got] == [("new", 9, False)]


def test_logged_by_author_counts_and_dates_by_type_then_author() -> None:
    got = logged_by_author(
        [
            ("destruction.batch", "v", "2014-05-02T00:00:00Z"),
            ("transfer.shipped", "dec", "2014-01-09T00:00:00Z"),
            ("transfer.shipped", "dec", "2014-01-02T00:00:00Z"),
            ("transfer.received", "insp", "2014-01-03T00:00:00Z"),
        ]
    )
    assert [(x.event_type, x.author, x.count, x.first, x.last) for x in got] == [
        ("transfer.shipped", "dec", 2, "2014-01-02", "2014-01-09"),
        ("transfer.received", "insp", 1, "2014-01-03", "2014-01-03"),
        ("destruction.batch", "v", 1, "2014-05-02", "2014-05-02"),
    ]


# -- the pages (in process) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def conf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    led = build(tmp_path_factory.mktemp("conf-web") / "ledger")
    yield led
    led.close()


@pytest.fixture
def api(conf: Ledger) -> Api:
    return make_api(conf, ["obs", "dec"], public_pages=True)


def _no_secret(html: str) -> None:
    found = [s for s in SECRETS if s in html]
    assert not found, found


def test_the_public_map_shows_public_data_only(api: Api) -> None:
    page = api.client.get("/map")
    assert page.status_code == 200
    html = page.text
    _no_secret(html)
    assert "Site detail is confidential" in html
    assert VESSEL["name"] in html and VENUE["name"] in html
    # the country's one mark links the aggregate's entry, whose numbers it shows
    [agg] = api.client.get("/api/v1/aggregates").json()
    assert f'href="/log?entry={agg["entry"]}"' in html
    remaining = sum(c["remaining_grams"] for c in agg["categories"]) / 1e6
    assert f'data-figure="remaining_t">{remaining:,.3f} t<' in html
    assert html.count('class="site country-mark"') == 1
    # out and not destroyed: category 1's leaves 0-3 (removed 0-9, destroyed 4-13)
    assert re.search(r'data-figure="away_t">[0-9.]+ t</strong> \(4 items\)', html)
    # the movements as logged: one shipment by the declarant, one receipt by the inspectorate
    assert 'data-type="transfer.shipped" data-author="dec"' in html
    assert 'data-type="transfer.received" data-author="insp"' in html
    # no link to a site's or an item's page (they answer 403)
    assert "/sites/" not in html and "/items/" not in html
    # the htmx part's URL gives the same public page, and an observer the same
    assert api.client.get("/map/sites?day=3", headers={"HX-Request": "true"}).status_code == 200
    _no_secret(api.client.get("/map/sites?day=3", headers={"HX-Request": "true"}).text)
    assert _log_in(api.client, api.tokens["obs"]) == 303
    observer = api.client.get("/map").text
    assert "obs (observer)" in observer and "Site detail is confidential" in observer
    _no_secret(observer)


def test_the_public_map_before_the_aggregate_says_there_is_none(api: Api) -> None:
    html = api.client.get("/map?at=2014-01-01").text
    _no_secret(html)
    assert "No aggregate has been published as of Jan 1, 2014" in html
    assert "country-mark" not in html and VESSEL["name"] not in html


def test_an_entitled_party_sees_the_whole_map_and_every_link(api: Api) -> None:
    assert _log_in(api.client, api.tokens["dec"]) == 303
    html = api.client.get("/map").text
    assert 'id="site-holdings"' in html and "Site detail is confidential" not in html
    assert f'href="/sites/{SITE}"' in html
    for href in ("/balances", "/findings"):
        assert f'href="{href}"' in html
    assert api.client.get(f"/items/{ITEMS[0]}").status_code == 200


def test_the_navigation_links_no_page_that_refuses_the_visitor(api: Api) -> None:
    for path in ("/", "/map", "/log", "/login"):
        html = api.client.get(path).text
        assert 'href="/balances"' not in html and 'href="/findings"' not in html, path
    assert api.client.get("/balances").status_code == 403


# -- in a browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`cwledger serve` over the confidential ledger, pages public."""
    path = tmp_path_factory.mktemp("conf-served") / "ledger"
    build(path).close()
    server = spawn(path, env={"CWLEDGER_PUBLIC_PAGES": "true"})
    yield server.base
    server.stop()


def _same_origin_links(page: Any, base: str, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
    return sorted({urljoin(base + "/", h) for h in hrefs if h and not h.startswith("#")})


def test_every_link_of_the_public_pages_answers(served: str, browser: Any) -> None:
    """Every navigation link of every public page, and every link of the public map and
    overview, answers 200 to an anonymous visitor."""
    w = open_page(browser)
    nav: set[str] = set()
    for path in ("/", "/map", "/log"):
        assert w.page.goto(f"{served}{path}").status == 200, path
        nav |= set(_same_origin_links(w.page, served, "header a"))
        if path in ("/", "/map"):
            nav |= set(_same_origin_links(w.page, served, "main a"))
    assert {f"{served}/", f"{served}/map", f"{served}/log"} <= nav
    for url in sorted(nav):
        assert w.page.goto(url).status == 200, url
        _no_secret(w.page.content())
    w.assert_clean()
    w.page.context.close()


@pytest.mark.parametrize("path", ["/", "/map"])
def test_the_public_pages_do_not_scroll_sideways_at_a_phone_width(
    served: str, browser: Any, path: str
) -> None:
    w = open_page(browser, 390)
    w.page.goto(f"{served}{path}")
    width = w.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} scrolls sideways: {width} px"
    w.assert_clean()
    w.page.context.close()
