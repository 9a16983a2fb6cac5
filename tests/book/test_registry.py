"""The registry of event types is complete: every type has its body, authors, rule and label;
every rule and every body of an event has its type; nothing is ever skipped."""

from __future__ import annotations

import inspect
import pkgutil
from importlib import import_module
from types import ModuleType

import pytest
from pydantic import BaseModel

import cwledger.book.rules as rules_package
from cwledger.book.book import Book, Context
from cwledger.book.registry import EVENT_TYPES, GOVERNANCE_TYPES, apply_event
from cwledger.epcis.mapping import EXPORTED
from cwledger.model import bodies
from cwledger.model.classes import Class
from cwledger.model.events import ROLES, Event

# Body classes that are parts of a body, not the body of an event type.
_PARTS = {
    "TransferLine",
    "InventoryLine",
    "DestructionLine",
    "DestructionProduct",
    "Selector",
    "Predicate",
    "InspectionKind",
}


def _rule_modules() -> list[ModuleType]:
    return [
        import_module(f"{rules_package.__name__}.{m.name}")
        for m in pkgutil.iter_modules(rules_package.__path__)
        if m.name != "common"
    ]


def _rules_defined() -> set[object]:
    """Every public function of the rule modules that takes (book, ctx, body)."""
    found = set()
    for module in _rule_modules():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            if list(inspect.signature(fn).parameters) == ["book", "ctx", "body"]:
                found.add(fn)
    return found


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_type_has_body_authors_rule_label(name: str) -> None:
    t = EVENT_TYPES[name]
    assert t.name == name
    assert issubclass(t.body, BaseModel)
    assert callable(t.rule)
    assert t.label.strip() and t.label == t.label.strip()
    assert isinstance(t.confidentiality, Class)
    assert t.authors <= set(ROLES)
    if t.governance:
        assert not t.authors, "governance authors are decided by the genesis, not by role"
    else:
        assert t.authors, f"{name}: nobody may write it"
        assert "operator" not in t.authors and "witness" not in t.authors


def test_every_rule_has_a_type() -> None:
    registered = {t.rule for t in EVENT_TYPES.values()}
    orphans = sorted(f.__name__ for f in _rules_defined() - registered)
    assert not orphans, f"rules that no event type names: {orphans}"
    assert _rules_defined(), "the rule modules define no rule: the walk is broken"


def test_every_event_body_has_a_type() -> None:
    registered = {t.body for t in EVENT_TYPES.values()}
    event_bodies = {
        getattr(bodies, n)
        for n in bodies.__all__
        if n not in _PARTS and isinstance(getattr(bodies, n), type)
    }
    event_bodies = {c for c in event_bodies if issubclass(c, BaseModel)}
    assert event_bodies - registered == set()
    assert len(registered) == len(EVENT_TYPES), "two event types share a body type"
    assert {n for n, t in EVENT_TYPES.items() if t.governance} == GOVERNANCE_TYPES


def test_labels_are_distinct() -> None:
    labels = [t.label for t in EVENT_TYPES.values()]
    assert len(labels) == len(set(labels))


def test_epcis_mapping_is_the_registry_s() -> None:
    assert {n for n, t in EVENT_TYPES.items() if t.epcis is not None} == EXPORTED
    # Only declarations are rebuilt from master data rather than one EPCIS event.
    from_master = {n for n, t in EVENT_TYPES.items() if t.epcis and t.epcis.import_ is None}
    assert from_master == {"declaration.submitted", "declaration.amended"}
    # Every exported type but the inspection's opening and closing concerns items, and says
    # in one line what it did to each.
    about_items = EXPORTED - {"inspection.opened", "inspection.closed"}
    assert all(EVENT_TYPES[n].summary is not None for n in about_items)


def _ctx(event_type: str, body: BaseModel) -> Context:
    event = Event(type=event_type, id="EV-1", time="2014-01-01T00:00:00Z", author="x", body={})
    return Context(event, body, 1, 0, "inspectorate")


def test_an_unregistered_type_is_refused_never_skipped() -> None:
    book = Book()
    problems = apply_event(
        book, _ctx("weather.reported", bodies.FindingRaised(title="t", subjects=["S"]))
    )
    assert [p.message for p in problems] == ["no rule for event type 'weather.reported'"]
    assert book.changes.records == {} and book.changes.sites == []


def test_a_body_of_the_wrong_type_is_a_programming_error() -> None:
    body = bodies.FindingRaised(title="t", subjects=["S"])
    with pytest.raises(TypeError, match="seal.checked: body is FindingRaised"):
        EVENT_TYPES["seal.checked"].apply(Book(), _ctx("seal.checked", body))


def test_a_registered_rule_changes_the_book() -> None:
    book = Book()
    body = bodies.FindingRaised(title="a finding", subjects=["S-1"])
    assert apply_event(book, _ctx("finding.raised", body)) == []
    kinds = {kind for kind, _ in book.changes.records}
    assert "finding" in kinds


def test_only_claims_that_move_material_have_a_balance_flow() -> None:
    flows = {n: t.flow for n, t in EVENT_TYPES.items() if t.flow != "other"}
    assert flows == {
        "transfer.shipped": "shipments",
        "transfer.received": "receipts",
        "destruction.batch": "destroyed",
    }
