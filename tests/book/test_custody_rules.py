"""The holes in custody the book flags on its own (issue 14, item 8): a transfer whose
seals were not checked at the hand-over, a receipt of weighed material without a weighing,
an item put at another site by a declaration amendment alone."""

from __future__ import annotations

from typing import Any

from cwledger.book.records import FindingRecord
from tests.book.builders import Book, declaration, item, mass


def _findings(b: Book) -> dict[str, FindingRecord]:
    with b.ledger.store.read() as r:
        return {f.rule: f for f in r.book.records(FindingRecord)}


def _seal(b: Book, item_id: str) -> None:
    seal = {"seal": f"SL-{item_id}", "type": "metal_cap"}
    b.append("seal.applied", {**seal, "closes": {"kind": "item", "id": item_id}})


def _shipped(transfer: str, origin: str, dest: str, items: list[str]) -> dict[str, Any]:
    return {
        "transfer": transfer,
        "origin": origin,
        "destination": dest,
        "due": "2015-01-01T00:00:00Z",
        "items": [{"item": i} for i in items],
    }


def _received(transfer: str, site: str, items: list[str], kg: float | None) -> dict[str, Any]:
    lines = [{"item": i} if kg is None else {"item": i, "measured": mass(kg)} for i in items]
    return {"transfer": transfer, "site": site, "items": lines}


def test_a_transfer_whose_seals_were_never_checked_raises_a_finding(book: Book) -> None:
    _seal(book, "I-1")
    book.append("transfer.shipped", _shipped("T-1", "S-1", "PORT", ["I-1"]))
    found = _findings(book)
    assert set(found) == {"handover-unchecked"}
    assert found["handover-unchecked"].subjects == ["T-1", "S-1", "I-1"]
    assert "not checked there between their arrival and the shipment" in (
        found["handover-unchecked"].finding.title
    )


def test_a_check_before_the_last_arrival_does_not_cover_the_next_hand_over(book: Book) -> None:
    """Checked at S-1, then moved to the port and weighed there: leaving the port needs a
    check at the port; with one, nothing is raised."""
    _seal(book, "I-1")
    _seal(book, "I-2")
    for i in ("I-1", "I-2"):
        book.append("seal.checked", {"seal": f"SL-{i}", "condition": "intact"})
    book.append("transfer.shipped", _shipped("T-1", "S-1", "PORT", ["I-1", "I-2"]))
    book.append("transfer.received", _received("T-1", "PORT", ["I-1"], 1000.0))
    book.append("transfer.received", _received("T-1", "PORT", ["I-2"], 500.0))
    assert _findings(book) == {}
    book.append("seal.checked", {"seal": "SL-I-2", "condition": "intact"})  # I-2 only
    book.append("transfer.shipped", _shipped("T-2", "PORT", "S-2", ["I-1", "I-2"]))
    found = _findings(book)
    assert set(found) == {"handover-unchecked"}
    assert found["handover-unchecked"].subjects == ["T-2", "PORT", "I-1"]


def test_a_receipt_without_a_weighing_raises_a_finding(book: Book) -> None:
    _seal(book, "I-1")
    book.append("seal.checked", {"seal": "SL-I-1", "condition": "intact"})
    book.append("transfer.shipped", _shipped("T-1", "S-1", "PORT", ["I-1"]))
    book.append("transfer.received", _received("T-1", "PORT", ["I-1"], None))
    found = _findings(book)
    assert set(found) == {"receipt-unweighed"}
    f = found["receipt-unweighed"]
    assert f.subjects == ["T-1", "PORT", "I-1"] and f.finding.evidence == ["e00004"]


def test_an_item_moved_by_a_declaration_amendment_alone_raises_a_finding(book: Book) -> None:
    moved = [item("I-1", "S-2"), item("I-2", kg=500), item("I-3", "S-2", kg=800, chemical="HF")]
    book.append("declaration.amended", declaration(moved, version=2))
    found = _findings(book)
    assert set(found) == {"site-changed-by-amendment"}
    f = found["site-changed-by-amendment"]
    assert f.subjects == ["I-1"]
    assert f.finding.title == (
        "declaration version 2 puts 1 item at another site with no transfer that moved them"
    )
    # An amendment that leaves every site as it is raises nothing more.
    corrected = [item("I-1", "S-2", kg=1001), item("I-2", kg=500)]
    corrected.append(item("I-3", "S-2", kg=800, chemical="HF"))
    book.append("declaration.amended", declaration(corrected, version=3))
    with book.ledger.store.read() as r:
        assert len(r.book.records(FindingRecord)) == 1
