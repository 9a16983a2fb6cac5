"""The book's commands end to end: declare from a sheet, amend, diff, holdings (now and at a
past moment), where, item, findings, rebuild, verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import ORIGIN, _cli, run

HEADER = (
    "item_id,kind,chemical,cwc_category,schedule,removal_priority,site_id,site_name,site_kind,"
    "lat,lon,kg,u_random_kg,method\n"
)
ROWS = [
    "C-1,container,DF,1,1B9,1,S-1,Storage one,storage,34.5,36.7,1000,2,weighing\n",
    "C-2,container,DF,1,1B9,1,S-1,Storage one,storage,34.5,36.7,500,2,weighing\n",
    "C-3,container,HF,2,,2,S-2,Storage two,storage,33.5,36.3,800,2,weighing\n",
    "L-1,bulk_lot,isopropanol,1,,in-country,S-2,Storage two,storage,33.5,36.3,2500,10,level\n",
]


@pytest.fixture
def ledger_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ledger with an inspectorate and a declarant, selected by $CWLEDGER_LEDGER."""
    path = tmp_path / "my-ledger"
    run("init", str(path), "--origin", ORIGIN)
    monkeypatch.setenv("CWLEDGER_LEDGER", str(path))
    run("keys", "new", "--party", "inspectorate", "--role", "inspectorate")
    run("keys", "new", "--party", "declarant", "--role", "declarant")
    return path


def declare(directory: Path) -> None:
    """Submit version 1 of the declaration in ROWS (the ledger chosen by $CWLEDGER_LEDGER)."""
    sheet = directory / "v1.csv"
    sheet.write_text(HEADER + "".join(ROWS))
    run(
        "declare",
        str(sheet),
        "--as",
        "declarant",
        "--legal-basis",
        "EC-M-33/DEC.1",
        "--due",
        "2013-10-27",
        "--time",
        "2013-10-24T00:00:00Z",
    )


@pytest.fixture
def declared(ledger_dir: Path, tmp_path: Path) -> Path:
    declare(tmp_path)
    return ledger_dir


def test_declare_then_holdings_by_site_chemical_category_priority(declared: Path) -> None:
    def holdings(*args: str) -> dict[str, float]:
        return {x["key"]: x["kg"] for x in json.loads(run("holdings", "--json", *args))}

    assert holdings() == {"S-1": 1500.0, "S-2": 3300.0}
    assert holdings("--by", "chemical") == {"DF": 1500.0, "HF": 800.0, "isopropanol": 2500.0}
    assert holdings("--by", "category") == {"category 1": 4000.0, "category 2": 800.0}
    assert holdings("--by", "priority") == {
        "priority 1": 1500.0,
        "priority 2": 800.0,
        "priority in-country": 2500.0,
    }
    assert holdings("--site", "S-2", "--by", "item") == {"C-3": 800.0, "L-1": 2500.0}
    assert holdings("--at", "2013-10-23") == {}
    table = run("holdings", "--by", "category")
    assert "category 1" in table and "4,000.000" in table and "total" in table


def test_moves_answer_where_and_holdings_at_past_moments(declared: Path, tmp_path: Path) -> None:
    events = tmp_path / "moves.jsonl"
    events.write_text(
        json.dumps(
            {
                "type": "seal.applied",
                "time": "2013-11-01T00:00:00Z",
                "body": {
                    "seal": "SL-1",
                    "type": "metal_cap",
                    "closes": {"kind": "item", "id": "C-1"},
                },
            }
        )
        + "\n"
    )
    run("append", str(events), "--as", "inspectorate")
    events.write_text(
        json.dumps(
            {
                "type": "site.declared",
                "time": "2013-11-02T00:00:00Z",
                "body": {
                    "site": {
                        "id": "PORT",
                        "name": "Port",
                        "kind": "port",
                        "coordinates": {"lat": 35.5, "lon": 35.8},
                        "party": "declarant",
                    }
                },
            }
        )
        + "\n"
        + json.dumps(
            {
                "type": "transfer.shipped",
                "time": "2014-01-07T00:00:00Z",
                "body": {
                    "transfer": "TR-1",
                    "origin": "S-1",
                    "destination": "PORT",
                    "due": "2014-01-10T00:00:00Z",
                    "items": [{"item": "C-1"}],
                },
            }
        )
        + "\n"
    )
    run("append", str(events), "--as", "declarant")
    where = json.loads(run("where", "C-1", "--json"))
    assert where["state"] == "in_transit" and where["site"] is None
    before = json.loads(run("where", "C-1", "--at", "2014-01-06", "--json"))
    assert before["state"] == "sealed" and before["site"] == "S-1"
    now = {x["key"]: x["kg"] for x in json.loads(run("holdings", "--json"))}
    assert now == {"S-1": 500.0, "S-2": 3300.0, "in transit": 1000.0}
    past = {
        x["key"]: x["kg"]
        for x in json.loads(run("holdings", "--json", "--at", "2014-01-06T23:59:59Z"))
    }
    assert past == {"S-1": 1500.0, "S-2": 3300.0}
    chain = json.loads(run("item", "C-1", "--json"))
    assert [c["type"] for c in chain["custody"]] == [
        "declaration.submitted",
        "seal.applied",
        "transfer.shipped",
    ]
    assert chain["custody"][-1]["summary"] == "shipped S-1 -> PORT (transfer TR-1)"
    table = run("item", "C-1")
    assert "C-1: DF — in transit on transfer TR-1" in table and "transfer.shipped" in table


def test_amend_and_diff(declared: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "v2.csv"
    rows = [
        ROWS[0],
        ROWS[1].replace(",500,", ",520,"),
        ROWS[3],
        "C-4,container,HF,2,,2,S-2,Storage two,storage,33.5,36.3,100,2,weighing\n",
    ]
    sheet.write_text(HEADER + "".join(rows))
    run("amend", str(sheet), "--as", "declarant", "--time", "2013-11-10T00:00:00Z")
    d = json.loads(run("diff", "1", "2", "--json"))
    assert d["items_added"] == ["C-4"] and d["items_removed"] == ["C-3"]
    [change] = d["items_changed"]
    assert (change["id"], change["fields"]) == ("C-2", ["declared.kg"])
    assert change["old"]["declared.kg"] != change["new"]["declared.kg"]
    text = run("diff", "1", "2")
    assert "item changed" in text
    assert (
        f"{change['old']['declared.kg']:,}" in text and f"{change['new']['declared.kg']:,}" in text
    )
    bad = _cli("diff", "1", "3")
    assert bad.returncode == 1 and "declaration version 3 is not complete" in bad.stderr


def test_a_bad_sheet_is_refused_with_every_row_and_column(ledger_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        HEADER
        + ROWS[0]
        + ROWS[1].replace(",500,", ",-5,")
        + ROWS[2].replace(",storage,", ",bunker,")
    )
    before = json.loads(run("log", "--json"))
    result = _cli(
        "declare", str(sheet), "--as", "declarant", "--legal-basis", "x", "--due", "2013-10-27"
    )
    assert result.returncode == 1
    text = " ".join(result.stderr.split())
    assert "row 3, column kg" in text and "row 4, column site_kind" in text
    assert json.loads(run("log", "--json")) == before


def test_findings_rebuild_verify(declared: Path, tmp_path: Path) -> None:
    events = tmp_path / "obs.jsonl"
    events.write_text(
        json.dumps(
            {
                "type": "inventory.taken",
                "time": "2013-11-05T00:00:00Z",
                "body": {"site": "S-1", "items": [{"item": "C-1"}]},
            }
        )
        + "\n"
    )
    run("append", str(events), "--as", "inspectorate")
    [f] = json.loads(run("findings", "--json"))
    assert f["rule"] == "item-not-found" and f["number"] == 1 and f["status"] == "open"
    assert "item C-2 not found" in run("findings")
    assert json.loads(run("findings", "--status", "resolved", "--json")) == []
    run("rebuild")
    assert run("verify").startswith("OK ")
    assert json.loads(run("findings", "--json")) == [f]
