"""Each refusal rule and each automatic finding: the message, and that nothing but the
intended rows changed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cwledger.book.records import FindingRecord, ItemRecord, ItemState
from cwledger.errors import EventRejected
from cwledger.ledger.ledger import Ledger
from cwledger.time import from_rfc3339
from tests.book.builders import Book, item, mass, site
from tests.conftest import row_counts


def _dump(led: Ledger) -> dict[str, set[tuple[Any, ...]]]:
    with led.store.read() as r:
        return {t: set(rows) for t, rows in r.book.dump().items()}


def _records(led: Ledger) -> dict[tuple[str, str], str]:
    with led.store.read() as r:
        return {(row[0], row[1]): row[5] for row in r.book.dump()["book_record"]}


def _ship(
    b: Book,
    item_id: str,
    *,
    transfer: str = "TR-1",
    origin: str = "S-1",
    dest: str = "PORT",
    measured: float | None = 1000.0,
    due: str = "2015-01-01T00:00:00Z",
    checked: bool = True,
    **kw: Any,
) -> None:
    b.append(
        "seal.applied",
        {"seal": f"SEAL-{item_id}", "type": "metal_cap", "closes": {"kind": "item", "id": item_id}},
    )
    if checked:  # checked at the hand-over, as the rule of the hand-over wants
        b.append("seal.checked", {"seal": f"SEAL-{item_id}", "condition": "intact"})
    line: dict[str, Any] = {"item": item_id}
    if measured is not None:
        line["measured"] = mass(measured)
    b.append(
        "transfer.shipped",
        {"transfer": transfer, "origin": origin, "destination": dest, "due": due, "items": [line]},
        **kw,
    )


def _shipment(
    items: list[str], transfer: str = "T", origin: str = "S-1", destination: str = "PORT"
) -> dict[str, Any]:
    """A transfer.shipped body, due at the start of 2015."""
    return {
        "transfer": transfer,
        "origin": origin,
        "destination": destination,
        "due": "2015-01-01T00:00:00Z",
        "items": [{"item": i} for i in items],
    }


def assert_refused(b: Book, type_: str, body: dict[str, Any], message: str, **kw: Any) -> None:
    """The event is refused with `message`, and not a row changes anywhere."""
    before, book_before = row_counts(b.ledger), _dump(b.ledger)
    with pytest.raises(EventRejected) as info:
        b.append(type_, body, **kw)
    assert message in str(info.value), str(info.value)
    assert row_counts(b.ledger) == before
    assert _dump(b.ledger) == book_before


def assert_finding(
    b: Book,
    type_: str,
    body: dict[str, Any],
    rule: str,
    title: str,
    changed: set[tuple[str, str]],
    **kw: Any,
) -> FindingRecord:
    """The event is accepted and raises exactly one finding of `rule` whose title matches;
    the book's records that change are the finding, its counter and `changed`."""
    before = _records(b.ledger)
    entries_before = row_counts(b.ledger)["log_entry"]
    r = b.append(type_, body, **kw)
    after = _records(b.ledger)
    assert row_counts(b.ledger)["log_entry"] == entries_before + 1
    new_findings = [k for k in after if k[0] == "finding" and k not in before]
    assert len(new_findings) == 1, new_findings
    with b.ledger.store.read() as rd:
        f = rd.book.get(FindingRecord, new_findings[0][1])
    assert f is not None and f.rule == rule and f.opened_entry == r.index
    assert re.search(title, f.finding.title), f.finding.title
    touched = {k for k in after if before.get(k) != after[k]}
    assert touched == {new_findings[0], ("counter", "finding"), *changed}
    return f


def _item(b: Book, item_id: str) -> ItemRecord:
    with b.ledger.store.read() as r:
        rec = r.book.get(ItemRecord, item_id)
    assert rec is not None
    return rec


# -- refusals: claims that contradict the book ---------------------------------------------


def test_shipping_from_a_site_where_the_item_is_not(book: Book) -> None:
    book.append(
        "seal.applied", {"seal": "SL", "type": "tape", "closes": {"kind": "item", "id": "I-1"}}
    )
    assert_refused(
        book,
        "transfer.shipped",
        _shipment(["I-1"], origin="S-2"),
        "item I-1 is at S-1 (sealed, entry 2), not at S-2",
    )


def test_shipping_an_unsealed_item(book: Book) -> None:
    assert_refused(
        book,
        "transfer.shipped",
        _shipment(["I-2"]),
        "item I-2 is at S-1 (declared, entry 1): only a sealed item may leave a site",
    )


def test_shipping_an_item_the_book_does_not_have_or_to_an_undeclared_site(book: Book) -> None:
    assert_refused(
        book,
        "transfer.shipped",
        _shipment(["I-99"], destination="NOWHERE"),
        "site NOWHERE is not declared",
    )
    assert_refused(
        book,
        "transfer.shipped",
        _shipment(["I-99"]),
        "item I-99 is not in the book",
    )


def test_shipping_the_same_transfer_twice(book: Book) -> None:
    _ship(book, "I-1")
    assert_refused(
        book,
        "transfer.shipped",
        _shipment(["I-2"], transfer="TR-1"),
        "transfer TR-1 was already shipped (entry 4)",
    )


def test_receiving_what_was_never_shipped(book: Book) -> None:
    assert_refused(
        book,
        "transfer.received",
        {"transfer": "TR-9", "site": "PORT", "items": [{"item": "I-1"}]},
        "transfer TR-9 was never shipped",
    )
    _ship(book, "I-1")
    assert_refused(
        book,
        "transfer.received",
        {"transfer": "TR-1", "site": "PORT", "items": [{"item": "I-2"}]},
        "item I-2 was not shipped on transfer TR-1",
    )
    assert_refused(
        book,
        "transfer.received",
        {"transfer": "TR-1", "site": "S-2", "items": [{"item": "I-1"}]},
        "transfer TR-1 was shipped to PORT, not S-2",
    )


def test_receiving_twice(book: Book) -> None:
    _ship(book, "I-1")
    book.append(
        "transfer.received", {"transfer": "TR-1", "site": "PORT", "items": [{"item": "I-1"}]}
    )
    assert_refused(
        book,
        "transfer.received",
        {"transfer": "TR-1", "site": "PORT", "items": [{"item": "I-1"}]},
        "item I-1 of transfer TR-1 was already received (entry 5)",
    )


def test_destroying_more_than_is_held(book: Book) -> None:
    assert_refused(
        book,
        "destruction.batch",
        {
            "batch": "B-1",
            "method": "hydrolysis",
            "venue": "S-2",
            "start": "2014-03-01T00:00:00Z",
            "end": "2014-03-02T00:00:00Z",
            "items": [{"item": "I-3", "kg": 800.5}],
        },
        "destroying 800.500 kg of item I-3, but the book holds 800.000 kg",
    )


def test_destroying_an_item_held_elsewhere_or_already_destroyed(book: Book) -> None:
    body = {
        "batch": "B-1",
        "method": "hydrolysis",
        "venue": "S-2",
        "start": "2014-03-01T00:00:00Z",
        "end": "2014-03-02T00:00:00Z",
        "items": [{"item": "I-1"}],
    }
    assert_refused(
        book, "destruction.batch", body, "item I-1 is at S-1 (declared, entry 1), not held at S-2"
    )
    book.append("destruction.batch", {**body, "items": [{"item": "I-3"}]})
    assert _item(book, "I-3").state is ItemState.DESTROYED
    assert_refused(
        book,
        "destruction.batch",
        {**body, "batch": "B-2", "items": [{"item": "I-3"}]},
        "item I-3 is at S-2 (destroyed, entry 2), not held at S-2",
    )


def test_a_claim_dated_before_the_items_last_claim(book: Book) -> None:
    _ship(book, "I-1", time="2014-05-01T00:00:00Z")
    assert_refused(
        book,
        "transfer.received",
        {"transfer": "TR-1", "site": "PORT", "items": [{"item": "I-1"}]},
        "item I-1 was last changed by entry 4 at 2014-05-01T00:00:00Z; this event is dated"
        " earlier (2014-04-01T00:00:00Z)",
        time="2014-04-01T00:00:00Z",
    )


def test_an_observation_dated_earlier_does_not_reopen_the_past(book: Book) -> None:
    """Found by the book's state machine: a seal recorded late, dated before the item's last
    claim, let a shipment be dated before a destruction booked ahead of it."""
    destroy = {
        "batch": "B-1",
        "method": "hydrolysis",
        "venue": "S-1",
        "start": "2014-03-01T00:00:00Z",
        "end": "2014-03-01T00:00:00Z",
        "items": [{"item": "I-1", "kg": 1.0}],
    }
    book.append("destruction.batch", destroy, time="2014-03-01T00:00:00Z")
    seal = {"seal": "SEAL-I-1", "type": "metal_cap", "closes": {"kind": "item", "id": "I-1"}}
    book.append("seal.applied", seal, time="2014-02-01T00:00:00Z")
    assert _item(book, "I-1").state is ItemState.SEALED
    assert _item(book, "I-1").last_at == from_rfc3339("2014-03-01T00:00:00Z")
    assert_refused(
        book,
        "transfer.shipped",
        {
            "transfer": "TR-1",
            "origin": "S-1",
            "destination": "PORT",
            "due": "2015-01-01T00:00:00Z",
            "items": [{"item": "I-1"}],
        },
        "item I-1 was last changed by entry 2 at 2014-03-01T00:00:00Z; this event is dated"
        " earlier (2014-02-01T00:00:00Z)",
        time="2014-02-01T00:00:00Z",
    )


def test_declaration_rules(book: Book) -> None:
    assert_refused(
        book,
        "declaration.submitted",
        {**_part(1, 1, [item("I-7")])},
        "version 1 is already complete",
    )
    assert_refused(
        book, "declaration.amended", _part(3, 1, [item("I-1")]), "the next version is 2, not 3"
    )
    assert_refused(
        book,
        "declaration.amended",
        _part(2, 2, [item("I-1")], parts=2),
        "part 1 (the header) of version 2 must come first",
    )
    assert_refused(
        book,
        "declaration.amended",
        _part(2, 1, [item("I-1", chemical="VX")]),
        "chemical 'VX' is not in the chemicals table",
    )
    assert_refused(
        book,
        "declaration.amended",
        _part(2, 1, [item("I-1", site_id="S-9")]),
        "site S-9 is neither in the header nor declared",
    )


def _part(version: int, part: int, items: list[dict[str, Any]], parts: int = 1) -> dict[str, Any]:
    from tests.book.builders import declaration

    return declaration(items, version=version, part=part, parts=parts)


def test_a_multi_part_declaration_counts_only_once_complete(ledger: Ledger) -> None:
    b = Book(ledger)
    b.append("declaration.submitted", _part(1, 1, [item("I-1")], parts=3))
    b.append("declaration.submitted", _part(1, 3, [item("I-3")], parts=3))
    with ledger.store.read() as r:
        assert r.book.holdings() == [] and r.book.get(ItemRecord, "I-1") is None
    assert_refused(
        b,
        "declaration.submitted",
        _part(1, 3, [item("I-4")], parts=3),
        "part 3 already received (entry 2)",
    )
    assert_refused(
        b,
        "declaration.submitted",
        _part(1, 2, [item("I-3")], parts=3),
        "item I-3 is already in an earlier part",
    )
    b.append("declaration.submitted", _part(1, 2, [item("I-2")], parts=3))
    with ledger.store.read() as r:
        assert sum(h.items for h in r.book.holdings()) == 3


def test_an_amendment_cannot_withdraw_a_shipped_item_or_move_a_sealed_one(book: Book) -> None:
    book.append(
        "seal.applied", {"seal": "SL", "type": "tape", "closes": {"kind": "item", "id": "I-1"}}
    )
    items = [item("I-2", kg=500), item("I-3", "S-2", kg=800, chemical="HF")]
    assert_refused(
        book,
        "declaration.amended",
        _part(2, 1, items),
        "item I-1 is at S-1 (sealed, entry 2): version 2 cannot withdraw it",
    )
    assert_refused(
        book,
        "declaration.amended",
        _part(2, 1, [item("I-1", "S-2"), *items]),
        "item I-1 is at S-1 (sealed, entry 2): only a transfer can move it to S-2",
    )


def test_an_amendment_adds_withdraws_and_corrects(book: Book) -> None:
    items = [item("I-1", kg=1010), item("I-3", "S-2", kg=800, chemical="HF"), item("I-4", "S-2")]
    book.append("declaration.amended", _part(2, 1, items))
    assert _item(book, "I-1").held_g == 1_010_000
    assert _item(book, "I-2").state is ItemState.WITHDRAWN
    assert _item(book, "I-4").state is ItemState.DECLARED
    with book.ledger.store.read() as r:
        by_site = {(h.site, h.chemical): h.grams for h in r.book.holdings()}
    assert by_site == {("S-1", "DF"): 1_010_000, ("S-2", "HF"): 800_000, ("S-2", "DF"): 1_000_000}


def test_own_records_of_the_inspectorate_must_be_consistent(book: Book) -> None:
    assert_refused(
        book, "seal.checked", {"seal": "NOPE", "condition": "intact"}, "seal NOPE was never applied"
    )
    book.append(
        "seal.applied", {"seal": "SL", "type": "tape", "closes": {"kind": "item", "id": "I-1"}}
    )
    assert_refused(
        book,
        "seal.applied",
        {"seal": "SL", "type": "tape", "closes": {"kind": "item", "id": "I-2"}},
        "seal SL is already applied (entry 2)",
    )
    assert_refused(
        book,
        "seal.checked",
        {"seal": "SL", "condition": "intact", "at_headquarters": True},
        "seal SL is applied: cannot verify",
    )
    assert_refused(
        book,
        "inspection.closed",
        {"inspection": "IN-1", "summary": "done"},
        "inspection IN-1 was never opened",
    )
    assert_refused(
        book,
        "sample.result",
        {"sample": "SM-1", "identity_confirmed": True, "laboratory": "LAB-A"},
        "sample SM-1 was never taken",
    )
    assert_refused(
        book, "finding.resolved", {"finding": 5, "status": "resolved"}, "there is no finding 5"
    )


def test_site_rules(book: Book) -> None:
    assert_refused(
        book,
        "site.declared",
        {"site": site("S-5", party="insp")},
        "dec cannot declare a site for insp",
    )
    assert_refused(
        book,
        "site.declared",
        {"site": {**site("S-5"), "parent": "S-0"}},
        "parent site S-0 is not declared",
    )


# -- automatic findings: observations that disagree with the book ----------------------------


@pytest.mark.parametrize("condition", ["tampered", "broken", "missing", "indeterminate"])
def test_a_seal_not_intact_raises_a_finding(book: Book, condition: str) -> None:
    book.append(
        "seal.applied",
        {"seal": "SL", "type": "fibre_optic", "closes": {"kind": "item", "id": "I-1"}},
    )
    assert_finding(
        book,
        "seal.checked",
        {"seal": "SL", "condition": condition},
        f"seal-{condition}",
        f"seal SL found {condition} on item I-1",
        {("seal", "SL")},
    )


def test_an_intact_seal_raises_nothing(book: Book) -> None:
    book.append(
        "seal.applied",
        {"seal": "SL", "type": "fibre_optic", "closes": {"kind": "item", "id": "I-1"}},
    )
    before = _records(book.ledger)
    book.append("seal.checked", {"seal": "SL", "condition": "intact", "photos": ["ab" * 32]})
    assert not [k for k in _records(book.ledger) if k[0] == "finding" and k not in before]


def test_an_item_not_found_at_a_complete_inventory(book: Book) -> None:
    f = assert_finding(
        book,
        "inventory.taken",
        {"site": "S-1", "items": [{"item": "I-1"}]},
        "item-not-found",
        "item I-2 not found at the inventory of S-1",
        {("inventory", "e00002"), ("count", "S-1|2014-01")},
    )
    assert f.subjects == ["I-2", "S-1"]


def test_a_measured_quantity_outside_the_combined_uncertainty(book: Book) -> None:
    # Declared 1,000 kg (u 2 kg); measured 1,004 kg (u 1 kg) agrees; 1,010 kg does not.
    book.append(
        "inventory.taken",
        {"site": "S-1", "complete": False, "items": [{"item": "I-1", "measured": mass(1004.0)}]},
    )
    assert_finding(
        book,
        "inventory.taken",
        {"site": "S-1", "complete": False, "items": [{"item": "I-1", "measured": mass(1010.0)}]},
        "quantity-mismatch",
        r"item I-1 at S-1: measured 1,010.000 kg, the book holds"
        r" 1,000.000 kg",
        {("inventory", "e00003")},
    )


def test_an_item_found_where_the_book_does_not_have_it(book: Book) -> None:
    assert_finding(
        book,
        "inventory.taken",
        {"site": "S-2", "complete": False, "items": [{"item": "I-1"}]},
        "misplaced-item",
        "item I-1 found at inventory at S-2; the book has it"
        r" at S-1 \(declared, entry 1\)",
        {("inventory", "e00002")},
    )


def test_an_undeclared_item_tagged(book: Book) -> None:
    assert_finding(
        book,
        "item.tagged",
        {"item": "X-1", "tag": "T-9", "site": "S-1"},
        "undeclared-item",
        "item X-1 tagged at S-1 is not in the declaration",
        set(),
    )


def test_identity_not_confirmed(book: Book) -> None:
    book.append("sample.taken", {"sample": "SM-1", "item": "I-3", "site": "S-2"})
    assert_finding(
        book,
        "sample.result",
        {"sample": "SM-1", "identity_confirmed": False, "laboratory": "LAB-A"},
        "identity-not-confirmed",
        "sample SM-1 of item I-3: declared identity not confirmed",
        {("sample", "SM-1")},
    )


def test_a_shipper_receiver_difference_beyond_the_uncertainty(book: Book) -> None:
    _ship(book, "I-1", measured=1000.0)
    f = assert_finding(
        book,
        "transfer.received",
        {"transfer": "TR-1", "site": "PORT", "items": [{"item": "I-1", "measured": mass(994.0)}]},
        "shipper-receiver-difference",
        r"transfer TR-1, item I-1: shipped 1,000.000 kg, received 994.000 kg \(difference"
        r" \+6.000 kg",
        {("transfer", "TR-1"), ("item", "I-1")},
    )
    assert f.finding.evidence == ["e00004"]  # the shipment
    assert _item(book, "I-1").held_g == 994_000  # the receiver's measurement is booked


def test_a_difference_within_the_uncertainty_raises_nothing(book: Book) -> None:
    _ship(book, "I-1", measured=1000.0)
    book.append(
        "transfer.received",
        {"transfer": "TR-1", "site": "PORT", "items": [{"item": "I-1", "measured": mass(997.0)}]},
    )
    with book.ledger.store.read() as r:
        assert r.book.records(FindingRecord) == []


def test_a_shipment_not_received_within_the_agreed_time(book: Book) -> None:
    _ship(book, "I-1", due="2014-02-01T00:00:00Z", time="2014-01-20T00:00:00Z")
    f = assert_finding(
        book,
        "inspection.opened",
        {"inspection": "IN-1", "site": "S-2", "kind": "routine"},
        "transfer-overdue",
        "transfer TR-1 from S-1 to PORT was due by 2014-02-01T00:00:00Z; not received: I-1",
        {("inspection", "IN-1"), ("transfer", "TR-1")},
        time="2014-02-02T00:00:00Z",
    )
    assert f.finding.opened_by == "e00005" and f.finding.evidence == ["e00004"]
    # Raised once: a later event does not raise it again.
    before = _records(book.ledger)
    book.append(
        "inspection.closed", {"inspection": "IN-1", "summary": "done"}, time="2014-02-03T00:00:00Z"
    )
    assert not [k for k in _records(book.ledger) if k[0] == "finding" and k not in before]


def test_destruction_not_confirmed(book: Book) -> None:
    book.append(
        "destruction.batch",
        {
            "batch": "B-1",
            "method": "hydrolysis",
            "venue": "S-2",
            "start": "2014-03-01T00:00:00Z",
            "end": "2014-03-02T00:00:00Z",
            "items": [{"item": "I-3"}],
        },
    )
    assert_finding(
        book,
        "destruction.verified",
        {"batch": "B-1", "confirmed": False},
        "destruction-not-confirmed",
        "destruction batch B-1 at S-2 not confirmed",
        {("batch", "B-1")},
    )


def test_an_inspection_at_an_undeclared_site(book: Book) -> None:
    assert_finding(
        book,
        "inspection.opened",
        {"inspection": "IN-1", "site": "S-X", "kind": "challenge"},
        "undeclared-site",
        "challenge inspection IN-1 at undeclared site S-X",
        {("inspection", "IN-1")},
    )


def test_findings_raised_by_hand_resolve_and_reopen(book: Book) -> None:
    assert_finding(
        book,
        "finding.raised",
        {"title": "Production figures unexplained", "subjects": ["S-1"]},
        "raised",
        "Production figures unexplained",
        set(),
    )
    book.append("finding.resolved", {"finding": 1, "status": "resolved", "evidence": ["e00001"]})
    assert_refused(
        book,
        "finding.resolved",
        {"finding": 1, "status": "closed_unresolvable"},
        "finding 1 is resolved: cannot become closed_unresolvable (reopen it first)",
    )
    book.append("finding.resolved", {"finding": 1, "status": "open"})
    with book.ledger.store.read() as r:
        [f] = r.book.records(FindingRecord)
    assert [h.status.value for h in f.finding.history] == ["resolved", "open"]
    assert f.finding.evidence == ["e00001"]


def test_a_destruction_product_is_a_tracked_lot(book: Book) -> None:
    book.append(
        "destruction.batch",
        {
            "batch": "B-1",
            "method": "hydrolysis",
            "venue": "S-2",
            "start": "2014-03-01T00:00:00Z",
            "end": "2014-03-02T00:00:00Z",
            "items": [{"item": "I-3", "kg": 300}],
            "products": [{"item": "RM-1", "label": "reaction mass", "mass": mass(2500.0)}],
        },
    )
    assert _item(book, "I-3").held_g == 500_000 and _item(book, "I-3").state is ItemState.DECLARED
    rm = _item(book, "RM-1")
    assert rm.state is ItemState.PRODUCED and rm.site == "S-2" and rm.held_g == 2_500_000


def test_a_seal_applied_to_an_item_in_transit_or_unknown(book: Book) -> None:
    _ship(book, "I-1")
    assert_finding(
        book,
        "seal.applied",
        {"seal": "SL-2", "type": "tape", "closes": {"kind": "item", "id": "I-1"}},
        "unsealable-item",
        "seal SL-2 applied to item I-1, which is in transit on transfer TR-1",
        {("seal", "SL-2")},
    )
    assert_finding(
        book,
        "seal.applied",
        {"seal": "SL-3", "type": "tape", "closes": {"kind": "item", "id": "Z-1"}},
        "unsealable-item",
        "seal SL-3 applied to item Z-1, which is not in the declaration",
        {("seal", "SL-3")},
    )


def test_a_verification_of_a_batch_never_recorded(book: Book) -> None:
    assert_finding(
        book,
        "destruction.verified",
        {"batch": "B-404"},
        "unrecorded-destruction",
        "destruction batch B-404 verified but never recorded",
        set(),
    )


def test_a_sample_from_an_item_the_book_has_elsewhere(book: Book) -> None:
    assert_finding(
        book,
        "sample.taken",
        {"sample": "SM-1", "item": "I-1", "site": "S-2"},
        "misplaced-item",
        r"item I-1 sampled at S-2; the book has it at S-1 \(declared, entry 1\)",
        {("sample", "SM-1")},
    )


def test_a_removed_seal_is_verified_at_headquarters(book: Book) -> None:
    book.append(
        "seal.applied", {"seal": "SL", "type": "metal_cap", "closes": {"kind": "item", "id": "I-1"}}
    )
    book.append("seal.removed", {"seal": "SL", "reason": "destruction"})
    assert _item(book, "I-1").seals == []
    assert_finding(
        book,
        "seal.checked",
        {"seal": "SL", "condition": "tampered", "method": "hq_comparison", "at_headquarters": True},
        "seal-tampered",
        "seal SL found tampered at headquarters",
        {("seal", "SL")},
    )
    assert_refused(
        book,
        "seal.checked",
        {"seal": "SL", "condition": "intact"},
        "seal SL is verified: cannot check (allowed: nothing, it is final)",
    )


def test_an_item_whose_seal_was_found_broken_may_not_leave(book: Book) -> None:
    book.append(
        "seal.applied", {"seal": "SL", "type": "metal_cap", "closes": {"kind": "item", "id": "I-1"}}
    )
    book.append("seal.checked", {"seal": "SL", "condition": "broken"})
    ship = _shipment(["I-1"])
    assert_refused(
        book,
        "transfer.shipped",
        ship,
        "item I-1: seal SL was found broken (entry 3); it may leave only under an intact seal",
    )
    book.append(
        "seal.applied",
        {"seal": "SL-NEW", "type": "metal_cap", "closes": {"kind": "item", "id": "I-1"}},
    )
    book.append("seal.removed", {"seal": "SL", "reason": "replaced after the check"})
    book.append("transfer.shipped", ship)


def test_a_shippers_weighing_outside_the_book_raises_a_finding(book: Book) -> None:
    book.append(
        "seal.applied", {"seal": "SL", "type": "metal_cap", "closes": {"kind": "item", "id": "I-1"}}
    )
    book.append("seal.checked", {"seal": "SL", "condition": "intact"})
    assert_finding(
        book,
        "transfer.shipped",
        {
            "transfer": "T",
            "origin": "S-1",
            "destination": "PORT",
            "due": "2015-01-01T00:00:00Z",
            "items": [{"item": "I-1", "measured": mass(950.0)}],
        },
        "quantity-mismatch",
        "item I-1 shipped from S-1: measured 950.000 kg, the book holds 1,000.000 kg",
        {("transfer", "T"), ("item", "I-1")},
    )


def test_a_party_does_not_verify_its_own_destruction_record(book: Book) -> None:
    """Issue 14, item 7: the recorder of a batch cannot be its verifier; another party can."""
    batch = {
        "batch": "B-1",
        "method": "incineration",
        "venue": "S-2",
        "start": "2014-03-01T00:00:00Z",
        "end": "2014-03-02T00:00:00Z",
        "items": [{"item": "I-3"}],
    }
    book.append("destruction.batch", batch, author="insp")
    assert_refused(
        book,
        "destruction.verified",
        {"batch": "B-1"},
        "insp recorded destruction batch B-1 (entry 2); a party does not verify its own record",
        author="insp",
    )
