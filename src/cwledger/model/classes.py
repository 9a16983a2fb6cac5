"""Confidentiality classes: what each field of an event body is, and who may read it.

Every field of every event body declares its class once, next to the field, with a
:class:`Classified` marker in its annotation (``item: Annotated[ObjectId, PROTECTED]``).
The classes, lowest first, are ``public``, ``restricted``, ``protected`` and
``highly-protected``, after the three markings of the OPCW's Policy on Confidentiality
(OPCW RESTRICTED, PROTECTED, HIGHLY PROTECTED) under the Convention's Confidentiality
Annex, with ``public`` for what is not confidential (``docs/confidentiality.md`` gives the
mapping and every field's class).

A class belongs to a body's own (top-level) field and covers its whole value: a field
that holds a record or a list of records (a site, the items of a declaration) takes one
class, the highest of what it holds, and the records inside carry none. A body is split
only at its top level, so the confidential part is keyed by field name.

One field may be lower for some authors: a site the inspectorate declares is a venue
abroad or a vessel (the book counts only the declarant's sites as in the country), public
as it was in 2014, while a site the declarant declares is protected. ``by`` names those
authors' roles; without an author's role every function here takes each field's
declared (highest) class.

Pure: no I/O. Callers pass the body type (``EVENT_TYPES[name].body``), so this module
knows nothing of the registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache
from typing import Any

from pydantic import BaseModel

__all__ = [
    "Class",
    "Classified",
    "PUBLIC",
    "RESTRICTED",
    "PROTECTED",
    "HIGHLY_PROTECTED",
    "CLEARANCE",
    "Unclassified",
    "field_classes",
    "field_class",
    "highest",
    "split",
    "merge",
    "visible",
    "may_read",
]


class Class(IntEnum):
    """A confidentiality class; a higher one is more sensitive (``max`` is the highest)."""

    PUBLIC = 0
    RESTRICTED = 1
    PROTECTED = 2
    HIGHLY_PROTECTED = 3

    @property
    def label(self) -> str:
        """The class as it is written: ``public`` ... ``highly-protected``."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def of(cls, label: str | Class) -> Class:
        """The class of a label (``"highly-protected"``), or the class itself."""
        if isinstance(label, Class):
            return label
        try:
            return cls[label.upper().replace("-", "_")]
        except KeyError:
            names = ", ".join(c.label for c in cls)
            raise ValueError(f"no class {label!r}: one of {names}") from None

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Classified:
    """The class of a body's field, in its annotation: ``Annotated[T, Classified("protected")]``.

    ``by`` lowers the class for events whose author holds one of the roles named
    (``Classified("protected", by={"inspectorate": "public"})``); it can only lower it.
    """

    cls: Class
    by: tuple[tuple[str, Class], ...] = field(default=())

    def __init__(self, cls: str | Class, *, by: Mapping[str, str | Class] | None = None):
        ceiling = Class.of(cls)
        lowered = tuple(sorted((role, Class.of(c)) for role, c in (by or {}).items()))
        for role, c in lowered:
            if c > ceiling:
                raise ValueError(f"for {role}: {c} is above the field's class {ceiling}")
        object.__setattr__(self, "cls", ceiling)
        object.__setattr__(self, "by", lowered)

    def for_author(self, role: str | None) -> Class:
        """The class in an event by an author of ``role`` (None: the declared class)."""
        return dict(self.by).get(role, self.cls) if role is not None else self.cls


PUBLIC = Classified(Class.PUBLIC)
RESTRICTED = Classified(Class.RESTRICTED)
PROTECTED = Classified(Class.PROTECTED)
HIGHLY_PROTECTED = Classified(Class.HIGHLY_PROTECTED)

CLEARANCE: dict[str, Class] = {
    # The declaring state and the Technical Secretariat read everything they are entitled
    # to (which events: their own and those naming them, decided per event when sealed).
    "declarant": Class.HIGHLY_PROTECTED,
    "inspectorate": Class.HIGHLY_PROTECTED,
    # The server replays the book, whose rules validate and apply whole bodies: it must
    # open every payload (docs/confidentiality.md, "The operator").
    "operator": Class.HIGHLY_PROTECTED,
    # A destruction venue reads the items and masses it receives and destroys, not the
    # inspectors' remarks, summaries and laboratories.
    "destruction_facility": Class.PROTECTED,
    "observer": Class.PUBLIC,
    "witness": Class.PUBLIC,
}
"""Each role's clearance (``cwledger.model.events.ROLES``, which imports this module): the
highest class its parties may read."""


class Unclassified(TypeError):
    """A body's field has no class (or more than one): it could not be split safely."""


@cache
def field_classes(body_type: type[BaseModel]) -> dict[str, Classified]:
    """Every field of a body type with its :class:`Classified` marker.

    Raises :class:`Unclassified` naming each field without exactly one marker, so a field
    added without a class fails the first split of its type (and the registry's test).
    """
    out: dict[str, Classified] = {}
    bad = []
    for name, info in body_type.model_fields.items():
        marks = [m for m in info.metadata if isinstance(m, Classified)]
        if len(marks) != 1:
            bad.append(f"{name} ({len(marks)} classes)")
        else:
            out[name] = marks[0]
    if bad:
        raise Unclassified(f"{body_type.__name__}: fields without one class: {', '.join(bad)}")
    return out


def field_class(body_type: type[BaseModel], name: str, author_role: str | None = None) -> Class:
    """The class of one field of a body type (in an event by ``author_role``, if given)."""
    return field_classes(body_type)[name].for_author(author_role)


def highest(body_type: type[BaseModel], author_role: str | None = None) -> Class:
    """The highest class of a body type's fields: the class of an event of that type, as
    a document is marked with the highest class of what it holds."""
    marks = field_classes(body_type).values()
    return max((m.for_author(author_role) for m in marks), default=Class.PUBLIC)


def _classes_of(
    body_type: type[BaseModel], body: Mapping[str, Any], author_role: str | None
) -> Iterable[tuple[str, Any, Class]]:
    marks = field_classes(body_type)
    unknown = sorted(set(body) - set(marks))
    if unknown:
        raise Unclassified(f"{body_type.__name__} has no field {', '.join(unknown)}")
    for name, value in body.items():
        yield name, value, marks[name].for_author(author_role)


def split(
    body_type: type[BaseModel], body: Mapping[str, Any], *, author_role: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A body (its JSON object) as its public fields and the rest, each keyed by field name.

    A key the body type does not have is refused (:class:`Unclassified`): nothing without
    a class reaches either part.
    """
    public: dict[str, Any] = {}
    confidential: dict[str, Any] = {}
    for name, value, cls in _classes_of(body_type, body, author_role):
        (public if cls is Class.PUBLIC else confidential)[name] = value
    return public, confidential


def merge(public: Mapping[str, Any], confidential: Mapping[str, Any]) -> dict[str, Any]:
    """The body again from its two parts; a field in both is refused (ValueError)."""
    both = sorted(set(public) & set(confidential))
    if both:
        raise ValueError(f"in both the public and the confidential part: {', '.join(both)}")
    return {**public, **confidential}


def visible(
    body_type: type[BaseModel],
    body: Mapping[str, Any],
    clearance: Class,
    *,
    author_role: str | None = None,
) -> dict[str, Any]:
    """The fields of a body a reader of that clearance may read."""
    return {
        name: value
        for name, value, cls in _classes_of(body_type, body, author_role)
        if cls <= clearance
    }


def may_read(role: str, cls: Class) -> bool:
    """Whether a party of ``role`` may read a field of class ``cls`` (its clearance allows
    it; which events reach it is each event's recipients'). An unknown role reads public
    fields only."""
    return cls <= CLEARANCE.get(role, Class.PUBLIC)
