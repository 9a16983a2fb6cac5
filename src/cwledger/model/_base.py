"""Shared building blocks of the domain types: the strict base model and constrained strings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

__all__ = ["Strict", "ObjectId", "Text"]


class Strict(BaseModel):
    """Base of every domain type: unknown fields refused, immutable, no type coercion.

    Enum fields opt back into lax mode (``Field(strict=False)``) so that their string values
    validate from Python dicts as they do from JSON; lax enums accept only the listed values.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# Same shape as an event id: short, printable, no spaces.
ObjectId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
# A human name or label as printed: one line, no leading or trailing white space.
Text = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^\S(?:.*\S)?$")]
