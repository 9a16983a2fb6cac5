"""Confidentiality classes: every field of every registered body has one, a body splits
into its public part and the rest and merges back, and each role reads up to its
clearance."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from cwledger.book.registry import EVENT_TYPES
from cwledger.model import bodies
from cwledger.model.classes import (
    CLEARANCE,
    HIGHLY_PROTECTED,
    PUBLIC,
    Class,
    Classified,
    Unclassified,
    field_class,
    field_classes,
    highest,
    may_read,
    merge,
    split,
    visible,
)
from cwledger.model.events import ROLES

BODIES: list[type[BaseModel]] = [t.body for t in EVENT_TYPES.values()]
AUTHORS: list[str | None] = [None, *ROLES]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@st.composite
def bodies_of_registered_types(draw: st.DrawFn) -> tuple[type[BaseModel], dict[str, Any]]:
    """A registered body type and a JSON object over some of its fields (split and merge
    look at the keys only, so any values will do)."""
    body_type = draw(st.sampled_from(BODIES))
    names = draw(st.sets(st.sampled_from(sorted(body_type.model_fields))))
    return body_type, {n: draw(json_values) for n in sorted(names)}


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_field_of_every_registered_body_has_one_class(name: str) -> None:
    body_type = EVENT_TYPES[name].body
    classes = field_classes(body_type)
    assert set(classes) == set(body_type.model_fields)
    assert all(isinstance(c, Classified) for c in classes.values())


def test_a_field_without_a_class_cannot_be_added_silently() -> None:
    class Grown(bodies.ItemTagged):
        note: str = ""

    class Doubled(bodies.ItemTagged):
        note: Annotated[str, PUBLIC, HIGHLY_PROTECTED] = ""

    for body_type in (Grown, Doubled):
        with pytest.raises(Unclassified, match="note"):
            field_classes(body_type)
        with pytest.raises(Unclassified, match="note"):
            split(body_type, {"item": "I-1", "note": "x"})


def test_a_key_the_body_type_lacks_is_refused_not_passed_on() -> None:
    with pytest.raises(Unclassified, match="extra"):
        split(bodies.ItemTagged, {"item": "I-1", "extra": 1})
    with pytest.raises(Unclassified, match="extra"):
        visible(bodies.ItemTagged, {"extra": 1}, Class.HIGHLY_PROTECTED)


@given(bodies_of_registered_types(), st.sampled_from(AUTHORS))
def test_merge_of_split_is_the_body(
    case: tuple[type[BaseModel], dict[str, Any]], author: str | None
) -> None:
    body_type, body = case
    public, confidential = split(body_type, body, author_role=author)
    assert merge(public, confidential) == body
    assert not set(public) & set(confidential)


@given(bodies_of_registered_types(), st.sampled_from(AUTHORS))
def test_split_never_puts_a_confidential_field_in_the_public_part(
    case: tuple[type[BaseModel], dict[str, Any]], author: str | None
) -> None:
    body_type, body = case
    public, confidential = split(body_type, body, author_role=author)
    assert all(field_class(body_type, n, author) is Class.PUBLIC for n in public)
    assert all(field_class(body_type, n, author) > Class.PUBLIC for n in confidential)
    # Without the author's role, no field is lower than its declared class.
    ceiling_public, _ = split(body_type, body)
    assert set(ceiling_public) <= set(public)


@given(bodies_of_registered_types(), st.sampled_from(list(Class)), st.sampled_from(AUTHORS))
def test_visible_is_every_field_up_to_the_clearance(
    case: tuple[type[BaseModel], dict[str, Any]], clearance: Class, author: str | None
) -> None:
    body_type, body = case
    seen = visible(body_type, body, clearance, author_role=author)
    assert seen == {n: v for n, v in body.items() if field_class(body_type, n, author) <= clearance}
    if clearance is Class.PUBLIC:
        assert seen == split(body_type, body, author_role=author)[0]
    if clearance is Class.HIGHLY_PROTECTED:
        assert seen == body


def test_merge_refuses_a_field_in_both_parts() -> None:
    with pytest.raises(ValueError, match="site"):
        merge({"site": 1}, {"site": 2})


def test_the_rule_of_thumb_of_issue_16() -> None:
    """Sites, item ids, per-item masses, seal numbers and inspection details are not
    public; venues abroad, vessels, governance and aggregates are."""
    declaration = EVENT_TYPES["declaration.submitted"].body
    assert field_class(declaration, "sites") >= Class.PROTECTED
    assert field_class(declaration, "items") >= Class.PROTECTED
    assert field_class(declaration, "due") is Class.PUBLIC
    site = EVENT_TYPES["site.declared"].body
    assert field_class(site, "site", "declarant") is Class.PROTECTED
    assert field_class(site, "site", "inspectorate") is Class.PUBLIC  # abroad, a vessel
    assert field_class(site, "site") is Class.PROTECTED  # author unknown: the ceiling
    assert field_class(EVENT_TYPES["seal.applied"].body, "seal") >= Class.PROTECTED
    assert field_class(EVENT_TYPES["transfer.shipped"].body, "items") >= Class.PROTECTED
    closed = EVENT_TYPES["inspection.closed"].body
    assert field_class(closed, "summary") is Class.HIGHLY_PROTECTED
    result = EVENT_TYPES["sample.result"].body
    assert field_class(result, "laboratory") is Class.HIGHLY_PROTECTED
    for name, t in EVENT_TYPES.items():
        if t.governance:
            assert t.confidentiality is Class.PUBLIC, name
    assert EVENT_TYPES["escrow.committed"].confidentiality is Class.PUBLIC
    assert EVENT_TYPES["escrow.destroyed_proved"].confidentiality is Class.PUBLIC
    assert EVENT_TYPES["escrow.item_checked"].confidentiality is Class.PROTECTED


def test_a_declaration_splits_its_sites_and_items_off() -> None:
    body = {
        "version": 1,
        "part": 1,
        "parts": 1,
        "legal_basis": "EC-M-33/DEC.1",
        "due": "2013-10-27",
        "chemicals": [],
        "sites": [{"id": "S-MARKER"}],
        "items": [{"id": "I-MARKER"}],
    }
    body_type = EVENT_TYPES["declaration.submitted"].body
    public, confidential = split(body_type, body)
    assert public == {
        "version": 1,
        "part": 1,
        "parts": 1,
        "legal_basis": "EC-M-33/DEC.1",
        "due": "2013-10-27",
    }
    assert "MARKER" not in repr(public)
    assert set(confidential) == {"chemicals", "sites", "items"}


def test_an_event_type_is_marked_with_its_highest_field() -> None:
    for t in EVENT_TYPES.values():
        assert t.confidentiality == max(c.cls for c in field_classes(t.body).values())
        assert highest(t.body, "inspectorate") <= t.confidentiality


def test_every_role_has_a_clearance() -> None:
    assert set(CLEARANCE) == set(ROLES)
    assert [r for r in ROLES if CLEARANCE[r] is Class.PUBLIC] == ["observer", "witness"]
    for role in ROLES:
        assert may_read(role, Class.PUBLIC)
    assert not may_read("observer", Class.RESTRICTED)
    assert not may_read("witness", Class.RESTRICTED)
    assert may_read("destruction_facility", Class.PROTECTED)
    assert not may_read("destruction_facility", Class.HIGHLY_PROTECTED)
    for role in ("declarant", "inspectorate", "operator"):
        assert may_read(role, Class.HIGHLY_PROTECTED)
    assert not may_read("stranger", Class.RESTRICTED)  # unknown roles read public only


def test_classes_are_ordered_and_written_as_in_the_issue() -> None:
    labels = ["public", "restricted", "protected", "highly-protected"]
    assert [c.label for c in sorted(Class)] == labels
    assert [Class.of(label) for label in labels] == sorted(Class)
    assert str(Class.HIGHLY_PROTECTED) == "highly-protected"
    with pytest.raises(ValueError, match="secret"):
        Class.of("secret")


def test_a_role_may_only_lower_a_fields_class() -> None:
    with pytest.raises(ValueError, match="above"):
        Classified("restricted", by={"inspectorate": "protected"})
    lowered = Classified("protected", by={"inspectorate": "public"})
    assert lowered.for_author("inspectorate") is Class.PUBLIC
    assert lowered.for_author("declarant") is Class.PROTECTED
    assert lowered.for_author(None) is Class.PROTECTED
