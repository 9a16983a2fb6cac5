"""The escrow's pieces: the record's bytes are RFC 8785, leaf order is keyed, destroyed
proofs fit entries and chain their totals, and the book refuses every proof that does not
hold (with nothing written)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from cwledger.errors import EventRejected, VerificationError
from cwledger.escrow import EscrowTree, build_trees, position_key, proved_bodies
from cwledger.ledger.ledger import Ledger
from cwledger.model import ItemKind
from cwledger.model.escrow import EscrowCommitted, EscrowItem
from cwledger.tlog.sumtree import sum_inclusion_proof, sum_levels, sum_root, verify_sum_subset
from tests.conftest import row_counts

ROOT = Path(__file__).resolve().parents[2]

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)
texts = st.from_regex(r"\S(.{0,30}\S)?", fullmatch=True)


@st.composite
def records(draw: st.DrawFn) -> EscrowItem:
    kind = draw(st.sampled_from(["container", "munition", "bulk_lot", "equipment"]))
    return EscrowItem(
        id=draw(ids),
        kind=kind,
        category=draw(st.sampled_from([1, 2, 3])),
        chemical=draw(st.none() | texts.filter(lambda t: len(t) <= 64)),
        grams=draw(st.integers(0, 2**53 - 1)),
        site=draw(ids),
        tag=draw(st.none() | ids),
        munition_type=draw(st.none() | texts),
        method=draw(texts),
    )


@given(records())
@settings(max_examples=200)
def test_the_record_bytes_are_rfc8785(rec: EscrowItem) -> None:
    doc = rec.model_dump(mode="json", exclude_none=True)
    assert rec.canonical() == rfc8785.dumps(doc)
    assert EscrowItem.model_validate_json(rec.canonical()) == rec


def test_the_worked_example_of_docs_escrow_md() -> None:
    recs = [
        EscrowItem(
            id=f"C-{i}",
            kind="container",
            category=1,
            chemical="DF",
            grams=g,
            site="S-1",
            method="weighing",
        )
        for i, g in [(1, 1_000_000), (2, 500_000), (3, 2_500_000)]
    ]
    leaves = [r.leaf(bytes([n + 1]) * 32) for n, r in enumerate(recs)]
    assert leaves[0] == (
        bytes.fromhex("7c316c9673e95929e140705384468198740f781859ac7f7e20d40316baa488cd"),
        1_000_000,
    )
    levels = sum_levels(leaves)
    root = sum_root(leaves)
    assert root.hash.hex() == "a3d625af98d06837444ce71c3e903f17cfdba3e987de50912988503c5192856d"
    assert (root.grams, root.size) == (4_000_000, 3)
    [(h, g)] = sum_inclusion_proof(levels, 2)
    assert (h.hex()[:8], g) == ("27b0ab89", 1_500_000)
    doc = (ROOT / "docs" / "escrow.md").read_text()
    for figure in (root.hash.hex(), leaves[0][0].hex(), leaves[2][0].hex(), h.hex()):
        assert figure in doc


def test_escapes_and_non_ascii_are_as_jcs_has_them() -> None:
    rec = EscrowItem(
        id="C-1",
        kind="munition",
        category=3,
        grams=0,
        site="S-1",
        munition_type='a\x1f\x7f\u2028\u00e9\U0001f600"\\/\tb',
        method="m\x08\x0c\x0dx",
    )
    assert rec.canonical() == rfc8785.dumps(rec.model_dump(mode="json", exclude_none=True))
    assert b'"method":"m\\b\\f\\rx"' in rec.canonical()


def test_the_record_s_fields_are_in_the_order_of_their_names() -> None:
    names = list(EscrowItem.model_fields)
    assert names == sorted(names)
    kinds = EscrowItem.model_fields["kind"].annotation
    assert set(getattr(kinds, "__args__", ())) == {k.value for k in ItemKind}


def _record(n: int, category: int = 1, grams: int = 1000) -> EscrowItem:
    return EscrowItem(
        id=f"C-{n}",
        kind="container",
        category=category,  # type: ignore[arg-type]
        chemical="DF",
        grams=grams + n,
        site="S-1",
        method="weighing",
    )


KEY = bytes(range(32))


def _trees(n: int, version: int = 1) -> dict[int, EscrowTree]:
    recs = [_record(i, 1 + i % 2) for i in range(n)]
    return build_trees(
        version, recs, {r.id: bytes([i % 256]) * 32 for i, r in enumerate(recs)}, KEY
    )


def test_leaves_are_in_keyed_order_whatever_the_sheet_s_order() -> None:
    recs = [_record(i) for i in range(50)]
    salts = {r.id: bytes([i]) * 32 for i, r in enumerate(recs)}
    tree = build_trees(1, recs, salts, KEY)[1]
    shuffled = list(recs)
    random.Random(7).shuffle(shuffled)
    assert build_trees(1, shuffled, salts, KEY)[1].root == tree.root
    order = [leaf.record.id for leaf in tree.leaves]
    assert order == sorted(order, key=lambda i: position_key(KEY, i))
    assert order != [r.id for r in recs]
    other = build_trees(1, recs, salts, bytes(32))[1]
    assert [leaf.record.id for leaf in other.leaves] != order
    assert other.root.grams == tree.root.grams and other.root.hash != tree.root.hash


def test_destroyed_bodies_fit_the_budget_and_chain_their_totals() -> None:
    tree = _trees(600)[1]
    gone = [leaf.record.id for leaf in tree.leaves[::2]]
    bodies = proved_bodies(tree, gone, what="destroyed", at="2014-06-30T00:00:00Z", budget=12_000)
    assert len(bodies) >= 2  # 150 leaves do not fit 12,000 bytes at once
    assert all(len(b.model_dump_json()) <= 12_000 for b in bodies)
    assert sum(b.count for b in bodies) == len(gone) == bodies[-1].total_count
    total = sum(leaf.record.grams for leaf in tree.leaves[::2])
    assert bodies[-1].total_grams == total
    for a, b in zip(bodies, bodies[1:], strict=False):
        assert b.total_count == a.total_count + b.count
    for b in bodies:
        assert verify_sum_subset(b.proof.proof(), tree.root) == (b.count, b.grams)
    # what was proven before is left out, and the totals continue from it
    proven = [i for i, _, _ in bodies[0].proof.leaves]
    rest = proved_bodies(
        tree,
        gone,
        what="destroyed",
        at="2014-07-31T00:00:00Z",
        proven=proven,
        proven_g=bodies[0].grams,
    )
    assert rest[-1].total_count == len(gone) and rest[-1].total_grams == total


# -- the rules, through the whole append path ---------------------------------------------


def _event(type_: str, id_: str, body: Any, time: str = "2014-07-01T00:00:00Z") -> dict[str, Any]:
    return {"type": type_, "id": id_, "time": time, "body": body}


def _commit(ledger: Ledger, trees: dict[int, EscrowTree], version: int = 1) -> None:
    body = EscrowCommitted(version=version, categories=[t.commitment() for t in trees.values()])
    ledger.append(
        ledger.sign(
            [_event("escrow.committed", f"v{version}", body.model_dump(mode="json"))], "dec"
        )
    )


def _refused(ledger: Ledger, event: dict[str, Any], party: str, says: str) -> None:
    before = row_counts(ledger)
    with pytest.raises(EventRejected) as e:
        ledger.append(ledger.sign([event], party))
    assert says in str(e.value.diagnostics())
    assert row_counts(ledger) == before


def test_the_book_refuses_every_proof_that_does_not_hold(ledger: Ledger) -> None:
    trees = _trees(40)
    _commit(ledger, trees)
    tree = trees[1]
    ids_ = [leaf.record.id for leaf in tree.leaves]
    first = proved_bodies(tree, ids_[:5], what="destroyed", at="2014-06-30T00:00:00Z")[0]
    body = first.model_dump(mode="json")
    # a node's grams changed: the proof does not lead to the committed root
    bad = {
        **body,
        "proof": {**body["proof"], "nodes": [[h, g + 1] for h, g in body["proof"]["nodes"]]},
    }
    _refused(ledger, _event("escrow.destroyed_proved", "d0", bad), "dec", "committed root")
    # a tree never committed; a destroyed moment after the event
    _refused(
        ledger,
        _event("escrow.destroyed_proved", "d0", {**body, "version": 2}),
        "dec",
        "no escrow tree",
    )
    late = {**body, "at": "2014-08-01T00:00:00Z"}
    _refused(ledger, _event("escrow.destroyed_proved", "d0", late), "dec", "after the event")
    # running totals that are not the sums of the proofs
    inflated = {**body, "total_count": body["total_count"] + 1}
    _refused(ledger, _event("escrow.destroyed_proved", "d0", inflated), "dec", "running totals")
    # the good one, by the inspectorate; then the same leaves again are refused
    ledger.append(ledger.sign([_event("escrow.destroyed_proved", "d1", body)], "insp"))
    again = proved_bodies(
        tree, ids_[3:8], what="destroyed", at="2014-06-30T00:00:00Z", proven=[], proven_g=0
    )[0]
    twice = {
        **again.model_dump(mode="json"),
        "total_count": 10,
        "total_grams": first.grams + again.grams,
    }
    _refused(
        ledger, _event("escrow.destroyed_proved", "d2", twice), "dec", "proven destroyed before"
    )
    # versions follow one another; an observer commits nothing
    skip = EscrowCommitted(version=3, categories=[tree.commitment()]).model_dump(mode="json")
    _refused(ledger, _event("escrow.committed", "v3", skip), "dec", "follows none")
    _refused(
        ledger, _event("escrow.committed", "v2", {**skip, "version": 2}), "obs", "may not write"
    )


def test_a_mutated_proof_body_is_refused_at_admission() -> None:
    tree = _trees(10)[1]
    body = proved_bodies(
        tree, [tree.leaves[0].record.id], what="destroyed", at="2014-06-30T00:00:00Z"
    )[0]
    doc = body.model_dump(mode="json")
    with pytest.raises(ValueError, match="grams is"):
        type(body).model_validate({**doc, "grams": doc["grams"] + 1})
    with pytest.raises(ValueError, match="count is"):
        type(body).model_validate({**doc, "count": 2, "total_count": 2})
    with pytest.raises(VerificationError):
        verify_sum_subset(
            type(body).model_validate({**doc, "proof": {**doc["proof"], "size": 11}}).proof.proof(),
            tree.root,
        )
