"""A party's mandate (issue 14, item 7): an event dated outside it is refused at admission,
with its reason, and nothing is written; the audit replays the same rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from cwledger.errors import EventRejected
from cwledger.ledger.audit import AuditFailure, audit
from cwledger.ledger.ledger import Ledger
from cwledger.store import StoredEntry
from cwledger.tlog import leaf_hash
from cwledger.tlog.note import Signer
from tests.conftest import ORIGIN, estimate, row_counts


def _estimate(n: int, time: str, party: str = "jm") -> dict[str, object]:
    body = estimate(n, party)
    return {"type": "estimate.recorded", "id": f"est-{n}", "time": time, "body": body}


@pytest.fixture
def mission(tmp_path: Path) -> Ledger:
    return Ledger.init(
        tmp_path / "l",
        ORIGIN,
        founding=[("insp", "inspectorate"), ("jm", "inspectorate"), ("dec", "declarant")],
        time="2013-09-14T00:00:00Z",
        mandates={"jm": ("2013-10-16T00:00:00Z", "2014-10-01T00:00:00Z")},
    )


def test_a_party_writes_inside_its_mandate_and_not_outside(mission: Ledger) -> None:
    mission.append(mission.sign([_estimate(1, "2014-09-30T23:59:59Z")], "jm"))
    before = row_counts(mission)
    with pytest.raises(EventRejected) as late:
        mission.append(mission.sign([_estimate(2, "2016-01-04T18:00:00Z")], "jm"))
    assert (
        "the mandate of jm ended at 2014-10-01T00:00:00Z; this event is dated "
        "2016-01-04T18:00:00Z" in str(late.value)
    )
    with pytest.raises(EventRejected, match="jm may write from 2013-10-16T00:00:00Z"):
        mission.append(mission.sign([_estimate(3, "2013-10-15T10:00:00Z")], "jm"))
    assert row_counts(mission) == before
    # A party without a mandate writes at any time; the audit replays the same rule.
    mission.append(mission.sign([_estimate(4, "2016-01-04T18:00:00Z", "insp")], "insp"))
    audit(mission.store)
    mission.close()


def test_the_audit_names_an_entry_outside_the_mandate_after_many_inside(
    mission: Ledger,
) -> None:
    """The audit judges the domain entries like the ones before them once the authority
    has not changed, but each entry's time anew: an entry planted behind the append path,
    dated after the mandate ended, is named, after a batch of the same author's, type and
    key inside it."""
    mission.append(mission.sign([_estimate(n, "2014-09-30T23:59:59Z") for n in range(5)], "jm"))
    audit(mission.store)
    at = "2016-01-04T18:00:00Z"
    (late,) = mission.sign([_estimate(9, at)], "jm")
    with mission.store.write() as w:
        size = w.size()
        planted = StoredEntry(size, leaf_hash(late), "est-9", "estimate.recorded", "jm", at, late)
        mission.write_entries(w, size, [planted], ORIGIN)
    with pytest.raises(AuditFailure, match="the mandate of jm ended at 2014-10-01") as info:
        audit(mission.store)
    assert info.value.index == size
    mission.close()


def test_the_mandate_is_in_the_genesis_only_where_there_is_one(mission: Ledger) -> None:
    parties = {p.name: p for p in mission.authority().parties.values()}
    assert (parties["jm"].mandate_from, parties["jm"].mandate_until) == (
        "2013-10-16T00:00:00Z",
        "2014-10-01T00:00:00Z",
    )
    assert (parties["insp"].mandate_from, parties["insp"].mandate_until) == (None, None)
    mission.close()


def test_a_registered_party_has_its_mandate(mission: Ledger) -> None:
    key = Signer.generate("venue")
    body = {
        "name": "venue",
        "role": "destruction_facility",
        "key": key.vkey(),
        "mandate_from": "2014-06-01T00:00:00Z",
    }
    register = {"type": "party.registered", "id": "reg", "time": "2014-05-01T00:00:00Z"}
    mission.append(mission.sign([{**register, "body": body}], "operator"))
    assert mission.authority().parties["venue"].mandate_from == "2014-06-01T00:00:00Z"
    mission.close()


def test_a_mandate_must_end_after_it_begins(tmp_path: Path) -> None:
    with pytest.raises(EventRejected, match="a mandate must end after it begins"):
        Ledger.init(
            tmp_path / "l",
            ORIGIN,
            founding=[("jm", "inspectorate")],
            mandates={"jm": ("2014-10-01T00:00:00Z", "2013-10-16T00:00:00Z")},
        )
