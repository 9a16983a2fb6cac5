"""Declarations: a versioned list of sites and items, and the diff between two versions."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from cwledger.model._base import ObjectId, Strict, Text, empty_dict, empty_list
from cwledger.model.chemicals import Chemical
from cwledger.model.items import Item
from cwledger.model.sites import Site

__all__ = ["Declaration", "Change", "DeclarationDiff", "diff", "DateString"]


def _rfc3339_date(value: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be an RFC 3339 full-date, YYYY-MM-DD (e.g. 2014-06-30)")
    try:
        date.fromisoformat(value)
    except ValueError as e:
        raise ValueError(f"not a calendar date: {e}") from e
    return value


DateString = Annotated[str, AfterValidator(_rfc3339_date)]


def _duplicates(what: str, ids: Sequence[str]) -> str | None:
    dups = sorted((i, n) for i, n in Counter(ids).items() if n > 1)
    if not dups:
        return None
    return f"duplicate {what} ids: " + ", ".join(f"{i} ({n} times)" for i, n in dups)


class Declaration(Strict):
    """One version of a declaration; an amendment names the version it amends."""

    version: Annotated[int, Field(ge=1)]
    amends: Annotated[int, Field(ge=1)] | None = None
    legal_basis: Text
    due: DateString
    chemicals: list[Chemical] = empty_list()
    sites: list[Site] = empty_list()
    items: list[Item] = empty_list()

    @model_validator(mode="after")
    def _consistent(self) -> Declaration:
        problems = []
        if self.version == 1 and self.amends is not None:
            problems.append(f"version 1 cannot amend anything (amends is {self.amends})")
        elif self.amends is not None and self.amends != self.version - 1:
            problems.append(
                f"version {self.version} can only amend version {self.version - 1},"
                f" not {self.amends}"
            )
        problems += filter(None, [_duplicates("site", [s.id for s in self.sites])])
        problems += filter(None, [_duplicates("item", [i.id for i in self.items])])
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def due_date(self) -> date:
        """The due date as a :class:`datetime.date`."""
        return date.fromisoformat(self.due)


class Change(Strict):
    """One object present in both versions with the (dotted) names of the fields that
    differ, and each such field's value in the older and in the newer version (JSON)."""

    id: ObjectId
    fields: list[str]
    old: dict[str, Any] = empty_dict()
    new: dict[str, Any] = empty_dict()


def _value(obj: BaseModel, dotted: str) -> Any:
    """A (dotted) field of a model, as JSON."""
    value: Any = obj.model_dump(mode="json")
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class DeclarationDiff(Strict):
    """What changed between two declarations; every list sorted by id."""

    sites_added: list[str] = empty_list()
    sites_removed: list[str] = empty_list()
    sites_changed: list[Change] = empty_list()
    items_added: list[str] = empty_list()
    items_removed: list[str] = empty_list()
    items_changed: list[Change] = empty_list()
    header_changed: list[str] = empty_list()

    @property
    def empty(self) -> bool:
        """True when the two declarations list the same sites and items, field for field."""
        return not any(getattr(self, name) for name in type(self).model_fields)


def _changed_fields(a: BaseModel, b: BaseModel, prefix: str = "") -> list[str]:
    out: list[str] = []
    for name in type(a).model_fields:
        x: Any = getattr(a, name)
        y: Any = getattr(b, name)
        if x == y:
            continue
        if isinstance(x, BaseModel) and isinstance(y, BaseModel) and type(x) is type(y):
            out += _changed_fields(x, y, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def _diff_lists(
    old: Sequence[Site] | Sequence[Item], new: Sequence[Site] | Sequence[Item]
) -> tuple[list[str], list[str], list[Change]]:
    before = {o.id: o for o in old}
    after = {o.id: o for o in new}
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = [
        Change(
            id=i,
            fields=fields,
            old={f: _value(before[i], f) for f in fields},
            new={f: _value(after[i], f) for f in fields},
        )
        for i in sorted(before.keys() & after.keys())
        if (fields := _changed_fields(before[i], after[i]))
    ]
    return added, removed, changed


def diff(old: Declaration, new: Declaration) -> DeclarationDiff:
    """Every site and item added, removed or changed from ``old`` to ``new``, sorted by id.

    ``header_changed`` names the changed ``legal_basis`` and ``due`` (version numbers are not
    reported: they differ between any two versions).
    """
    sa, sr, sc = _diff_lists(old.sites, new.sites)
    ia, ir, ic = _diff_lists(old.items, new.items)
    header = [f for f in ("legal_basis", "due") if getattr(old, f) != getattr(new, f)]
    return DeclarationDiff(
        sites_added=sa,
        sites_removed=sr,
        sites_changed=sc,
        items_added=ia,
        items_removed=ir,
        items_changed=ic,
        header_changed=header,
    )
