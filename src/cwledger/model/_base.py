"""Shared building blocks of the domain types: the strict base model and constrained strings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from cwledger.time import check_rfc3339

__all__ = [
    "Lean",
    "Strict",
    "Held",
    "ObjectId",
    "PartyName",
    "Text",
    "Timestamp",
    "Sha256Hex",
    "empty_dict",
    "empty_list",
]


class Lean(BaseModel):
    """A frozen model whose instances share one set of field names per combination.

    Pydantic gives every instance its own ``__pydantic_fields_set__``; for the small models
    the book holds by the hundred thousand (items, item records) that set is up to half of
    each instance's memory. Frozen instances never add to it, and ``model_copy`` copies it
    before it does, so one shared set per combination of fields is safe.
    """

    model_config = ConfigDict(frozen=True)

    def model_post_init(self, context: Any, /) -> None:  # noqa: ARG002 (pydantic's signature)
        _share_fields_set(self)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copied = super().model_copy(update=update, deep=deep)
        _share_fields_set(copied)
        return copied


def _share_fields_set(model: BaseModel) -> None:
    fields = model.__pydantic_fields_set__
    shared = _FIELD_SETS.setdefault(frozenset(fields), fields)
    object.__setattr__(model, "__pydantic_fields_set__", shared)


_FIELD_SETS: dict[frozenset[str], set[str]] = {}


def empty_list() -> Any:
    """A field's default: an empty list, made anew for each instance that takes it (pydantic
    deep-copies a ``[]`` default for each, on the hot paths that decode every event's
    body); its JSON schema still says the default is ``[]``."""
    return Field(default_factory=list, json_schema_extra={"default": []})


def empty_dict() -> Any:
    """A field's default: an empty dict, made anew for each instance (as `empty_list`)."""
    return Field(default_factory=dict, json_schema_extra={"default": {}})


class Strict(BaseModel):
    """Base of every domain type: unknown fields refused, immutable, no type coercion.

    Enum fields opt back into lax mode (``Field(strict=False)``) so that their string values
    validate from Python dicts as they do from JSON; lax enums accept only the listed values.

    Not `Lean`: an event and its body are decoded, checked and let go on the hot paths
    (append, audit), where sharing the set of field names costs a Python call per model.
    The types the book's records hold by the hundred thousand are `Held`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Held(Strict, Lean):
    """A domain type the book's records hold by the hundred thousand (items, their masses,
    seals, sites): `Strict`, and its instances share their sets of field names (`Lean`)."""


# An identifier (of an event, item, site, seal...): short, printable, no spaces.
ObjectId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
# A party name doubles as the name of its C2SP note key, so it may hold no '+' or space.
PartyName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
# A human name or label as printed: one line, no leading or trailing white space.
Text = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^\S(?:.*\S)?$")]


def _rfc3339_utc(value: str) -> str:
    check_rfc3339(value)  # ValueError naming the one accepted form
    return value


# A time: RFC 3339 in UTC in one strict form, YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z (at most 27
# characters), so that each has one moment and stored times compare as numbers.
Timestamp = Annotated[str, AfterValidator(_rfc3339_utc)]


# The SHA-256 of a file (a photograph, an instrument log), in lower-case hex.
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
