"""Public aggregates proven against the day-one escrow: removed and destroyed proofs, an
`aggregate.published` whose every number the book checks (a falsified one is refused
with nothing written), and the observer's check from the log's public entries alone."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from cwledger.book.aggregates import AGGREGATE_PUBLISHED, Proven, figures, observe, proofs_of
from cwledger.book.records import AggregateRecord, EscrowTreeRecord
from cwledger.escrow import EscrowTree, build_trees, proved_bodies
from cwledger.ledger.admission import decode_entry
from cwledger.ledger.ledger import Ledger
from cwledger.model.aggregates import AggregatePublished
from cwledger.model.escrow import EscrowCommitted, EscrowItem, SubsetProved
from cwledger.time import from_rfc3339
from tests.escrow.test_escrow import _commit, _event, _refused, _trees

AT = "2014-06-30T00:00:00Z"
LATER = "2014-07-01T00:00:00Z"  # the events' own time


def _append(ledger: Ledger, bodies: list[Any], party: str = "dec") -> list[int]:
    events = [
        _event(f"escrow.{b.WHAT}_proved", f"{b.WHAT}-{b.category}-{b.total_count}", b.model_dump())
        for b in bodies
    ]
    return [r.index for r in ledger.append(ledger.sign(events, party))]


def _entries(ledger: Ledger) -> list[tuple[int, str, BaseModel | None]]:
    """The log's public escrow and aggregate entries, decoded from their envelopes."""
    types = ["escrow.committed", "escrow.destroyed_proved", "escrow.removed_proved"]
    with ledger.store.read() as r:
        stored = r.entries_of_types([*types, AGGREGATE_PUBLISHED])
    out = []
    for e in stored:
        d = decode_entry(e.envelope, check_canonical=False)
        out.append((e.index, d.event.type, d.body))
    return out


def _proven_body(ledger: Ledger, at: str = AT) -> dict[str, Any]:
    with ledger.store.read() as r:
        roots, proofs = proofs_of(r.book.records(EscrowTreeRecord), 1)
    rows = figures(1, roots, proofs, from_rfc3339(at))
    return AggregatePublished(at=at, version=1, categories=rows).model_dump(mode="json")


def _setup(ledger: Ledger) -> tuple[dict[int, EscrowTree], dict[str, list[int]]]:
    """Version 1 committed (two categories); in category 1, ten leaves proven removed (in
    two entries) and, of those, six plus four others proven destroyed; one more leaf proven
    destroyed after the aggregate's moment."""
    trees = _trees(40)
    _commit(ledger, trees)
    ids = [leaf.record.id for leaf in trees[1].leaves]
    removed = proved_bodies(trees[1], ids[:5], what="removed", at="2014-05-01T00:00:00Z")
    removed += proved_bodies(
        trees[1],
        ids[5:10],
        what="removed",
        at="2014-06-01T00:00:00Z",
        proven=[trees[1].positions[i] for i in ids[:5]],
        proven_g=removed[0].total_grams,
    )
    destroyed = proved_bodies(trees[1], ids[4:14], what="destroyed", at="2014-06-15T00:00:00Z")
    late = proved_bodies(
        trees[1],
        ids[14:15],
        what="destroyed",
        at=LATER,
        proven=[trees[1].positions[i] for i in ids[4:14]],
        proven_g=destroyed[0].total_grams,
    )
    entries = {
        "removed": _append(ledger, removed),
        "destroyed": _append(ledger, destroyed, "insp"),
        "late": _append(ledger, late),
    }
    return trees, entries


def test_removed_and_destroyed_are_proven_once_per_kind(ledger: Ledger) -> None:
    trees, _ = _setup(ledger)
    with ledger.store.read() as r:
        rec = r.book.get(EscrowTreeRecord, "000001|1")
    assert rec is not None
    tree = trees[1]
    g = {tree.positions[leaf.record.id]: leaf.record.grams for leaf in tree.leaves}
    assert rec.removed == sorted(tree.positions[leaf.record.id] for leaf in tree.leaves[:10])
    assert rec.removed_g == sum(g[i] for i in rec.removed)
    assert len(rec.destroyed) == 11 and rec.destroyed_g == sum(g[i] for i in rec.destroyed)
    assert [p.what for p in rec.proofs] == ["removed", "removed", "destroyed", "destroyed"]
    # a leaf proven removed is refused as removed again (it was proven destroyed too)
    ids = [leaf.record.id for leaf in tree.leaves]
    again = proved_bodies(tree, ids[9:11], what="removed", at=AT)[0].model_dump(mode="json")
    again.update(total_count=12, total_grams=rec.removed_g + again["grams"])
    event = _event("escrow.removed_proved", "r-again", again)
    _refused(ledger, event, "dec", "proven removed before")
    # a bad proof of removal is refused as a destroyed one is
    fresh = proved_bodies(
        tree, ids[15:17], what="removed", at=AT, proven=rec.removed, proven_g=rec.removed_g
    )[0].model_dump(mode="json")
    fresh["proof"]["leaves"][0][2] += 1
    fresh["grams"] += 1
    fresh["total_grams"] += 1
    _refused(ledger, _event("escrow.removed_proved", "r-bad", fresh), "dec", "committed root")
    # the totals never pass the committed one: an observer cannot be asked to add more
    assert rec.removed_g <= rec.grams and rec.destroyed_g <= rec.grams


def test_an_aggregate_is_published_and_an_observer_checks_it_from_the_log(
    ledger: Ledger,
) -> None:
    trees, entries = _setup(ledger)
    body = _proven_body(ledger)
    [c1, c2] = body["categories"]
    one = trees[1].leaves
    g = {leaf.record.id: leaf.record.grams for leaf in one}
    assert (c1["committed_grams"], c1["committed_items"]) == (trees[1].root.grams, 20)
    assert c1["removed_items"] == 10 and c1["removed_grams"] == sum(
        g[leaf.record.id] for leaf in one[:10]
    )
    assert c1["destroyed_items"] == 10 and c1["destroyed_grams"] == sum(
        g[leaf.record.id] for leaf in one[4:14]
    )
    assert c1["remaining_grams"] == trees[1].root.grams - c1["destroyed_grams"]
    assert c1["remaining_items"] == 10
    assert c1["removed_proofs"] == entries["removed"]
    assert c1["destroyed_proofs"] == entries["destroyed"]  # the late one is after AT
    assert c2["destroyed_items"] == 0 and c2["remaining_grams"] == trees[2].root.grams
    [receipt] = ledger.append(ledger.sign([_event(AGGREGATE_PUBLISHED, "agg-1", body)], "insp"))
    with ledger.store.read() as r:
        [rec] = r.book.records(AggregateRecord)
    assert rec.entry == receipt.index and rec.body == body
    # the observer, from the public entries only
    [check] = observe(_entries(ledger))
    assert check.proven and check.entry == receipt.index
    assert [row.model_dump(mode="json") for row in check.categories] == body["categories"]
    # an observer is shown a log where one proof entry was swapped for a forged one: the
    # aggregate that sums it is no longer proven
    forged = []
    for index, type_, b in _entries(ledger):
        if index == entries["removed"][0]:
            assert b is not None
            doc = b.model_dump(mode="json")
            doc["proof"]["nodes"][0][1] += 1
            b = type(b).model_validate(doc)
        forged.append((index, type_, b))
    [bad] = observe(forged)
    assert not bad.proven
    assert any("removed" in where for where, _ in bad.problems)


NUMBERS = [
    "committed_grams",
    "committed_items",
    "removed_grams",
    "removed_items",
    "destroyed_grams",
    "destroyed_items",
    "remaining_grams",
    "remaining_items",
]


def test_every_falsified_number_is_refused_with_nothing_written(ledger: Ledger) -> None:
    _, entries = _setup(ledger)
    good = _proven_body(ledger)

    def publish(body: dict[str, Any], says: str) -> None:
        _refused(ledger, _event(AGGREGATE_PUBLISHED, "agg", body), "insp", says)
        # and the observer, handed the same body in the log, says it is not proven
        forged = AggregatePublished.model_validate(body)
        [check] = observe([*_entries(ledger), (10_000, AGGREGATE_PUBLISHED, forged)])
        assert not check.proven

    for n in (0, 1):
        for name in NUMBERS:
            for delta in (1, -1):
                rows = [dict(r) for r in good["categories"]]
                if rows[n][name] + delta < 0:
                    continue
                rows[n][name] += delta
                publish({**good, "categories": rows}, f"categories[{n}].{name}")
    # a proof entry left out, one that is not a proof of this kind, the late one
    for name, value in [
        ("removed_proofs", entries["removed"][:1]),
        ("removed_proofs", [*entries["removed"], entries["destroyed"][0]]),
        ("destroyed_proofs", [*entries["destroyed"], *entries["late"]]),
    ]:
        rows = [dict(r) for r in good["categories"]]
        rows[0][name] = value
        publish({**good, "categories": rows}, f"categories[0].{name}")
    # a category left out, an uncommitted version, a moment after the event's time
    publish({**good, "categories": good["categories"][:1]}, "category 2 of escrow version 1")
    publish({**good, "version": 2}, "no escrow version 2")
    _refused(
        ledger,
        _event(AGGREGATE_PUBLISHED, "agg", {**good, "at": "2014-08-01T00:00:00Z"}),
        "insp",
        "after the event",
    )
    # only the inspectorate publishes
    _refused(ledger, _event(AGGREGATE_PUBLISHED, "agg", good), "dec", "may not write")
    # and the proven one is taken
    ledger.append(ledger.sign([_event(AGGREGATE_PUBLISHED, "agg", good)], "insp"))


# -- random subsets -----------------------------------------------------------------------


def _tree(grams: list[int]) -> EscrowTree:
    recs = [
        EscrowItem(
            id=f"C-{i}", kind="container", category=1, grams=g, site="S-1", method="weighing"
        )
        for i, g in enumerate(grams)
    ]
    return build_trees(
        1, recs, {r.id: bytes([i % 256]) * 32 for i, r in enumerate(recs)}, bytes(32)
    )[1]


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[int], list[list[int]], list[list[int]]]:
    n = draw(st.integers(1, 60))
    grams = draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n))
    chunks = st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=n), max_size=4)
    return grams, draw(chunks), draw(chunks)


@given(cases())
@settings(max_examples=60, deadline=None)
def test_the_published_totals_are_the_sums_of_the_proven_leaves(
    case: tuple[list[int], list[list[int]], list[list[int]]],
) -> None:
    grams, destroyed_runs, removed_runs = case
    tree = _tree(grams)
    log: list[tuple[int, str, BaseModel | None]] = [
        (0, "escrow.committed", EscrowCommitted(version=1, categories=[tree.commitment()]))
    ]
    proven: dict[str, set[str]] = {"destroyed": set(), "removed": set()}
    for what, runs in (("destroyed", destroyed_runs), ("removed", removed_runs)):
        for run in runs:
            done = proven[what]
            ids = [f"C-{i}" for i in run]
            bodies = proved_bodies(
                tree,
                ids,
                what=what,  # type: ignore[arg-type]
                at=AT,
                proven=[tree.positions[i] for i in done],
                proven_g=sum(grams[int(i[2:])] for i in done),
            )
            for b in bodies:
                log.append((len(log), f"escrow.{what}_proved", b))
            done |= set(ids)
    entries = [
        Proven(b.WHAT, i, 1, 1, from_rfc3339(AT), b.count, b.grams)
        for i, _, b in log
        if isinstance(b, SubsetProved)
    ]
    [row] = figures(1, {1: tree.root}, entries, from_rfc3339(AT))
    body = AggregatePublished(at=AT, version=1, categories=[row])
    [check] = observe([*log, (len(log), AGGREGATE_PUBLISHED, body)])
    assert check.proven
    for what in ("destroyed", "removed"):
        want = sum(grams[int(i[2:])] for i in proven[what])
        assert getattr(row, f"{what}_grams") == want
        assert getattr(row, f"{what}_items") == len(proven[what])
    assert row.remaining_grams == sum(grams) - row.destroyed_grams
    # one gram more anywhere is not proven
    for name in ("destroyed_grams", "removed_grams", "remaining_grams"):
        wrong = row.model_copy(update={name: getattr(row, name) + 1})
        forged = AggregatePublished(at=AT, version=1, categories=[wrong])
        [check] = observe([*log, (len(log), AGGREGATE_PUBLISHED, forged)])
        assert not check.proven
