"""The escrow's commands end to end: commit a sheet, prove destroyed totals, reveal and
check items (a finding when one differs), diff two versions, status; bad input is one line."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from cwledger.ledger.ledger import Ledger
from tests.book.test_cli_book import HEADER, ROWS, declare
from tests.test_cli import ORIGIN, _cli, run

ESCROW_TIME = "2013-09-21T00:00:00Z"


@pytest.fixture
def ledger_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "my-ledger"
    run("init", str(path), "--origin", ORIGIN)
    monkeypatch.setenv("CWLEDGER_LEDGER", str(path))
    run("keys", "new", "--party", "inspectorate", "--role", "inspectorate")
    run("keys", "new", "--party", "declarant", "--role", "declarant")
    return path


def _sheet(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(rows))
    return path


def _commit(sheet: Path, time: str = ESCROW_TIME) -> None:
    run("escrow", "commit", str(sheet), "--as", "declarant", "--time", time)


def _status() -> dict[int, dict[str, object]]:
    doc = json.loads(run("escrow", "status", "--json"))
    return {row["category"]: row for row in doc["categories"]}


def _log_bytes(ledger_dir: Path) -> bytes:
    """Every entry's envelope and its payload, base64-decoded."""
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r:
            entries = r.entries(0, r.size())
    finally:
        led.close()
    out = b""
    for e in entries:
        out += e.envelope + base64.b64decode(json.loads(e.envelope)["payload"])
    return out


def test_commit_logs_only_roots_and_keeps_the_secrets_private(
    ledger_dir: Path, tmp_path: Path
) -> None:
    _commit(_sheet(tmp_path / "escrow.csv", ROWS))
    secrets = ledger_dir / "keys" / "declarant.escrow"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    status = _status()
    assert status[1]["leaves"] == 3 and status[1]["grams"] == 4_000_000
    assert status[2]["leaves"] == 1 and status[2]["grams"] == 800_000
    assert status[1]["open"] == 3 and status[1]["open_grams"] == 4_000_000
    log = _log_bytes(ledger_dir)
    assert b"escrow.committed" in log
    for secret in (b"C-1", b"L-1", b"isopropanol", b"Storage one", b"S-2", b"weighing"):
        assert secret not in log


def test_destroyed_totals_are_proven_without_naming_an_item(
    ledger_dir: Path, tmp_path: Path
) -> None:
    _commit(_sheet(tmp_path / "escrow.csv", ROWS))
    declare(tmp_path)
    batch = {
        "type": "destruction.batch",
        "time": "2014-05-01T00:00:00Z",
        "body": {
            "batch": "B-1",
            "method": "hydrolysis",
            "venue": "S-1",
            "start": "2014-04-30T00:00:00Z",
            "end": "2014-05-01T00:00:00Z",
            "items": [{"item": "C-1"}, {"item": "C-2"}],
        },
    }
    events = tmp_path / "batch.jsonl"
    events.write_text(json.dumps(batch) + "\n")
    run("append", str(events), "--as", "declarant")
    before = _log_bytes(ledger_dir)
    # nothing destroyed by the end of April
    result = _cli("escrow", "prove-destroyed", "--category", "1", "--at", "2014-04-29")
    assert result.returncode == 0 and "nothing new to prove" in result.stderr
    run("escrow", "prove-destroyed", "--category", "1", "--at", "2014-06-30")
    status = _status()
    assert status[1]["destroyed"] == 2 and status[1]["destroyed_grams"] == 1_500_000
    assert status[1]["open"] == 1 and status[1]["open_grams"] == 2_500_000
    assert status[1]["destroyed_by"] == "2014-06-30T23:59:59Z"
    assert status[2]["destroyed"] == 0
    again = _cli("escrow", "prove-destroyed", "--category", "1", "--at", "2014-07-31")
    assert again.returncode == 0 and "nothing new to prove" in again.stderr
    proofs = _log_bytes(ledger_dir)[len(before) :]
    assert b"escrow.destroyed_proved" in proofs
    assert b"C-1" not in proofs and b"C-2" not in proofs and b"S-1" not in proofs
    # the whole log replays to the same book (the escrow records included)
    run("verify")
    run("rebuild")
    assert _status() == status


def test_reveal_and_check_proof_with_a_finding_for_a_mass_that_differs(
    ledger_dir: Path, tmp_path: Path
) -> None:
    # The escrow committed C-3 at 790 kg; the declaration says 800 kg.
    committed = [r.replace(",800,2,", ",790,2,") for r in ROWS]
    _commit(_sheet(tmp_path / "escrow.csv", committed))
    declare(tmp_path)
    out = tmp_path / "reveal.json"
    run("escrow", "reveal", "C-3", "L-1", "--to", "inspectorate", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_text())
    assert doc["to"] == "inspectorate"
    assert [i["record"]["id"] for i in doc["items"]] == ["C-3", "L-1"]
    checked = run("escrow", "check-proof", str(out))
    assert "item C-3" in checked and "item L-1" in checked and "NOT" not in checked
    run("escrow", "check-proof", str(out), "--as", "inspectorate")
    findings = json.loads(run("findings", "--json"))
    titles = [f["title"] for f in findings]
    assert len(titles) == 1
    assert "C-3" in titles[0] and "790.000 kg" in titles[0] and "800.000 kg" in titles[0]
    # A record changed after the fact is no leaf of the root: exit 1, and a finding.
    doc["items"][1]["record"]["grams"] += 1
    out.write_text(json.dumps(doc))
    result = _cli("escrow", "check-proof", str(out), "--as", "inspectorate")
    assert result.returncode == 1, result.stderr
    assert "item L-1: NOT in the root" in " ".join(result.stdout.split())
    findings = json.loads(run("findings", "--json"))
    assert any("L-1" in f["title"] and "not in its root" in f["title"] for f in findings)


def test_diff_proves_kept_removed_added_and_the_change(ledger_dir: Path, tmp_path: Path) -> None:
    _commit(_sheet(tmp_path / "v1.csv", ROWS))
    c4 = ROWS[1].replace("C-2", "C-4").replace(",500,2,", ",650,2,")
    _commit(_sheet(tmp_path / "v2.csv", [ROWS[0], c4, ROWS[2], ROWS[3]]), "2013-10-01T00:00:00Z")
    proof = tmp_path / "diff.json"
    diff = json.loads(run("escrow", "diff", "1", "2", "--json", "--out", str(proof)))
    rows = {row["category"]: row for row in diff["categories"]}
    assert rows[1] == {
        "category": 1,
        "kept": 2,
        "kept_grams": 3_500_000,
        "removed": 1,
        "removed_grams": 500_000,
        "added": 1,
        "added_grams": 650_000,
        "change_grams": 150_000,
    }
    assert rows[2]["kept"] == 1 and rows[2]["change_grams"] == 0
    text = proof.read_text()
    assert "C-1" not in text and "DF" not in text
    checked = json.loads(run("escrow", "check-proof", str(proof), "--json"))
    assert checked == diff
    # A kept leaf's grams changed: the proof fails, one line, exit 1.
    doc = json.loads(text)
    doc["categories"][0]["new"]["leaves"][0][2] += 1
    proof.write_text(json.dumps(doc))
    result = _cli("escrow", "check-proof", str(proof))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "category 1" in result.stderr
    assert _status()[1]["leaves"] == 3  # status shows the latest version


def test_bad_input_is_one_clear_line(ledger_dir: Path, tmp_path: Path) -> None:
    sheet = _sheet(tmp_path / "escrow.csv", ROWS)
    none_yet = _cli("escrow", "status")
    assert none_yet.returncode == 1 and "no escrow committed" in none_yet.stderr
    _commit(sheet)
    out = tmp_path / "r.json"
    unknown = _cli("escrow", "reveal", "C-9", "--to", "inspectorate", "--out", str(out))
    assert unknown.returncode == 1 and "not in this escrow version: C-9" in unknown.stderr
    stranger = _cli("escrow", "reveal", "C-1", "--to", "nobody", "--out", str(out))
    assert stranger.returncode == 1 and "'nobody' is not a party" in stranger.stderr
    junk = tmp_path / "junk.json"
    junk.write_text('{"format": "something else"}')
    bad = _cli("escrow", "check-proof", str(junk))
    assert bad.returncode == 1 and "no escrow reveal or diff" in bad.stderr
    for result in (none_yet, unknown, stranger, bad):
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    # A refused commit (the log's usual refusal) leaves no escrow file behind.
    refused = _cli("escrow", "commit", str(sheet), "--as", "inspectorate")
    assert refused.returncode == 1
    assert "role inspectorate may not write escrow.committed" in refused.stderr
    assert not (ledger_dir / "keys" / "inspectorate.escrow").exists()


def _append_events(tmp_path: Path, party: str, *events: dict[str, object]) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    run("append", str(path), "--as", party)


def test_removed_destroyed_aggregates_published_and_checked_by_an_observer(
    ledger_dir: Path, tmp_path: Path
) -> None:
    _commit(_sheet(tmp_path / "escrow.csv", ROWS))
    declare(tmp_path)
    seal = {"seal": "SL-1", "type": "metal_cap", "closes": {"kind": "item", "id": "C-1"}}
    _append_events(
        tmp_path,
        "inspectorate",
        {"type": "seal.applied", "time": "2013-11-01T00:00:00Z", "body": seal},
        {
            "type": "site.declared",
            "time": "2013-11-02T00:00:00Z",
            "body": {
                "site": {
                    "id": "ARK",
                    "name": "Cargo vessel",
                    "kind": "vessel",
                    "coordinates": {"lat": 35.5, "lon": 35.8},
                    "party": "inspectorate",
                }
            },
        },
    )
    shipped = {
        "transfer": "TR-1",
        "origin": "S-1",
        "destination": "ARK",
        "due": "2014-01-10T00:00:00Z",
        "items": [{"item": "C-1"}],
    }
    batch = {
        "batch": "B-1",
        "method": "hydrolysis",
        "venue": "S-1",
        "start": "2014-04-30T00:00:00Z",
        "end": "2014-05-01T00:00:00Z",
        "items": [{"item": "C-2"}],
    }
    _append_events(
        tmp_path,
        "declarant",
        {"type": "transfer.shipped", "time": "2014-01-07T00:00:00Z", "body": shipped},
        {"type": "destruction.batch", "time": "2014-05-01T00:00:00Z", "body": batch},
    )
    before = _log_bytes(ledger_dir)
    run("escrow", "prove-removed", "--category", "1", "--at", "2014-06-30")
    run("escrow", "prove-destroyed", "--category", "1", "--at", "2014-06-30")
    status = _status()
    assert status[1]["removed"] == 1 and status[1]["removed_grams"] == 1_000_000
    assert status[1]["destroyed"] == 1 and status[1]["destroyed_grams"] == 500_000
    again = _cli("escrow", "prove-removed", "--category", "1", "--at", "2014-07-31")
    assert again.returncode == 0 and "nothing new to prove" in again.stderr
    run("aggregates", "publish", "--at", "2014-06-30", "--as", "inspectorate")
    published = _log_bytes(ledger_dir)[len(before) :]
    assert b"escrow.removed_proved" in published and b"aggregate.published" in published
    for secret in (b"C-1", b"C-2", b"S-1", b"Storage one", b"weighing", b"hydrolysis"):
        assert secret not in published
    checked = json.loads(run("aggregates", "check", "--json"))
    [agg] = checked["aggregates"]
    assert agg["proven"] and agg["problems"] == []
    rows = {row["category"]: row for row in agg["categories"]}
    assert rows[1]["committed_grams"] == 4_000_000 and rows[1]["committed_items"] == 3
    assert (rows[1]["removed_grams"], rows[1]["removed_items"]) == (1_000_000, 1)
    assert (rows[1]["destroyed_grams"], rows[1]["destroyed_items"]) == (500_000, 1)
    assert (rows[1]["remaining_grams"], rows[1]["remaining_items"]) == (3_500_000, 2)
    assert rows[2]["destroyed_grams"] == 0 and rows[2]["remaining_grams"] == 800_000
    # an observer with a bundle of the escrow entries only (and the governance it carries)
    led = Ledger.open(ledger_dir)
    try:
        with led.store.read() as r:
            types = ["escrow.committed", "escrow.removed_proved", "escrow.destroyed_proved"]
            indices = [e.index for e in r.entries_of_types([*types, "aggregate.published"])]
    finally:
        led.close()
    bundle = tmp_path / "public.bundle"
    run("bundle", "--out", str(bundle), "--entries", ",".join(map(str, indices)))
    from_bundle = json.loads(run("aggregates", "check", "--bundle", str(bundle), "--json"))
    assert from_bundle == checked
    table = run("aggregates", "check")
    assert "yes" in table and "NO" not in table
    # a bundle that leaves a proof out cannot prove the aggregate: exit 1, naming it
    partial = tmp_path / "partial.bundle"
    run("bundle", "--out", str(partial), "--entries", ",".join(map(str, indices[:1] + indices[2:])))
    result = _cli("aggregates", "check", "--bundle", str(partial))
    assert result.returncode == 1
    assert "removed_proofs" in " ".join(result.stdout.split())
    run("verify")
    run("rebuild")
    assert json.loads(run("aggregates", "check", "--json")) == checked
