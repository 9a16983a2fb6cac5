"""The syria-2013 replay is confidential the way the record was (issue 16, section 5): the
declarations and the custody sealed to the parties cleared to read them, a day-one escrow
on the formal declaration's due day, and public aggregates, proven against it, that match
the shares of ``shared/SCENARIO-2013.md``; an observer checks them from public entries
alone, with keys it pinned, and reads no item."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cwledger.book import answers, progress
from cwledger.book.aggregates import AGGREGATE_PUBLISHED
from cwledger.book.records import ItemRecord, ItemState, SiteRecord
from cwledger.escrow.observer import observe_bundle, observe_log, public_record_indices
from cwledger.ledger.admission import SEALED
from cwledger.ledger.bundle import BundleInvalid, build_bundle
from cwledger.ledger.ledger import Ledger
from cwledger.scenario import syria_2013
from cwledger.scenario.syria_2013.public_record import ESCROW_DAY, REPORT_DAYS, against_reports
from cwledger.time import from_rfc3339
from cwledger.tlog.note import Signer

# Section 2.5 and 2.3 of the facts file, typed here from the table (not from the module):
# (day, share, reported %).
REPORTED = [
    ("2014-03-07", "removed, category 2 (priority 2)", 63.0),
    ("2014-03-17", "removed, category 2 (priority 2)", 82.6),
    ("2014-03-20", "removed, category 2 (priority 2)", 82.6),
    ("2014-04-24", "removed, category 2 (priority 2)", 82.6),
    ("2014-08-07", "destroyed, all chemicals", 74.2),
    ("2014-08-28", "destroyed, all chemicals", 94.0),
    ("2014-08-28", "destroyed, category 1", 100.0),
    ("2014-08-28", "destroyed, category 2", 70.0),
    ("2014-09-04", "destroyed, all chemicals", 95.8),
    ("2015-02-03", "destroyed, all chemicals", 98.0),
    ("2015-06-17", "destroyed, all chemicals", 100 * (1 - 16 / 1328)),
    ("2016-01-04", "destroyed, all chemicals", 100.0),
]


@pytest.fixture(scope="module")
def scenario(syria_2013_copy: Callable[..., Path]) -> Iterator[Ledger]:
    led = Ledger.open(syria_2013_copy())
    yield led
    led.close()


def _payloads(led: Ledger) -> list[tuple[int, dict]]:
    """Every entry's signed payload as an observer decodes it (the sealed part left as the
    ciphertext it is)."""
    out = []
    with led.store.read() as r:
        size = r.latest_checkpoint().size  # type: ignore[union-attr]
        for e in r.entries(0, size):
            envelope = json.loads(e.envelope)
            out.append((e.index, json.loads(base64.b64decode(envelope["payload"]))))
    return out


def _declared_ids(led: Ledger) -> tuple[set[str], set[str]]:
    """The declared items' and sites' ids, from the operator's book (entitled)."""
    with led.store.read() as r:
        items = {i.item.id for i in r.book.records(ItemRecord)}
        sites = {s.site.id for s in r.book.records(SiteRecord)}
    return items, sites


def test_the_replay_is_confidential_and_no_public_field_names_an_item(scenario: Ledger) -> None:
    assert scenario.authority().confidential
    payloads = _payloads(scenario)
    sealed = [i for i, p in payloads if SEALED in p["body"]]
    declarations = [i for i, p in payloads if p["type"].startswith("declaration.")]
    assert declarations and set(declarations) <= set(sealed)
    assert len(sealed) > 1500  # the custody, the inspections, the destruction
    items, sites = _declared_ids(scenario)
    assert len(items) > 1692 and len(sites) >= 23  # the declared items and the products
    for index, p in payloads:
        clear = {k: v for k, v in p["body"].items() if k != SEALED}
        text = json.dumps(clear)
        named = [i for i in items if f'"{i}"' in text]
        assert not named, (index, p["type"], named[:3])


def test_the_escrow_is_committed_on_the_declaration_due_day(scenario: Ledger) -> None:
    payloads = _payloads(scenario)
    (commit,) = [(i, p) for i, p in payloads if p["type"] == "escrow.committed"]
    index, p = commit
    assert p["time"].startswith(ESCROW_DAY) and p["author"] == syria_2013.DECLARANT
    categories = {c["category"]: c for c in p["body"]["categories"]}
    assert sorted(categories) == [1, 2, 3]
    # the committed totals are the declared ones (the book's, entitled)
    with scenario.store.read() as r:
        s = progress.status(progress.load_facts(r.book), from_rfc3339(p["time"]))
    for n in (1, 2, 3):
        row = s.to_json()["by_category"][f"category {n}"]
        assert categories[n]["grams"] / 1e6 == pytest.approx(row["declared_t"], abs=1e-3)
        assert categories[n]["leaves"] == row["declared_items"]
    # no proof or aggregate comes before the commitment
    later = ("escrow.destroyed_proved", "escrow.removed_proved", AGGREGATE_PUBLISHED)
    assert all(i > index for i, q in payloads if q["type"] in later)


def test_an_observer_proves_every_aggregate_from_the_log(scenario: Ledger) -> None:
    with scenario.store.read() as r:
        checks = observe_log(r)
    assert [c.at[:10] for c in checks] == REPORT_DAYS
    assert all(c.proven for c in checks), [c.problems for c in checks if not c.proven]


@pytest.mark.parametrize(("day", "share", "reported"), REPORTED)
def test_the_proven_shares_match_the_reports(
    scenario: Ledger, day: str, share: str, reported: float
) -> None:
    with scenario.store.read() as r:
        rows = against_reports(observe_log(r))
    (row,) = [c for c in rows if (c.day, c.what) == (day, share)]
    assert row.reported == pytest.approx(reported)
    assert row.proven is not None and abs(row.proven - reported) <= 1.5, row


def test_the_aggregates_are_the_entitled_book_s_figures(scenario: Ledger) -> None:
    """What the observer proves is what the secretariat's book holds: at every aggregate,
    the items destroyed and removed by category, and the destroyed mass is the declared
    mass of the items destroyed whole, to the gram (the book's own destroyed tonnes also
    count what a batch destroyed of a lot not yet finished, and its removed tonnes what was
    weighed at the port; the escrow committed the declared masses)."""
    with scenario.store.read() as r:
        checks = observe_log(r)
        facts = progress.load_facts(r.book)
        chemicals = answers.chemicals_table(r.book)
        items = list(r.book.records(ItemRecord))

    def category(i: ItemRecord) -> int | None:
        """Its CWC category as the escrow's trees have it (None: a product of destruction,
        an effluent, never declared nor escrowed)."""
        if i.item.chemical is None:
            return 3  # unfilled munitions and equipment
        c = chemicals.get(i.item.chemical)
        return None if c is None else c.cwc_category

    assert len(checks) == len(REPORT_DAYS)
    for c in checks:
        at = from_rfc3339(c.at)
        book = progress.status(facts, at).to_json()["by_category"]
        for row in c.categories:
            mine = book[f"category {row.category}"]
            assert row.destroyed_items == mine["destroyed_items"], (c.at, row.category)
            assert row.removed_items == mine["removed_items"], (c.at, row.category)
            whole = sum(
                round(i.item.declared.kg * 1000)
                for i in items
                if category(i) == row.category
                and i.state is ItemState.DESTROYED
                and i.last_at <= at
            )
            assert row.destroyed_grams == whole, (c.at, row.category)
            assert row.removed_grams / 1e6 == pytest.approx(mine["removed_t"], rel=2e-3)


def test_an_observer_with_pinned_keys_checks_a_bundle_of_the_public_record(
    scenario: Ledger,
) -> None:
    with scenario.store.read() as r:
        cp = r.latest_checkpoint()
        assert cp is not None
        data = build_bundle(r, scenario.tree(r, cp.size), cp, public_record_indices(r))
        direct = observe_log(r)
    checks, checked = observe_bundle(data, log_vkey=scenario.authority().log_vkey)
    assert not checked.warnings
    assert [(c.entry, c.proven, c.categories) for c in checks] == [
        (c.entry, c.proven, c.categories) for c in direct
    ]
    items, _ = _declared_ids(scenario)
    text = data.decode() + "".join(
        base64.b64decode(json.loads(base64.b64decode(e["envelope"]))["payload"]).decode()
        for e in json.loads(data)["entries"]
    )
    assert not [i for i in items if f'"{i}"' in text]
    # another log key: refused, not believed
    other = Signer.generate(syria_2013.ORIGIN).verifier().vkey()
    with pytest.raises(BundleInvalid, match="checkpoint"):
        observe_bundle(data, log_vkey=other)


def test_the_replay_without_confidentiality_has_no_escrow(tmp_path: Path) -> None:
    led = syria_2013.load(tmp_path / "plain", confidential=False)
    try:
        payloads = _payloads(led)
        assert not [p for _, p in payloads if SEALED in p["body"]]
        assert not [p for _, p in payloads if p["type"].startswith(("escrow.", "aggregate."))]
    finally:
        led.close()
