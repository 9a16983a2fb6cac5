"""`cwledger bundle`, `cwledger check-bundle` and `report --bundle` end to end on a real
ledger directory: what is written checks offline; a changed file, a wrong pinned key and a
bad choice of entries fail with the failure named and nothing written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.tlog.note import Signer

runner = CliRunner()
ORIGIN = "example.org/cwledger/bundle"


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwledger", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture
def ledger_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger"
    run("init", str(path), "--origin", ORIGIN)
    monkeypatch.setenv("CWLEDGER_LEDGER", str(path))
    run("keys", "new", "--party", "insp", "--role", "inspectorate")
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "type": "inspection.opened",
                    "time": f"2014-03-0{day}T09:00:00Z",
                    "body": {"inspection": f"I{day}", "site": "S-1", "kind": "routine"},
                }
            )
            + "\n"
            for day in (1, 2, 3)
        )
    )
    run("append", str(events), "--as", "insp")  # entries 2, 3, 4
    return path


def _log_key(bundle: Path) -> str:
    return str(json.loads(bundle.read_bytes())["log_vkey"])


def test_bundle_of_entries_checks_and_says_what_each_entry_is(
    ledger_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "b.json"
    assert run("bundle", "--entries", "3,4", "--out", str(out)).strip() == str(out)
    done = _cli("check-bundle", str(out))
    assert done.returncode == 0, done.stderr
    assert (
        "log key not pinned: taken from the bundle, which proves only consistency with itself"
        in " ".join(done.stderr.split())
    )
    assert "ledger.genesis" in done.stdout and "party.registered" in done.stdout
    for index, day in ((3, 2), (4, 3)):
        row = rf"│ {index}\s+│ inspection\.opened\s+│ insp\s+│ 2014-03-0{day}T09:00:00Z"
        assert re.search(row, done.stdout), done.stdout
    pinned = _cli("check-bundle", str(out), "--log-key", _log_key(out), "--json")
    assert pinned.returncode == 0 and "not pinned" not in pinned.stderr
    doc = json.loads(pinned.stdout)
    assert [e["index"] for e in doc["entries"]] == [0, 1, 3, 4]
    assert [e["author"] for e in doc["entries"]][2:] == ["insp", "insp"]


def test_bundle_of_a_period(ledger_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    run("bundle", "--from", "2014-03-02", "--to", "2014-03-02", "--out", str(out))
    doc = json.loads(_cli("check-bundle", str(out), "--json").stdout)
    assert [(e["index"], e["time"]) for e in doc["entries"][2:]] == [(3, "2014-03-02T09:00:00Z")]


def test_a_changed_bundle_and_a_wrong_pinned_key_fail_naming_why(
    ledger_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "b.json"
    run("bundle", "--entries", "2", "--out", str(out))
    data = bytearray(out.read_bytes())
    at = data.index(b'"index":2') + len(b'"index":')
    data[at : at + 1] = b"3"
    out.write_bytes(bytes(data))
    done = _cli("check-bundle", str(out))
    assert done.returncode == 1 and "entry 3: not in the checkpoint's tree" in done.stderr
    run("bundle", "--entries", "2", "--out", str(out))
    other = Signer.generate(ORIGIN).verifier().vkey()
    done = _cli("check-bundle", str(out), "--log-key", other)
    assert done.returncode == 1 and "(bundle-invalid): checkpoint" in done.stderr


def test_bad_choices_write_nothing(ledger_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    done = _cli("bundle", "--entries", "9", "--out", str(out))
    assert done.returncode == 1 and "entry 9 is not in the latest checkpoint" in done.stderr
    done = _cli(
        "bundle", "--entries", "2", "--from", "2014-03-01", "--to", "2014-03-02", "--out", str(out)
    )
    assert (
        done.returncode == 2
        and "give one of --entries, --item, or --from with --to" in " ".join(done.stderr.split())
    )
    done = _cli("bundle", "--from", "2015-01-01", "--to", "2015-01-31", "--out", str(out))
    assert done.returncode == 1 and "no checkpointed entry is dated" in done.stderr
    assert not out.exists()


def test_report_writes_the_bundle_of_its_period_beside_it(ledger_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.md"
    run(
        "report",
        "--from",
        "2014-03-01",
        "--to",
        "2014-03-02",
        "--format",
        "md",
        "--out",
        str(report),
    )
    assert not (tmp_path / "r.bundle.json").exists()
    run(
        "report",
        "--from",
        "2014-03-01",
        "--to",
        "2014-03-02",
        "--format",
        "md",
        "--out",
        str(report),
        "--bundle",
    )
    bundle = tmp_path / "r.bundle.json"
    doc = json.loads(
        _cli("check-bundle", str(bundle), "--log-key", _log_key(bundle), "--json").stdout
    )
    assert [(e["index"], e["type"]) for e in doc["entries"][2:]] == [
        (2, "inspection.opened"),
        (3, "inspection.opened"),
    ]
