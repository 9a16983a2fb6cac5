"""Sites: each one a material balance area, with where it is, who declared it and access."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from cwledger.model._base import Held, ObjectId, PartyName, Strict, Text

__all__ = ["SiteKind", "AccessStatus", "Coordinates", "Site"]


class SiteKind(StrEnum):
    """What a site is."""

    STORAGE = "storage"
    PRODUCTION = "production"
    MOBILE_FILLING_UNIT = "mobile_filling_unit"
    RELATED = "related"
    PORT = "port"
    VESSEL = "vessel"
    DESTRUCTION = "destruction"
    LABORATORY = "laboratory"


class AccessStatus(StrEnum):
    """Whether inspectors can reach a site."""

    ACCESSIBLE = "accessible"
    INACCESSIBLE = "inaccessible"
    ABANDONED = "abandoned"


class Coordinates(Strict):
    """WGS 84 latitude and longitude in decimal degrees."""

    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class Site(Held):
    """A site (material balance area) as declared by a party."""

    id: ObjectId
    name: Text
    kind: Annotated[SiteKind, Field(strict=False)]
    coordinates: Coordinates
    parent: ObjectId | None = None
    party: PartyName
    access: Annotated[AccessStatus, Field(strict=False)] = AccessStatus.ACCESSIBLE
    structure: Text | None = None
    """What of a production facility must be physically destroyed beyond its equipment
    (a hangar, an underground structure), if anything."""

    @model_validator(mode="after")
    def _not_own_parent(self) -> Site:
        if self.parent == self.id:
            raise ValueError(f"site {self.id} cannot be its own parent")
        return self
