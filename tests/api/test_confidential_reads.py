"""A confidential ledger's book is read only by parties cleared above `public` (issue 16):
the book's API answers and dashboard pages refuse an observer and an anonymous visitor with
"not entitled" (403), never a 500 and never the sealed values; the log stays public."""

from __future__ import annotations

import pytest

from cwledger.ledger.ledger import Ledger
from tests.api.conftest import Api, make_api
from tests.book.builders import Book, declaration, item, site

MARK = "Marker-Site-Name-5f1c"


@pytest.fixture
def conf_api(conf: Ledger) -> Api:
    Book(conf).append(
        "declaration.submitted",
        declaration([item("I-1")], sites=[{**site("S-1"), "name": MARK}]),
    )
    return make_api(conf, ["insp", "dec", "obs"], public_pages=True)


BOOK_READS = [
    "/api/v1/sites",
    "/api/v1/sites/S-1",
    "/api/v1/holdings",
    "/api/v1/items/I-1",
    "/api/v1/status",
    "/api/v1/declarations/1",
]


def test_an_observer_is_not_entitled_to_the_book(conf_api: Api) -> None:
    for path in BOOK_READS:
        answer = conf_api.client.get(path, headers=conf_api.auth("obs"))
        assert answer.status_code == 403, path
        assert "confidential" in answer.json()["detail"] and MARK not in answer.text


def test_a_cleared_party_reads_the_opened_book(conf_api: Api) -> None:
    for party in ("insp", "dec"):
        answer = conf_api.client.get("/api/v1/sites/S-1", headers=conf_api.auth(party))
        assert answer.status_code == 200 and MARK in answer.text


def test_an_anonymous_visitor_gets_the_log_but_not_the_book(conf_api: Api) -> None:
    # the overview is the public one (the published aggregates: none here), not the book's
    page = conf_api.client.get("/")
    assert page.status_code == 200 and "confidential" in page.text and MARK not in page.text
    assert 'id="tallies"' not in page.text and "No aggregate has been published" in page.text
    for path in ("/sites/S-1", "/items/I-1", "/balances", "/findings"):
        assert conf_api.client.get(path).status_code == 403, path
    for path in ("/map", "/map/sites"):
        public_map = conf_api.client.get(path)
        assert public_map.status_code == 200 and MARK not in public_map.text, path
        assert "Site detail is confidential" in public_map.text
    assert conf_api.client.get("/log/checkpoint").status_code == 200
    log_page = conf_api.client.get("/log?entry=1")
    assert log_page.status_code == 200 and MARK not in log_page.text
