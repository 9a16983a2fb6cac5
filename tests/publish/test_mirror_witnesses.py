"""`cwledger mirror` of a witnessed ledger (three witnesses running the real protocol in
process, quorum 2), published and served by a plain `python -m http.server` on 127.0.0.1:
the mirror keeps the log-signed checkpoint and every cosignature, serves the same cosigned
checkpoint, refuses a source below the quorum naming the witnesses missing, and pinned
witness keys win over the log's own policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.errors import VerificationError
from cwledger.ledger.audit import audit
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.mirror import mirror
from cwledger.ledger.publish import publish
from cwledger.store import Store
from cwledger.tlog.cosignature import CosignatureSigner
from tests.publish.helpers import grow, http_server, log_api
from tests.witness.inprocess import W1, W2, W3, LocalWitnesses, drop_cosignatures, witnessed


@pytest.fixture
def witnesses(ledger: Ledger, tmp_path: Path) -> Iterator[LocalWitnesses]:
    """`ledger` with 21 entries, then three witnesses and quorum 2 (entry 21), its newest
    checkpoint cosigned by all three."""
    grow(ledger, 0, 20)
    out = witnessed(ledger, tmp_path / "witnesses")
    yield out
    out.close()


def _drop_cosignatures(checkpoint: Path, *names: str) -> None:
    """Remove the cosignature lines of the witnesses `names` from a published checkpoint."""
    checkpoint.write_text(drop_cosignatures(checkpoint.read_text(), *names))


def _stored_cosignatures(led: Ledger) -> list[tuple[int, str, str, int, bytes]]:
    with led.store.read() as r:
        return [
            (c.checkpoint_size, c.witness, c.line, c.cosigned_at, c.chain) for c in r.cosignatures()
        ]


def _empty(path: Path) -> bool:
    store = Store.for_directory(path)
    try:
        with store.read() as r:
            return r.size() == 0 and r.newest_checkpoint() is None and not r.cosignatures()
    finally:
        store.close()


def test_a_mirror_keeps_the_cosignatures_and_serves_the_same_cosigned_checkpoint(
    ledger: Ledger, witnesses: LocalWitnesses, tmp_path: Path
) -> None:
    out, dest = tmp_path / "pub", tmp_path / "mirror"
    publish(ledger, out)
    original = ledger.latest_checkpoint()
    assert len(original.cosignatures) == 3 and original.quorum == 2
    assert (out / "checkpoint").read_text() == original.cosigned_note
    with http_server(out) as url:
        first = mirror(url, dest)
        assert not first.witnesses_pinned and first.log_quorum_met
        assert first.policy.witnesses == tuple(witnesses.vkeys) and first.policy.quorum == 2
        assert first.cosigned_by == (W1, W2, W3) and first.cosignatures_stored == 3
        grow(ledger, 100, 50)  # one more batch, cosigned by all, published
        assert all(a.cosigned for a in witnesses.collect(ledger))
        publish(ledger, out)
        second = mirror(url, dest)
        assert (second.fetched, second.cosignatures_stored) == (50, 3)
    copy = Ledger.open(dest)
    try:
        served = copy.latest_checkpoint()
        assert served.cosigned_note == ledger.latest_checkpoint().cosigned_note
        assert served.note == ledger.latest_checkpoint().note  # the log's signature only
        assert "witness-" not in served.note and served.quorum == 2
        with copy.store.read() as m, ledger.store.read() as r:
            assert [(c.size, c.note, c.quorum) for c in m.checkpoints()][-2:] == [
                (c.size, c.note, c.quorum) for c in r.checkpoints()
            ][-2:]
            assert m.witness_states().keys() == r.witness_states().keys()
            for key, state in m.witness_states().items():
                theirs = r.witness_states()[key]
                assert (state.size, state.chain, state.cosignatures) == (
                    theirs.size,
                    theirs.chain,
                    theirs.cosignatures,
                )
            assert m.cosignature_times() == r.cosignature_times()
        # the mirror saw every checkpoint the witnesses cosigned: the same chains
        assert _stored_cosignatures(copy) == _stored_cosignatures(ledger)
        assert audit(copy.store).size == served.size
        got = log_api(copy).get("/log/checkpoint")
        assert got.status_code == 200 and got.text == ledger.latest_checkpoint().cosigned_note
    finally:
        copy.close()


def test_a_source_below_the_quorum_is_refused_naming_the_witnesses_missing(
    ledger: Ledger, witnesses: LocalWitnesses, tmp_path: Path
) -> None:
    out = tmp_path / "pub"
    publish(ledger, out)
    full = (out / "checkpoint").read_text()
    _drop_cosignatures(out / "checkpoint", W2, W3)  # one of the quorum of 2 left
    with http_server(out) as url:
        with pytest.raises(VerificationError) as refused:
            mirror(url, tmp_path / "m1")
        assert "has 1 valid witness cosignatures, the policy needs 2" in str(refused.value)
        assert f"missing: {W2}, {W3}" in str(refused.value)
        assert "the witness policy the log's governance names" in str(refused.value)
        assert _empty(tmp_path / "m1")
        # pinned keys too: refused before anything is fetched
        with pytest.raises(VerificationError, match=f"missing: {W2}, {W3}"):
            mirror(url, tmp_path / "m2", witnesses=witnesses.vkeys, quorum=2)
        assert _empty(tmp_path / "m2")
        # two of three left: the quorum holds; the mirror serves exactly what was served
        (out / "checkpoint").write_text(full)
        _drop_cosignatures(out / "checkpoint", W3)
        done = mirror(url, tmp_path / "m3")
    assert done.cosigned_by == (W1, W2) and done.cosignatures_stored == 2
    copy = Ledger.open(tmp_path / "m3")
    try:
        assert copy.latest_checkpoint().cosigned_note == (out / "checkpoint").read_text()
    finally:
        copy.close()


def test_pinned_witness_keys_win_over_the_logs_policy(
    ledger: Ledger, witnesses: LocalWitnesses, tmp_path: Path
) -> None:
    out = tmp_path / "pub"
    publish(ledger, out)
    full = (out / "checkpoint").read_text()
    stranger = CosignatureSigner("witness-9.example", bytes([9]) * 32).verifier().vkey()
    w1 = witnesses.vkeys[0]
    with http_server(out) as url:
        # the log's policy is met (3 of 3), but not the pin: refused
        with pytest.raises(VerificationError, match="missing: witness-9.example"):
            mirror(url, tmp_path / "m1", witnesses=[w1, stranger], quorum=2)
        with pytest.raises(VerificationError, match="pinned keys"):
            mirror(url, tmp_path / "m1", witnesses=[w1, stranger])  # all of them, by default
        assert _empty(tmp_path / "m1")
        # one cosignature left: below the log's policy (refused unpinned), enough for a pin
        # of witness-1 alone; the mirror keeps it, but does not serve it below the log's
        # quorum (as the log itself would not)
        _drop_cosignatures(out / "checkpoint", W2, W3)
        with pytest.raises(VerificationError, match=f"missing: {W2}, {W3}"):
            mirror(url, tmp_path / "m2")
        pinned = mirror(url, tmp_path / "m2", witnesses=[w1], quorum=1)
        assert pinned.witnesses_pinned and pinned.cosigned_by == (W1,)
        assert not pinned.log_quorum_met and pinned.cosignatures_stored == 1
        copy = Ledger.open(tmp_path / "m2")
        try:
            with copy.store.read() as r:
                assert r.latest_checkpoint() is None
                newest = r.newest_checkpoint()
                assert newest is not None and newest.quorum == 2 and len(newest.cosignatures) == 1
        finally:
            copy.close()
        # the source serves the other cosignatures later: the next run takes them
        (out / "checkpoint").write_text(full)
        again = mirror(url, tmp_path / "m2", witnesses=[w1], quorum=1)
    assert (again.fetched, again.cosignatures_stored, again.log_quorum_met) == (0, 2, True)
    copy = Ledger.open(tmp_path / "m2")
    try:
        assert copy.latest_checkpoint().cosigned_note == full
        assert _stored_cosignatures(copy) == _stored_cosignatures(ledger)
    finally:
        copy.close()


def test_the_cli_takes_the_policy_and_says_when_it_is_not_pinned(
    ledger: Ledger, witnesses: LocalWitnesses, tmp_path: Path
) -> None:
    out = tmp_path / "pub"
    publish(ledger, out)
    vkey = ledger.authority().log_vkey
    assert vkey is not None
    runner = CliRunner()
    pins = [arg for w in witnesses.vkeys for arg in ("--witness", w)]
    with http_server(out) as url:
        unpinned = runner.invoke(app, ["mirror", url, str(tmp_path / "a")])
        pinned = runner.invoke(
            app, ["mirror", url, str(tmp_path / "b"), "--log-key", vkey, *pins, "--quorum", "2"]
        )
        _drop_cosignatures(out / "checkpoint", W1, W3)
        refused = runner.invoke(app, ["mirror", url, str(tmp_path / "c"), *pins])
    assert unpinned.exit_code == 0, unpinned.output
    assert "no witness keys pinned" in unpinned.output and "2 of 3 witnesses" in unpinned.output
    assert f"cosigned by {W1}, {W2}, {W3} (quorum 2)" in " ".join(unpinned.output.split())
    assert pinned.exit_code == 0, pinned.output
    assert "not pinned" not in pinned.output
    assert f"OK {ledger.latest_checkpoint().size} " in pinned.output
    assert refused.exit_code == 1
    assert isinstance(refused.exception, VerificationError)
    assert f"missing: {W1}, {W3}" in str(refused.exception)
    assert _empty(tmp_path / "c")
