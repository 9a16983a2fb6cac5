"""The CLI end to end on a real ledger directory: every command of the quick reference."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.tlog import verify_consistency, verify_inclusion
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.note import Verifier
from cwledger.tlog.note import open as open_note

runner = CliRunner()
ORIGIN = "example.org/cwledger/demo"


def run(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def ledger_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "my-ledger"
    run("init", str(path), "--origin", ORIGIN)
    monkeypatch.setenv("CWLEDGER_LEDGER", str(path))
    run("keys", "new", "--party", "inspectorate", "--role", "inspectorate")
    return path


def _events(n: int) -> str:
    return "".join(
        json.dumps(
            {
                "type": "inspection.opened",
                "time": "2014-03-01T09:00:00Z",
                "body": {"inspection": f"I{i}", "site": "S-1", "kind": "routine"},
            }
        )
        + "\n"
        for i in range(n)
    )


def test_keystore_files_are_private(ledger_dir: Path) -> None:
    keys = ledger_dir / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for f in keys.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_keys_list_json_names_party_role_and_c2sp_vkey(ledger_dir: Path) -> None:
    keys = json.loads(run("keys", "list", "--json"))
    by_party = {k["party"]: k for k in keys}
    assert set(by_party) == {"operator", "inspectorate", "checkpoint-signer"}
    insp = by_party["inspectorate"]
    assert insp["role"] == "inspectorate" and insp["status"] == "valid"
    v = Verifier.from_vkey(insp["vkey"])
    assert v.name == "inspectorate" and v.key_id.hex() == insp["key_id"]
    assert Verifier.from_vkey(by_party["checkpoint-signer"]["vkey"]).name == ORIGIN


def test_append_log_checkpoint_prove_verify(ledger_dir: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(_events(250))
    receipts = [
        json.loads(x)
        for x in run("append", str(events), "--as", "inspectorate", "--json").splitlines()
    ]
    assert [r["index"] for r in receipts] == list(range(2, 252))
    # A retried file appends nothing and returns the first receipts.
    again = [
        json.loads(x)
        for x in run("append", str(events), "--as", "inspectorate", "--json").splitlines()
    ]
    assert [r["index"] for r in again] == [r["index"] for r in receipts] and all(
        r["duplicate"] for r in again
    )

    log = json.loads(run("log", "--tail", "3", "--json"))
    assert [e["index"] for e in log] == [249, 250, 251] and log[-1]["type"] == "inspection.opened"

    note = run("checkpoint")
    log_key = Verifier.from_vkey(
        next(
            k["vkey"]
            for k in json.loads(run("keys", "list", "--json"))
            if k["party"] == "checkpoint-signer"
        )
    )
    opened = open_note(note.encode(), [log_key])
    cp = Checkpoint.from_text(opened.text)
    assert (cp.origin, cp.size) == (ORIGIN, 252)
    assert note.endswith("\n") and note.count("\n\n") == 1  # the signed note and nothing else

    inc = json.loads(run("prove", "inclusion", "42"))
    assert inc["tree_size"] == 252 and bytes.fromhex(inc["root_hash"]) == cp.root_hash
    verify_inclusion(
        bytes.fromhex(inc["leaf_hash"]),
        42,
        252,
        [bytes.fromhex(h) for h in inc["proof"]],
        cp.root_hash,
    )

    con = json.loads(run("prove", "consistency", "10", "200"))
    verify_consistency(
        10,
        200,
        [bytes.fromhex(h) for h in con["proof"]],
        bytes.fromhex(con["root1"]),
        bytes.fromhex(con["root2"]),
    )

    assert run("verify").startswith(f"OK 252 {cp.root_hash.hex()}")


def test_append_from_stdin_and_signed_envelopes(ledger_dir: Path) -> None:
    from cwledger.ledger.ledger import Ledger

    out = run("append", "-", "--as", "inspectorate", "--json", input=_events(2))
    assert [json.loads(x)["index"] for x in out.splitlines()] == [2, 3]
    # Lines that are already DSSE envelopes are appended as they are, without --as.
    led = Ledger.open(ledger_dir)
    raw = {
        "type": "inspection.opened",
        "id": "pre-signed-1",
        "time": "2014-03-02T09:00:00Z",
        "body": {"inspection": "X9", "site": "S-1", "kind": "challenge"},
    }
    [envelope] = led.sign([raw], "inspectorate")
    led.close()
    out = run("append", "-", "--json", input=envelope.decode() + "\n")
    [receipt] = [json.loads(x) for x in out.splitlines()]
    assert receipt["index"] == 4 and receipt["event_id"] == "pre-signed-1"


def _cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwledger", *args],
        capture_output=True,
        text=True,
        check=False,
        input=input,
        env={**os.environ},
    )


def test_errors_are_one_clear_line_and_exit_1(ledger_dir: Path, tmp_path: Path) -> None:
    events = tmp_path / "bad.jsonl"
    events.write_text(_events(1) + "{broken\n")
    result = _cli("append", str(events), "--as", "inspectorate")
    assert result.returncode == 1
    assert "line 2" in result.stderr and "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
    wrong_role = _cli("append", "-", "--as", "operator", input=_events(1))
    assert wrong_role.returncode == 1
    assert "role operator may not write inspection.opened" in " ".join(wrong_role.stderr.split())
    missing = _cli("log", "--ledger", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "no ledger in" in missing.stderr


def test_declarant_cannot_write_inspectorate_events(ledger_dir: Path, tmp_path: Path) -> None:
    run("keys", "new", "--party", "declarant", "--role", "declarant")
    events = tmp_path / "e.jsonl"
    events.write_text(_events(1))
    result = _cli("append", str(events), "--as", "declarant")
    assert result.returncode == 1
    assert "role declarant may not write inspection.opened" in " ".join(result.stderr.split())


def test_rotate_and_revoke_keys(ledger_dir: Path) -> None:
    def keys() -> dict[str, str]:
        listed = json.loads(run("keys", "list", "--json"))
        return {k["key_id"]: k["status"] for k in listed if k["party"] == "inspectorate"}

    [old_id] = keys()
    run("keys", "rotate", "--party", "inspectorate")
    statuses = keys()
    [new_id] = [k for k in statuses if k != old_id]
    assert statuses == {old_id: "rotated", new_id: "valid"}
    run("append", "-", "--as", "inspectorate", input=_events(1))  # signs with the new key
    run("keys", "revoke", "--party", "inspectorate", "--key-id", new_id, "--reason", "laptop lost")
    assert keys()[new_id] == "revoked"
    refused = _cli("append", "-", "--as", "inspectorate", input=_events(2))
    assert refused.returncode == 1 and "revoked by entry" in " ".join(refused.stderr.split())
    assert run("verify").startswith("OK")


def test_verify_of_a_long_log_uses_worker_processes_and_names_the_entry(tmp_path: Path) -> None:
    """Over two audit chunks (4,000 entries): the CLI's multi-process path, end to end."""
    import sqlite3

    from cwledger.ledger.ledger import Ledger

    led = Ledger.init(tmp_path / "long", ORIGIN, founding=[("insp", "inspectorate")])
    events = [
        {
            "type": "inspection.opened",
            "id": f"s{i}",
            "time": "2014-03-01T09:00:00Z",
            "body": {"inspection": f"I{i}", "site": "S-1", "kind": "routine"},
        }
        for i in range(4200)
    ]
    for start in range(0, len(events), 1000):
        led.append(led.sign(events[start : start + 1000], "insp"))
    led.close()
    ok = _cli("verify", "--ledger", str(tmp_path / "long"))
    assert ok.returncode == 0 and ok.stdout.startswith("OK 4201 ")
    with sqlite3.connect(tmp_path / "long" / "ledger.db") as db:
        db.execute("DELETE FROM log_entry WHERE idx = 3999")
    bad = _cli("verify", "--ledger", str(tmp_path / "long"))
    assert bad.returncode == 1 and "entry 3999: entry is missing" in " ".join(bad.stderr.split())


def test_init_with_a_database_url_keeps_the_log_there_and_every_command_finds_it(
    tmp_path: Path, pg_url: str
) -> None:
    path = tmp_path / "shared"
    run("init", str(path), "--origin", ORIGIN, "--party", "insp:inspectorate", "--db", pg_url)
    assert (path / "database.url").read_text().strip() == pg_url
    assert not (path / "ledger.db").exists()
    token = run("tokens", "issue", "--party", "insp", "--ledger", str(path)).strip()
    assert token.startswith("cwl_")
    import json

    listed = json.loads(run("tokens", "list", "--json", "--ledger", str(path)))
    assert [t["party"] for t in listed] == ["insp"]
