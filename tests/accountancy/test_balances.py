"""Material balances from the ledger: site balances per period, shipper/receiver differences,
and a route's differences as a balance series."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cwledger.accountancy.balances import differences, route_series, site_balances
from cwledger.errors import EventRejected
from cwledger.time import Period, months, parse_moment
from tests.book.builders import Book, declaration, item, mass
from tests.book.test_rules import _ship

JAN, FEB, MAR = (
    Period(parse_moment("2013-12-31") + 1, parse_moment("2014-01-31") + 1),
    Period(parse_moment("2014-01-31") + 1, parse_moment("2014-02-28") + 1),
    Period(parse_moment("2014-02-28") + 1, parse_moment("2014-03-31") + 1),
)


def _ship_and_receive(book: Book) -> None:
    """I-1 shipped from S-1 weighed at 1,000 kg, received at PORT weighed at 998.5 kg."""
    _ship(book, "I-1", measured=1000.0, time="2014-02-10T00:00:00Z")
    book.append(
        "transfer.received",
        {"transfer": "TR-1", "site": "PORT", "items": [{"item": "I-1", "measured": mass(998.5)}]},
        time="2014-02-11T00:00:00Z",
    )


def test_monthly_periods_cover_the_moments() -> None:
    periods = months(parse_moment("2014-01-15"), parse_moment("2014-03-02"))
    assert periods == [JAN, FEB, MAR]


def test_a_site_balance_closes_on_the_book_and_against_a_physical_inventory(book: Book) -> None:
    # Declared on 2014-01-03: I-1 1,000 kg and I-2 500 kg at S-1, I-3 800 kg at S-2.
    _ship(book, "I-1", time="2014-02-10T00:00:00Z")  # leaves S-1 in February
    book.append(
        "inventory.taken",
        {"site": "S-1", "items": [{"item": "I-2", "measured": mass(499.0)}]},
        time="2014-02-20T00:00:00Z",
    )
    with book.ledger.store.read() as r:
        jan, feb = site_balances(r, [JAN, FEB], site="S-1")
    assert (jan.beginning_g, jan.other_g, jan.ending_g) == (0, 1_500_000, 1_500_000)
    assert jan.muf_g is None and jan.muf_items is None  # no physical inventory in January
    assert (feb.beginning_g, feb.shipments_g, feb.ending_g) == (1_500_000, 1_000_000, 500_000)
    assert feb.physical_g == 499_000 and feb.muf_g == 1_000  # 1 kg unaccounted for
    assert feb.muf_items == 0
    assert feb.to_json()["muf_kg"] == pytest.approx(1.0)


def test_differences_and_a_route_series(book: Book) -> None:
    _ship_and_receive(book)
    with book.ledger.store.read() as r:
        [d] = differences(r)
    assert (d.origin, d.destination, d.item) == ("S-1", "PORT", "I-1")
    assert d.srd_kg == pytest.approx(1.5)
    assert d.u_kg == pytest.approx(2**0.5)  # two weighings of 1 kg standard uncertainty
    doc = route_series([d], "S-1", "PORT", [JAN, FEB, MAR])
    assert [m["kind"] for m in doc["measurements"]] == ["input", "output"]
    assert [m["value"] for m in doc["measurements"]] == [1000.0, 998.5]
    assert doc["measurements"][0]["time"].startswith("2014-02-11")
    assert set(doc["methods"]) == {"shipper:weighing:2014-02", "receiver:weighing:2014-02"}
    assert doc["methods"]["shipper:weighing:2014-02"]["rsd_random"] == pytest.approx(0.001)
    assert doc["measurements"][0]["point"] == "shipped from S-1 (2014-02)"
    whole = route_series([d], "S-1", "PORT", [JAN, FEB, MAR], calibration="series")
    assert set(whole["methods"]) == {"shipper:weighing:series", "receiver:weighing:series"}
    assert whole["measurements"][0]["point"] == "shipped from S-1"
    assert route_series([d], "S-2", "PORT", [JAN])["measurements"] == []


def test_the_balances_command(book: Book, tmp_path: Path) -> None:
    from tests.test_cli import run

    _ship_and_receive(book)
    where = str(book.ledger.path)
    rows = json.loads(run("balances", "--json", "--ledger", where))
    port = [r for r in rows if r["site"] == "PORT"]
    assert [(r["start"][:7], r["receipts_kg"]) for r in port] == [("2014-02", 998.5)]
    assert "material balances" in run("balances", "--site", "S-1", "--ledger", where)
    series = tmp_path / "route.json"
    run("balances", "--export-series", str(series), "--route", "S-1:PORT", "--ledger", where)
    doc = json.loads(series.read_text())
    assert [m["value"] for m in doc["measurements"]] == [1000.0, 998.5]


def test_the_inspect_plan_and_estimates_commands(book: Book) -> None:
    from tests.test_cli import run

    where = str(book.ledger.path)
    plan = json.loads(
        run(
            "inspect",
            "plan",
            "--site",
            "S-1",
            "--detect",
            "0.9",
            "--missing-items",
            "1",
            "--json",
            "--ledger",
            where,
        )
    )
    assert [(s["name"], s["N"], s["n_exact"]) for s in plan["strata"]] == [("DF", 2, 2)]
    book.append(
        "estimate.recorded",
        {
            "estimate": {
                "party": "obs",
                "value": 2.5,
                "u": 0.5,
                "unit": "t",
                "scope": "total",
                "method": "open sources",
            }
        },
    )
    [doc] = json.loads(run("estimates", "--json", "--ledger", where))["comparisons"]
    assert doc["test"]["declared"] == pytest.approx(2.3)  # 1,000 + 500 + 800 kg
    assert doc["fusion"]["value"] == pytest.approx(2.5) and len(doc["used"]) == 1
    assert "under-declaration test" in run("estimates", "--ledger", where)


def test_the_whole_stockpile_reconciles(book: Book) -> None:
    """declared = destroyed + in transit + remaining + sum MUF + sum SRD + the rest."""
    from tests.test_cli import run

    _ship_and_receive(book)
    book.append(
        "destruction.batch",
        {
            "batch": "B-1",
            "method": "hydrolysis",
            "venue": "S-2",
            "start": "2014-03-01T00:00:00Z",
            "end": "2014-03-02T00:00:00Z",
            "items": [{"item": "I-3", "kg": 300}],
        },
        time="2014-03-02T00:00:00Z",
    )
    terms = {
        t["term"]: t
        for t in json.loads(
            run("balances", "--reconcile", "--json", "--ledger", str(book.ledger.path))
        )
    }
    assert terms["declared"]["kg"] == pytest.approx(2300.0)
    assert terms["destroyed"]["kg"] == pytest.approx(300.0)
    assert terms["held at sites, not yet destroyed"]["kg"] == pytest.approx(998.5 + 500 + 500)
    assert terms["sum of shipper/receiver differences"]["kg"] == pytest.approx(1.5)
    assert terms["in transit"]["kg"] == 0.0
    rest = [t for name, t in terms.items() if name.startswith("the rest")]
    assert rest[0]["kg"] == pytest.approx(0.0, abs=1e-9)
    # I-3's declared u (2 kg random) scaled to the 300 kg destroyed: 0.75 kg
    assert terms["destroyed"]["u_kg"] == pytest.approx(2.0 * 300 / 800)


def test_monthly_flows_agree_with_every_holdings_change(tmp_path: Path) -> None:
    """The book's monthly flows give the same balances as summing every change."""
    from cwledger.accountancy.balances import balances_from_changes
    from cwledger.ledger.ledger import Ledger
    from cwledger.scenario.synth import synth

    synth(tmp_path / "l", sites=3, items=200, events=3000, seed=11)
    led = Ledger.open(tmp_path / "l")
    with led.store.read() as r:
        moments = [c[1] for c in r.book.changes_by_event()]
        periods = months(min(moments), max(moments))
        fast = site_balances(r, periods)
        slow = balances_from_changes(r, periods)
    led.close()
    key = [
        (
            b.site,
            b.period,
            b.beginning_g,
            b.receipts_g,
            b.shipments_g,
            b.destroyed_g,
            b.other_g,
            b.ending_g,
            b.ending_items,
        )
        for b in fast
    ]
    assert key == [
        (
            b.site,
            b.period,
            b.beginning_g,
            b.receipts_g,
            b.shipments_g,
            b.destroyed_g,
            b.other_g,
            b.ending_g,
            b.ending_items,
        )
        for b in slow
    ]
    assert len(fast) == 5 * len(periods)  # 3 storage sites, the port, the venue
    assert any(b.receipts_g for b in fast) and any(b.destroyed_g for b in fast)


def test_a_route_series_gives_back_the_ledgers_differences(tmp_path: Path) -> None:
    """The statistics of an exported route series: its MUF per month is the sum of the
    shipper/receiver differences the ledger holds for that month."""
    from cwledger.accountancy.series import parse_series
    from cwledger.accountancy.statistics import analyse
    from cwledger.ledger.ledger import Ledger
    from cwledger.scenario.synth import synth

    synth(tmp_path / "l", sites=3, items=200, events=3000, seed=5)
    led = Ledger.open(tmp_path / "l")
    with led.store.read() as r:
        diffs = differences(r)
    led.close()
    periods = months(min(d.received_at for d in diffs), max(d.received_at for d in diffs))
    route = [d for d in diffs if d.destination == "VENUE-1"]
    result = analyse(parse_series(json.dumps(route_series(route, "PORT-1", "VENUE-1", periods))))
    expected = [sum(d.srd_kg for d in route if p.start <= d.received_at < p.end) for p in periods]
    assert result.muf == pytest.approx(expected, abs=1e-6)
    assert result.cumuf[-1] == pytest.approx(sum(d.srd_kg for d in route), abs=1e-6)


def test_correlated_estimates_are_fused_by_blue(book: Book) -> None:
    from tests.test_cli import run

    for value in (2.5, 2.7):
        book.append(
            "estimate.recorded",
            {
                "estimate": {
                    "party": "obs",
                    "value": value,
                    "u": 0.2,
                    "unit": "t",
                    "scope": "total",
                    "method": "open sources",
                }
            },
            author="obs",
        )
    where = str(book.ledger.path)
    [plain] = json.loads(run("estimates", "--json", "--ledger", where))["comparisons"]
    assert plain["fusion"]["method"] == "inverse-variance"
    with pytest.raises(EventRejected, match="no estimate recorded as nope"):
        book.append(
            "estimates.correlated",
            {"estimates": ["e00002", "nope"], "rho": 0.5, "basis": "shared sources"},
            author="obs",
        )
    book.append(
        "estimates.correlated",
        {"estimates": ["e00002", "e00003"], "rho": 0.5, "basis": "the same open sources"},
        author="obs",
    )
    [fused] = json.loads(run("estimates", "--json", "--ledger", where))["comparisons"]
    assert fused["fusion"]["method"] == "BLUE"
    # equal sigmas: the same value, a larger sigma: sqrt((1 + rho) / 2) * 0.2
    assert fused["fusion"]["value"] == pytest.approx(2.6)
    assert fused["fusion"]["sigma"] == pytest.approx((0.75**0.5) * 0.2)


def test_inspect_plan_at_a_moment_and_at_a_site_with_no_mass(ledger: Any) -> None:
    """Issue 14, item 10: `--at` plans for what a site held then; a site emptied since gets
    a clear answer; items counted, not weighed (munitions), get a plan by items."""
    from tests.test_cli import _cli, run

    b = Book(ledger)
    munitions = [
        {
            "id": f"M-{n}",
            "kind": "munition",
            "munition_type": "unfilled projectile",
            "declared": mass(0.0, u=0.0, method="counted"),
            "site": "S-2",
        }
        for n in range(1, 21)
    ]
    b.append(
        "declaration.submitted",
        declaration([item("I-1"), item("I-2", kg=500), *munitions]),
        time="2014-01-02T00:00:00Z",
    )
    for i in ("I-1", "I-2"):
        b.append(
            "seal.applied",
            {"seal": f"SL-{i}", "type": "metal_cap", "closes": {"kind": "item", "id": i}},
            time="2014-01-03T00:00:00Z",
        )
    shipment = {
        "transfer": "T-1",
        "origin": "S-1",
        "destination": "PORT",
        "due": "2015-01-01T00:00:00Z",
        "items": [{"item": "I-1"}, {"item": "I-2"}],
    }
    b.append("transfer.shipped", shipment, time="2014-02-01T00:00:00Z")
    where = str(ledger.path)

    def plan(site: str, *more: str) -> dict[str, Any]:
        args = ("inspect", "plan", "--site", site, *more, "--json", "--ledger", where)
        return dict(json.loads(run(*args)))

    assert plan("S-1")["strata"] == []  # emptied: nothing to verify, not an error
    assert "nothing to verify: the book holds no item at S-1 now" in " ".join(
        run("inspect", "plan", "--site", "S-1", "--ledger", where).split()
    )
    then = plan("S-1", "--at", "2014-01-15")
    assert then["at"] == "2014-01-15"
    assert [(s["name"], s["N"]) for s in then["strata"]] == [("DF", 2)]
    counted = plan("S-2", "--detect", "0.9", "--missing-items", "1")
    assert [(s["name"], s["N"], s["mean_mass"]) for s in counted["strata"]] == [
        ("munition", 20, 0.0)
    ]
    assert counted["strata"][0]["n_exact"] == 18  # 1 of 20 falsified, detected with 0.9
    unknown = _cli("inspect", "plan", "--site", "S-99", "--ledger", where)
    assert unknown.returncode == 2 and "no site S-99 in the book" in unknown.stderr
