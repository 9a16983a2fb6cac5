"""Page's tests on the routes of a synthetic ledger: a planted protracted diversion is found
and raised as a finding naming the route and the first alarming month; without one,
nothing alarms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cwledger.book import answers
from cwledger.ledger.ledger import Ledger
from cwledger.scenario.synth import INSPECTORATE, Diversion, synth
from tests.test_cli import run


@pytest.mark.parametrize("diverted", [True, False])
def test_a_protracted_diversion_is_found_by_pages_test(tmp_path: Path, diverted: bool) -> None:
    path = tmp_path / "ledger"
    plan = Diversion.parse("protracted:1500") if diverted else None
    synth(path, sites=5, items=2000, events=20_000, seed=3, diversion=plan)
    reports = json.loads(
        run(
            "accountancy",
            "routes",
            "--json",
            "--raise-findings",
            INSPECTORATE,
            "--ledger",
            str(path),
        )
    )
    led = Ledger.open(path)
    with led.store.read() as r:
        raised = [f for f in answers.findings(r.book) if f.rule == "raised"]
    led.close()
    if not diverted:
        assert reports == [] and raised == []
        return
    assert [(x["origin"], x["destination"], x["test"]) for x in reports] == [
        ("PORT-1", "VENUE-1", "protracted")
    ]
    first = reports[0]["first_alarm"]
    [finding] = raised
    assert finding.subjects == ["PORT-1", "VENUE-1"]
    assert f"first in {first}" in finding.finding.title
    assert reports[0]["cumuf_kg"] == pytest.approx(1500, abs=150)


def test_analyse_and_simulate_a_series_file(tmp_path: Path) -> None:
    series = {
        "unit": "kg",
        "periods": [
            {"start": "2014-01-01T00:00:00Z", "end": "2014-02-01T00:00:00Z"},
            {"start": "2014-02-01T00:00:00Z", "end": "2014-03-01T00:00:00Z"},
        ],
        "methods": {"scale": {"rsd_random": 0.01, "rsd_systematic": 0.0}},
        "measurements": [
            {
                "kind": "input",
                "point": "in",
                "method": "scale",
                "time": "2014-01-10T00:00:00Z",
                "value": 100.0,
            },
            {
                "kind": "output",
                "point": "out",
                "method": "scale",
                "time": "2014-01-20T00:00:00Z",
                "value": 98.0,
            },
            {
                "kind": "input",
                "point": "in",
                "method": "scale",
                "time": "2014-02-10T00:00:00Z",
                "value": 100.0,
            },
            {
                "kind": "output",
                "point": "out",
                "method": "scale",
                "time": "2014-02-20T00:00:00Z",
                "value": 100.0,
            },
        ],
        "page_k": 0.5,
    }
    file = tmp_path / "series.json"
    file.write_text(json.dumps(series))
    doc = json.loads(run("accountancy", "analyse", str(file), "--json"))
    assert doc["muf"] == pytest.approx([2.0, 0.0])
    # sigma_MUF^2 = r^2 (100^2 + 98^2) in January: 1.9804
    assert doc["sigma_muf"][0] == pytest.approx((0.01**2 * (100**2 + 98**2)) ** 0.5)
    assert set(doc) >= {"cumuf", "covariance", "sitmuf", "page", "contributions"}
    assert "GEMUF" in run("accountancy", "analyse", str(file))
    sim = json.loads(
        run(
            "accountancy",
            "simulate",
            str(file),
            "--iterations",
            "500",
            "--seed",
            "7",
            "--h",
            "3",
            "--json",
        )
    )
    assert sim["iterations"] == 500 and len(sim["alarm_share"]) == 1


def test_thresholds_fixed_in_advance_and_registered_methods(tmp_path: Path) -> None:
    from cwledger.accountancy.statistics import page_pair
    from cwledger.ledger.ledger import Ledger

    path = tmp_path / "ledger"
    synth(
        path,
        sites=5,
        items=2000,
        events=20_000,
        seed=3,
        diversion=Diversion.parse("protracted:1500"),
    )
    led = Ledger.open(path)
    tests = [{"name": t.name, "k": t.k, "h": t.h} for t in page_pair(24, 0.01)]
    fixed = {
        "type": "thresholds.fixed",
        "id": "thr-1",
        "time": "2013-12-01T00:00:00Z",
        "body": {
            "series": "shipper/receiver differences, every route, monthly",
            "alpha": 0.01,
            "periods": 24,
            "tests": tests,
        },
    }
    led.append(led.sign([fixed], INSPECTORATE))
    led.close()
    [report] = json.loads(run("accountancy", "routes", "--json", "--ledger", str(path)))
    assert report["thresholds"].startswith("fixed in advance at entry")
    assert report["h"] == pytest.approx(tests[1]["h"])  # the protracted test's logged h
    # A registered method far less precise than the weighings' own figures: no alarm.
    run(
        "accountancy",
        "method",
        "weighing",
        "--rsd-random",
        "0.02",
        "--rsd-systematic",
        "0.02",
        "--source",
        "a coarse scale",
        "--as",
        INSPECTORATE,
        "--ledger",
        str(path),
    )
    assert json.loads(run("accountancy", "routes", "--json", "--ledger", str(path))) == []


def _monthly_counts(book: Any, loss_per_month: float) -> None:
    """Complete weighed inventories of S-1 at the end of each month, Dec 2013 to Jun 2014:
    I-1 (1,000 kg) and I-2 (500 kg), I-1 short by `loss_per_month` more every month."""
    from tests.book.builders import mass

    days = [
        "2013-12-28",
        "2014-01-28",
        "2014-02-25",
        "2014-03-28",
        "2014-04-28",
        "2014-05-28",
        "2014-06-27",
    ]
    for n, day in enumerate(days):
        book.append(
            "inventory.taken",
            {
                "site": "S-1",
                "items": [
                    {"item": "I-1", "measured": mass(1000.0 - n * loss_per_month)},
                    {"item": "I-2", "measured": mass(500.0)},
                ],
            },
            time=f"{day}T12:00:00Z",
        )


def _site_report(book: Any, *extra: str) -> dict[str, Any]:
    """`accountancy site S-1` over January to June 2014, as JSON."""
    args = ["accountancy", "site", "S-1", "--first", "2014-01", "--last", "2014-06", *extra]
    return dict(json.loads(run(*args, "--json", "--ledger", str(book.ledger.path))))


@pytest.mark.parametrize("loss", [0.0, 5.0])
def test_pages_test_on_a_sites_material_balance(book: Any, loss: float) -> None:
    _monthly_counts(book, loss)
    report = _site_report(book, "--raise-findings", INSPECTORATE)
    assert report["months"] == ["2014-01", "2014-02", "2014-03", "2014-04", "2014-05", "2014-06"]
    assert report["muf"] == pytest.approx([loss] * 6)
    with book.ledger.store.read() as r:
        raised = [f for f in answers.findings(r.book) if f.rule == "raised"]
    assert report["thresholds"].startswith("computed now")
    if loss == 0.0:
        assert report["first_alarms"] == {} and raised == []
        return
    assert "protracted" in report["first_alarms"]
    assert any(
        f.subjects == ["S-1"] and "material balance of S-1" in f.finding.title for f in raised
    )


def test_a_site_without_monthly_inventories_is_refused(book: Any) -> None:
    from tests.test_cli import _cli

    result = _cli(
        "accountancy",
        "site",
        "S-1",
        "--first",
        "2014-01",
        "--last",
        "2014-02",
        "--ledger",
        str(book.ledger.path),
    )
    assert result.returncode == 1
    assert "no complete weighed physical inventory in 2013-12, 2014-01, 2014-02" in " ".join(
        result.stderr.split()
    )


def test_a_sites_thresholds_fixed_in_advance_are_used(book: Any) -> None:
    from cwledger.accountancy.statistics import page_pair

    tests = [{"name": t.name, "k": t.k, "h": t.h} for t in page_pair(6, 0.01)]
    book.append(
        "thresholds.fixed",
        {"series": "material balance of S-1, monthly", "alpha": 0.01, "periods": 6, "tests": tests},
        time="2013-12-15T00:00:00Z",
    )
    _monthly_counts(book, 5.0)
    report = _site_report(book)
    assert report["thresholds"].startswith("fixed in advance at entry")
    assert [a["h"] for a in report["alarms"]] == pytest.approx([t["h"] for t in tests])


def test_a_sites_balances_exported_as_a_series(book: Any, tmp_path: Path) -> None:
    """The ledger's own balances in the series format: analysing the file gives the MUF the
    ledger's monthly counts imply."""
    _monthly_counts(book, 5.0)
    file = tmp_path / "site.json"
    run(
        "balances", "--export-series", str(file), "--site", "S-1", "--ledger", str(book.ledger.path)
    )
    doc = json.loads(run("accountancy", "analyse", str(file), "--json"))
    assert doc["muf"] == pytest.approx([5.0] * 6)
