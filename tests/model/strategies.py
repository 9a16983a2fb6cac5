"""Hypothesis strategies and small builders for valid domain objects."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from cwledger.model import Coordinates, Declaration, Item, ItemKind, Mass, Site, SiteKind

ids = st.from_regex(r"\A[A-Z]{1,3}-[0-9]{1,4}\Z")
texts = st.from_regex(r"\A[A-Za-z][A-Za-z0-9 ]{0,20}[a-z0-9]\Z")
amounts = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)
uncertainties = st.floats(min_value=0, max_value=1e4, allow_nan=False, allow_infinity=False)

masses = st.builds(
    Mass,
    kg=amounts,
    u_random_kg=uncertainties,
    u_systematic_kg=uncertainties,
    method=st.sampled_from(["weighing", "ultrasonic level", "declared"]),
)
coordinates = st.builds(
    Coordinates,
    lat=st.floats(min_value=-90, max_value=90),
    lon=st.floats(min_value=-180, max_value=180),
)


@st.composite
def _sites(draw: st.DrawFn) -> Site:
    site_id = draw(ids)
    return Site(
        id=site_id,
        name=draw(texts),
        kind=draw(st.sampled_from(SiteKind)),
        coordinates=draw(coordinates),
        parent=draw(st.none() | ids.filter(lambda p: p != site_id)),
        party=draw(st.sampled_from(["dec", "insp"])),
    )


sites = _sites()


@st.composite
def items(draw: st.DrawFn) -> Item:
    """A valid item of any kind."""
    kind = draw(st.sampled_from(ItemKind))
    munition = kind is ItemKind.MUNITION
    equipment = kind is ItemKind.EQUIPMENT
    return Item(
        id=draw(ids),
        kind=kind,
        tag=draw(st.none() | ids),
        chemical=None if equipment else draw(st.sampled_from(["DF", "HD", "isopropanol", "HF"])),
        declared=draw(masses),
        site=draw(ids),
        munition_type=draw(texts) if munition else None,
        equipment_type=draw(texts) if equipment else None,
    )


declarations = st.builds(
    Declaration,
    version=st.just(1),
    legal_basis=st.just("EC-M-33/DEC.1"),
    due=st.dates().map(lambda d: d.isoformat()),
    sites=st.lists(sites, max_size=5, unique_by=lambda s: s.id),
    items=st.lists(items(), max_size=8, unique_by=lambda i: i.id),
)


def mass(kg: float = 1000.0, **kw: Any) -> Mass:
    """A mass with defaults."""
    return Mass(**{"kg": kg, "u_random_kg": 5.0, "u_systematic_kg": 3.0, "method": "w", **kw})


def site(id_: str = "S-1", **kw: Any) -> Site:
    """A storage site with defaults."""
    base = {
        "id": id_,
        "name": "Site one",
        "kind": "storage",
        "coordinates": {"lat": 34.5, "lon": 36.7},
        "party": "dec",
    }
    return Site.model_validate({**base, **kw})


def item(id_: str = "I-1", **kw: Any) -> Item:
    """A container of DF at S-1 with defaults."""
    base = {
        "id": id_,
        "kind": "container",
        "chemical": "DF",
        "declared": {"kg": 1000.0, "u_random_kg": 5.0, "method": "weighing"},
        "site": "S-1",
    }
    return Item.model_validate({**base, **kw})
