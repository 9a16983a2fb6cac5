"""No party installs a key for another (issue 13, item 2): a key is rotated by its party with
its current key, or installed by a quorum of the founding parties; the operator may revoke
a key but never replace it; a role some party holds is registered only with the quorum.
The audit replays the same rules: an entry that slipped past them fails `cwledger verify`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cwledger.errors import EventRejected
from cwledger.ledger.admission import authorise, decode_entry
from cwledger.ledger.audit import AuditFailure, audit
from cwledger.ledger.envelope import sign_event
from cwledger.ledger.ledger import Ledger
from cwledger.model.events import Event
from cwledger.store import StoredEntry
from cwledger.tlog import leaf_hash
from cwledger.tlog.note import Signer
from tests.conftest import FOUNDING, ORIGIN, event, row_counts

T = "2014-02-01T00:00:00Z"


def _rotation(party: str, key: Signer, approvals: list[dict[str, str]] | None = None) -> Any:
    body: dict[str, Any] = {"party": party, "key": key.vkey()}
    if approvals is not None:
        body["approvals"] = approvals
    return {"type": "key.rotated", "id": f"rot-{key.key_id.hex()}", "time": T, "body": body}


def _revocation(ledger: Ledger, party: str) -> dict[str, Any]:
    kid = ledger.keystore.signer(party).key_id.hex()
    body = {"party": party, "key_id": kid, "reason": "key lost"}
    return {"type": "key.revoked", "id": f"rev-{kid}", "time": T, "body": body}


def _as(party: str, key: Signer, raw: dict[str, Any]) -> bytes:
    return sign_event(Event.model_validate({"author": party, **raw}), key).to_bytes()


def _approvals(ledger: Ledger, party: str, key: Signer, by: list[str]) -> list[dict[str, str]]:
    body = {"party": party, "key": key.vkey()}
    return [ledger.approve("key.rotated", body, p) for p in by]


def test_the_operator_cannot_rotate_a_declarants_key_to_one_it_holds(ledger: Ledger) -> None:
    """The attack: the registrar installs a key it holds for `dec`, then writes as `dec`."""
    stolen = Signer.generate("dec")  # held by the operator
    before = row_counts(ledger)
    with pytest.raises(EventRejected) as info:
        ledger.append(ledger.sign([_rotation("dec", stolen)], "operator"))
    message = str(info.value)
    assert "operator may not install a key for dec" in message
    assert "needs the approvals of 2 of the founding parties operator, insp, obs" in message
    assert row_counts(ledger) == before
    with pytest.raises(EventRejected, match="dec has no key"):
        ledger.append([_as("dec", stolen, event(1))])


def test_another_party_cannot_rotate_a_key_either(ledger: Ledger) -> None:
    with pytest.raises(EventRejected, match="insp may not install a key for dec"):
        ledger.append(ledger.sign([_rotation("dec", Signer.generate("dec"))], "insp"))


def test_a_party_rotates_its_own_key(ledger: Ledger) -> None:
    new = Signer.generate("dec")
    ledger.append(ledger.sign([_rotation("dec", new)], "dec"))
    [r] = ledger.append([_as("dec", new, event(2))])
    assert not r.duplicate
    audit(ledger.store)


def test_operator_revokes_then_a_quorum_installs_and_the_party_writes_again(
    ledger: Ledger,
) -> None:
    ledger.append(ledger.sign([_revocation(ledger, "dec")], "operator"))
    with pytest.raises(EventRejected, match="was revoked by entry"):
        ledger.append(ledger.sign([event(3)], "dec"))
    new = Signer.generate("dec")
    # The revoked key cannot install its successor.
    with pytest.raises(EventRejected, match="was revoked by entry"):
        ledger.append(ledger.sign([_rotation("dec", new)], "dec"))
    # One approval is not a quorum (2 of operator, insp, obs).
    with pytest.raises(EventRejected, match="it has 1"):
        ledger.append(
            ledger.sign(
                [_rotation("dec", new, _approvals(ledger, "dec", new, ["insp"]))], "operator"
            )
        )
    approvals = _approvals(ledger, "dec", new, ["operator", "obs"])
    ledger.append(ledger.sign([_rotation("dec", new, approvals)], "operator"))
    [r] = ledger.append([_as("dec", new, event(4))])
    assert not r.duplicate
    report = audit(ledger.store)
    assert report.size == r.index + 1


def test_a_lost_key_is_replaced_by_the_quorum_without_revocation(ledger: Ledger) -> None:
    new = Signer.generate("insp")
    approvals = _approvals(ledger, "insp", new, ["dec", "obs"])
    ledger.append(ledger.sign([_rotation("insp", new, approvals)], "obs"))
    with pytest.raises(EventRejected, match="was rotated by entry"):
        ledger.append(ledger.sign([event(5)], "insp"))  # the lost key
    ledger.append([_as("insp", new, event(5))])
    audit(ledger.store)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("the party itself", "dec is not a founding party that may approve this"),
        ("twice", "obs approves twice"),
        ("not founding", "late is not a founding party"),
        ("forged", "the approval of obs does not verify with its key"),
        ("other key", "the approval of obs does not verify with its key"),
        ("other ledger", "the approval of obs does not verify with its key"),
        ("unknown key", "obs has no valid key 00000000"),
    ],
)
def test_approvals_that_do_not_count(
    ledger: Ledger, tmp_path: Path, case: str, message: str
) -> None:
    new = Signer.generate("dec")
    good = _approvals(ledger, "dec", new, ["insp", "obs"])
    bad = dict(good[1])
    if case == "the party itself":
        bad = _approvals(ledger, "dec", new, ["dec"])[0]
    elif case == "twice":
        bad = dict(good[1])
        good = [good[1]]
    elif case == "not founding":
        bad = {**bad, "party": "late"}
    elif case == "forged":
        bad["sig"] = "A" * 86 + "=="
    elif case == "other key":  # an approval of another key for the same party
        bad = _approvals(ledger, "dec", Signer.generate("dec"), ["obs"])[0]
    elif case == "other ledger":  # the same act approved in a ledger of another origin
        other = Ledger.init(tmp_path / "other", "example.org/other", founding=[("obs", "observer")])
        other.keystore.add("obs", "observer", ledger.keystore.signer("obs"))
        bad = other.approve("key.rotated", {"party": "dec", "key": new.vkey()}, "obs")
    elif case == "unknown key":
        bad["keyid"] = "00000000"
    with pytest.raises(EventRejected, match=message):
        ledger.append(ledger.sign([_rotation("dec", new, [good[0], bad])], "operator"))


def test_the_genesis_may_set_the_quorum(tmp_path: Path) -> None:
    led = Ledger.init(
        tmp_path / "l",
        ORIGIN,
        founding=[("a", "declarant"), ("b", "inspectorate"), ("c", "observer")],
        quorum=3,
    )
    new = Signer.generate("a")
    with pytest.raises(EventRejected, match="needs the approvals of 3 .* it has 2"):
        led.append(led.sign([_rotation("a", new, _approvals(led, "a", new, ["b", "c"]))], "b"))
    approvals = _approvals(led, "a", new, ["operator", "b", "c"])
    led.append(led.sign([_rotation("a", new, approvals)], "b"))
    assert audit(led.store).keys == 5


def test_a_quorum_no_founding_party_set_can_meet_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EventRejected, match="a quorum of 2 cannot be met"):
        Ledger.init(tmp_path / "l", ORIGIN, founding=[("a", "declarant")], quorum=2)


def test_the_operator_may_register_a_new_role_but_not_a_second_holder_of_one(
    ledger: Ledger,
) -> None:
    witness = Signer.generate("wit")
    register = {
        "type": "party.registered",
        "id": "reg-wit",
        "time": T,
        "body": {"name": "wit", "role": "witness", "key": witness.vkey()},
    }
    ledger.append(ledger.sign([register], "operator"))
    dec2 = Signer.generate("dec2")
    body = {"name": "dec2", "role": "declarant", "key": dec2.vkey()}
    second = {"type": "party.registered", "id": "reg-dec2", "time": T, "body": body}
    with pytest.raises(EventRejected, match="role declarant is already held by dec"):
        ledger.append(ledger.sign([second], "operator"))
    approvals = [ledger.approve("party.registered", body, p) for p in ("insp", "dec", "obs")]
    second["body"] = {**body, "approvals": approvals}
    ledger.append(ledger.sign([second], "operator"))
    audit(ledger.store)


def test_the_audit_refuses_a_rotation_that_bypassed_the_rules(ledger: Ledger) -> None:
    """A registrar's rotation of another party's key stored behind the append path's back
    (as an operator with database access could): `cwledger verify` names it."""
    stolen = Signer.generate("dec")
    [forged] = ledger.sign([_rotation("dec", stolen)], "operator")
    with ledger.store.write() as w:
        size = w.size()
        eid = f"rot-{stolen.key_id.hex()}"
        entry = StoredEntry(size, leaf_hash(forged), eid, "key.rotated", "operator", T, forged)
        w.insert_entries([entry])
        _, tiles, present = ledger.tree(w, size).append([leaf_hash(forged)])
        w.put_tiles(tiles, present)
    with pytest.raises(AuditFailure, match="operator may not install a key for dec") as info:
        audit(ledger.store)
    assert info.value.index == size


def test_the_audit_refuses_an_old_key_after_entries_it_signed_when_valid(
    ledger: Ledger,
) -> None:
    """The audit judges a domain entry like the ones before it only while no governance
    entry has changed the authority: after `insp` rotates its key, an entry signed with the
    old one, stored behind the append path's back, is named, though the same author, type
    and key passed just before."""
    ledger.append(ledger.sign([event(n) for n in range(1, 4)], "insp"))
    [old] = ledger.sign([event(9)], "insp")  # signed while the key is valid
    ledger.append(ledger.sign([_rotation("insp", Signer.generate("insp"))], "insp"))
    audit(ledger.store)
    with ledger.store.write() as w:
        size = w.size()
        planted = StoredEntry(
            size, leaf_hash(old), "ev-000009", "estimate.recorded", "insp", event(9)["time"], old
        )
        ledger.write_entries(w, size, [planted], ORIGIN)
    with pytest.raises(AuditFailure, match="was rotated by entry") as info:
        audit(ledger.store)
    assert info.value.index == size


@pytest.fixture(scope="module")
def founded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """A ledger of four founding parties, only read (the checks are pure)."""
    led = Ledger.init(tmp_path_factory.mktemp("founded") / "l", ORIGIN, founding=FOUNDING)
    yield led
    led.close()


FOUNDERS = ["operator", *(name for name, _ in FOUNDING)]


@given(
    author=st.sampled_from(FOUNDERS),
    party=st.sampled_from(FOUNDERS),
    approvers=st.lists(st.sampled_from(FOUNDERS), unique=True),
)
def test_a_rotation_is_admitted_exactly_when_its_party_or_a_quorum_signs_it(
    founded: Ledger, author: str, party: str, approvers: list[str]
) -> None:
    """Whoever sends it: by the party itself (no approvals), or with the approvals of a
    majority (2) of the three founding parties other than the party; nothing else."""
    new = Signer.generate(party)
    approvals = _approvals(founded, party, new, approvers) if approvers else None
    [data] = founded.sign([_rotation(party, new, approvals)], author)
    authority = founded.authority()
    with founded.store.read() as r:
        size = r.size()
    _, problems = authorise(decode_entry(data), authority, size)
    own = author == party and not approvers
    quorum = party not in approvers and len(approvers) >= 2
    assert (not problems) == (own or quorum), problems
