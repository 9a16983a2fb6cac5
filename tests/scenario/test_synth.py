"""Synthetic ledgers: valid through the real append path, deterministic for a seed, and the
generator's own account equal to the book's; diversions as the book sees them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from cwledger.book import answers
from cwledger.book.records import ItemRecord, ItemState
from cwledger.ledger.audit import audit
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import check_book
from cwledger.scenario.synth import Diversion, ItemEnd, SynthReport, synth

SMALL = {"sites": 3, "items": 120, "events": 1_000}
MEDIUM = {"sites": 4, "items": 400, "events": 2_500}


def _book(
    report: SynthReport,
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int], dict[str, ItemEnd], list[str]]:
    """Holdings, grams destroyed, item ends and finding rules, as the book has them."""
    led = Ledger.open(report.path)
    try:
        with led.store.read() as r:
            held = {(h.site, h.chemical): h.grams for h in r.book.holdings()}
            items = {rec.key: rec for rec in r.book.records(ItemRecord)}
            destroyed: dict[tuple[str, str], int] = defaultdict(int)
            for key, rec in items.items():
                if rec.state is ItemState.DESTROYED:  # what it held before the batch
                    before = r.book.positions(key)[-2]
                    destroyed[(str(before.site), rec.chemical)] += before.held_g
            found = [f.rule for f in answers.findings(r.book)]
    finally:
        led.close()
    ends = {k: ItemEnd(rec.state, rec.site) for k, rec in items.items()}
    return held, dict(destroyed), ends, found


def test_a_synthetic_ledger_audits_replays_and_matches_the_generators_account(
    tmp_path: Path,
) -> None:
    seen: list[int] = []
    report = synth(
        tmp_path / "ledger", sites=5, items=1_000, events=20_000, seed=7, progress=seen.append
    )
    assert report.events == report.size == 20_000 == sum(seen) + 1
    assert report.events_per_second > 0 and len(report.root_hash) == 64
    led = Ledger.open(report.path)
    try:
        assert audit(led.store).root_hash.hex() == report.root_hash
        check_book(led.store)
    finally:
        led.close()
    held, destroyed, ends, found = _book(report)
    assert held == report.held
    assert destroyed == report.destroyed
    assert ends == report.items
    assert found == []  # no diversion: every measurement agrees, every transfer on time
    states = {end.state.value for end in ends.values()}
    assert {"sealed", "in_transit", "received", "destroyed"} <= states
    assert "" in {site for site, _ in held}  # something is in transit at the end


def test_the_same_seed_gives_the_same_root_and_another_seed_another(tmp_path: Path) -> None:
    a = synth(tmp_path / "a", seed=1, **SMALL)
    b = synth(tmp_path / "b", seed=1, **SMALL)
    c = synth(tmp_path / "c", seed=2, **SMALL)
    assert a.root_hash == b.root_hash and a.held == b.held and a.items == b.items
    assert c.root_hash != a.root_hash
    assert a.events == b.events == c.events == SMALL["events"]


def test_an_abrupt_diversion_raises_a_shipper_receiver_difference(tmp_path: Path) -> None:
    report = synth(tmp_path / "ledger", seed=3, diversion=Diversion.parse("abrupt"), **MEDIUM)
    [(item, short)] = report.diverted.items()
    assert short > 0
    led = Ledger.open(report.path)
    try:
        with led.store.read() as r:
            srd = [f for f in answers.findings(r.book) if f.rule == "shipper-receiver-difference"]
            others = [f.rule for f in answers.findings(r.book) if f not in srd]
    finally:
        led.close()
    assert [f.subjects[1] for f in srd] == [item]
    assert others == []
    held, destroyed, ends, _ = _book(report)
    assert (held, destroyed, ends) == (report.held, report.destroyed, report.items)


def test_a_protracted_diversion_takes_exactly_its_amount_and_raises_no_finding(
    tmp_path: Path,
) -> None:
    plain = synth(tmp_path / "plain", seed=5, **MEDIUM)
    diverted = synth(
        tmp_path / "diverted", seed=5, diversion=Diversion.parse("protracted:25.5"), **MEDIUM
    )
    assert diverted.diverted_g == 25_500 and len(diverted.diverted) > 5
    assert plain.accounted_g - diverted.accounted_g == 25_500
    held, destroyed, ends, found = _book(diverted)
    assert (held, destroyed, ends) == (diverted.held, diverted.destroyed, diverted.items)
    book_total = sum(held.values()) + sum(destroyed.values())
    assert book_total == plain.accounted_g - 25_500
    assert found == []  # each shortfall within one standard uncertainty: no item alarm
    assert diverted.root_hash != plain.root_hash and diverted.events == plain.events


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        ("abrupt", Diversion("abrupt")),
        ("protracted:500", Diversion("protracted", 500.0)),
        (" protracted:0.25 ", Diversion("protracted", 0.25)),
    ],
)
def test_diversion_specs(spec: str, want: Diversion) -> None:
    assert Diversion.parse(spec) == want
    assert Diversion.parse(str(want)) == want


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "sudden",
        "abrupt:5",
        "protracted",
        "protracted:",
        "protracted:-1",
        "protracted:0",
        "protracted:x",
        "protracted:inf",
        "protracted:nan",
        "Protracted:5",
    ],
)
def test_malformed_diversion_specs_are_refused_naming_the_accepted_forms(spec: str) -> None:
    with pytest.raises(ValueError, match=r"'abrupt' or 'protracted:AMOUNT'"):
        Diversion.parse(spec)


def test_a_diversion_made_by_hand_is_checked_too() -> None:
    for kind, kg in (("protracted", None), ("protracted", -2.0), ("abrupt", 5.0)):
        with pytest.raises(ValueError, match="expected"):
            Diversion(kind, kg)  # type: ignore[arg-type]


def test_too_few_events_and_an_unhideable_diversion_are_refused_before_writing(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="too few"):
        synth(tmp_path / "few", sites=2, items=500, events=600, seed=1)
    with pytest.raises(ValueError, match="hide at most"):
        synth(
            tmp_path / "big",
            seed=1,
            diversion=Diversion.parse("protracted:100000"),
            **SMALL,
        )
    assert not (tmp_path / "few").exists() and not (tmp_path / "big").exists()
