"""The accountancy answers on the scenario ledger and on a site with monthly inventories:
the same figures the CLI prints (`balances`, `balances --reconcile`, `accountancy routes`,
`accountancy site`), and the findings their alarms raise."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cwledger.accountancy import answers
from cwledger.accountancy.balances import differences, route_series, site_series
from cwledger.accountancy.series import SeriesPeriod, parse_series, series_from_document
from cwledger.errors import EventRejected, MalformedInput
from cwledger.ledger.ledger import Ledger
from cwledger.time import months, parse_month
from tests.accountancy.test_routes import _monthly_counts, _site_report
from tests.test_cli import run


@pytest.fixture(scope="module")
def scenario(syria_2013_copy: Callable[..., Path]) -> Iterator[Ledger]:
    led = Ledger.open(syria_2013_copy())
    yield led
    led.close()


def _cli_json(led: Ledger, *args: str) -> Any:
    return json.loads(run(*args, "--json", "--ledger", str(led.path)))


def test_the_balances_are_the_clis(scenario: Ledger) -> None:
    with scenario.store.read() as r:
        periods = answers.balance_periods(r)
        rows = answers.monthly_balances(r)
        one = answers.monthly_balances(r, "PORT-LOADING")
    assert [p.month for p in periods][:2] == ["2013-09", "2013-10"]
    assert all(a.end == b.start for a, b in zip(periods, periods[1:], strict=False))
    assert [b.to_json() for b in rows] == _cli_json(scenario, "balances")
    assert [b.to_json() for b in one] == _cli_json(scenario, "balances", "--site", "PORT-LOADING")
    march = [b for b in rows if b.period.month == "2014-03"]
    assert [b.to_json() for b in march] == _cli_json(scenario, "balances", "--period", "2014-03")


def test_the_reconciliation_is_the_clis(scenario: Ledger) -> None:
    with scenario.store.read() as r:
        terms = answers.reconciliation(r)
    assert [t.to_json() for t in terms] == _cli_json(scenario, "balances", "--reconcile")
    declared, *rest = terms
    assert declared.name == "declared" and declared.kg == pytest.approx(1_300_119.455, abs=1e-3)
    assert declared.kg == pytest.approx(sum(t.kg for t in rest), abs=1e-6)  # it closes


def test_the_route_tests_are_the_clis(scenario: Ledger) -> None:
    with scenario.store.read() as r:
        tested = answers.route_tests(r)
    assert tested is not None
    assert tested.to_json() == _cli_json(scenario, "accountancy", "routes")
    # The planted short weighing, on the route's thresholds fixed before the data.
    assert tested.thresholds.startswith("fixed in advance at entry")
    alarms = {(a.subjects, a.test, a.first_alarm) for a in tested.alarms}
    route = ("S-19-F1", "PORT-LOADING")
    assert alarms == {(route, "abrupt", "2014-02"), (route, "protracted", "2014-02")}
    assert all(a.cumuf_kg == pytest.approx(281.4, abs=0.05) for a in tested.alarms)
    events = answers.alarm_findings(tested.alarms, tested.periods)
    event = next(e for e in events if e["id"].endswith("abrupt-2014-02"))
    assert event["id"] == "page-S-19-F1-PORT-LOADING-abrupt-2014-02"
    assert event["time"] == tested.periods[-1].to_json()["end"]
    assert event["body"]["subjects"] == ["S-19-F1", "PORT-LOADING"]
    assert "from S-19-F1 to PORT-LOADING, first in 2014-02" in event["body"]["title"]


def test_a_series_document_validates_as_its_json_text_does(scenario: Ledger) -> None:
    with scenario.store.read() as r:
        diffs = differences(r)
    periods = months(min(d.received_at for d in diffs), max(d.received_at for d in diffs))
    doc = route_series(diffs, "S-19-F1", "PORT-LOADING", periods)
    series = series_from_document(doc)
    assert series == parse_series(json.dumps(doc))
    assert [p.period() for p in series.periods] == periods  # the wire periods are the one Period
    assert [SeriesPeriod.of(p) for p in periods] == series.periods
    with pytest.raises(EventRejected, match="measurements"):
        series_from_document({**doc, "measurements": []})


def test_a_site_without_inventories_is_refused(scenario: Ledger) -> None:
    with scenario.store.read() as r:
        assert answers.counted_months(r, "S-03") == []
        with pytest.raises(MalformedInput, match="no complete weighed physical inventory"):
            answers.site_test(r, "S-03", answers.month_range("2014-01", "2014-06"))


def test_a_month_range_is_checked() -> None:
    assert [p.month for p in answers.month_range("2013-11", "2014-02")] == [
        "2013-11",
        "2013-12",
        "2014-01",
        "2014-02",
    ]
    with pytest.raises(MalformedInput, match="after the last"):
        answers.month_range("2014-06", "2014-01")
    with pytest.raises(MalformedInput, match="'2014-13'"):
        answers.month_range("2014-13", "2014-06")


@pytest.mark.parametrize("loss", [0.0, 5.0])
def test_the_site_test_is_the_clis(book: Any, loss: float) -> None:
    _monthly_counts(book, loss)
    report = _site_report(book)
    periods = answers.month_range("2014-01", "2014-06")
    with book.ledger.store.read() as r:
        tested = answers.site_test(r, "S-1", periods)
        counted = answers.counted_months(r, "S-1")
        doc = site_series(r, "S-1", periods, registered=answers.registered_methods(r))
    assert tested.to_json() == report
    assert tested.months == ["2014-01", "2014-02", "2014-03", "2014-04", "2014-05", "2014-06"]
    assert counted == ["2013-12", *tested.months]
    assert series_from_document(doc) == parse_series(json.dumps(doc))
    events = answers.alarm_findings(tested.alarms, periods)
    if loss == 0.0:
        assert tested.alarms == [] and events == []
        return
    assert {a.test: a.first_alarm for a in tested.alarms} == report["first_alarms"]
    for a, e in zip(tested.alarms, events, strict=True):
        assert e["id"] == f"page-S-1-{a.test}-{a.first_alarm}"
        assert e["time"] == "2014-07-01T00:00:00Z"  # the end of the last month, excluded
        assert e["body"]["subjects"] == ["S-1"]
        assert f"material balance of S-1, first in {a.first_alarm}" in e["body"]["title"]
    assert parse_month("2014-06").end == periods[-1].end


def test_the_balance_periods_of_an_empty_ledger(tmp_path: Path) -> None:
    from tests.test_cli import ORIGIN

    run("init", str(tmp_path / "l"), "--origin", ORIGIN)
    led = Ledger.open(tmp_path / "l")
    try:
        with led.store.read() as r:
            assert [p.month for p in answers.balance_periods(r)] == ["1970-01"]
            assert answers.monthly_balances(r) == []
            assert answers.route_tests(r) is None
    finally:
        led.close()
