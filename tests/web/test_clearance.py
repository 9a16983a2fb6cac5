"""Clearances on the book's routes (issue 16): in a confidential ledger a destruction
facility (cleared to `protected`) opens the book's pages and answers about sites, items and
masses, is answered 403 by what holds highly-protected fields (the findings) with a message
naming it, its clearance and the class needed, and its navigation hides those; an item's
chain of custody keeps only the fields it reads. A ledger that is not confidential is as
before: everything served, everything linked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cwledger.ledger.ledger import Ledger
from cwledger.model.classes import Class
from cwledger.web.views import NAV
from tests.api.conftest import Api, make_api
from tests.api.test_web_session import _log_in
from tests.book.builders import Book, declaration, item, site
from tests.confidential.test_readers import _register
from tests.conftest import FOUNDING, ORIGIN

TITLE = "Finding title Kqz4410"
SUMMARY = "Inspection summary Hvt2287"


def _fill(led: Ledger) -> None:
    """A declaration (I-1, I-2 at S-1; a laboratory L-1), an inspection closed with a
    summary, a sample of I-2 and its result, a finding raised by the inspectorate."""
    b = Book(led)
    lab = {**site("L-1", kind="laboratory")}
    b.append("declaration.submitted", declaration([item("I-1"), item("I-2")], [site("S-1"), lab]))
    b.append(
        "inspection.opened",
        {"inspection": "IN-1", "site": "S-1", "kind": "initial"},
        author="insp",
    )
    b.append(
        "sample.taken",
        {"sample": "SM-1", "item": "I-2", "site": "S-1", "inspection": "IN-1"},
        author="insp",
    )
    b.append("inspection.closed", {"inspection": "IN-1", "summary": SUMMARY}, author="insp")
    b.append(
        "sample.result",
        {"sample": "SM-1", "identity_confirmed": False, "laboratory": "L-1"},
        author="insp",
    )
    b.append("finding.raised", {"title": TITLE, "subjects": ["I-1"]}, author="insp")


def _api(tmp_path: Path, *, confidential: bool) -> Iterator[Api]:
    led = Ledger.init(
        tmp_path / "ledger",
        ORIGIN,
        founding=FOUNDING,
        time="2013-09-14T00:00:00Z",
        confidential=confidential,
    )
    _register(led, "fac", "destruction_facility")
    _fill(led)
    yield make_api(led, ["fac", "insp", "obs"])
    led.close()


@pytest.fixture
def conf(tmp_path: Path) -> Iterator[Api]:
    yield from _api(tmp_path, confidential=True)


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[Api]:
    yield from _api(tmp_path, confidential=False)


def _nav(html: str) -> list[str]:
    nav = html.split('<nav aria-label="Pages">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


def test_the_findings_refuse_a_destruction_facility_naming_its_clearance(conf: Api) -> None:
    answer = conf.client.get("/api/v1/findings", headers=conf.auth("fac"))
    assert answer.status_code == 403
    problem = answer.json()
    assert problem["type"] == "/problems/forbidden" and TITLE not in answer.text
    assert problem["detail"] == (
        "this ledger is confidential: this answer holds highly-protected fields, and fac"
        " (destruction_facility) is cleared to protected only"
    )
    # an observer is told it reads public data only; the inspectorate reads the findings
    observer = conf.client.get("/api/v1/findings", headers=conf.auth("obs")).json()["detail"]
    assert "obs (observer) reads public data only" in observer
    assert "highly-protected" in observer
    insp = conf.client.get("/api/v1/findings", headers=conf.auth("insp"))
    assert insp.status_code == 200 and TITLE in insp.text


def test_a_destruction_facility_reads_the_protected_book(conf: Api) -> None:
    for path in ("/sites", "/sites/S-1", "/holdings", "/status", "/milestones", "/items/I-1"):
        answer = conf.client.get(f"/api/v1{path}", headers=conf.auth("fac"))
        assert answer.status_code == 200, path
        assert TITLE not in answer.text and SUMMARY not in answer.text, path


def test_a_chain_of_custody_drops_a_sample_result_above_the_readers_clearance(
    conf: Api,
) -> None:
    def result(party: str) -> str:
        doc = conf.client.get("/api/v1/items/I-2", headers=conf.auth(party)).json()
        [line] = [c["summary"] for c in doc["custody"] if c["type"] == "sample.result"]
        return str(line)

    assert result("insp") == "sample SM-1: identity NOT confirmed"
    assert result("fac") == "sample.result (its fields above protected withheld)"
    # the item page says the same to each
    assert _log_in(conf.client, conf.tokens["fac"]) == 303
    page = conf.client.get("/items/I-2").text
    assert "withheld" in page and "NOT confirmed" not in page


def test_the_navigation_hides_what_the_clearance_would_be_refused(conf: Api) -> None:
    assert _log_in(conf.client, conf.tokens["fac"]) == 303
    for path in ("/", "/map", "/log", "/balances", "/sites/S-1", "/items/I-1"):
        page = conf.client.get(path)
        assert page.status_code == 200, path
        assert _nav(page.text) == ["/", "/map", "/balances", "/log"], path
        assert 'href="/findings' not in page.text, path
        assert TITLE not in page.text and SUMMARY not in page.text, path
    overview = conf.client.get("/").text
    still_open = conf.client.get("/api/v1/findings?status=open", headers=conf.auth("insp")).json()
    assert len(still_open) == 2  # the one raised, and the rules' on the sample's result
    assert 'id="open-findings-count">2 open findings;' in overview
    refused = conf.client.get("/findings")
    assert refused.status_code == 403 and TITLE not in refused.text
    assert "fac (destruction_facility) is cleared to protected only" in refused.text
    # the inspectorate, logged in, is linked to the findings and reads them
    assert _log_in(conf.client, conf.tokens["insp"]) == 303
    overview = conf.client.get("/").text
    assert "/findings" in _nav(overview) and TITLE in overview
    assert conf.client.get("/findings").status_code == 200


def test_a_ledger_that_is_not_confidential_serves_and_links_everything(plain: Api) -> None:
    every = [href for _, href, _, _ in NAV]
    anonymous = make_api(plain.ledger, [], public_pages=True).client
    for client in (anonymous, plain.client):
        if client is plain.client:
            assert _log_in(client, plain.tokens["fac"]) == 303
        overview = client.get("/")
        assert overview.status_code == 200 and _nav(overview.text) == every
        assert TITLE in overview.text and 'href="/findings"' in overview.text
        findings = client.get("/findings")
        assert findings.status_code == 200 and TITLE in findings.text
    for party in ("fac", "obs"):
        answer = plain.client.get("/api/v1/findings", headers=plain.auth(party))
        assert answer.status_code == 200 and TITLE in answer.text
        doc = plain.client.get("/api/v1/items/I-2", headers=plain.auth(party)).json()
        assert "sample SM-1: identity NOT confirmed" in [c["summary"] for c in doc["custody"]]


def test_every_book_route_says_the_class_it_serves() -> None:
    """The navigation's classes are the ones its pages' routes say (a page linked for a
    clearance that its route refuses would be a link to a 403)."""
    from cwledger.web.mount import ROUTERS
    from tests.confidential.test_marker_scan import _served

    by_path = {
        route.path: _served(route)
        for router in ROUTERS
        for route in router.routes
        if hasattr(route, "dependant")
    }
    for _, href, _, level in NAV:
        assert by_path[href] == level, href
    assert by_path["/items/{item_id}"] == by_path["/sites/{site_id}"] == Class.PROTECTED
    assert by_path["/findings"] == Class.HIGHLY_PROTECTED
