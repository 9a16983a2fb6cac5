"""`cwledger monitor` of a witnessed ledger's published directory (three witnesses running
the real protocol in process, quorum 2), served by a plain `python -m http.server`: the
checkpoint the ledger serves, with its cosignatures, meets the quorum; one served without
enough cosignatures raises the quorum alarm naming the witnesses missing."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.publish import publish
from tests.publish.helpers import grow, http_server
from tests.witness.inprocess import W1, W2, W3, drop_cosignatures, witnessed


def test_a_monitor_checks_the_cosigned_checkpoints_a_ledger_publishes(
    ledger: Ledger, tmp_path: Path
) -> None:
    grow(ledger, 0, 20)
    witnesses = witnessed(ledger, tmp_path / "witnesses")
    out, state = tmp_path / "pub", tmp_path / "state"
    vkey = ledger.authority().log_vkey
    assert vkey is not None
    pins = ["--log-key", vkey, *[a for w in witnesses.vkeys for a in ("--witness", w)]]
    runner = CliRunner()
    try:
        publish(ledger, out)
        with http_server(out) as url:
            seen = runner.invoke(
                app, ["monitor", url, "--state", str(state), *pins, "--quorum", "2"]
            )
            assert seen.exit_code == 0, seen.output
            said = " ".join(seen.output.split())
            assert f"cosigned by {W1}, {W2}, {W3}" in said
            assert f"OK {ledger.latest_checkpoint().size} " in said
            assert (state / "checkpoint").read_text() == ledger.latest_checkpoint().cosigned_note

            # the log grows; the new checkpoint is served with one cosignature of the two
            grow(ledger, 100, 30)
            assert all(a.cosigned for a in witnesses.collect(ledger))
            publish(ledger, out)
            served = out / "checkpoint"
            served.write_text(drop_cosignatures(served.read_text(), W2, W3))
            alarm = runner.invoke(
                app, ["monitor", url, "--state", str(state), *pins, "--quorum", "2"]
            )
            assert alarm.exit_code == 2, alarm.output
            said = " ".join(alarm.output.split())
            assert "ALARM (quorum)" in said
            assert (
                f"has 1 valid witness cosignatures, the policy needs 2; missing: {W2}, {W3}" in said
            )
            assert (state / "checkpoint").read_text() != (out / "checkpoint").read_text()
            assert (
                state / "evidence" / f"quorum-{ledger.latest_checkpoint().size}.checkpoint"
            ).is_file()

            # the whole cosigned checkpoint served again: consistent with the one seen
            publish(ledger, tmp_path / "again")
            (out / "checkpoint").write_bytes((tmp_path / "again" / "checkpoint").read_bytes())
            grown = runner.invoke(
                app, ["monitor", url, "--state", str(state), *pins, "--quorum", "2"]
            )
            assert grown.exit_code == 0, grown.output
            assert (state / "checkpoint").read_text() == ledger.latest_checkpoint().cosigned_note
    finally:
        witnesses.close()
