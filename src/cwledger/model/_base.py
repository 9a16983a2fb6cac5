"""Shared building blocks of the domain types: the strict base model and constrained strings."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from cwledger.time import check_rfc3339

__all__ = ["Strict", "ObjectId", "PartyName", "Text", "Timestamp", "Sha256Hex"]


class Strict(BaseModel):
    """Base of every domain type: unknown fields refused, immutable, no type coercion.

    Enum fields opt back into lax mode (``Field(strict=False)``) so that their string values
    validate from Python dicts as they do from JSON; lax enums accept only the listed values.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


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
