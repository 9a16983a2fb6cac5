"""Production facilities (issue 14, item 3): their own records, destroyed and verified by
different parties, inaccessible spans, and their counts at a moment; never items."""

from __future__ import annotations

from typing import Any

import pytest

from cwledger.book.facilities import facility_counts
from cwledger.book.records import FacilityRecord, FindingRecord
from cwledger.ledger.ledger import Ledger
from cwledger.time import parse_moment
from tests.book.builders import Book, site
from tests.book.test_rules import assert_refused


def _facility(site_id: str, structure: str | None = None, **extra: Any) -> dict[str, Any]:
    s = site(site_id, "production")
    if structure is not None:
        s["structure"] = structure
    return {"site": s | extra}


@pytest.fixture
def plant(ledger: Ledger) -> Book:
    """F-1 (with a hangar) and F-2 (without a structure) declared on 2014-01-01, and a
    storage site S-1 (not a facility)."""
    b = Book(ledger)
    t = "2014-01-01T10:00:00Z"
    b.append("site.declared", _facility("F-1", "hangar"), time=t)
    b.append("site.declared", _facility("F-2"), time=t)
    b.append("site.declared", {"site": site("S-1")}, time=t)
    return b


def _records(b: Book) -> dict[str, FacilityRecord]:
    with b.ledger.store.read() as r:
        return {f.facility: f for f in r.book.records(FacilityRecord)}


def _destroy(b: Book, fac: str, extent: str, day: str) -> None:
    body = {"facility": fac, "extent": extent, "method": "demolition"}
    b.append("facility.destroyed", body, time=f"{day}T10:00:00Z", author="dec")
    b.append("facility.verified", {"facility": fac, "extent": extent}, time=f"{day}T12:00:00Z")


def test_only_production_sites_are_facilities(plant: Book) -> None:
    assert sorted(_records(plant)) == ["F-1", "F-2"]
    assert _records(plant)["F-1"].structure == "hangar"


def test_destruction_claims_that_contradict_the_book_are_refused(plant: Book) -> None:
    body = {"facility": "S-1", "extent": "functional", "method": "equipment destroyed"}
    assert_refused(plant, "facility.destroyed", body, "S-1 is not a declared production facility")
    body = {"facility": "F-2", "extent": "physical", "method": "demolition"}
    assert_refused(
        plant,
        "facility.destroyed",
        body,
        "facility F-2 has no structure declared to destroy",
        author="dec",
    )
    _destroy(plant, "F-2", "functional", "2014-02-01")
    body = {"facility": "F-2", "extent": "functional", "method": "again"}
    assert_refused(
        plant,
        "facility.destroyed",
        body,
        "the functional destruction of facility F-2 is already recorded",
        author="dec",
    )


def test_a_party_does_not_verify_its_own_facility_record(plant: Book) -> None:
    body = {"facility": "F-1", "extent": "functional", "method": "equipment destroyed"}
    plant.append("facility.destroyed", body, author="insp")
    assert_refused(
        plant,
        "facility.verified",
        {"facility": "F-1", "extent": "functional"},
        "insp recorded the functional destruction of facility F-1 (entry 4); a party does not"
        " verify its own record",
        author="insp",
    )


def test_a_verification_of_nothing_recorded_raises_a_finding(plant: Book) -> None:
    plant.append("facility.verified", {"facility": "F-1", "extent": "physical"})
    with plant.ledger.store.read() as r:
        [f] = r.book.records(FindingRecord)
    assert f.rule == "unrecorded-destruction"
    assert f.finding.title == "physical destruction of facility F-1 verified but never recorded"


def test_counts_at_a_moment_with_an_inaccessible_span(plant: Book) -> None:
    _destroy(plant, "F-1", "functional", "2014-02-01")
    _destroy(plant, "F-2", "functional", "2014-02-02")
    t = "2014-03-01T10:00:00Z"
    plant.append("site.declared", _facility("F-1", "hangar", access="inaccessible"), time=t)
    t = "2014-05-01T10:00:00Z"
    plant.append("site.declared", _facility("F-1", "hangar"), time=t)
    _destroy(plant, "F-1", "physical", "2014-06-01")
    records = list(_records(plant).values())

    def at(day: str) -> dict[str, Any]:
        return facility_counts(records, parse_moment(day)).to_json()

    assert at("2013-12-31")["declared"] == 0
    jan = at("2014-01-31")
    assert (jan["declared"], jan["functionally_destroyed"], jan["summary"]) == (
        2,
        0,
        "0 of 2 verified destroyed",
    )
    march = at("2014-03-31")
    assert (march["inaccessible"], march["structures_inaccessible"]) == (1, 1)
    assert march["summary"] == "1 of 2 verified destroyed"  # F-1's hangar still stands
    june = at("2014-06-30")
    assert (june["inaccessible"], june["physically_destroyed"]) == (0, 1)
    assert june["summary"] == "2 of 2 verified destroyed"
    assert _records(plant)["F-1"].status == "verified destroyed"
