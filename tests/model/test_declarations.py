"""Declarations: version rules, unique ids, and the diff between two versions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cwledger.model import Change, Declaration, diff

from .strategies import declarations, item, mass, site


def decl(version: int = 1, **kw: Any) -> Declaration:
    """A small declaration: two sites, three items."""
    base: dict[str, Any] = {
        "version": version,
        "legal_basis": "EC-M-33/DEC.1",
        "due": "2013-10-27",
        "sites": [site("S-1"), site("S-2", kind="port")],
        "items": [item("I-1"), item("I-2"), item("I-3", site="S-2")],
    }
    return Declaration.model_validate({**base, **kw})


def test_amendment_references_the_previous_version() -> None:
    v2 = decl(2, amends=1)
    assert v2.amends == 1 and decl(3).amends is None
    assert decl().due_date.isoformat() == "2013-10-27"


def test_version_one_amends_nothing() -> None:
    with pytest.raises(ValidationError, match=r"version 1 cannot amend anything \(amends is 1\)"):
        decl(1, amends=1)


def test_an_amendment_amends_the_version_just_before() -> None:
    with pytest.raises(ValidationError, match="version 3 can only amend version 2, not 1"):
        decl(3, amends=1)


def test_every_duplicate_id_is_listed() -> None:
    sites = [site("S-1"), site("S-2"), site("S-1"), site("S-3"), site("S-3"), site("S-3")]
    items = [item("I-1"), item("I-9"), item("I-9")]
    with pytest.raises(ValidationError) as e:
        decl(sites=sites, items=items)
    text = str(e.value)
    assert "duplicate site ids: S-1 (2 times), S-3 (3 times)" in text
    assert "duplicate item ids: I-9 (2 times)" in text
    assert "S-2" not in text.split("duplicate")[1]


@pytest.mark.parametrize("due", ["2013-02-30", "27/10/2013", "20131027", "2013-10-27T00:00:00Z"])
def test_due_must_be_an_rfc3339_date(due: str) -> None:
    with pytest.raises(ValidationError, match="due"):
        decl(due=due)


def test_diff_names_added_removed_and_changed_with_field_names() -> None:
    old = decl()
    new = decl(
        2,
        amends=1,
        due="2014-06-30",
        sites=[site("S-2", kind="port"), site("S-3", access="inaccessible")],
        items=[
            item("I-0"),
            item("I-3", site="S-3", declared=mass(990.0, method="weighing")),
            item("I-2", tag="T-2"),
        ],
    )
    d = diff(old, new)
    assert (d.sites_added, d.sites_removed, d.sites_changed) == (["S-3"], ["S-1"], [])
    assert (d.items_added, d.items_removed) == (["I-0"], ["I-1"])
    assert [(c.id, c.fields) for c in d.items_changed] == [
        ("I-2", ["tag"]),
        ("I-3", ["declared.kg", "declared.u_systematic_kg", "site"]),
    ]
    # each changed field with its old and its new value
    i2, i3 = d.items_changed
    assert (i2.old, i2.new) == ({"tag": None}, {"tag": "T-2"})
    assert (i3.old["site"], i3.new["site"]) == ("S-2", "S-3")
    assert i3.new["declared.kg"] == 990.0 and i3.old["declared.kg"] != 990.0
    assert d.header_changed == ["due"]
    assert not d.empty


@given(declarations)
@settings(max_examples=40)
def test_diff_of_a_declaration_with_itself_is_empty(d: Declaration) -> None:
    assert diff(d, d).empty
    assert Declaration.model_validate_json(d.model_dump_json()) == d


@given(declarations.filter(lambda d: len(d.items) > 0), st.data())
@settings(max_examples=40)
def test_changing_one_item_field_names_exactly_that_item_and_field(
    d: Declaration, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(d.items) - 1))
    target = d.items[index]
    field, value = data.draw(
        st.sampled_from([("site", target.site + "X"), ("tag", (target.tag or "T") + "X")])
    )
    changed = target.model_copy(update={field: value})
    new = d.model_copy(update={"items": [*d.items[:index], changed, *d.items[index + 1 :]]})
    result = diff(d, new)
    old = target.model_dump(mode="json")[field]
    assert result.items_changed == [
        Change(id=target.id, fields=[field], old={field: old}, new={field: value})
    ]
    assert result.model_copy(update={"items_changed": []}).empty
