"""A declaration as the events that carry it, and back.

A log entry holds at most 64 KiB (C2SP tlog-tiles), so a declaration travels as numbered
parts: part 1 is the header (legal basis, due date, chemicals table, sites) with the
first items, every further part a batch of items. Version 1 is sent as
``declaration.submitted`` events, any later version as ``declaration.amended`` events
naming the version it amends. Each part's body is at most :data:`BODY_BUDGET` bytes of
canonical (RFC 8785) JSON and :data:`~cwledger.model.bodies.MAX_LINES` items.

The budget: the signed event adds its type, id (at most 128 characters), author (at most
64) and time to the body, a few hundred bytes, so the DSSE payload stays within 40,000; DSSE
base64-encodes it (4/3, 53,336 bytes) and adds the payload type, key id and signature
(under 300 bytes). The envelope thus stays under 54,000 bytes, well within 65,536.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from cwledger.errors import EventRejected, Problem
from cwledger.ledger.canonical import canonical_json
from cwledger.model import Declaration
from cwledger.model.bodies import MAX_LINES, DeclarationAmended, DeclarationSubmitted

__all__ = [
    "BODY_BUDGET",
    "DeclarationPart",
    "assemble",
    "declaration_event_type",
    "declaration_parts",
]

BODY_BUDGET = 39_000  # canonical JSON bytes of one part's body
_MOST_PARTS = 10_000  # what DeclarationSubmitted allows; also the widest part numbers

DeclarationPart = DeclarationSubmitted | DeclarationAmended


def declaration_event_type(declaration: Declaration) -> str:
    """``declaration.submitted`` for version 1, ``declaration.amended`` for any later one."""
    return "declaration.submitted" if declaration.version == 1 else "declaration.amended"


def declaration_parts(declaration: Declaration, budget: int = BODY_BUDGET) -> list[dict[str, Any]]:
    """The bodies (JSON-ready) of the events that carry ``declaration``, part 1 first, each
    at most `budget` bytes (smaller for a confidential ledger, whose sealing multiplies a
    part's bytes by its readers: `ledger.confidential.sealed_body_budget`).

    A later version with no ``amends`` is sent as amending the version before. Raises
    EventRejected when the declaration cannot be carried: more than MAX_LINES chemicals or
    sites, a header over the budget, more than 10,000 parts.
    """
    head = _head(declaration)
    header = _header(declaration)
    items = [item.model_dump(mode="json", exclude_none=True) for item in declaration.items]
    first, later = _base_size({**head, **header}), _base_size(head)
    _check_header(declaration, first, budget)
    batches = _batches([len(canonical_json(i)) for i in items], first, later, budget)
    if len(batches) > _MOST_PARTS:
        raise EventRejected([Problem("items", f"{len(batches)} parts; at most {_MOST_PARTS}")])
    bodies = [
        {**head, "part": n, "parts": len(batches), **(header if n == 1 else {}), "items": items[b]}
        for n, b in enumerate(batches, start=1)
    ]
    body_type = DeclarationSubmitted if declaration.version == 1 else DeclarationAmended
    for body in bodies:
        _check_body(body, body_type, budget)
    return bodies


def _head(declaration: Declaration) -> dict[str, Any]:
    """What every part repeats: the version (and the version it amends)."""
    if declaration.version == 1:
        return {"version": 1}
    return {"version": declaration.version, "amends": declaration.amends or declaration.version - 1}


def _header(declaration: Declaration) -> dict[str, Any]:
    return {
        "legal_basis": declaration.legal_basis,
        "due": declaration.due,
        "chemicals": [c.model_dump(mode="json", exclude_none=True) for c in declaration.chemicals],
        "sites": [s.model_dump(mode="json", exclude_none=True) for s in declaration.sites],
    }


def _base_size(fields: dict[str, Any]) -> int:
    """Bytes of a part with these fields and no items, part numbers at their widest."""
    return len(canonical_json({**fields, "part": _MOST_PARTS, "parts": _MOST_PARTS, "items": []}))


def _check_header(declaration: Declaration, size: int, budget: int) -> None:
    problems = [
        Problem(what, f"{n} {what}: part 1 carries at most {MAX_LINES}")
        for what, n in (
            ("chemicals", len(declaration.chemicals)),
            ("sites", len(declaration.sites)),
        )
        if n > MAX_LINES
    ]
    if size > budget:
        problems.append(
            Problem(
                "header",
                f"{size} bytes of legal basis, due date, chemicals and sites;"
                f" a part holds at most {budget}",
            )
        )
    if problems:
        raise EventRejected(problems)


def _batches(sizes: Sequence[int], first: int, later: int, budget: int) -> list[slice]:
    """Consecutive items per part: as many as fit the budget, at most MAX_LINES.

    ``first`` and ``later`` are the bytes of part 1 and of any other part without items;
    each item takes its own bytes and a comma after the first.
    """
    batches: list[slice] = []
    start, used = 0, first
    for i, size in enumerate(sizes):
        count = i - start
        if count == MAX_LINES or used + size + int(count > 0) > budget:
            batches.append(slice(start, i))
            start, used, count = i, later, 0
        used += size + int(count > 0)
    batches.append(slice(start, len(sizes)))
    return batches


def _check_body(body: dict[str, Any], body_type: type[DeclarationPart], budget: int) -> None:
    """Every body validates as its event type and keeps to the budget."""
    size = len(canonical_json(body))
    where = f"part {body['part']}"
    if size > budget:
        raise EventRejected([Problem(where, f"{size} bytes; a part holds at most {budget}")])
    try:
        body_type.model_validate(body)
    except ValidationError as e:
        raise EventRejected([Problem(where, _plain(err["msg"])) for err in e.errors()]) from e


def assemble(parts: Sequence[DeclarationSubmitted | DeclarationAmended]) -> Declaration:
    """The declaration that ``parts`` carry, in any order.

    Every part 1..N must be there once, all of one event type, agreeing on the version and
    on N. Raises EventRejected listing every problem.
    """
    problems = _part_problems(parts)
    if problems:
        raise EventRejected(problems)
    ordered = sorted(parts, key=lambda p: p.part)
    head = ordered[0]
    fields = {
        "version": head.version,
        "amends": head.amends if isinstance(head, DeclarationAmended) else None,
        "legal_basis": head.legal_basis,
        "due": head.due,
        "chemicals": head.chemicals,
        "sites": head.sites,
        "items": [item for part in ordered for item in part.items],
    }
    try:
        return Declaration.model_validate(fields)
    except ValidationError as e:
        problems = [Problem("declaration", _plain(err["msg"])) for err in e.errors()]
        raise EventRejected(problems) from e


def _part_problems(parts: Sequence[DeclarationPart]) -> list[Problem]:
    if not parts:
        return [Problem("parts", "no parts: a declaration has at least its part 1")]
    ordered = sorted(parts, key=lambda p: p.part)
    lead = ordered[0]
    problems = [problem for p in ordered[1:] for problem in _disagreements(p, lead)]
    counts = Counter(p.part for p in parts)
    problems += [
        Problem(f"part {n}", f"given {k} times") for n, k in sorted(counts.items()) if k > 1
    ]
    missing = [str(n) for n in range(1, lead.parts + 1) if n not in counts]
    if missing:
        problems.append(Problem("parts", f"missing part(s) {', '.join(missing)} of {lead.parts}"))
    return problems


def _disagreements(part: DeclarationPart, lead: DeclarationPart) -> list[Problem]:
    """Where ``part`` differs from the lowest-numbered part on what all parts share."""
    where, problems = f"part {part.part}", []
    for what in ("version", "parts"):
        mine, theirs = getattr(part, what), getattr(lead, what)
        if mine != theirs:
            problems.append(Problem(where, f"{what} {mine}, but part {lead.part} says {theirs}"))
    if type(part) is not type(lead):
        kinds = f"a {_kind(part)}, but part {lead.part} is a {_kind(lead)}"
        problems.append(Problem(where, kinds))
    return problems


def _plain(message: str) -> str:
    return message.removeprefix("Value error, ")


def _kind(part: DeclarationPart) -> str:
    return (
        "declaration.submitted" if isinstance(part, DeclarationSubmitted) else "declaration.amended"
    )
