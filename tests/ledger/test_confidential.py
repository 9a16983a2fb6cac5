"""A confidential ledger: bodies sealed on signing, opened and judged at admission, and
replayed by `verify` and `rebuild` with the operator's keys (issue 16, section 2)."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cwledger.book.records import ItemRecord, SiteRecord
from cwledger.cli import app
from cwledger.errors import EventRejected, Problem
from cwledger.ledger.admission import MAX_ENTRY_BYTES
from cwledger.ledger.audit import audit
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.confidential import readers, seal_body, sealed_body_budget
from cwledger.ledger.envelope import sign_event
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.projections import SealedUnread, check_book, rebuild
from cwledger.ledger.sealing import SealGroup, open_sealed, seal
from cwledger.model.classes import Class
from cwledger.model.enckeys import DecryptionKey
from cwledger.model.events import Event
from cwledger.tlog.note import Signer
from tests.book.builders import Book, declaration, item, site
from tests.conftest import ORIGIN, event, row_counts

SITE_NAME = "Marker Site Qzx7731"
ITEM_ID = "I-MRK-4411"
KG = 4321.987
MARKERS = [SITE_NAME.encode(), ITEM_ID.encode(), b"4321.987", b"Qzx7731"]


def _marked_declaration() -> dict[str, Any]:
    s1 = {**site("S-1"), "name": SITE_NAME}
    return declaration([item(ITEM_ID, kg=KG), item("I-2", kg=500)], sites=[s1, site("S-2")])


def _stored(led: Ledger, index: int) -> tuple[bytes, dict[str, Any]]:
    """An entry's stored envelope bytes and its decoded payload."""
    with led.store.read() as r:
        [e] = r.entries(index, index + 1)
    payload = json.loads(base64.b64decode(json.loads(e.envelope)["payload"]))
    return e.envelope, payload


def _all_bytes(envelope: bytes, payload: dict[str, Any]) -> list[bytes]:
    """Every byte of an entry a reader of the public log sees, base64 decoded."""
    out = [envelope, json.dumps(payload).encode()]
    sealed = payload["body"].get("sealed", {})
    out += [base64.b64decode(b["box"]) for b in sealed.get("boxes", [])]
    out += [base64.b64decode(sealed["ciphertext"])] if sealed else []
    return out


def _raw(n: int, type_: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_, "id": f"c{n:04d}", "time": "2014-01-05T12:00:00Z", "body": body}


def _signed(led: Ledger, raw: dict[str, Any], author: str) -> bytes:
    """Signed as it is, never sealed by the ledger (the body is the test's)."""
    ev = Event.model_validate({"author": author, **raw})
    return sign_event(ev, led.keystore.signer(author)).to_bytes()


def _sealed(
    led: Ledger, public: dict[str, Any], hidden: dict[str, Any], to: list[str]
) -> dict[str, Any]:
    """A body with `public` in the clear and `hidden` sealed to the parties `to`."""
    authority = led.authority()
    keys = {p: rec.key for p in to if (rec := authority.encryption_key(p)) is not None}
    return {**public, "sealed": seal(hidden, keys)}


def _refused(led: Ledger, envelopes: list[bytes]) -> list[Problem]:
    """The problems of a refused batch; checks that nothing was written."""
    before = row_counts(led)
    with pytest.raises(EventRejected) as e:
        led.append(envelopes)
    assert row_counts(led) == before
    return e.value.problems


@pytest.mark.parametrize("readers", [1, 4, 19, 20, 60])
def test_a_part_at_its_budget_sealed_to_its_readers_fits_an_entry(readers: int) -> None:
    """`sealed_body_budget`: a confidential part of that many bytes, sealed to that many
    readers with the longest names a party may have, signed with an event id, a time and
    an author of the longest, is an entry the log takes; one bucket more would not leave
    the 2,000 bytes of payload (base64: 2,667 of entry) the budget keeps for the event's
    public fields (it is not needlessly small)."""
    names = [f"p{i:03d}" + "x" * 60 for i in range(readers)]  # 64 characters, the most
    keys = {n: DecryptionKey.from_seed(n, b"budget").public for n in names}
    author = names[0]
    budget = sealed_body_budget(readers)

    def entry(size: int) -> bytes:
        part = {"notes": "n" * (size - len(canonical_json({"notes": ""})))}
        assert len(canonical_json(part)) == size
        raw = {"type": "inspection.reported", "id": "i" * 128, "author": author}
        raw |= {"time": "2014-01-05T12:00:00.123456Z", "body": {"sealed": seal(part, keys)}}
        return sign_event(Event.model_validate(raw), Signer.generate(author)).to_bytes()

    assert len(entry(budget)) <= MAX_ENTRY_BYTES
    assert len(entry(2 * budget + 1)) > MAX_ENTRY_BYTES - 2_667


def _book_dump(led: Ledger) -> dict[str, Any]:
    with led.store.read() as r:
        return r.book.dump()


# -- sealed on signing, opened for the book ---------------------------------------------------


def test_a_declaration_is_stored_sealed_and_the_book_holds_it(conf: Ledger) -> None:
    r = Book(conf).append("declaration.submitted", _marked_declaration())
    envelope, payload = _stored(conf, r.index)
    for data in _all_bytes(envelope, payload):
        for marker in MARKERS:
            assert marker not in data
    body = payload["body"]
    assert set(body) == {"version", "part", "parts", "legal_basis", "due", "sealed"}
    # The declarant's own box opens to the whole confidential part.
    dec_key = conf.keystore.decryption_key("dec")
    opened = open_sealed(body["sealed"], "dec", dec_key)
    assert opened["items"][0]["id"] == ITEM_ID
    with conf.store.read() as rd:
        rec = rd.book.get(ItemRecord, ITEM_ID)
        s1 = rd.book.get(SiteRecord, "S-1")
    assert rec is not None and rec.held_g == round(KG * 1000)
    assert s1 is not None and s1.site.name == SITE_NAME


def test_the_boxes_go_to_the_readers_and_not_to_the_observer(conf: Ledger) -> None:
    r = Book(conf).append("declaration.submitted", _marked_declaration())
    _, payload = _stored(conf, r.index)
    boxes = payload["body"]["sealed"]["boxes"]
    assert [b["to"] for b in boxes] == ["dec", "insp", "operator"]
    authority = conf.authority()
    assert "obs" not in readers(authority, "dec", Class.RESTRICTED)
    for b in boxes:
        enc = authority.encryption_key(b["to"])
        assert enc is not None and b["key"] == enc.key_id


def test_a_site_by_the_declarant_is_sealed_one_by_the_inspectorate_is_not(conf: Ledger) -> None:
    b = Book(conf)
    mine = b.append("site.declared", {"site": {**site("S-9"), "name": SITE_NAME}})
    venue = {**site("V-1", "destruction", party="insp"), "name": "Venue abroad"}
    abroad = b.append("site.declared", {"site": venue}, author="insp")
    envelope, payload = _stored(conf, mine.index)
    assert set(payload["body"]) == {"sealed"} and SITE_NAME.encode() not in envelope
    _, payload = _stored(conf, abroad.index)
    assert payload["body"] == {"site": venue}  # public when the inspectorate declares it


def test_verify_and_rebuild_replay_the_sealed_entries(conf: Ledger) -> None:
    b = Book(conf)
    b.append("declaration.submitted", _marked_declaration())
    b.append("site.declared", {"site": site("S-3")})
    report = audit(conf.store)
    assert report.sealed == 2
    check_book(conf.store, None, conf.operator_keys())
    before = _book_dump(conf)
    assert any(before.values())
    rebuild(conf.store, None, conf.operator_keys())
    assert _book_dump(conf) == before
    with pytest.raises(SealedUnread):
        check_book(conf.store, None, None)


def test_cli_verify_with_and_without_the_operators_key(
    conf: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Book(conf).append("declaration.submitted", _marked_declaration())
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", "--ledger", str(conf.path)], catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
    assert "(1 sealed)" in ok.stderr and "the book agrees" in ok.stderr
    # A keystore without the operator's encryption key: the rest is checked, and it says so.
    keys = tmp_path / "no-operator-keys"
    shutil.copytree(conf.keystore.path, keys)
    (keys / "operator.x25519").unlink()
    monkeypatch.setenv("CWLEDGER_KEYSTORE", str(keys))
    closed = runner.invoke(app, ["verify", "--ledger", str(conf.path)], catch_exceptions=False)
    assert closed.exit_code == 0, closed.output
    assert "the book was NOT replayed" in closed.stderr
    assert "the book agrees" not in closed.stderr
    rebuilt = runner.invoke(app, ["rebuild", "--ledger", str(conf.path)])
    assert rebuilt.exit_code != 0 and isinstance(rebuilt.exception, SealedUnread)
    assert "lacks its encryption key" in str(rebuilt.exception)


def test_cli_init_confidential(tmp_path: Path) -> None:
    path = tmp_path / "cli-ledger"
    result = CliRunner().invoke(app, ["init", str(path), "--origin", ORIGIN, "--confidential"])
    assert result.exit_code == 0, result.output
    led = Ledger.open(path)
    try:
        assert led.authority().confidential
    finally:
        led.close()


def test_an_existing_genesis_is_unchanged(ledger: Ledger) -> None:
    _, payload = _stored(ledger, 0)
    assert "confidential" not in payload["body"]
    assert not ledger.authority().confidential


# -- refusals, each writing nothing -----------------------------------------------------------


def test_a_confidential_field_in_the_clear_is_refused(conf: Ledger) -> None:
    body = declaration([item("I-1")])
    public = {k: body[k] for k in ("version", "part", "parts", "legal_basis", "due", "items")}
    hidden = {k: body[k] for k in ("chemicals", "sites")}
    sealed = _sealed(conf, public, hidden, ["dec", "insp", "operator"])
    problems = _refused(conf, [_signed(conf, _raw(1, "declaration.submitted", sealed), "dec")])
    assert (
        Problem("event[0].payload.body.items", "is protected: it is sealed, not sent in the clear")
        in problems
    )


def test_a_public_field_hidden_in_the_seal_is_refused(conf: Ledger) -> None:
    body = declaration([item("I-1")])
    public = {k: body[k] for k in ("part", "parts", "legal_basis", "due")}
    hidden = {k: body[k] for k in ("version", "chemicals", "sites", "items")}
    sealed = _sealed(conf, public, hidden, ["dec", "insp", "operator"])
    problems = _refused(conf, [_signed(conf, _raw(1, "declaration.submitted", sealed), "dec")])
    assert (
        Problem(
            "event[0].payload.body.sealed", "version is public: it is sent in the clear, not sealed"
        )
        in problems
    )


def test_a_body_not_sealed_in_a_confidential_ledger_is_refused(conf: Ledger) -> None:
    plain = _signed(conf, _raw(1, "declaration.submitted", declaration([item("I-1")])), "dec")
    problems = _refused(conf, [plain])
    located = {p.location: p.message for p in problems}
    for field in ("chemicals", "sites", "items"):
        assert "must be sealed" in located[f"event[0].payload.body.{field}"]


def test_a_reader_without_a_box_is_refused(conf: Ledger) -> None:
    body = declaration([item("I-1")])
    public = {k: body[k] for k in ("version", "part", "parts", "legal_basis", "due")}
    hidden = {k: body[k] for k in ("chemicals", "sites", "items")}
    sealed = _sealed(conf, public, hidden, ["dec", "operator"])  # not to the inspectorate
    problems = _refused(conf, [_signed(conf, _raw(1, "declaration.submitted", sealed), "dec")])
    assert [p.message for p in problems] == ["no box for insp, whose clearance reads protected"]


def test_no_box_for_the_operator_is_refused(conf: Ledger) -> None:
    body = {"site": site("S-1")}
    sealed = _sealed(conf, {}, body, ["dec", "insp"])
    problems = _refused(conf, [_signed(conf, _raw(1, "site.declared", sealed), "dec")])
    assert "no box for the operator" in problems[0].message


@pytest.mark.parametrize("where", ["commitment", "epk", "ciphertext", "operator", "dec"])
def test_a_changed_byte_in_the_seal_is_refused(conf: Ledger, where: str) -> None:
    [good] = conf.sign([_raw(1, "site.declared", {"site": site("S-1")})], "dec")
    payload = json.loads(base64.b64decode(json.loads(good)["payload"]))
    sealed = payload["body"]["sealed"]
    if where in ("commitment", "epk", "ciphertext"):
        raw = bytearray(base64.b64decode(sealed[where]))
        raw[5] ^= 0x01
        sealed[where] = base64.b64encode(raw).decode()
    else:
        [box] = [b for b in sealed["boxes"] if b["to"] == where]
        raw = bytearray(base64.b64decode(box["box"]))
        raw[20] ^= 0x01
        box["box"] = base64.b64encode(raw).decode()
    problems = _refused(conf, [_signed(conf, _raw(1, "site.declared", payload["body"]), "dec")])
    assert problems and all(p.location.startswith("event[0].payload.body.sealed") for p in problems)
    if where == "dec":  # the operator's box opens; the declarant's holds something else
        assert problems == [
            Problem(
                "event[0].payload.body.sealed.boxes[0]",
                "the box of dec does not hold the same payload",
            )
        ]
    # The untouched envelope still goes in.
    conf.append([good])


def test_a_box_that_differs_in_a_later_chunk_refuses_the_batch(conf: Ledger) -> None:
    """The boxes are checked beside the judging, chunk by chunk: a box of the 41st event
    (the second chunk) that holds another payload still refuses the whole batch, naming
    only that box, and the batch without it goes in."""
    raws = [_raw(n, "site.declared", {"site": site(f"S-{n}")}) for n in range(45)]
    signed = conf.sign(raws, "dec")
    payload = json.loads(base64.b64decode(json.loads(signed[40])["payload"]))
    [box] = [b for b in payload["body"]["sealed"]["boxes"] if b["to"] == "insp"]
    raw = bytearray(base64.b64decode(box["box"]))
    raw[20] ^= 0x01
    box["box"] = base64.b64encode(raw).decode()
    bad = _signed(conf, _raw(40, "site.declared", payload["body"]), "dec")
    problems = _refused(conf, [*signed[:40], bad, *signed[41:]])
    assert problems == [
        Problem(
            "event[40].payload.body.sealed.boxes[1]",
            "the box of insp does not hold the same payload",
        )
    ]
    assert len(conf.append(signed)) == 45


def _signed_in_group(led: Ledger, raws: list[dict[str, Any]], author: str) -> list[bytes]:
    """`Ledger.sign` with one SealGroup for the batch: its seals to the same readers share
    their ephemeral key."""
    authority, group = led.authority(), SealGroup()
    out = []
    for raw in raws:
        ev = Event.model_validate({"author": author, **raw})
        body = seal_body(authority, ev.type, author, ev.body, group=group)
        out.append(_signed(led, {**raw, "body": body}, author))
    return out


def test_a_group_of_seals_goes_in_and_a_box_from_another_of_its_seals_is_refused(
    conf: Ledger,
) -> None:
    """Seals sharing their ephemeral key are admitted, the log remembering their X25519s;
    a box swapped in from another seal of the same group (same ephemeral key, another
    content key) is refused all the same, after the others were checked."""
    raws = [_raw(n, "site.declared", {"site": site(f"S-{n}")}) for n in range(6)]
    signed = _signed_in_group(conf, raws, "dec")
    payloads = [json.loads(base64.b64decode(json.loads(e)["payload"])) for e in signed]
    assert len({p["body"]["sealed"]["epk"] for p in payloads}) == 1
    body = payloads[4]["body"]
    body["sealed"]["boxes"][1]["box"] = payloads[3]["body"]["sealed"]["boxes"][1]["box"]
    bad = _signed(conf, _raw(4, "site.declared", body), "dec")
    problems = _refused(conf, [*signed[:4], bad, signed[5]])
    assert problems == [
        Problem(
            "event[4].payload.body.sealed.boxes[1]",
            f"the box of {body['sealed']['boxes'][1]['to']} does not hold the same payload",
        )
    ]
    assert len(conf.append(signed)) == 6
    for n, receipt in enumerate(conf.append(signed)):  # duplicates: their first receipts
        assert receipt.duplicate and receipt.event_id == f"c{n:04d}"


def test_every_problem_of_a_batch_is_reported(conf: Ledger) -> None:
    plain = _signed(conf, _raw(1, "site.declared", {"site": site("S-1")}), "dec")
    body = {"site": site("S-2")}
    no_operator = _signed(conf, _raw(2, "site.declared", _sealed(conf, {}, body, ["dec"])), "dec")
    [fine] = conf.sign([_raw(3, "site.declared", {"site": site("S-3")})], "dec")
    problems = _refused(conf, [plain, no_operator, fine])
    assert {p.location.split(".")[0] for p in problems} == {"event[0]", "event[1]"}


def test_a_ledger_that_is_not_confidential_takes_no_sealed_part(ledger: Ledger) -> None:
    authority = ledger.authority()
    keys = {p: rec.key for p in ("dec", "operator") if (rec := authority.encryption_key(p))}
    body = {"sealed": seal({"site": site("S-1")}, keys)}
    problems = _refused(ledger, [_signed(ledger, _raw(1, "site.declared", body), "dec")])
    assert problems == [
        Problem(
            "event[0].payload.body.sealed",
            "this ledger is not confidential: an event's body holds no sealed part",
        )
    ]
    # And signing there seals nothing.
    [plain] = ledger.sign([event(1)], "insp")
    assert b"sealed" not in base64.b64decode(json.loads(plain)["payload"])


def test_a_sealed_event_signed_again_gets_its_first_receipt(conf: Ledger) -> None:
    raw = _raw(1, "declaration.submitted", _marked_declaration())
    [first] = conf.append(conf.sign([raw], "dec"))
    again = conf.sign([{**raw, "time": "2014-01-05T12:00:01Z"}], "dec")  # another salt too
    before = row_counts(conf)
    [receipt] = conf.append(again)
    assert receipt.duplicate and receipt.index == first.index
    assert row_counts(conf) == before
    changed = _marked_declaration()
    changed["items"][0]["kind"] = "drum"
    problems = _refused(conf, conf.sign([{**raw, "body": changed}], "dec"))
    assert any("already used" in p.message for p in problems)


def test_a_large_declaration_is_split_so_that_each_sealed_part_fits_an_entry(
    conf: Ledger, tmp_path: Path
) -> None:
    """`cwledger declare` in a confidential ledger cuts the declaration into parts small
    enough that, sealed to every reader, each entry stays within 64 KiB."""
    from tests.intake.sheets import big_rows

    sheet = tmp_path / "big.csv"
    with sheet.open("w", newline="") as f:
        import csv

        csv.writer(f).writerows(big_rows(2_000))
    result = CliRunner().invoke(
        app,
        [
            "declare",
            str(sheet),
            "--as",
            "dec",
            "--legal-basis",
            "x",
            "--due",
            "2013-10-27",
            "--time",
            "2013-10-24T00:00:00Z",
            "--ledger",
            str(conf.path),
        ],
    )
    assert result.exit_code == 0, (result.output, result.exception)
    with conf.store.read() as r:
        entries = r.entries(0, r.size())
        parts = [e for e in entries if e.event_type == "declaration.submitted"]
        assert len(parts) > 2 and all(len(e.envelope) <= 0xFFFF for e in parts)
        assert len(r.book.records(ItemRecord)) == 2_000
