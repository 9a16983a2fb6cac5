"""The map of the sites at any date, and each site's page.

Thin, as the overview: the holdings come from `cwledger.book.answers.holdings` (by site for
the map, by item for a site), the records from the book, and the heavy reads are remembered
per log size in the API's answer cache. The map is an inline SVG drawn on the server: the
vendored country outline and one circle per site, its area proportional to the tonnes held.
The time slider asks `/map/sites` (htmx) for the circles and the table at another day; the
same URL without htmx, and the date form, give the whole page.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cwledger.book import answers
from cwledger.book.records import (
    DeclarationRecord,
    InspectionRecord,
    ItemRecord,
    SealRecord,
    SiteRecord,
    TransferRecord,
)
from cwledger.errors import CwledgerError
from cwledger.http.deps import Snapshot, entitled, query_moment
from cwledger.http.documents import aggregate_documents
from cwledger.ledger.admission import decode_entry
from cwledger.model.bodies import SiteDeclared
from cwledger.model.classes import Class
from cwledger.model.escrow import SubsetProved
from cwledger.time import day_of
from cwledger.web import public_map
from cwledger.web.pages import public_figures
from cwledger.web.views import Book, LogSnapshot, Viewer, page, templates

__all__ = ["router", "Projection", "outline"]

router = APIRouter(include_in_schema=False)

At = Annotated[str | None, Query(description="A date (YYYY-MM-DD): the end of that day.")]
Day = Annotated[
    int | None, Query(ge=0, description="Days after the first declaration (the slider).")
]

OUTLINE = Path(__file__).parent / "static" / "vendor" / "syria-outline.geojson"
MAP_WIDTH = 600.0  # viewBox units
PAD = 14.0
RADIUS_PER_SQRT_T = 1.6  # a circle's area is proportional to the tonnes held: 100 t, r = 16
MIN_RADIUS = 3.0  # a site holding a few kilograms stays visible
EMPTY_RADIUS = 2.5  # a site holding no chemicals: small and grey


# -- the map ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """Equirectangular: longitude scaled by the cosine of the outline's middle latitude, so
    that distances come out right in the middle of the country; y grows southwards."""

    west: float
    south: float
    east: float
    north: float
    scale: float  # viewBox units per degree of latitude
    cos_mid: float

    @property
    def width(self) -> float:
        """The viewBox width."""
        return MAP_WIDTH

    @property
    def height(self) -> float:
        """The viewBox height."""
        return round(2 * PAD + (self.north - self.south) * self.scale, 1)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """A point's viewBox coordinates."""
        x = PAD + (lon - self.west) * self.cos_mid * self.scale
        y = PAD + (self.north - lat) * self.scale
        return round(x, 1), round(y, 1)

    def contains(self, lon: float, lat: float) -> bool:
        """Whether a point is inside the outline's bounding box (drawn on the map)."""
        return self.west <= lon <= self.east and self.south <= lat <= self.north


@lru_cache(maxsize=1)
def outline() -> tuple[Projection, str]:
    """The projection fitted to the vendored outline, and the outline as an SVG path."""
    doc = json.loads(OUTLINE.read_text(encoding="utf-8"))
    geometry = doc["geometry"] if doc.get("type") == "Feature" else doc
    polygons = (
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    )
    points = [pt for polygon in polygons for ring in polygon for pt in ring]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    cos_mid = math.cos(math.radians((south + north) / 2))
    scale = (MAP_WIDTH - 2 * PAD) / ((east - west) * cos_mid)
    proj = Projection(west, south, east, north, scale, cos_mid)
    rings = []
    for polygon in polygons:
        for ring in polygon:
            xy = [proj.xy(lon, lat) for lon, lat in ring]
            rings.append("M" + " L".join(f"{x},{y}" for x, y in xy) + " Z")
    return proj, " ".join(rings)


def radius(grams: int) -> float:
    """A site's circle: area proportional to the tonnes held; empty sites small."""
    if grams <= 0:
        return EMPTY_RADIUS
    return round(max(MIN_RADIUS, RADIUS_PER_SQRT_T * math.sqrt(grams / 1e6)), 2)


def _sites(r: Book) -> list[SiteRecord]:
    return r.answer(("web-site-records",), lambda: r.book.records(SiteRecord))


def _held_by_site(r: Book, when: int | None) -> list[answers.HoldingLine]:
    return r.answer(
        ("web-holdings-lines", when, None, "site"),
        lambda: answers.holdings(r.book, at=when, by="site"),
    )


def _time_line(r: Book) -> tuple[date, date]:
    """The slider's ends: the day the first declaration version was complete, and the day
    of the log's last entry."""

    def ends() -> tuple[date, date]:
        versions = r.book.records(DeclarationRecord)
        size = r.size()
        last = (
            date.fromisoformat(r.entries(size - 1, size)[0].event_time[:10])
            if size
            else date.today()
        )
        first = day_of(min(v.completed_at for v in versions)) if versions else last
        return first, max(first, last)

    return r.answer(("web-map-days",), ends)


def _map_context(r: Book, at: str | None, day: int | None) -> dict[str, Any]:
    first, last = _time_line(r)
    span = (last - first).days
    if day is not None:
        shown = first + timedelta(days=min(day, span))
        when = query_moment(shown.isoformat(), "day")
    elif at:
        when = query_moment(at, "at")
        shown = day_of(when)
    else:
        shown = last
        when = query_moment(shown.isoformat(), "at")
    proj, path = outline()
    held = {line.key: line for line in _held_by_site(r, when)}
    dots: list[dict[str, Any]] = []
    outside: list[dict[str, Any]] = []
    country_g = abroad_g = 0
    for rec in _sites(r):
        line = held.get(rec.site.id)
        grams, items = (line.grams, line.items) if line else (0, 0)
        if rec.in_country:
            country_g += grams
        else:
            abroad_g += grams
        c = rec.site.coordinates
        row: dict[str, Any] = {
            "id": rec.site.id,
            "name": rec.site.name,
            "kind": rec.site.kind.value,
            "in_country": rec.in_country,
            "t": grams / 1e6,
            "n_items": items,
        }
        if proj.contains(c.lon, c.lat):
            x, y = proj.xy(c.lon, c.lat)
            dots.append({**row, "x": x, "y": y, "r": radius(grams), "empty": grams <= 0})
        else:
            outside.append(row)
    dots.sort(key=lambda d: (-d["r"], d["id"]))  # the small ones on top, still reachable
    transit = held.get("in transit")
    names = {rec.site.id: rec for rec in _sites(r)}
    rows = [
        {
            "id": key,
            "name": names[key].site.name if key in names else "",
            "in_country": key in names and names[key].in_country,
            "t": line.grams / 1e6,
            "n_items": line.items,
        }
        for key, line in sorted(held.items())
        if key != "in transit"
    ]
    return {
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "span": span,
        "day": max(0, min(span, (shown - first).days)),
        "shown": shown.isoformat(),
        "proj": proj,
        "outline_path": path,
        "dots": dots,
        "outside": outside,
        "rows": rows,
        "country_t": country_g / 1e6,
        "abroad_t": abroad_g / 1e6,
        "transit_t": 0.0 if transit is None else transit.grams / 1e6,
        "transit_items": 0 if transit is None else transit.items,
        "empty_sites": sum(1 for d in dots if d["empty"] and not d["n_items"]),
    }


# -- the public map (a confidential ledger, a viewer not cleared to read the book) -----------


def _public_sites(r: Snapshot, when: int | None) -> list[public_map.PublicPlace]:
    """The sites declared in an entry's public part by `when` (the inspectorate's vessels
    and venues abroad); a sealed `site.declared` is skipped unopened."""

    def load() -> list[public_map.PublicPlace]:
        declared = []
        for e in r.entries_of_types(["site.declared"]):
            if when is not None and e.event_at > when:
                continue
            try:
                body = decode_entry(e.envelope, check_canonical=False).body
            except CwledgerError:
                continue
            site = body.site if isinstance(body, SiteDeclared) else None
            declared.append((e.index, e.author, site))
        return public_map.public_places(declared)

    return r.answer(("web-public-sites", when), load)


def _logged(r: Snapshot, when: int | None) -> list[public_map.Logged]:
    """The movements and batches logged by `when`, counted from their envelopes."""

    def load() -> list[public_map.Logged]:
        return public_map.logged_by_author(
            (e.event_type, e.author, e.event_time)
            for e in r.entries_of_types(public_map.MOVEMENT_TYPES)
            if when is None or e.event_at <= when
        )

    return r.answer(("web-public-logged", when), load)


def _out_not_destroyed(r: Snapshot, aggregate: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """What the aggregate's proof entries prove removed and not destroyed, by category."""
    named = {
        c["category"]: {
            "removed": c.get("removed_proofs", []),
            "destroyed": c.get("destroyed_proofs", []),
        }
        for c in aggregate["categories"]
    }

    def load() -> dict[int, dict[str, Any]]:
        wanted = sorted({e for kinds in named.values() for es in kinds.values() for e in es})
        proofs: dict[int, SubsetProved] = {}
        for e in r.entries_at(wanted):
            body = decode_entry(e.envelope, check_canonical=False).body
            if isinstance(body, SubsetProved):
                proofs[e.index] = body
        return public_map.out_not_destroyed(aggregate["version"], proofs, named)

    return r.answer(("web-public-away", aggregate["entry"]), load)


def _public_map_context(r: Snapshot, at: str | None) -> dict[str, Any]:
    when = None if not at else query_moment(at, "at")
    proj, path = outline()
    published = aggregate_documents(r, when)
    newest = max(published, key=lambda a: (a["at"], a["entry"]), default=None)
    figures = None if newest is None else public_figures(newest)
    away = {} if newest is None else _out_not_destroyed(r, newest)
    mark = None
    if figures is not None:
        x, y = proj.xy((proj.west + proj.east) / 2, (proj.south + proj.north) / 2)
        grams = round(figures["remaining_t"] * 1e6)
        mark = {"x": x, "y": y, "r": radius(grams)}
    on_map, off_map = [], []
    for p in _public_sites(r, when):
        c = p.site.coordinates
        row = {
            "id": p.site.id,
            "name": p.site.name,
            "kind": p.site.kind.value.replace("_", " "),
            "at_sea": p.at_sea,
            "entry": p.entry,
            "declared_by": p.declared_by,
            "lat": c.lat,
            "lon": c.lon,
        }
        if proj.contains(c.lon, c.lat):
            x, y = proj.xy(c.lon, c.lat)
            on_map.append({**row, "x": x, "y": y})
        off_map.append(row)
    logged = _logged(r, when)
    return {
        "at": at,
        "proj": proj,
        "outline_path": path,
        "aggregate": figures,
        "mark": mark,
        "away_t": sum(v["grams"] for v in away.values()) / 1e6,
        "away_items": sum(v["items"] for v in away.values()),
        "vessels": [p for p in off_map if p["at_sea"]],
        "venues": [p for p in off_map if not p["at_sea"]],
        "on_map": on_map,
        "batches": [x for x in logged if x.event_type == "destruction.batch"],
        "movements": [x for x in logged if x.event_type != "destruction.batch"],
    }


def _public_map(request: Request, who: Viewer, r: Snapshot, at: str | None) -> HTMLResponse:
    return page(request, "map_public.html", who, active="map", **_public_map_context(r, at))


@router.get("/map", response_class=HTMLResponse)
def map_page(
    request: Request, who: Viewer, r: LogSnapshot, at: At = None, day: Day = None
) -> HTMLResponse:
    """The sites on the country's outline, sized by what they held at a date, with a time
    slider; the vessels and venues abroad beside it; a table of the holdings. In a
    confidential ledger, to a viewer not cleared to read the book, the public map: the
    country as one mark with the latest proven aggregate, the vessels and venues abroad."""
    if not entitled(request, who, Class.PROTECTED):
        return _public_map(request, who, r, at)
    return page(request, "map.html", who, active="map", **_map_context(r, at, day))


@router.get("/map/sites", response_class=HTMLResponse)
def map_sites(
    request: Request, who: Viewer, r: LogSnapshot, at: At = None, day: Day = None
) -> HTMLResponse:
    """The map's changing part (circles, totals, table) for htmx; the whole page otherwise
    (a link, a reload, a browser without scripts)."""
    if not entitled(request, who, Class.PROTECTED):
        return _public_map(request, who, r, at)
    ctx = _map_context(r, at, day)
    htmx = request.headers.get("hx-request") == "true"
    if not htmx or request.headers.get("hx-history-restore-request") == "true":
        return page(request, "map.html", who, active="map", **ctx)
    response = templates.TemplateResponse(request, "map_sites.html", {**ctx, "swap": True})
    response.headers["HX-Replace-Url"] = f"/map?at={ctx['shown']}"
    response.headers["Vary"] = "Accept-Language, Cookie"  # in the reader's language
    return response


# -- a site -------------------------------------------------------------------------------


def _seals_by_target(r: Book) -> dict[str, list[SealRecord]]:
    def load() -> dict[str, list[SealRecord]]:
        out: dict[str, list[SealRecord]] = defaultdict(list)
        for s in r.book.records(SealRecord):
            out[s.seal.closes.id].append(s)
        return dict(out)

    return r.answer(("web-seals-by-target",), load)


def _items_declared_at(r: Book) -> dict[str, list[str]]:
    def load() -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for rec in r.book.records(ItemRecord):
            out[rec.item.site].append(rec.item.id)
        return dict(out)

    return r.answer(("web-items-by-declared-site",), load)


def _transfers(r: Book) -> list[TransferRecord]:
    return r.answer(("web-transfer-records",), lambda: r.book.records(TransferRecord))


def _transfer_row(t: TransferRecord, site: str) -> dict[str, Any]:
    return {
        "transfer": t.transfer,
        "direction": "out" if t.origin == site else "in",
        "other": t.destination if t.origin == site else t.origin,
        "shipped_on": day_of(t.shipped_at).isoformat(),
        "shipped_entry": t.shipped_entry,
        "n_items": len(t.lines),
        "booked_t": sum(line.shipped_g for line in t.lines) / 1e6,
        "received_entries": sorted({e for line in t.lines if (e := line.received_entry)}),
        "status": t.status,
        "abroad": t.abroad,
    }


def _total(lines: list[answers.HoldingLine]) -> dict[str, Any]:
    """A site's one line of holdings by site (none when it holds nothing)."""
    return {"t": lines[0].tonnes, "n_items": lines[0].items} if lines else {"t": 0.0, "n_items": 0}


@router.get("/sites/{site_id}", response_class=HTMLResponse)
def site_page(request: Request, site_id: str, who: Viewer, r: Book, at: At = None) -> HTMLResponse:
    """A site: its record, what it holds now and at a date (by item), the seals on it and on
    its items with their last checks, the inspections at it, the transfers in and out, and
    every entry that names it."""
    rec = r.book.get(SiteRecord, site_id)
    if rec is None:
        raise answers.NotInBook(f"site {site_id} is not declared")
    when = None if not at else query_moment(at, "at")
    held_now = answers.holdings(r.book, site=site_id, by="item")
    held_then = None if when is None else answers.holdings(r.book, at=when, site=site_id, by="item")
    sites = _sites(r)
    facilities = [s for s in sites if s.site.parent == site_id]
    related = set(_items_declared_at(r).get(site_id, []))
    related |= {line.key for line in held_now} | {line.key for line in held_then or []}
    by_target = _seals_by_target(r)
    seals = sorted(
        (s for target in {site_id, *related} for s in by_target.get(target, [])),
        key=lambda s: s.seal.id,
    )
    transfers = [
        _transfer_row(t, site_id) for t in _transfers(r) if site_id in (t.origin, t.destination)
    ]
    transfers.sort(key=lambda t: (t["shipped_on"], t["transfer"]))
    entries = []
    for index in r.book.site_entries(site_id):
        [e] = r.entries(index, index + 1)
        entries.append(
            {"index": index, "time": e.event_time, "type": e.event_type, "author": e.author}
        )
    return page(
        request,
        "site.html",
        who,
        active="map",
        at=at,
        rec=rec,
        site=rec.site.model_dump(mode="json", exclude_none=True),
        facilities=facilities,
        held_now=held_now,
        held_then=held_then,
        now=_total(answers.holdings(r.book, site=site_id)),
        then=None if when is None else _total(answers.holdings(r.book, at=when, site=site_id)),
        seals=seals,
        inspections=[
            i
            for place in [site_id, rec.site.parent, *(f.site.id for f in facilities)]
            if place is not None
            for i in r.book.records(InspectionRecord, place=place)
        ],
        transfers=transfers,
        entries=entries,
        day_of=day_of,
    )
