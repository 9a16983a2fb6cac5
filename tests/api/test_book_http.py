"""The book over HTTP answers exactly what the CLI's --json answers (one core), on the
syria-2013 scenario."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from cwledger.cli import app
from tests.api.conftest import Api

runner = CliRunner()


def cli_json(api: Api, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--json", "--ledger", str(api.ledger.path)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def get(api: Api, url: str, party: str = "observer") -> Any:
    resp = api.client.get(url, headers=api.auth(party))
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def observer(scenario_api: Api) -> str:
    authority = scenario_api.ledger.authority()
    return next(p for p, rec in authority.parties.items() if rec.role == "observer")


@pytest.mark.parametrize(
    ("url", "cli"),
    [
        ("/api/v1/status", ["status"]),
        ("/api/v1/status?at=2014-04-24", ["status", "--at", "2014-04-24"]),
        ("/api/v1/milestones?at=2014-06-30", ["milestones", "--at", "2014-06-30"]),
        (
            "/api/v1/holdings?at=2014-01-31&by=category",
            ["holdings", "--at", "2014-01-31", "--by", "category"],
        ),
        ("/api/v1/holdings", ["holdings"]),
        ("/api/v1/findings", ["findings"]),
        ("/api/v1/declarations/1/diff/2", ["diff", "1", "2"]),
    ],
)
def test_the_api_answers_what_the_cli_answers(
    scenario_api: Api, observer: str, url: str, cli: list[str]
) -> None:
    assert get(scenario_api, url, observer) == cli_json(scenario_api, *cli)


def test_status_on_24_april_2014_reports_the_removal_state(
    scenario_api: Api, observer: str
) -> None:
    doc = get(scenario_api, "/api/v1/status?at=2014-04-24", observer)
    assert doc["at"] == "2014-04-24" and 85 <= doc["removed_pct"] <= 95


def test_an_item_its_position_and_its_chain_of_custody(scenario_api: Api, observer: str) -> None:
    some = get(scenario_api, "/api/v1/events?type=transfer.shipped&limit=1", observer)
    item_id = some["events"][0]["event"]["body"]["items"][0]["item"]
    doc = get(scenario_api, f"/api/v1/items/{item_id}", observer)
    assert doc == cli_json(scenario_api, "item", item_id)
    assert [c["index"] for c in doc["custody"]] == sorted(c["index"] for c in doc["custody"])
    assert "transfer.shipped" in {c["type"] for c in doc["custody"]}
    pos = get(scenario_api, f"/api/v1/items/{item_id}/position?at=2013-12-31", observer)
    assert pos == cli_json(scenario_api, "where", item_id, "--at", "2013-12-31")


def test_sites_and_a_site_with_its_holdings_and_entries(scenario_api: Api, observer: str) -> None:
    sites = get(scenario_api, "/api/v1/sites", observer)
    assert len(sites) >= 23 and all(s["site"]["id"] for s in sites)
    first = sites[0]["site"]["id"]
    doc = get(scenario_api, f"/api/v1/sites/{first}?at=2013-12-31", observer)
    held = cli_json(scenario_api, "holdings", "--site", first, "--by", "item", "--at", "2013-12-31")
    assert doc["holdings"] == held
    named = get(scenario_api, f"/api/v1/events?site={first}&limit=1000", observer)["events"]
    assert doc["entries"] == [e["index"] for e in named]


def test_declarations_list_and_versions(scenario_api: Api, observer: str) -> None:
    versions = get(scenario_api, "/api/v1/declarations", observer)
    assert [v["version"] for v in versions] == list(range(1, len(versions) + 1))
    v1 = get(scenario_api, "/api/v1/declarations/1", observer)
    assert v1["version"] == 1 and len(v1["items"]) == versions[0]["items"]


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/v1/items/NO-SUCH-ITEM", 404, "not-found"),
        ("/api/v1/sites/NO-SUCH-SITE", 404, "not-found"),
        ("/api/v1/declarations/99", 404, "not-found"),
        ("/api/v1/declarations/0", 422, "validation"),
        ("/api/v1/status?at=tomorrow", 422, "validation"),
        ("/api/v1/holdings?by=item", 422, "validation"),
        ("/api/v1/holdings?by=colour", 422, "validation"),
    ],
)
def test_bad_reads_get_problems(
    scenario_api: Api, observer: str, url: str, status: int, code: str
) -> None:
    resp = scenario_api.client.get(url, headers=scenario_api.auth(observer))
    assert resp.status_code == status, resp.text
    assert resp.json()["type"] == f"/problems/{code}"
