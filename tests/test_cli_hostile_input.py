"""Hostile input files at the CLI (issue 13, item 10): a payload nested 10,000 deep, a lone
surrogate, invalid UTF-8, a member given twice, a full disk: each one clear line, exit 1,
nothing written."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from cwledger.cli import main
from cwledger.ledger.envelope import PAYLOAD_TYPE
from tests.test_cli import _cli, _events, ledger_dir, run

__all__ = ["ledger_dir"]  # the fixture, shared with tests/test_cli.py


def _envelope(payload: bytes) -> bytes:
    sig = base64.b64encode(b"\0" * 64).decode()
    env = {"payload": base64.b64encode(payload).decode(), "payloadType": PAYLOAD_TYPE}
    return json.dumps({**env, "signatures": [{"keyid": "deadbeef", "sig": sig}]}).encode() + b"\n"


LINES = {
    "nested 10,000 deep": b'{"type":"estimate.recorded","body":'
    + b"[" * 10_000
    + b"]" * 10_000
    + b"}\n",
    "a lone surrogate": b'{"type":"estimate.recorded","id":"e-\\ud800","body":{}}\n',
    "a lone surrogate in a key": b'{"type":"estimate.recorded","body":{"\\udfff":1}}\n',
    "invalid UTF-8": b'{"type":"estimate.recorded","body":{"x":"\xff\xfe"}}\n',
    "a member given twice": b'{"type":"estimate.recorded","type":"finding.raised","body":{}}\n',
    "a huge number": b'{"type":"estimate.recorded","body":{"x":1' + b"0" * 5000 + b"}}\n",
    "an envelope nested 10,000 deep": _envelope(b'{"a":' * 10_000 + b"1" + b"}" * 10_000),
    "an envelope with a lone surrogate": _envelope(b'{"type":"\\ud800"}'),
}


@pytest.mark.parametrize("line", LINES.values(), ids=LINES.keys())
def test_a_hostile_line_is_one_clear_error(ledger_dir: Path, tmp_path: Path, line: bytes) -> None:
    before = run("log", "--json")
    file = tmp_path / "events.jsonl"
    file.write_bytes(_events(1).encode() + line)
    result = _cli("append", str(file), "--as", "inspectorate")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error (") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr[:2000]
    assert len(result.stderr) < 4000
    assert run("log", "--json") == before


def test_a_member_given_twice_is_named(ledger_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "events.jsonl"
    file.write_bytes(LINES["a member given twice"])
    result = _cli("append", str(file), "--as", "inspectorate")
    assert result.returncode == 1 and "gives the member 'type' twice" in result.stderr


def test_a_full_disk_is_one_line_saying_so(
    ledger_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = run("log", "--json")
    file = tmp_path / "events.jsonl"
    file.write_text(_events(300))

    def cap(conn: Any, _record: Any) -> None:
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(Engine, "connect", cap)
    try:
        monkeypatch.setattr(sys, "argv", ["cwledger", "append", str(file), "--as", "inspectorate"])
        with pytest.raises(SystemExit) as exit_:
            main()
    finally:
        event.remove(Engine, "connect", cap)
    assert exit_.value.code == 1
    stderr = capsys.readouterr().err
    assert "error (disk-full): disk full" in " ".join(stderr.split()), stderr
    assert len(stderr.strip().splitlines()) == 1
    assert run("log", "--json") == before
    assert json.loads(before)
