"""Verifiable random selection: commitment, seed, bottom-k and weighted draws, the check."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import random
from collections import Counter
from collections.abc import Callable

import pytest
from scipy.stats import chisquare

from cwledger.accountancy.selection import (
    check_selection,
    combine_randomness,
    commitment,
    item_key,
    rank,
    select,
    select_weighted,
    selection_seed,
)
from cwledger.errors import VerificationError

SECRET = bytes(range(32))
ROOT = bytes(32)
BEACON = b"\x01" * 64
PLAN = "plan-1"
ITEMS = [f"item-{i:03d}" for i in range(100)]
SEED = selection_seed(SECRET, ROOT, BEACON, PLAN)


def seeds(count: int) -> list[bytes]:
    """Fixed, distinct seeds: the statistical tests below are deterministic."""
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(count)]


def test_commitment_and_seed_follow_the_protocol() -> None:
    c = commitment(SECRET)
    assert c == hashlib.sha256(b"cwledger/sel/v1" + SECRET).hexdigest()
    # Fixed vectors, so that another implementation can check itself against this one.
    assert c == "c017d8237b2bace77e80f684efdfc5cdaed26bfc9c97bceed878950b6aec0160"
    assert SEED == hashlib.sha256(SECRET + ROOT + BEACON + b"plan-1").digest()
    assert SEED.hex() == "59f2e2cb40a613feedf48020dbcba9e3790d7c2cf84e0b9c7b085da8b13a1c7e"
    assert select(SEED, ITEMS, 5) == ["item-035", "item-077", "item-069", "item-094", "item-034"]


def test_rank_is_by_hmac_and_the_selection_is_its_prefix() -> None:
    ranked = rank(SEED, ITEMS)
    assert sorted(ranked) == ITEMS
    keys = [item_key(SEED, i) for i in ranked]
    assert keys == sorted(keys)
    assert keys[0] == hmac.new(SEED, ranked[0].encode(), hashlib.sha256).digest()
    for n in (0, 1, 10, 100):
        assert select(SEED, ITEMS, n) == ranked[:n]


def test_selection_is_deterministic_and_ignores_the_order_of_the_population() -> None:
    shuffled = ITEMS[:]
    random.Random(7).shuffle(shuffled)
    assert select(SEED, ITEMS, 12) == select(SEED, ITEMS, 12) == select(SEED, shuffled, 12)
    weights = {i: 1.0 + k for k, i in enumerate(ITEMS)}
    reordered = dict(sorted(weights.items(), reverse=True))
    assert select_weighted(SEED, weights, 12) == select_weighted(SEED, reordered, 12)


def test_the_selection_is_a_uniform_sample_without_replacement() -> None:
    population = ["a", "b", "c", "d", "e"]
    subsets = Counter(frozenset(select(s, population, 2)) for s in seeds(4000))
    assert set(subsets) == {frozenset(p) for p in itertools.combinations(population, 2)}
    assert chisquare(list(subsets.values())).pvalue > 1e-3
    ordered = Counter(tuple(select(s, population, 5)) for s in seeds(4000))
    assert len(ordered) == 120  # every permutation turns up
    assert chisquare(list(ordered.values())).pvalue > 1e-3


@pytest.mark.parametrize(
    "change",
    [
        {"secret": b"\x02" * 32},
        {"declaration_root": b"\xff" * 32},
        {"randomness": b"\x01" * 63 + b"\x00"},
        {"plan_id": "plan-2"},
    ],
)
def test_changing_any_input_changes_the_selection(change: dict[str, object]) -> None:
    inputs: dict[str, object] = {
        "secret": SECRET,
        "declaration_root": ROOT,
        "randomness": BEACON,
        "plan_id": PLAN,
    }
    other = selection_seed(**{**inputs, **change})  # type: ignore[arg-type]
    assert other != SEED
    assert set(select(other, ITEMS, 20)) != set(select(SEED, ITEMS, 20))


def test_combined_beacons_depend_on_every_output_and_their_order() -> None:
    a, b = b"\x01" * 32, b"\x02" * 64
    combined = combine_randomness(a, b)
    assert len(combined) == 32
    assert len({combined, combine_randomness(b, a), combine_randomness(a), a, b}) == 5
    assert combine_randomness(a + b[:1], b[1:]) != combined  # boundaries are kept
    with pytest.raises(ValueError, match="at least one"):
        combine_randomness()


def test_weighted_selection_favours_heavy_items() -> None:
    items = {"heavy": 100.0, **{f"light-{i}": 1.0 for i in range(10)}}
    firsts = Counter(select_weighted(s, items, 1)[0] for s in seeds(3000))
    assert 0.88 < firsts["heavy"] / 3000 < 0.94  # 100/110 = 0.909
    # One draw is exactly proportional to weight (Efraimidis-Spirakis).
    weights = {"w1": 1.0, "w2": 2.0, "w3": 3.0, "w4": 4.0}
    counts = Counter(select_weighted(s, weights, 1)[0] for s in seeds(4000))
    observed = [counts[k] for k in weights]
    assert chisquare(observed, [400.0, 800.0, 1200.0, 1600.0]).pvalue > 1e-3
    # Tiny and huge weights neither underflow nor overflow.
    extreme = {"dust": 1e-300, "tank": 1e300, "drum": 1.0}
    assert select_weighted(SEED, extreme, 3)[0] == "tank"
    assert select_weighted(SEED, extreme, 3)[2] == "dust"


def test_check_selection_accepts_the_honest_draw_in_any_order() -> None:
    c = commitment(SECRET)
    drawn = select(SEED, ITEMS, 10)
    check_selection(SECRET, c, ROOT, BEACON, PLAN, ITEMS, 10, drawn)
    check_selection(SECRET, c.upper(), ROOT, BEACON, PLAN, ITEMS, 10, sorted(drawn))
    weights = {i: float(k + 1) for k, i in enumerate(ITEMS)}
    heavy = select_weighted(SEED, weights, 10)
    check_selection(SECRET, c, ROOT, BEACON, PLAN, weights, 10, heavy)


def test_check_selection_refuses_a_wrong_secret() -> None:
    c = commitment(SECRET)
    wrong = b"\x09" * 32
    with pytest.raises(VerificationError, match="commitment does not match") as e:
        check_selection(wrong, c, ROOT, BEACON, PLAN, ITEMS, 10, select(SEED, ITEMS, 10))
    assert commitment(wrong) in str(e.value) and c in str(e.value)


def test_check_selection_refuses_a_different_selection_and_names_the_items() -> None:
    c = commitment(SECRET)
    drawn = select(SEED, ITEMS, 10)
    outsider = next(i for i in ITEMS if i not in drawn)
    claimed = [*drawn[1:], outsider]
    with pytest.raises(VerificationError, match="selection does not match") as e:
        check_selection(SECRET, c, ROOT, BEACON, PLAN, ITEMS, 10, claimed)
    assert f"claimed but not drawn: {outsider}" in str(e.value)
    assert f"drawn but not claimed: {drawn[0]}" in str(e.value)
    with pytest.raises(VerificationError, match="claimed 9 items, the draw gives 10"):
        check_selection(SECRET, c, ROOT, BEACON, PLAN, ITEMS, 10, drawn[:9])
    with pytest.raises(VerificationError, match="claimed more than once"):
        check_selection(SECRET, c, ROOT, BEACON, PLAN, ITEMS, 3, [*drawn[:3], drawn[0]])
    # The same claim against another beacon output is a different draw.
    with pytest.raises(VerificationError, match="selection does not match"):
        check_selection(SECRET, c, ROOT, b"\x02" * 64, PLAN, ITEMS, 10, drawn)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: commitment(b"short"), "at least 16 random bytes"),
        (lambda: selection_seed(SECRET, b"", BEACON, PLAN), "declaration_root"),
        (lambda: selection_seed(SECRET, ROOT, b"", PLAN), "randomness"),
        (lambda: selection_seed(SECRET, ROOT, BEACON, ""), "plan_id"),
        (lambda: select(SEED, ["a", "b", "a"], 1), "repeated: a"),
        (lambda: select(SEED, ["a", "b"], 3), "n must be between 0 and the 2 items"),
        (lambda: select(b"", ["a"], 1), "seed"),
        (lambda: select_weighted(SEED, {"a": 1.0, "b": 0.0}, 1), "weight of item 'b'"),
        (lambda: select_weighted(SEED, {"a": float("nan")}, 1), "weight of item 'a'"),
        (lambda: select_weighted(SEED, {"a": 1.0}, 2), "n must be between"),
    ],
)
def test_bad_inputs_are_refused(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
