"""A real cwledger ledger's checkpoints, fed in order to a real witness, are cosigned; and
the `cwledger witness` commands."""

from __future__ import annotations

import stat
from pathlib import Path

from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.errors import CwledgerError
from cwledger.ledger.ledger import Ledger
from cwledger.tlog import note
from cwledger.tlog.cosignature import CosignatureVerifier, verify_cosignature
from cwledger.tlog.note import Signer
from cwledger.witness.client import add_checkpoint
from cwledger.witness.store import KEY_FILE, WitnessStore
from tests.conftest import event
from tests.witness.conftest import serve

runner = CliRunner()


def test_a_ledgers_checkpoints_fed_in_order_are_cosigned(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "witness"
    made = runner.invoke(app, ["witness", "init", str(path), "--name", "witness.example/w2"])
    assert made.exit_code == 0, made.output
    vkey = made.stdout.strip()
    again = runner.invoke(app, ["witness", "key", str(path)])
    assert again.exit_code == 0 and again.stdout.strip() == vkey
    assert stat.S_IMODE((path / KEY_FILE).stat().st_mode) == 0o600
    origin, log_vkey = ledger.authority().origin, ledger.authority().log_vkey
    assert origin is not None and log_vkey is not None
    added = runner.invoke(
        app, ["witness", "add-log", str(path), "--origin", origin, "--vkey", log_vkey]
    )
    assert added.exit_code == 0, added.output
    verifier = CosignatureVerifier.from_vkey(vkey)
    served = serve(path)
    try:
        old, n = 0, 0
        for batch in (1, 3, 1, 7, 2):
            ledger.append(ledger.sign([event(n + i) for i in range(batch)], "insp"))
            n += batch
            cp = ledger.latest_checkpoint()
            proof = [] if old == 0 else ledger.prove_consistency(old, cp.size)["proof"]
            lines = add_checkpoint(
                served.url, old, [bytes.fromhex(h) for h in proof], cp.note.encode()
            )
            text = cp.note.split("\n\n")[0] + "\n"
            assert len(lines) == 1 and verify_cosignature(verifier, text, lines[0]) is not None
            cosigned = note.open((cp.note + lines[0] + "\n").encode(), [verifier])
            assert [s.name for s in cosigned.sigs] == ["witness.example/w2"]
            old = cp.size
    finally:
        served.stop(9)
    store = WitnessStore(path)
    latest = store.latest(origin)
    store.close()
    assert latest is not None and (latest.size, latest.root_hash) == (
        cp.size,
        cp.root_hash,
    )


def fails(*args: str) -> str:
    """The command's error: a CwledgerError (`main` prints it as one line and exits 1)."""
    result = runner.invoke(app, list(args))
    assert isinstance(result.exception, CwledgerError), result.output
    return " ".join(result.exception.diagnostics().split())


def test_the_commands_refuse_clearly(tmp_path: Path) -> None:
    path = tmp_path / "w"
    assert runner.invoke(app, ["witness", "init", str(path), "--name", "w"]).exit_code == 0
    key = (path / KEY_FILE).read_bytes()
    assert "already holds a witness" in fails("witness", "init", str(path), "--name", "x")
    assert (path / KEY_FILE).read_bytes() == key  # not overwritten
    assert "no witness" in fails("witness", "key", str(tmp_path / "nothing"))
    assert "name" in fails("witness", "init", str(tmp_path / "v"), "--name", "a+b")
    assert "vkey" in fails("witness", "add-log", str(path), "--origin", "o", "--vkey", "x+y+z")
    witness_key = runner.invoke(app, ["witness", "key", str(path)]).stdout.strip()
    as_log = fails("witness", "add-log", str(path), "--origin", "o", "--vkey", witness_key)
    assert "0x04" in as_log
    log_key = Signer.generate("o").verifier().vkey()
    assert "origin" in fails("witness", "add-log", str(path), "--origin", "", "--vkey", log_key)
    store = WitnessStore(path)
    assert store.trusted() == {}
    store.close()
