"""Who reads a sealed payload (issue 16): named recipients, a recipient added later
(`payload.shared`), a rotated encryption key, and `verify --as PARTY` with a party's own
keys. Real confidential ledgers; every refusal writes nothing."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cwledger.cli import app
from cwledger.errors import EventRejected, MalformedInput, NotEntitled, Problem, SealBroken
from cwledger.ledger.audit import audit
from cwledger.ledger.envelope import sign_event
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.reading import read_as, verify_as
from cwledger.ledger.sealing import check_boxes, open_sealed, opening, reseal, seal
from cwledger.ledger.sharing import share_box, shared_boxes, shared_part
from cwledger.model.events import PARTY_REGISTERED, PAYLOAD_SHARED, Event
from tests.book.builders import Book, site
from tests.conftest import ORIGIN, row_counts


def _register(led: Ledger, name: str, role: str, *, enc: bool = True) -> None:
    """Register a party after the genesis (with the founders' approvals when its role is
    held already), with an encryption key unless `enc` is false."""
    signer = led.keystore.create(name, role)
    body: dict[str, Any] = {"name": name, "role": role, "key": signer.vkey()}
    if enc:
        body["enc_key"] = led.keystore.create_encryption_key(name).public.string()
    held = any(p.role == role for p in led.authority().parties.values())
    approvals = (
        [led.approve(PARTY_REGISTERED, body, p) for p in ("operator", "insp", "dec")]
        if held
        else []
    )
    led.submit_approved(PARTY_REGISTERED, body, approvals, "operator")


def _payload(led: Ledger, index: int) -> dict[str, Any]:
    with led.store.read() as r:
        [e] = r.entries(index, index + 1)
    payload: dict[str, Any] = json.loads(base64.b64decode(json.loads(e.envelope)["payload"]))
    return payload


def _signed(led: Ledger, n: int, type_: str, body: dict[str, Any], author: str) -> bytes:
    raw = {"type": type_, "id": f"r{n:04d}", "time": "2014-01-05T12:00:00Z", "body": body}
    ev = Event.model_validate({"author": author, **raw})
    return sign_event(ev, led.keystore.signer(author)).to_bytes()


def _refused(led: Ledger, envelopes: list[bytes]) -> list[Problem]:
    before = row_counts(led)
    with pytest.raises(EventRejected) as e:
        led.append(envelopes)
    assert row_counts(led) == before
    return e.value.problems


def _sealed_to(led: Ledger, hidden: dict[str, Any], to: list[str]) -> dict[str, Any]:
    authority = led.authority()
    keys = {p: rec.key for p in to if (rec := authority.encryption_key(p)) is not None}
    return seal(hidden, keys)


# -- named recipients ------------------------------------------------------------------------


def test_a_named_recipient_is_in_the_body_and_has_a_box(conf: Ledger) -> None:
    _register(conf, "insp2", "inspectorate")
    ev = Book(conf).event("site.declared", {"site": site("S-1")}, author="dec")
    del ev["author"]
    [r] = conf.append(conf.sign([ev], "dec", ["insp2"]))
    body = _payload(conf, r.index)["body"]
    assert body["recipients"] == ["insp2"]
    assert "insp2" in [b["to"] for b in body["sealed"]["boxes"]]
    key = conf.keystore.decryption_key("insp2")
    assert open_sealed(body["sealed"], "insp2", key)["site"]["id"] == "S-1"
    assert audit(conf.store).sealed == 1  # without keys: the named box is present


def test_naming_lifts_a_party_cleared_below_the_part_to_read_it(conf: Ledger) -> None:
    """A destruction facility (cleared to protected) reads an inspection's closing
    (highly-protected) only when the event names it: then it has a box and opens it."""
    _register(conf, "fac", "destruction_facility")
    b = Book(conf)
    _two_sites(conf, b)
    b.append("inspection.opened", {"inspection": "IN-1", "site": "S-1", "kind": "routine"})
    plain = b.append("inspection.closed", {"inspection": "IN-1", "summary": "done"})
    assert "fac" not in [x["to"] for x in _payload(conf, plain.index)["body"]["sealed"]["boxes"]]
    b.append("inspection.opened", {"inspection": "IN-2", "site": "S-1", "kind": "routine"})
    ev = b.event("inspection.closed", {"inspection": "IN-2", "summary": "seen"}, author="insp")
    del ev["author"]
    [named] = conf.append(conf.sign([ev], "insp", ["fac"]))
    sealed = _payload(conf, named.index)["body"]["sealed"]
    key = conf.keystore.decryption_key("fac")
    assert open_sealed(sealed, "fac", key)["summary"] == "seen"
    reading = verify_as(conf.store, "fac", conf.keystore.decryption_keys("fac"))
    assert plain.index in reading.not_entitled and not reading.broken


def test_an_unknown_recipient_is_refused_at_signing_and_by_the_log(conf: Ledger) -> None:
    ev = Book(conf).event("site.declared", {"site": site("S-1")}, author="dec")
    del ev["author"]
    with pytest.raises(MalformedInput, match="'nobody' is not a party of this ledger"):
        conf.sign([ev], "dec", ["nobody"])
    hidden = {"site": site("S-1")}
    body = {
        "sealed": _sealed_to(conf, hidden, ["dec", "insp", "operator"]),
        "recipients": ["nobody"],
    }
    problems = _refused(conf, [_signed(conf, 1, "site.declared", body, "dec")])
    assert problems == [
        Problem("event[0].payload.body.recipients", "'nobody' is not a party of this ledger")
    ]


def test_an_observer_or_a_party_without_a_key_is_refused_as_recipient(conf: Ledger) -> None:
    _register(conf, "fac", "destruction_facility", enc=False)
    hidden = {"site": site("S-1")}
    for name, why in [
        ("obs", "obs is observer, whose clearance (public) reads public only"),
        ("fac", "fac has no encryption key: nothing can be sealed to it"),
    ]:
        sealed = _sealed_to(conf, hidden, ["dec", "insp", "operator", name])
        body = {"sealed": sealed, "recipients": [name]}
        problems = _refused(conf, [_signed(conf, 1, "site.declared", body, "dec")])
        assert Problem("event[0].payload.body.recipients", why) in problems


def test_a_sealed_body_without_a_named_recipients_box_is_refused(conf: Ledger) -> None:
    _register(conf, "insp2", "inspectorate")
    sealed = _sealed_to(conf, {"site": site("S-1")}, ["dec", "insp", "operator"])
    body = {"sealed": sealed, "recipients": ["insp2"]}
    problems = _refused(conf, [_signed(conf, 1, "site.declared", body, "dec")])
    assert [p.message for p in problems] == ["no box for insp2, whose clearance reads protected"]


def test_recipients_without_a_sealed_part_are_refused(conf: Ledger) -> None:
    body = {"estimate": {"party": "insp"}, "recipients": ["dec"]}
    problems = _refused(conf, [_signed(conf, 1, "estimate.recorded", body, "insp")])
    assert problems == [
        Problem(
            "event[0].payload.body.recipients",
            "names further readers of a sealed part, and this body has none",
        )
    ]


def test_cli_append_to_names_recipients(conf: Ledger, tmp_path: Path) -> None:
    _register(conf, "insp2", "inspectorate")
    events = tmp_path / "events.jsonl"
    line = {"type": "site.declared", "time": "2014-01-05T12:00:00Z", "body": {"site": site("S-7")}}
    events.write_text(json.dumps(line) + "\n")
    args = ["append", str(events), "--as", "dec", "--to", "insp2", "--ledger", str(conf.path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    with conf.store.read() as r:
        last = r.size() - 1
    assert _payload(conf, last)["body"]["recipients"] == ["insp2"]
    bad = CliRunner().invoke(app, [*args[:5], "obs", *args[6:]])
    assert bad.exit_code != 0 and "reads public only" in str(bad.exception)


# -- a recipient added later -------------------------------------------------------------------


def _two_sites(conf: Ledger, b: Book | None = None) -> tuple[int, int]:
    b = b or Book(conf)
    one = b.append("site.declared", {"site": site("S-1")}, author="dec")
    two = b.append("site.declared", {"site": site("S-2")}, author="dec")
    return one.index, two.index


def _said(result: Any) -> str:
    """A command's stderr with rich's line wrapping undone."""
    return " ".join(str(result.stderr).split())


def test_a_new_inspector_reads_earlier_entries_once_shared(conf: Ledger) -> None:
    first, second = _two_sites(conf)
    _register(conf, "insp2", "inspectorate")
    key = conf.keystore.decryption_keys("insp2")
    with conf.store.read() as r:
        before = read_as(r, "insp2", key)
    assert before.not_entitled == [first, second] and not before.complete
    [receipt] = conf.share([first, second], "insp2", "dec")
    body = _payload(conf, receipt.index)["body"]
    assert body["party"] == "insp2" and [b["entry"] for b in body["boxes"]] == [first, second]
    # The new recipient opens its box against the entry's own commitment.
    entry = _payload(conf, first)["body"]["sealed"]
    part = shared_part(entry, "insp2", body["key"], body["boxes"][0]["box"])
    dk = conf.keystore.decryption_key("insp2")
    assert opening(part, "insp2", dk).confidential["site"]["id"] == "S-1"
    reading = verify_as(conf.store, "insp2", key)
    assert (reading.shared, reading.opened, reading.unread) == (2, 0, 0)
    assert reading.replayed


def test_the_operator_may_share_an_entry_another_party_may_not(conf: Ledger) -> None:
    first, _ = _two_sites(conf)
    _register(conf, "insp2", "inspectorate")
    with pytest.raises(EventRejected) as e:
        conf.share([first], "insp2", "insp")  # a reader, but not the author
    assert e.value.problems == [
        Problem(
            "event[0].payload.body.boxes[0]",
            f"only the operator or the author of entry {first} (dec) may share it",
        )
    ]
    [receipt] = conf.share([first], "insp2", "operator")
    assert not receipt.duplicate
    # The same share again is the same entry: its first receipt.
    [again] = conf.share([first], "insp2", "operator")
    assert again.duplicate and again.index == receipt.index


def test_sharing_one_seal_of_a_group_opens_no_other(conf: Ledger) -> None:
    """Two sites declared in one signing call share their ephemeral key (a seal group).
    Shared the first, insp2 gets its own copy under a seed derived from the entry's: it
    reads the first, and what it learns rebuilds no box of the second."""
    b = Book(conf)
    events = [b.event("site.declared", {"site": site(f"S-{n}")}, author="dec") for n in (1, 2)]
    for ev in events:
        del ev["author"]
    first, second = (r.index for r in conf.append(conf.sign(events, "dec")))
    one, two = (_payload(conf, n)["body"]["sealed"] for n in (first, second))
    assert one["epk"] == two["epk"]  # one group
    _register(conf, "insp2", "inspectorate")
    [receipt] = conf.share([first], "insp2", "dec")
    body = _payload(conf, receipt.index)["body"]
    part = shared_part(one, "insp2", body["key"], body["boxes"][0]["box"])
    assert part["epk"] != one["epk"]  # its own ephemeral key, not the group's
    copy = opening(part, "insp2", conf.keystore.decryption_key("insp2"))
    assert copy.confidential["site"]["id"] == "S-1"
    group_seed = opening(one, "dec", conf.keystore.decryption_key("dec")).seed
    assert copy.seed != group_seed
    keys = {
        p: rec.key
        for p in ("dec", "insp", "operator")
        if (rec := conf.authority().encryption_key(p))
    }
    # from the copy's secrets, no box of the second seal is rebuilt (the epk differs)
    assert [p.location for p in check_boxes(two, copy, keys)] == ["sealed.epk"]
    reading = verify_as(conf.store, "insp2", conf.keystore.decryption_keys("insp2"))
    assert (reading.shared, reading.opened) == (1, 0) and second in reading.not_entitled


def test_a_share_whose_box_opens_to_another_payload_is_refused(conf: Ledger) -> None:
    first, second = _two_sites(conf)
    _register(conf, "insp2", "inspectorate")
    authority = conf.authority()
    rec = authority.encryption_key("insp2")
    assert rec is not None
    dec = conf.keystore.decryption_key("dec")
    # A box of the first entry's payload, claimed for the second.
    box = share_box(_payload(conf, first)["body"]["sealed"], "dec", dec, rec.key, first)
    body = {"party": "insp2", "key": rec.key_id, "boxes": [{"entry": second, "box": box}]}
    problems = _refused(conf, [_signed(conf, 1, PAYLOAD_SHARED, body, "dec")])
    assert problems == [
        Problem(
            "event[0].payload.body.boxes[0]",
            f"the box does not hold the payload of entry {second}",
        )
    ]
    # The right payload and salt, copied under another seed: refused as well (a copy is
    # the one the entry's own seed derives, byte for byte).
    opened = opening(_payload(conf, second)["body"]["sealed"], "dec", dec)
    other = dataclasses.replace(opened, seed=bytes(32))
    fresh = base64.b64encode(reseal(other, rec.key, second)).decode()
    assert (
        opening(
            shared_part(_payload(conf, second)["body"]["sealed"], "insp2", rec.key_id, fresh),
            "insp2",
            conf.keystore.decryption_key("insp2"),
        ).confidential
        == opened.confidential
    )  # it would open, to the right payload
    body["boxes"] = [{"entry": second, "box": fresh}]
    problems = _refused(conf, [_signed(conf, 2, PAYLOAD_SHARED, body, "dec")])
    assert [p.message for p in problems] == [f"the box does not hold the payload of entry {second}"]


def test_a_share_to_an_observer_or_of_nothing_sealed_is_refused(
    conf: Ledger,
) -> None:
    b = Book(conf)
    first, _ = _two_sites(conf, b)
    b.append("inspection.opened", {"inspection": "IN-1", "site": "S-1", "kind": "routine"})
    closed = b.append("inspection.closed", {"inspection": "IN-1", "summary": "done"})
    venue = {"site": site("V-1", "destruction", party="insp")}
    public = b.append("site.declared", venue, author="insp")
    with pytest.raises(EventRejected) as e:
        conf.share([closed.index], "obs", "insp")
    assert e.value.problems[0].message == (
        "obs is observer, whose clearance (public) reads public only"
    )
    # a destruction facility is cleared to protected: shared the highly-protected entry,
    # it reads it (sharing lifts it to that entry, as naming does)
    _register(conf, "fac", "destruction_facility")
    conf.share([closed.index], "fac", "insp")
    reading = verify_as(conf.store, "fac", conf.keystore.decryption_keys("fac"))
    assert reading.shared == 1 and not reading.broken
    with pytest.raises(MalformedInput, match="no sealed part"):
        conf.share([public.index], "fac", "insp")
    with pytest.raises(NotEntitled):
        conf.share([first], "fac", "obs")  # the observer has no box to share from
    [ok] = conf.share([first], "fac", "dec")  # protected: the venue may read it
    assert not ok.duplicate


def test_a_share_to_a_key_not_in_force_is_refused(conf: Ledger) -> None:
    first, _ = _two_sites(conf)
    _register(conf, "insp2", "inspectorate")
    rec = conf.authority().encryption_key("insp2")
    assert rec is not None
    box = share_box(
        _payload(conf, first)["body"]["sealed"],
        "dec",
        conf.keystore.decryption_key("dec"),
        rec.key,
        first,
    )
    body = {"party": "insp2", "key": "00000000", "boxes": [{"entry": first, "box": box}]}
    problems = _refused(conf, [_signed(conf, 1, PAYLOAD_SHARED, body, "dec")])
    assert problems == [
        Problem(
            "event[0].body.key",
            f"not the encryption key of insp2 in force ({rec.key_id})",
        )
    ]


# -- rotation and a lost key -------------------------------------------------------------------


def test_after_a_rotation_payloads_go_to_the_new_key_and_old_ones_open_with_the_old(
    conf: Ledger,
) -> None:
    b = Book(conf)
    before = b.append("site.declared", {"site": site("S-1")}, author="dec")
    old = conf.keystore.decryption_key("dec")
    new = conf.set_encryption_key("dec")
    after = b.append("site.declared", {"site": site("S-2")}, author="dec")

    def dec_box(index: int) -> str:
        boxes = _payload(conf, index)["body"]["sealed"]["boxes"]
        [kid] = [x["key"] for x in boxes if x["to"] == "dec"]
        return str(kid)

    assert dec_box(before.index) == old.key_id.hex()
    assert dec_box(after.index) == new.key_id.hex() != old.key_id.hex()
    sealed_after = _payload(conf, after.index)["body"]["sealed"]
    with pytest.raises(Exception, match="not to the key"):
        open_sealed(sealed_after, "dec", old)
    ring = conf.keystore.decryption_key("dec", old.key_id.hex())
    assert open_sealed(_payload(conf, before.index)["body"]["sealed"], "dec", ring)["site"]
    reading = verify_as(conf.store, "dec", conf.keystore.decryption_keys("dec"))
    assert (reading.opened, reading.unread, reading.replayed) == (2, 0, True)


def test_a_lost_key_loses_that_partys_reading_never_the_log(
    conf: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _two_sites(conf)
    conf.set_encryption_key("dec")
    # A keystore that lost dec's first key: only the new one is left in its ring.
    keys = tmp_path / "lost"
    shutil.copytree(conf.keystore.path, keys)
    ring = json.loads((keys / "dec.x25519").read_text())
    ring["keys"] = ring["keys"][-1:]
    (keys / "dec.x25519").write_text(json.dumps(ring))
    monkeypatch.setenv("CWLEDGER_KEYSTORE", str(keys))
    lost = Ledger.open(conf.path)
    try:
        reading = verify_as(lost.store, "dec", lost.keystore.decryption_keys("dec"))
        assert reading.no_key == [first, second] and not reading.replayed
        result = CliRunner().invoke(app, ["verify", "--as", "dec", "--ledger", str(conf.path)])
        assert result.exit_code == 0, (result.output, result.exception)
        assert "2 entries not readable by dec" in _said(result)
        assert "2 sealed to a key of dec not in this keystore" in _said(result)
        # The operator shares them again, to dec's key in force: dec reads them again.
        lost.share([first, second], "dec", "operator")
        again = verify_as(lost.store, "dec", lost.keystore.decryption_keys("dec"))
        assert (again.shared, again.unread, again.replayed) == (2, 0, True)
    finally:
        lost.close()


# -- verify --as -------------------------------------------------------------------------------


def test_verify_as_an_inspector_not_entitled_to_some_entries(conf: Ledger) -> None:
    b = Book(conf)
    first, second = _two_sites(conf, b)
    _register(conf, "insp2", "inspectorate")
    later = b.append("site.declared", {"site": site("S-3")}, author="dec")
    runner = CliRunner()
    args = ["verify", "--as", "insp2", "--ledger", str(conf.path)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 of 3 sealed entries opened and checked by insp2" in _said(result)
    assert "the book was NOT replayed: 2 entries not readable by insp2" in _said(result)
    assert "2 not sealed or shared to insp2" in _said(result)
    reading = verify_as(conf.store, "insp2", conf.keystore.decryption_keys("insp2"))
    assert reading.not_entitled == [first, second] and reading.opened == 1
    assert later.index not in reading.not_entitled
    conf.share([first, second], "insp2", "dec")
    result = runner.invoke(app, args, catch_exceptions=False)
    assert "3 of 3 sealed entries opened and checked by insp2 (2 through a share)" in _said(result)
    assert "the book replayed from them agrees" in _said(result)
    # The observer reads none; without --as, the operator's keys as before.
    obs = runner.invoke(app, [*args[:2], "obs", *args[3:]], catch_exceptions=False)
    assert "3 entries not readable by obs" in _said(obs)
    plain = runner.invoke(app, ["verify", "--ledger", str(conf.path)], catch_exceptions=False)
    assert "the book agrees" in _said(plain)


def test_verify_as_refuses_a_book_that_differs_from_the_partys_reading(conf: Ledger) -> None:
    """The replay from the party's openings is compared with the stored book: a stored
    row changed behind the log's back is found with the party's keys alone."""
    from sqlalchemy import text

    from cwledger.ledger.projections import BookMismatch

    _two_sites(conf)
    with conf.store.write() as w:
        w.conn.execute(text("DELETE FROM book_record WHERE key = 'S-2'"))
    with pytest.raises(BookMismatch):
        verify_as(conf.store, "dec", conf.keystore.decryption_keys("dec"))


def test_shared_boxes_index_only_the_partys_shares(conf: Ledger) -> None:
    first, second = _two_sites(conf)
    _register(conf, "insp2", "inspectorate")
    _register(conf, "fac", "destruction_facility")
    conf.share([first], "insp2", "dec")
    conf.share([second], "fac", "dec")
    with conf.store.read() as r:
        envelopes = [e.envelope for e in r.entries_of_types([PAYLOAD_SHARED])]
    assert list(shared_boxes(envelopes, "insp2")) == [first]
    assert list(shared_boxes(envelopes, "fac")) == [second]
    assert shared_boxes(envelopes, "obs") == {}


# -- a log that admission would have refused, written behind its back -------------------------


def _forced(led: Ledger, envelope: bytes) -> int:
    """Write an envelope into the log without admission (what a dishonest or broken
    operator could do): the tree and checkpoint stay sound, only the judging is skipped."""
    from cwledger.ledger.admission import decode_entry
    from cwledger.store import StoredEntry
    from cwledger.tlog.hashing import leaf_hash

    d = decode_entry(envelope)
    ev = d.event
    with led.store.write() as w:
        size = w.size()
        entry = StoredEntry(size, leaf_hash(d.leaf), ev.id, ev.type, ev.author, ev.time, d.leaf)
        led.write_entries(w, size, [entry], ORIGIN)
    return size


def test_verify_replays_the_check_of_every_share(conf: Ledger) -> None:
    from cwledger.ledger.projections import BookMismatch, check_book

    first, second = _two_sites(conf)
    _register(conf, "insp2", "inspectorate")
    rec = conf.authority().encryption_key("insp2")
    assert rec is not None
    dec = conf.keystore.decryption_key("dec")
    box = share_box(_payload(conf, first)["body"]["sealed"], "dec", dec, rec.key, first)
    body = {"party": "insp2", "key": rec.key_id, "boxes": [{"entry": second, "box": box}]}
    at = _forced(conf, _signed(conf, 1, PAYLOAD_SHARED, body, "dec"))
    with pytest.raises(BookMismatch, match=f"entry {at}: .*does not hold the payload of entry"):
        check_book(conf.store, None, conf.operator_keys())
    # The new recipient finds it too: the box does not open to entry 2's commitment.
    reading = verify_as(conf.store, "insp2", conf.keystore.decryption_keys("insp2"))
    assert [i for i, _ in reading.broken] == [second] and not reading.replayed


def test_verify_as_refuses_an_entry_whose_boxes_differ(conf: Ledger) -> None:
    """A sealed entry whose box for insp holds another payload: insp finds its box does
    not match the commitment, and dec, whose box is sound, finds insp's box differs."""
    sealed = _sealed_to(conf, {"site": site("S-1")}, ["dec", "insp", "operator"])
    other = _sealed_to(conf, {"site": site("S-9")}, ["insp"])
    sealed["boxes"] = [other["boxes"][0] if b["to"] == "insp" else b for b in sealed["boxes"]]
    at = _forced(conf, _signed(conf, 1, "site.declared", {"sealed": sealed}, "dec"))
    for party, why in [
        ("insp", "does not open with its key"),
        ("dec", "the box of insp does not hold the same payload"),
    ]:
        reading = verify_as(conf.store, party, conf.keystore.decryption_keys(party))
        assert [i for i, _ in reading.broken] == [at] and why in reading.broken[0][1]
        assert not reading.replayed
    result = CliRunner().invoke(app, ["verify", "--as", "insp", "--ledger", str(conf.path)])
    assert result.exit_code == 1 and "OK" not in result.stdout
    assert isinstance(result.exception, SealBroken)
    assert f"entry {at}, opened by insp" in str(result.exception)
