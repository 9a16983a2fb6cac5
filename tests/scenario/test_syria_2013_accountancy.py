"""Every accountancy command of the README answers on the replay (issue 14, item 9): the
replay holds weighed physical inventories at month ends, measurement methods and alarm
thresholds signed before the data.

The README names a site `S-03` and a route `S-01:PORT`; in the replay those are a parent
site holding nothing and no route: the material is at the storage facility `S-03-F2`,
and the route weighed at both ends with the planted short weighing is
`S-19-F1:PORT-LOADING`. The commands are run as the README writes them, with those names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cwledger.ledger.ledger import Ledger
from tests.test_cli import _cli, run

SITE, ROUTE = "S-03-F2", "S-19-F1:PORT-LOADING"


@pytest.fixture(scope="module")
def ledger(syria_2013_copy: Callable[..., Path]) -> Iterator[str]:
    led: Ledger = Ledger.open(syria_2013_copy())
    yield str(led.path)
    led.close()


def test_balances_hold_physical_inventories_and_muf(ledger: str) -> None:
    rows = json.loads(run("balances", "--site", "PORT-LOADING", "--json", "--ledger", ledger))
    assert all(r["ending_physical_kg"] is not None and r["muf_kg"] is not None for r in rows)
    assert any(r["muf_kg"] != 0 for r in rows)  # weighed, not copied from the book
    site = json.loads(run("balances", "--site", SITE, "--json", "--ledger", ledger))
    weighed = [r for r in site if r["start"] >= "2014-01"]
    assert [r["start"][:7] for r in weighed][0] == "2014-01"  # emptied in April
    assert all(r["ending_physical_kg"] is not None for r in weighed)


def test_the_reconciliation_sums_the_muf(ledger: str) -> None:
    terms = {
        t["term"]: t
        for t in json.loads(run("balances", "--reconcile", "--json", "--ledger", ledger))
    }
    assert "sum of MUF (physical inventories)" in terms
    assert terms["declared"]["kg"] == pytest.approx(1_300_119.455, abs=1e-3)


def test_series_export_analyse_and_simulate(ledger: str, tmp_path: Path) -> None:
    route, site = tmp_path / "route.json", tmp_path / "site.json"
    said = run("balances", "--export-series", str(route), "--route", ROUTE, "--ledger", ledger)
    assert "wrote 0 " not in said and json.loads(route.read_text())["measurements"]
    run("balances", "--export-series", str(site), "--site", SITE, "--ledger", ledger)
    doc = json.loads(site.read_text())
    assert {m["kind"] for m in doc["measurements"]} >= {"inventory", "output"}
    analysed = json.loads(run("accountancy", "analyse", str(site), "--json"))
    assert analysed
    simulated = json.loads(
        run("accountancy", "simulate", str(site), "--iterations", "200", "--json")
    )
    assert simulated


def test_the_tests_use_thresholds_fixed_before_the_data(ledger: str) -> None:
    routes = _cli("accountancy", "routes", "--ledger", ledger)
    assert routes.returncode == 0 and "thresholds fixed in advance at entry" in routes.stderr
    assert "ALARM S-19-F1 -> PORT-LOADING" in routes.stdout  # the planted short weighing
    site = _cli(
        "accountancy", "site", SITE, "--first", "2014-01", "--last", "2014-06", "--ledger", ledger
    )
    assert site.returncode == 0, site.stderr
    assert "thresholds fixed in advance at entry" in site.stderr
    assert f"no alarm at {SITE}" in site.stdout


def test_reference_data_once_fixed_is_not_fixed_again(ledger: str) -> None:
    """Run last: they write. The routes' thresholds were fixed in December 2013: fixing them
    again is refused with the entry that fixed them; a method can be registered again."""
    again = _cli(
        "accountancy",
        "thresholds",
        "--periods",
        "24",
        "--alpha",
        "0.05",
        "--as",
        "technical-secretariat",
        "--ledger",
        ledger,
    )
    assert again.returncode != 0 and "were fixed at entry" in again.stderr
    method = _cli(
        "accountancy",
        "method",
        "weighing",
        "--rsd-random",
        "0.002",
        "--rsd-systematic",
        "0.0015",
        "--source",
        "calibration record",
        "--as",
        "technical-secretariat",
        "--ledger",
        ledger,
    )
    assert method.returncode == 0 and "method 'weighing' registered" in method.stderr
