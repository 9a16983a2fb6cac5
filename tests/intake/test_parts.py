"""Splitting a declaration into parts under the entry limit, and assembling it again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cwledger.errors import EventRejected, Problem
from cwledger.intake import (
    BODY_BUDGET,
    assemble,
    declaration_event_type,
    declaration_parts,
)
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.envelope import sign_event
from cwledger.model import Declaration
from cwledger.model.bodies import MAX_LINES, DeclarationAmended, DeclarationSubmitted
from cwledger.model.events import Event
from cwledger.tlog.note import Signer

from .sheets import DUE, LEGAL_BASIS, sample

ENTRY_LIMIT = 65_536  # C2SP tlog-tiles: an entry is at most 64 KiB
PAYLOAD_LIMIT = 40_000


def big(n: int, *, version: int = 1, long: bool = False, sites: int = 40) -> Declaration:
    """``n`` items over ``sites`` sites and 10 chemicals; ``long`` makes every text long."""
    pad = "x" * 480 if long else ""
    chemicals = [
        {"label": f"Chem-{c}", "cwc_category": 1 + c % 3, "removal_priority": "1"}
        for c in range(10)
    ]
    site_list = [
        {"id": f"S-{s:03d}", "name": f"Depot {s}", "kind": "storage", "party": "dec",
         "coordinates": {"lat": 30 + s / 7, "lon": 35 + s / 11}}
        for s in range(sites)
    ]  # fmt: skip
    items = [
        {
            "id": f"I-{i:06d}",
            "kind": "munition" if i % 3 == 0 else "container",
            "tag": f"T-{i:06d}" if i % 2 else None,
            "chemical": None if i % 9 == 0 else f"Chem-{i % 10}",
            "declared": {"kg": 1000 + i / 3, "u_random_kg": i / 97, "u_systematic_kg": 2.5,
                         "method": f"weighing {pad}".strip()},
            "site": f"S-{i % sites:03d}",
            "munition_type": f"projectile P{i % 4} {pad}".strip() if i % 3 == 0 else None,
        }
        for i in range(n)
    ]  # fmt: skip
    return Declaration.model_validate(
        {"version": version, "amends": version - 1 if version > 1 else None,
         "legal_basis": LEGAL_BASIS, "due": DUE, "chemicals": chemicals, "sites": site_list,
         "items": items}
    )  # fmt: skip


def typed(bodies: list[dict[str, Any]]) -> list[DeclarationSubmitted | DeclarationAmended]:
    """The bodies as the ledger admits them: canonical JSON, parsed, validated by type."""
    out: list[DeclarationSubmitted | DeclarationAmended] = []
    for body in bodies:
        parsed = json.loads(canonical_json(body))
        kind = DeclarationAmended if "amends" in parsed else DeclarationSubmitted
        out.append(kind.model_validate(parsed))
    return out


def envelope_sizes(declaration: Declaration, bodies: list[dict[str, Any]]) -> list[int]:
    """Each part signed as an event with the longest id and author the ledger allows."""
    signer = Signer.generate("d" * 64)
    sizes = []
    for n, body in enumerate(bodies):
        event = Event(
            type=declaration_event_type(declaration),
            id=f"{n:04d}" + "x" * 124,
            time="2014-01-07T10:00:00.123456Z",
            author="d" * 64,
            body=body,
        )
        envelope = sign_event(event, signer)
        assert len(envelope.payload) <= PAYLOAD_LIMIT
        sizes.append(len(envelope.to_bytes()))
    return sizes


def check_parts(declaration: Declaration, bodies: list[dict[str, Any]]) -> None:
    """Numbered 1..N, header in part 1 only, within the budget, every envelope under 64 KiB."""
    n = len(bodies)
    assert [b["part"] for b in bodies] == list(range(1, n + 1))
    assert all(b["parts"] == n for b in bodies)
    assert all(len(canonical_json(b)) <= BODY_BUDGET for b in bodies)
    assert all(len(b["items"]) <= MAX_LINES for b in bodies)
    assert "legal_basis" in bodies[0] and not any("legal_basis" in b for b in bodies[1:])
    assert max(envelope_sizes(declaration, bodies)) < ENTRY_LIMIT


def test_3000_items_split_under_the_budget_and_assemble_again() -> None:
    declaration = big(3000)
    bodies = declaration_parts(declaration)
    check_parts(declaration, bodies)
    assert len(bodies) > 3000 // MAX_LINES  # the bytes bind, not the line count
    parts = typed(bodies)
    assert all(isinstance(p, DeclarationSubmitted) for p in parts)
    assert assemble(parts) == declaration
    assert assemble(list(reversed(parts))) == declaration


def test_small_items_split_by_line_count() -> None:
    declaration = Declaration.model_validate(
        {**big(0).model_dump(), "items": [
            {"id": f"I{i}", "kind": "container", "chemical": "Chem-1", "site": "S-000",
             "declared": {"kg": 1.0, "method": "w"}}
            for i in range(450)
        ]}
    )  # fmt: skip
    bodies = declaration_parts(declaration)
    assert [len(b["items"]) for b in bodies] == [MAX_LINES, MAX_LINES, 50]
    assert assemble(typed(bodies)) == declaration


def test_long_items_split_by_bytes() -> None:
    declaration = big(600, long=True)
    bodies = declaration_parts(declaration)
    check_parts(declaration, bodies)
    sizes = [len(canonical_json(b)) for b in bodies]
    assert min(sizes[:-1]) > BODY_BUDGET - 2_000  # each part nearly full
    assert assemble(typed(bodies)) == declaration


def test_an_amendment_is_sent_as_declaration_amended() -> None:
    declaration = big(500, version=3)
    bodies = declaration_parts(declaration)
    assert declaration_event_type(declaration) == "declaration.amended"
    assert all(b["version"] == 3 and b["amends"] == 2 for b in bodies)
    parts = typed(bodies)
    assert all(isinstance(p, DeclarationAmended) for p in parts)
    assert assemble(parts) == declaration


def test_a_declaration_without_items_is_one_header_part() -> None:
    declaration = big(0)
    assert declaration_event_type(declaration) == "declaration.submitted"
    [body] = declaration_parts(declaration)
    assert body["part"] == body["parts"] == 1 and body["items"] == []
    assert assemble(typed([body])) == declaration


def _growing_headers() -> Iterator[Declaration]:
    """The sample with ever more long-named sites, then an ever longer legal basis."""
    base = sample().model_dump()
    site = base["sites"][0]
    for n in range(60, 80):
        sites = [{**site, "id": f"X-{k}", "name": f"{k} " + "n" * 490} for k in range(n)]
        for pad in range(0, 480, 10):
            legal_basis = f"{LEGAL_BASIS} {'b' * pad}".strip()
            fields = {**base, "legal_basis": legal_basis, "sites": [*base["sites"], *sites]}
            yield Declaration.model_validate(fields)


def test_a_full_header_leaves_the_items_to_part_two() -> None:
    for declaration in _growing_headers():  # until no item fits beside the header
        bodies = declaration_parts(declaration)
        if bodies[0]["items"] == []:
            break
    assert bodies[0]["items"] == [] and len(bodies) == 2
    check_parts(declaration, bodies)
    assert assemble(typed(bodies)) == declaration


def test_a_declaration_too_big_for_its_header_is_refused() -> None:
    base = big(1, sites=MAX_LINES + 1).model_dump()
    with pytest.raises(EventRejected) as e:
        declaration_parts(Declaration.model_validate(base))
    assert e.value.problems[0] == Problem("sites", "201 sites: part 1 carries at most 200")
    long_names = [{**s, "name": s["name"] + " " + "n" * 400} for s in base["sites"][:150]]
    with pytest.raises(EventRejected) as e:
        declaration_parts(Declaration.model_validate({**base, "sites": long_names}))
    [problem] = e.value.problems
    assert problem.location == "header" and "a part holds at most 39000" in problem.message


def _parts(**changes: dict[str, Any]) -> list[DeclarationSubmitted | DeclarationAmended]:
    """The 3 parts of a small declaration, with some fields of some parts changed."""
    bodies = {b["part"]: b for b in declaration_parts(big(3 * MAX_LINES - 10))}
    assert len(bodies) >= 3
    for part, change in changes.items():
        bodies[int(part.removeprefix("p"))].update(change)
    return typed(list(bodies.values()))


def test_assemble_needs_every_part_once() -> None:
    parts = _parts()
    n = len(parts)
    with pytest.raises(EventRejected) as e:
        assemble([parts[0], parts[2], parts[2]])
    assert e.value.problems == [
        Problem("part 3", "given 2 times"),
        Problem("parts", f"missing part(s) {', '.join(str(k) for k in range(2, n + 1) if k != 3)}"
                f" of {n}"),
    ]  # fmt: skip
    with pytest.raises(EventRejected) as e:
        assemble([])
    assert e.value.problems == [Problem("parts", "no parts: a declaration has at least its part 1")]


def test_assemble_needs_the_parts_to_agree() -> None:
    parts = _parts(p2={"parts": 9}, p3={"version": 2, "amends": 1})
    with pytest.raises(EventRejected) as e:
        assemble(parts)
    n = len(parts)
    assert e.value.problems[:3] == [
        Problem("part 2", f"parts 9, but part 1 says {n}"),
        Problem("part 3", "version 2, but part 1 says 1"),
        Problem("part 3", "a declaration.amended, but part 1 is a declaration.submitted"),
    ]


def test_assemble_refuses_an_item_in_two_parts() -> None:
    parts = _parts()
    first_item = parts[0].model_dump()["items"][0]
    second = parts[1].model_dump()
    second["items"][0] = first_item
    with pytest.raises(EventRejected) as e:
        assemble([parts[0], DeclarationSubmitted.model_validate(second), *parts[2:]])
    assert e.value.problems == [Problem("declaration", "duplicate item ids: I-000000 (2 times)")]
