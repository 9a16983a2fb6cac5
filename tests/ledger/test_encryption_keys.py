"""Encryption keys (issue 16, section 2): every founding party gets an X25519 key beside its
signing key, named in the genesis and kept 0600 in the keystore; `encryption_key.set` sets
or rotates one, by the party itself or a quorum of the founding parties, never by another
party alone; the authority keeps each key's validity by log index, and the audit replays
it. A genesis without encryption keys (every ledger before them) still verifies."""

from __future__ import annotations

import base64
import copy
import os
import pickle
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.errors import EventRejected, KeyNotFound
from cwledger.ledger.audit import AuditFailure, audit
from cwledger.ledger.authority import approved_body
from cwledger.ledger.envelope import sign_event
from cwledger.ledger.keystore import Keystore
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.sealing import open_sealed, seal
from cwledger.model.enckeys import DecryptionKey, EncryptionKey
from cwledger.model.events import Event, PartyRegisteredBody
from cwledger.store import Store, StoredEntry
from cwledger.tlog import leaf_hash
from tests.conftest import ORIGIN, estimate, event, row_counts

T = "2014-02-01T00:00:00Z"
SET = "encryption_key.set"


def _setting(party: str, key: DecryptionKey, approvals: list[dict[str, str]] | None = None) -> Any:
    body: dict[str, Any] = {"party": party, "enc_key": key.public.string()}
    if approvals is not None:
        body["approvals"] = approvals
    return {"type": SET, "id": f"enc-{party}-{key.key_id.hex()}", "time": T, "body": body}


def _approvals(ledger: Ledger, party: str, key: DecryptionKey, by: list[str]) -> Any:
    body = {"party": party, "enc_key": key.public.string()}
    return [ledger.approve(SET, body, p) for p in by]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_founding_party_gets_an_encryption_key_in_the_genesis_and_the_keystore(
    ledger: Ledger,
) -> None:
    authority = ledger.authority()
    founders = ["operator", "insp", "dec", "obs"]
    for party in founders:
        rec = authority.encryption_key(party)
        assert rec is not None and rec.added_at == 0 and rec.retired_by is None
        private = ledger.keystore.decryption_key(party)
        assert rec.key == private.public and rec.key_id == private.key_id.hex()
        ring = ledger.keystore.path / f"{party}.x25519"
        assert _mode(ring) == 0o600
        assert private.string() in ring.read_text()
    assert _mode(ledger.keystore.path) == 0o700
    # The checkpoint signer reads nothing: it has no encryption key.
    assert not ledger.keystore.has_encryption_key("checkpoint-signer")
    # What is sealed to the keys the genesis names opens with the keystore's.
    keys = {p: authority.encryption_key(p).key for p in founders}  # type: ignore[union-attr]
    sealed = seal({"site": "S-1"}, keys)
    assert open_sealed(sealed, "dec", ledger.keystore.decryption_key("dec")) == {"site": "S-1"}


def test_a_seeded_ledger_derives_the_same_encryption_keys(tmp_path: Path) -> None:
    a = Ledger.init(tmp_path / "a", ORIGIN, founding=[("dec", "declarant")], key_seed=b"s")
    b = Ledger.init(tmp_path / "b", ORIGIN, founding=[("dec", "declarant")], key_seed=b"s")
    assert a.authority().encryption_key("dec") == b.authority().encryption_key("dec")
    assert a.authority().encryption_key("dec") != a.authority().encryption_key("operator")


def test_a_party_sets_its_own_encryption_key_and_the_old_one_stays_valid_before(
    ledger: Ledger,
) -> None:
    old = ledger.keystore.decryption_key("dec")
    new = ledger.set_encryption_key("dec")
    with ledger.store.read() as r:
        at = r.size() - 1
    authority = ledger.authority()
    current = authority.encryption_key("dec")
    assert current is not None and current.key == new.public and current.added_at == at
    before = authority.encryption_key("dec", at - 1)
    assert before is not None and before.key == old.public and before.retired_by == at
    assert authority.encryption_key("dec", at + 1) == current
    # The keystore keeps both: what was sealed to the old key still opens.
    assert [k.key_id for k in ledger.keystore.encryption_keys("dec")] == [old.key_id, new.key_id]
    assert ledger.keystore.decryption_key("dec", old.key_id.hex()).secret == old.secret
    report = audit(ledger.store)
    assert report.size == at + 1


def test_another_party_cannot_set_a_partys_encryption_key(ledger: Ledger) -> None:
    """The attack: the operator installs a key it holds for `dec`, and reads from then on
    what is sealed to `dec`."""
    stolen = DecryptionKey.generate("dec")
    before = row_counts(ledger)
    for author in ("operator", "insp"):
        with pytest.raises(EventRejected) as info:
            ledger.append(ledger.sign([_setting("dec", stolen)], author))
        assert f"{author} may not set an encryption key for dec" in str(info.value)
    assert row_counts(ledger) == before
    assert ledger.authority().encryption_key("dec").key != stolen.public  # type: ignore[union-attr]


def test_a_quorum_sets_an_encryption_key_for_a_party_that_lost_its_own(ledger: Ledger) -> None:
    new = DecryptionKey.generate("dec")
    with pytest.raises(EventRejected, match="it has 1"):
        one = _approvals(ledger, "dec", new, ["insp"])
        ledger.append(ledger.sign([_setting("dec", new, one)], "operator"))
    with pytest.raises(EventRejected, match="dec is not a founding party that may approve"):
        own = _approvals(ledger, "dec", new, ["dec", "insp"])
        ledger.append(ledger.sign([_setting("dec", new, own)], "operator"))
    approvals = _approvals(ledger, "dec", new, ["operator", "obs"])
    ledger.append(ledger.sign([_setting("dec", new, approvals)], "operator"))
    assert ledger.authority().encryption_key("dec").key == new.public  # type: ignore[union-attr]
    audit(ledger.store)


def test_an_encryption_key_named_for_another_party_or_used_before_is_refused(
    ledger: Ledger,
) -> None:
    with pytest.raises(EventRejected, match="encryption key is named 'obs', want the party"):
        ledger.append(ledger.sign([_setting("dec", DecryptionKey.generate("obs"))], "dec"))
    old = ledger.keystore.decryption_key("dec")
    ledger.set_encryption_key("dec")
    with pytest.raises(EventRejected, match=f"encryption key {old.key_id.hex()} was already used"):
        ledger.append(ledger.sign([_setting("dec", old)], "dec"))
    with pytest.raises(EventRejected, match="unknown party 'nobody'"):
        ledger.append(ledger.sign([_setting("nobody", DecryptionKey.generate("nobody"))], "dec"))


def test_a_party_registered_with_an_encryption_key_has_it(ledger: Ledger) -> None:
    from cwledger.tlog.note import Signer

    signer, key = Signer.generate("venue"), DecryptionKey.generate("venue")
    body = {
        "name": "venue",
        "role": "destruction_facility",
        "key": signer.vkey(),
        "enc_key": key.public.string(),
    }
    raw = {"type": "party.registered", "id": "reg-venue", "time": T, "body": body}
    ledger.append(ledger.sign([raw], "operator"))
    assert ledger.authority().encryption_key("venue").key == key.public  # type: ignore[union-attr]
    audit(ledger.store)


def test_an_approval_of_a_registration_without_an_encryption_key_covers_what_it_did() -> None:
    """Approvals written before encryption keys sign a body without `enc_key`: it stays so."""
    from cwledger.tlog.note import Signer

    body = PartyRegisteredBody(name="late", role="observer", key=Signer.generate("late").vkey())
    assert set(approved_body("party.registered", body)) == {"name", "role", "key"}


def test_a_genesis_without_encryption_keys_still_verifies(tmp_path: Path) -> None:
    """Every ledger made before encryption keys: its genesis names none."""
    path = tmp_path / "old"
    path.mkdir()
    keystore = Keystore(path / "keys")
    operator = keystore.create("operator", "operator")
    dec = keystore.create("dec", "declarant")
    log = keystore.create("checkpoint-signer", "log", key_name=ORIGIN)
    parties = [
        {"name": "operator", "role": "operator", "key": operator.vkey()},
        {"name": "dec", "role": "declarant", "key": dec.vkey()},
    ]
    body = {"origin": ORIGIN, "log_key": log.vkey(), "parties": parties, "registrars": ["operator"]}
    genesis = Event(type="ledger.genesis", id="genesis", time=T, author="operator", body=body)
    led = Ledger(path, Store.for_directory(path), keystore)
    try:
        led.append([sign_event(genesis, operator).to_bytes()])
        led.append(led.sign([event(1, **estimate(1, "dec"))], "dec"))
        assert led.authority().encryption_key("dec") is None
        # The party sets its first encryption key later; the ledger still verifies.
        with pytest.raises(KeyNotFound):
            led.keystore.decryption_key("dec")
        new = led.set_encryption_key("dec")
        assert led.authority().encryption_key("dec").key == new.public  # type: ignore[union-attr]
        assert audit(led.store).size == 3
    finally:
        led.close()


def test_the_audit_refuses_an_encryption_key_set_behind_the_append_paths_back(
    ledger: Ledger,
) -> None:
    stolen = DecryptionKey.generate("dec")
    [forged] = ledger.sign([_setting("dec", stolen)], "operator")
    with ledger.store.write() as w:
        size = w.size()
        eid = f"enc-dec-{stolen.key_id.hex()}"
        entry = StoredEntry(size, leaf_hash(forged), eid, SET, "operator", T, forged)
        w.insert_entries([entry])
        _, tiles, present = ledger.tree(w, size).append([leaf_hash(forged)])
        w.put_tiles(tiles, present)
    with pytest.raises(AuditFailure, match="operator may not set an encryption key for dec") as e:
        audit(ledger.store)
    assert e.value.index == size


def test_cwledger_verify_replays_encryption_key_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger"
    runner = CliRunner()
    init = ["init", str(path), "--origin", ORIGIN, "--party", "dec:declarant"]
    assert runner.invoke(app, init).exit_code == 0
    led = Ledger.open(path)
    try:
        led.set_encryption_key("dec")
        led.set_encryption_key("dec")
    finally:
        led.close()
    result = runner.invoke(app, ["verify", "--ledger", str(path)])
    assert result.exit_code == 0 and result.stdout.startswith("OK"), result.output


# -- the keystore's rings ---------------------------------------------------------------


def test_a_ring_is_0600_and_added_to_atomically(tmp_path: Path) -> None:
    keystore = Keystore(tmp_path / "keys")
    first = keystore.create_encryption_key("dec")
    ring = keystore.path / "dec.x25519"
    assert _mode(ring) == 0o600 and _mode(keystore.path) == 0o700
    second = keystore.create_encryption_key("dec")
    keystore.add_encryption_key("dec", second)  # not twice
    assert [k.key_id for k in keystore.encryption_keys("dec")] == [first.key_id, second.key_id]
    assert keystore.decryption_key("dec").key_id == second.key_id
    assert _mode(ring) == 0o600
    with pytest.raises(KeyNotFound, match="no encryption key 00000000"):
        keystore.decryption_key("dec", "00000000")
    with pytest.raises(KeyNotFound, match="no encryption key for 'obs'"):
        keystore.decryption_key("obs")
    # Not a signing key file: the parties with signing keys are not changed by it.
    assert keystore.parties() == []


def test_a_full_disk_leaves_the_ring_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keystore = Keystore(tmp_path / "keys")
    first = keystore.create_encryption_key("dec")
    ring = keystore.path / "dec.x25519"
    before = ring.read_bytes()
    real = os.open

    def full(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        if flags & os.O_CREAT and Path(os.fsdecode(path)).parent == keystore.path:
            os.close(real(path, flags, mode))
            return real("/dev/full", os.O_WRONLY)
        return real(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", full)
    with pytest.raises(OSError, match="No space left on device"):
        keystore.create_encryption_key("dec")
    monkeypatch.undo()
    assert ring.read_bytes() == before
    assert not list(keystore.path.glob("*.tmp"))
    assert [k.key_id for k in keystore.encryption_keys("dec")] == [first.key_id]


def test_a_private_key_string_is_never_in_a_repr() -> None:
    key = DecryptionKey.generate("dec")
    secret64 = base64.b64encode(bytes([0x58]) + key.secret).decode()
    assert secret64 in key.string() and secret64 not in repr(key)


def test_an_encryption_key_parsed_once_is_shared_and_cannot_be_changed() -> None:
    """`EncryptionKey.from_string` hands every caller of a string one object: a caller that
    could change it would change every other's key."""
    text = DecryptionKey.generate("dec").public.string()
    key = EncryptionKey.from_string(text)
    assert EncryptionKey.from_string(text) is key
    for field in ("name", "key_id", "public_key"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(key, field, b"\x00" * 32)
        with pytest.raises(AttributeError, match="immutable"):
            delattr(key, field)
    assert key.string() == text
    for copied in (pickle.loads(pickle.dumps(key)), copy.deepcopy(key)):
        assert copied == key and copied.string() == text


def test_signing_reads_the_governance_again_once_the_log_has_grown(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Ledger.sign` replays the governance once per log size, not once per call: events
    signed one at a time before an append share one replay; after an append (here, a new
    encryption key for dec) the next signature reads the governance as it now stands."""
    replays: list[int] = []
    replay = Ledger.authority_of

    def counted(reader: Any) -> Any:
        replays.append(reader.size())
        return replay(reader)

    monkeypatch.setattr(Ledger, "authority_of", staticmethod(counted))
    first = ledger.sign([event(1)], "insp") + ledger.sign([event(2)], "dec")
    assert len(replays) == 1
    before = ledger._authority_to_sign().encryption_key("dec")
    new = ledger.set_encryption_key("dec")  # appends: the log grows
    now = ledger._authority_to_sign().encryption_key("dec")
    assert before is not None and now is not None
    assert before.key_id != now.key_id == new.public.key_id.hex()
    assert replays[0] < replays[-1]  # read again at the new size
    ledger.append(first)  # what was signed before still goes in
    audit(ledger.store)
