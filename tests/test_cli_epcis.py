"""The EPCIS commands end to end: export passes GS1's schema, importing it into another ledger
gives the same chain of custody, hashes match the published vectors, and a document the
ledger cannot take is refused with its reasons and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.book.test_cli_book import declare
from tests.test_cli import ORIGIN, _cli, run

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PARTIES = ("inspectorate", "declarant")


def _ledger(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    run("init", str(path), "--origin", ORIGIN)
    monkeypatch.setenv("CWLEDGER_LEDGER", str(path))
    for party in PARTIES:
        run("keys", "new", "--party", party, "--role", party)
    return path


def _custody_and_holdings(path: Path) -> tuple[list[list[tuple[str, str, str]]], str]:
    chains = []
    for item in ("C-1", "C-2", "C-3", "L-1"):
        doc = json.loads(run("item", item, "--json", "--ledger", str(path)))
        chains.append([(c["type"], c["time"], c["summary"]) for c in doc["custody"]])
    return chains, run("holdings", "--json", "--by", "chemical", "--ledger", str(path))


def test_export_then_import_gives_the_same_chain_of_custody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _ledger(tmp_path / "source", monkeypatch)
    declare(tmp_path)
    obs = tmp_path / "obs.jsonl"
    obs.write_text(
        "".join(
            json.dumps(e) + "\n"
            for e in [
                {
                    "type": "item.tagged",
                    "time": "2013-11-01T00:00:00Z",
                    "body": {"item": "C-1", "tag": "T-1", "site": "S-1"},
                },
                {
                    "type": "seal.applied",
                    "time": "2013-11-01T01:00:00Z",
                    "body": {
                        "seal": "SL-1",
                        "type": "metal_cap",
                        "closes": {"kind": "item", "id": "C-1"},
                        "photos": ["ab" * 32],
                    },
                },
                {
                    "type": "seal.checked",
                    "time": "2013-12-01T00:00:00Z",
                    "body": {"seal": "SL-1", "condition": "intact", "photos": ["cd" * 32]},
                },
                {
                    "type": "inventory.taken",
                    "time": "2013-12-02T00:00:00Z",
                    "body": {
                        "site": "S-2",
                        "items": [
                            {
                                "item": "C-3",
                                "measured": {"kg": 799.0, "u_random_kg": 1.0, "method": "scale"},
                            },
                            {"item": "L-1"},
                        ],
                    },
                },
            ]
        )
    )
    run("append", str(obs), "--as", "inspectorate")
    moves = tmp_path / "moves.jsonl"
    moves.write_text(
        "".join(
            json.dumps(e) + "\n"
            for e in [
                {
                    "type": "transfer.shipped",
                    "time": "2014-01-07T00:00:00Z",
                    "body": {
                        "transfer": "TR-1",
                        "origin": "S-1",
                        "destination": "S-2",
                        "due": "2014-01-10T00:00:00Z",
                        "items": [
                            {
                                "item": "C-1",
                                "measured": {"kg": 1000.0, "u_random_kg": 2.0, "method": "scale"},
                            }
                        ],
                    },
                },
                {
                    "type": "transfer.received",
                    "time": "2014-01-08T00:00:00Z",
                    "body": {
                        "transfer": "TR-1",
                        "site": "S-2",
                        "items": [
                            {
                                "item": "C-1",
                                "measured": {"kg": 998.5, "u_random_kg": 2.0, "method": "scale"},
                            }
                        ],
                    },
                },
                {
                    "type": "destruction.batch",
                    "time": "2014-02-01T00:00:00Z",
                    "body": {
                        "batch": "B-1",
                        "method": "hydrolysis",
                        "venue": "S-2",
                        "start": "2014-01-30T00:00:00Z",
                        "end": "2014-02-01T00:00:00Z",
                        "items": [{"item": "L-1", "kg": 2000.0}],
                    },
                },
            ]
        )
    )
    run("append", str(moves), "--as", "declarant")

    exported = tmp_path / "custody.jsonld"
    run("export", "epcis", "--out", str(exported))
    doc = json.loads(exported.read_text())
    schema = json.loads((SHARED / "epcis" / "EPCIS-JSON-Schema.json").read_text())
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    assert [e.message for e in validator.iter_errors(doc)] == []
    hashes = run("epcis", "hash", str(exported)).split()
    assert hashes == [e["eventID"] for e in doc["epcisBody"]["eventList"]]

    target = _ledger(tmp_path / "target", monkeypatch)
    run("import", "epcis", str(exported))
    assert _custody_and_holdings(target) == _custody_and_holdings(source)
    run("import", "epcis", str(exported))  # a retried import adds nothing
    assert _custody_and_holdings(target) == _custody_and_holdings(source)
    assert run("verify").startswith("OK ")


def test_epcis_hash_of_an_official_example_matches_the_published_vector() -> None:
    vectors = json.loads(
        (SHARED / "vectors" / "epcis-hash" / "event_hash_gs1_examples.json").read_text()
    )["vectors"]
    for v in vectors[:4]:
        path = SHARED / "epcis" / "examples" / v["gs1_path"].removeprefix("JSON/")
        assert run("epcis", "hash", str(path)).split() == [e["hash"] for e in v["expected"]]


def test_a_document_the_ledger_cannot_take_is_refused_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ledger(tmp_path / "l", monkeypatch)
    before = run("log", "--json")
    example = SHARED / "epcis" / "examples" / "Example_9.6.1-ObjectEvent.jsonld"
    result = _cli("import", "epcis", str(example), "--as", "inspectorate")
    assert result.returncode == 1
    assert "epcisBody.eventList[0]" in " ".join(result.stderr.split())
    assert run("log", "--json") == before
    broken = tmp_path / "broken.jsonld"
    broken.write_text("{not json")
    bad = _cli("import", "epcis", str(broken))
    assert bad.returncode == 1 and "not a readable JSON document" in bad.stderr
