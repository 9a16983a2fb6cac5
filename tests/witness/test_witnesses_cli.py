"""`cwledger witnesses` against real `cwledger witness serve` processes: the policy set from
the command line (the founders in this keystore approve), every appending command asks the
witnesses when it ends, and a witness that is down is named, never in the way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.ledger.ledger import Ledger
from cwledger.witness.store import WitnessStore, init_witness
from tests.conftest import event
from tests.witness.conftest import Served, serve

runner = CliRunner()


@pytest.fixture
def served(ledger: Ledger, tmp_path: Path) -> Iterator[list[tuple[Served, str]]]:
    authority = ledger.authority()
    assert authority.origin is not None and authority.log_vkey is not None
    out = []
    for i in range(3):
        path = tmp_path / f"w{i}"
        vkey = init_witness(path, f"w{i}.example").verifier().vkey()
        store = WitnessStore(path)
        store.add_log(authority.origin, authority.log_vkey)
        store.close()
        out.append((serve(path), vkey))
    yield out
    for s, _ in out:
        s.stop(9)


def _run(ledger: Ledger, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--ledger", str(ledger.path)])
    failure = "" if result.exception is None else f"\nerror: {result.exception}"
    return result.exit_code, result.stdout, " ".join((result.stderr + failure).split())


def test_witnesses_from_the_command_line(
    ledger: Ledger, served: list[tuple[Served, str]], tmp_path: Path
) -> None:
    for s, vkey in served:
        code, _, said = _run(ledger, "witnesses", "add", s.url, vkey)
        assert code == 0, said
        assert "witness policy set" in said and "cosigned size" in said
    code, out, _ = _run(ledger, "witnesses", "list", "--json")
    listed = json.loads(out)
    assert listed["quorum"] == 2 and [w["key"] for w in listed["witnesses"]] == [
        v for _, v in served
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(event(i)) + "\n" for i in range(5)))
    served[0][0].stop(9)  # one down: the append goes on, the quorum of 2 still cosigns
    code, _, said = _run(ledger, "append", str(events), "--as", "insp")
    assert code == 0, said
    assert "w0.example did not cosign" in said and "w1.example: cosigned size" in said
    newest = ledger.store.size()
    code, out, _ = _run(ledger, "checkpoint")
    assert out.splitlines()[1] == str(newest) and out.count("\u2014 w") == 2
    code, _, said = _run(ledger, "witnesses", "collect")
    assert code == 0 and "w0.example did not cosign" in said  # still down; quorum held
    code, _, said = _run(ledger, "witnesses", "remove", served[0][1], "--request")
    assert code == 0
    code, out, _ = _run(ledger, "witnesses", "list")
    assert "quorum 2 of 3" in " ".join(out.split())
