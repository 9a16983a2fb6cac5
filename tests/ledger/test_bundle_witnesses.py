"""Bundles of a witnessed ledger (three witnesses running the real protocol in process,
quorum 2, set by a `witness.policy` the founding parties approved), written by `cwledger
bundle` and `report --bundle`: they carry the ledger's policy and its cosigned checkpoint,
check with pinned keys, and fail on a cosignature missing below the quorum (naming the
witness), on an extra one by an unknown key (when the policy is the file's), and on every
single-byte change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.ledger.bundle import UNPINNED_LOG_KEY, BundleInvalid, check_bundle
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.ledger import Ledger
from cwledger.model.events import WitnessEntry, WitnessPolicyBody, is_majority
from cwledger.tlog.cosignature import CosignatureSigner
from tests.conftest import FOUNDING, ORIGIN, event
from tests.witness.inprocess import (
    W1,
    W2,
    W3,
    drop_cosignatures,
    local_witnesses,
    set_policy,
    witnessed,
)

runner = CliRunner()
STRANGER = CosignatureSigner("witness-9.example", bytes([9]) * 32)


@dataclass(frozen=True)
class Witnessed:
    """A witnessed ledger's directory, its bundle of entries 3 and 5, and its keys."""

    path: Path
    bundle: bytes
    log_vkey: str
    witnesses: list[str]
    cosigned_note: str

    def pins(self, quorum: int | None = 2) -> dict[str, Any]:
        return {"log_vkey": self.log_vkey, "witness_vkeys": self.witnesses, "quorum": quorum}


@pytest.fixture(scope="module")
def witnessed_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witnessed]:
    root = tmp_path_factory.mktemp("witnessed")
    led = Ledger.init(root / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    witnesses = None
    try:
        led.append(led.sign([event(i) for i in range(6)], "insp"))
        witnesses = witnessed(led, root / "witnesses")
        out = root / "bundle.json"
        done = runner.invoke(
            app, ["bundle", "--entries", "3,5", "--out", str(out), "--ledger", str(led.path)]
        )
        assert done.exit_code == 0, done.output
        vkey = led.authority().log_vkey
        assert vkey is not None
        yield Witnessed(
            led.path,
            out.read_bytes(),
            vkey,
            witnesses.vkeys,
            led.latest_checkpoint().cosigned_note,
        )
    finally:
        if witnesses is not None:
            witnesses.close()
        led.close()


def _with_checkpoint(data: bytes, note: str) -> bytes:
    doc = json.loads(data)
    doc["checkpoint"] = note
    return canonical_json(doc) + b"\n"


def _id(name: str, witnesses: list[str]) -> str:
    """A witness's name+keyid, as the checker names it."""
    vkey = next(w for w in witnesses if w.startswith(name + "+"))
    return "+".join(vkey.split("+")[:2])


def test_a_witnessed_ledgers_bundle_carries_its_policy_and_cosigned_checkpoint(
    witnessed_ledger: Witnessed,
) -> None:
    w = witnessed_ledger
    doc = json.loads(w.bundle)
    assert doc["witness_vkeys"] == w.witnesses and doc["quorum"] == 2
    assert doc["checkpoint"] == w.cosigned_note and w.cosigned_note.count("\n— witness-") == 3
    result = check_bundle(w.bundle, **w.pins())
    assert result.warnings == []
    assert result.cosigned_by == [_id(n, w.witnesses) for n in (W1, W2, W3)]
    assert (result.quorum, result.witnesses) == (2, 3)
    assert [e.index for e in result.entries if not e.governance] == [3, 5]
    # the policy from the file checks too, said plainly
    unpinned = check_bundle(w.bundle)
    assert UNPINNED_LOG_KEY in unpinned.warnings and len(unpinned.warnings) == 2


def test_the_cli_checks_it_with_the_keys_pinned(
    witnessed_ledger: Witnessed, tmp_path: Path
) -> None:
    w = witnessed_ledger
    file = tmp_path / "b.json"
    file.write_bytes(w.bundle)
    pins = ["--log-key", w.log_vkey, *[a for k in w.witnesses for a in ("--witness", k)]]
    done = runner.invoke(app, ["check-bundle", str(file), *pins, "--quorum", "2"])
    assert done.exit_code == 0, done.output
    assert "3 of 3 witnesses cosigned (quorum 2)" in " ".join(done.output.split())
    assert "warning" not in done.output
    file.write_bytes(_with_checkpoint(w.bundle, drop_cosignatures(w.cosigned_note, W2, W3)))
    failed = runner.invoke(app, ["check-bundle", str(file), *pins, "--quorum", "2"])
    assert failed.exit_code == 1
    said = " ".join(failed.output.split())
    assert "1 valid cosignatures, quorum 2" in said
    assert f"missing {_id(W2, w.witnesses)}, {_id(W3, w.witnesses)}" in said


def test_a_cosignature_missing_below_the_quorum_fails_naming_the_witness(
    witnessed_ledger: Witnessed,
) -> None:
    w = witnessed_ledger
    one_less = _with_checkpoint(w.bundle, drop_cosignatures(w.cosigned_note, W3))
    # two of three left: the quorum of 2 holds, from the file and pinned
    assert len(check_bundle(one_less).cosigned_by) == 2
    assert len(check_bundle(one_less, **w.pins()).cosigned_by) == 2
    # a pinned quorum of 3: one line removed is one too few
    with pytest.raises(BundleInvalid, match=f"2 valid cosignatures, quorum 3; missing {W3}\\+"):
        check_bundle(one_less, **w.pins(quorum=3))
    with pytest.raises(BundleInvalid, match=f"2 valid cosignatures, quorum 3; missing {W3}\\+"):
        check_bundle(one_less, **w.pins(quorum=None))  # pinned witnesses: all of them
    two_less = _with_checkpoint(w.bundle, drop_cosignatures(w.cosigned_note, W1, W3))
    for pins in ({}, w.pins()):
        with pytest.raises(BundleInvalid) as failed:
            check_bundle(two_less, **pins)
        assert f"1 valid cosignatures, quorum 2; missing {_id(W1, w.witnesses)}, " in str(
            failed.value
        )
        assert _id(W3, w.witnesses) in str(failed.value)


def test_an_extra_cosignature_by_an_unknown_key(witnessed_ledger: Witnessed) -> None:
    w = witnessed_ledger
    text = w.cosigned_note.split("\n\n")[0] + "\n"
    stranger = STRANGER.cosign(text, 1_700_000_000) + "\n"
    extra = _with_checkpoint(w.bundle, w.cosigned_note + stranger)
    # the policy from the file is the whole list: a line by anyone else is refused
    with pytest.raises(BundleInvalid, match="witness-9.example.*a key the bundle does not name"):
        check_bundle(extra)
    # pinned keys: ignored, and said
    result = check_bundle(extra, **w.pins())
    assert len(result.cosigned_by) == 3
    assert result.warnings == [
        f"ignored a signature by witness-9.example+{STRANGER.key_id.hex()}, a key not pinned"
    ]
    # an extra line does not make up for a missing one: below the quorum still fails
    short = drop_cosignatures(w.cosigned_note, W2, W3) + stranger
    with pytest.raises(BundleInvalid, match="1 valid cosignatures, quorum 2"):
        check_bundle(_with_checkpoint(w.bundle, short), **w.pins())


def test_every_single_byte_change_of_the_cosigned_checkpoint_fails(
    witnessed_ledger: Witnessed,
) -> None:
    data = witnessed_ledger.bundle
    check_bundle(data)
    start = data.index(b'"checkpoint":"') + len(b'"checkpoint":"')
    end = data.index(b'"', start)
    assert end - start > len(witnessed_ledger.cosigned_note) - 10  # the note (\n escaped)
    for at in range(start - 2, end + 2):
        for mask in (0x01, 0x20):
            changed = bytearray(data)
            changed[at] ^= mask
            with pytest.raises(BundleInvalid):
                check_bundle(bytes(changed))


@settings(max_examples=800, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_single_byte_change_of_a_witnessed_bundle_fails(
    witnessed_ledger: Witnessed, data: st.DataObject
) -> None:
    bundle = witnessed_ledger.bundle
    at = data.draw(st.integers(0, len(bundle) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda v: v != bundle[at]), label="byte")
    changed = bytearray(bundle)
    changed[at] = value
    with pytest.raises(BundleInvalid):
        check_bundle(bytes(changed))


def test_report_bundle_carries_the_cosignatures(
    witnessed_ledger: Witnessed, tmp_path: Path
) -> None:
    w = witnessed_ledger
    report = tmp_path / "r.md"
    done = runner.invoke(
        app,
        ["report", "--from", "2014-01-01", "--to", "2014-01-31", "--format", "md"]
        + ["--out", str(report), "--bundle", "--ledger", str(w.path)],
    )
    assert done.exit_code == 0, done.output
    data = (tmp_path / "r.bundle.json").read_bytes()
    doc = json.loads(data)
    assert doc["checkpoint"] == w.cosigned_note
    assert (doc["witness_vkeys"], doc["quorum"]) == (w.witnesses, 2)
    assert len(check_bundle(data, **w.pins()).cosigned_by) == 3


def test_the_bundle_and_the_ledger_hold_a_quorum_to_one_rule(witnessed_ledger: Witnessed) -> None:
    """A quorum the ledger's `witness.policy` refuses is one a bundle's file refuses, and
    the other way round: a majority of the witnesses, no more than all."""
    doc = json.loads(witnessed_ledger.bundle)
    for n in range(1, 4):
        keys = witnessed_ledger.witnesses[:n]
        for k in range(0, n + 1):
            try:
                WitnessPolicyBody(
                    witnesses=[
                        WitnessEntry(url=f"http://w{i}.example", key=v) for i, v in enumerate(keys)
                    ],
                    quorum=k,
                )
                ledger_takes = True
            except ValidationError:
                ledger_takes = False
            doc["witness_vkeys"], doc["quorum"] = keys, k
            try:
                check_bundle(canonical_json(doc) + b"\n")
                majority = True
            except BundleInvalid as e:
                majority = "not a majority" not in str(e)
            assert ledger_takes == majority == is_majority(k, n), (n, k)


def test_a_bundle_names_the_policy_its_checkpoint_was_cosigned_under(
    ledger: Ledger, tmp_path: Path
) -> None:
    """A new policy not yet cosigned for (its checkpoint lacks its quorum) does not apply to
    the checkpoint served: the bundle names the witnesses that cosigned that one."""
    ledger.append(ledger.sign([event(i) for i in range(6)], "insp"))
    old = witnessed(ledger, tmp_path / "old")
    new = local_witnesses(tmp_path / "new", ledger, 3)  # same names, other keys
    try:
        set_policy(ledger, new.witnesses, 3)
        served = ledger.latest_checkpoint()
        with ledger.store.read() as r:
            newest = r.newest_checkpoint()
        assert newest is not None and newest.size > served.size and newest.quorum == 3
        out = tmp_path / "b.json"
        done = runner.invoke(
            app, ["bundle", "--entries", "3", "--out", str(out), "--ledger", str(ledger.path)]
        )
        assert done.exit_code == 0, done.output
        doc = json.loads(out.read_bytes())
        assert (doc["witness_vkeys"], doc["quorum"]) == (old.vkeys, 2)
        assert doc["checkpoint"] == served.cosigned_note
        assert len(check_bundle(out.read_bytes()).cosigned_by) == 3
    finally:
        old.close()
        new.close()
