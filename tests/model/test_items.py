"""Items and seals: kind rules, the seal lifecycle and its refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cwledger.errors import CwledgerError
from cwledger.model import (
    IllegalTransition,
    Item,
    ItemKind,
    Seal,
    SealAction,
    SealCondition,
    SealState,
    SealType,
    next_seal_state,
)

from .strategies import item, items


def test_munition_with_type_and_no_chemical() -> None:
    m = item("M-1", kind="munition", munition_type="aerial bomb", chemical=None)
    assert m.kind is ItemKind.MUNITION and m.chemical is None


def test_munition_needs_a_type() -> None:
    with pytest.raises(ValidationError, match="item M-2 is a munition: munition_type is required"):
        item("M-2", kind="munition")


@pytest.mark.parametrize("kind", ["container", "bulk_lot"])
def test_only_a_munition_has_a_type(kind: str) -> None:
    with pytest.raises(ValidationError, match=f"item C-3 is a {kind}: only a munition"):
        item("C-3", kind=kind, munition_type="rocket")


def test_containers_need_a_chemical() -> None:
    with pytest.raises(ValidationError, match="item C-4 is a container: chemical is required"):
        item("C-4", chemical=None)


def test_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="kind"):
        item(kind="drum")


@given(items())
def test_item_round_trips_through_json(i: Item) -> None:
    assert Item.model_validate_json(i.model_dump_json()) == i


def test_the_whole_seal_lifecycle() -> None:
    seal = Seal.model_validate(
        {"id": "SL-1", "type": "metal_cap", "closes": {"kind": "item", "id": "C-1"}}
    )
    assert seal.state is SealState.REGISTERED and seal.type is SealType.METAL_CAP
    for action, state in [
        ("apply", "applied"),
        ("check", "applied"),
        ("check", "applied"),
        ("remove", "removed"),
        ("verify", "verified"),
    ]:
        seal = seal.after(SealAction(action))
        assert seal.state == state
    assert Seal.model_validate_json(seal.model_dump_json()) == seal


@pytest.mark.parametrize(
    ("state", "action", "allowed"),
    [
        ("registered", "remove", "apply"),
        ("registered", "check", "apply"),
        ("applied", "apply", "check, remove"),
        ("removed", "check", "verify"),
        ("verified", "apply", "nothing, it is final"),
    ],
)
def test_illegal_seal_steps_name_seal_state_and_action(
    state: str, action: str, allowed: str
) -> None:
    with pytest.raises(IllegalTransition) as e:
        next_seal_state(SealState(state), SealAction(action), seal_id="SL-9")
    assert str(e.value) == f"seal SL-9 is {state}: cannot {action} (allowed: {allowed})"
    assert isinstance(e.value, CwledgerError)
    assert (e.value.code, e.value.status) == ("illegal-transition", 409)


@given(st.lists(st.sampled_from(SealAction), max_size=8))
def test_a_verified_seal_never_changes_and_state_only_moves_forward(
    actions: list[SealAction],
) -> None:
    order = list(SealState)
    state = SealState.REGISTERED
    for action in actions:
        try:
            new = next_seal_state(state, action, seal_id="SL-1")
        except IllegalTransition:
            continue
        assert order.index(new) >= order.index(state)
        assert state is not SealState.VERIFIED
        state = new


def test_seal_condition_and_target_values() -> None:
    assert [c.value for c in SealCondition] == [
        "intact",
        "tampered",
        "broken",
        "missing",
        "indeterminate",
    ]
    with pytest.raises(ValidationError, match="kind"):
        Seal.model_validate(
            {"id": "SL-2", "type": "tape", "closes": {"kind": "vessel", "id": "V-1"}}
        )


def test_items_share_their_fields_set_and_copies_keep_their_own_fields() -> None:
    # The book holds items by the hundred thousand: instances with the same fields set
    # share one set of names (half an item's memory otherwise), and a copy with an update
    # neither changes the shared set nor loses what it set.
    a, b = item("C-1"), item("C-2")
    assert a.model_fields_set is b.model_fields_set
    bare = Item.model_validate({"id": "C-3", "kind": "munition", "munition_type": "rocket",
                                "declared": a.declared.model_dump(), "site": "S-01"})  # fmt: skip
    assert bare.model_fields_set == {"id", "kind", "munition_type", "declared", "site"}
    assert bare.model_fields_set is not a.model_fields_set
    before = set(bare.model_fields_set)
    copied = bare.model_copy(update={"tag": "T-9"})
    assert copied.model_fields_set == before | {"tag"} and bare.model_fields_set == before
    assert copied.model_dump(exclude_unset=True)["tag"] == "T-9"
    assert "tag" not in bare.model_dump(exclude_unset=True)
    assert Item.model_validate(bare.model_dump()) == bare
