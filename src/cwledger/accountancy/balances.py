"""Material balances from the ledger: per site (material balance area) and period, and the
shipper/receiver differences per transfer and per route.

A site's balance over a period ``[start, end)``: beginning inventory (the book at
``start``), receipts, shipments, destroyed, other changes (declarations and their
amendments, destruction products), and the ending inventory, by the book and, where a
complete physical inventory was taken in the period, as measured. MUF = BI + receipts -
shipments - destroyed + other - EI; with the book's ending inventory it is zero by
construction, so it is reported against the physical inventory when there is one.

The flows come from the book's holdings changes, each classified by the event that made
it; the shipper/receiver differences from its transfer records. A route's differences,
period by period, are written as a *balance series* (``accountancy.series``) with the
shipper's weighings as inputs and the receiver's as outputs, so the sequential tests run
on them exactly as on any series an analyst brings.

Layer: answers (it reads the book through a ``LogReader``), with
:mod:`cwledger.accountancy.draws` and :mod:`cwledger.accountancy.answers`; the other
``cwledger.accountancy`` modules are pure statistics and import nothing from ``book``,
``store`` or ``ledger``.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cwledger.book.records import BatchRecord, CountRecord, TransferRecord
from cwledger.book.registry import EVENT_TYPES
from cwledger.errors import MalformedInput
from cwledger.model import Mass
from cwledger.model.bodies import MethodRegistered
from cwledger.time import Period, month_of, month_text, rfc3339

if TYPE_CHECKING:
    from cwledger.store import LogReader

__all__ = [
    "SiteBalance",
    "Difference",
    "site_balances",
    "balances_from_changes",
    "differences",
    "route_series",
    "site_series",
    "site_series_name",
    "MOVES",
]

# The flows of a monthly balance: a month with none of them is left out of the tables.
MOVES = ("beginning_kg", "receipts_kg", "shipments_kg", "destroyed_kg", "other_kg")


def site_series_name(site: str) -> str:
    """The series name a site's thresholds are fixed under."""
    return f"material balance of {site}, monthly"


@dataclass
class SiteBalance:
    """One site's balance over one period, in grams (and items)."""

    site: str
    period: Period
    beginning_g: int = 0
    receipts_g: int = 0
    shipments_g: int = 0
    destroyed_g: int = 0
    other_g: int = 0
    ending_g: int = 0
    physical_g: int | None = None
    beginning_items: int = 0
    ending_items: int = 0
    physical_items: int | None = None

    @property
    def muf_g(self) -> int | None:
        """BI + receipts - shipments - destroyed + other - physical EI (None without one)."""
        if self.physical_g is None:
            return None
        flows = self.receipts_g - self.shipments_g - self.destroyed_g + self.other_g
        return self.beginning_g + flows - self.physical_g

    @property
    def muf_items(self) -> int | None:
        """Items: the book's ending count less those found (must be 0)."""
        return None if self.physical_items is None else self.ending_items - self.physical_items

    def to_json(self) -> dict[str, Any]:
        """Kilograms, as the CLI prints them."""

        def kg(g: int | None) -> float | None:
            return None if g is None else g / 1000

        return {
            "site": self.site,
            **self.period.to_json(),
            "beginning_kg": kg(self.beginning_g),
            "receipts_kg": kg(self.receipts_g),
            "shipments_kg": kg(self.shipments_g),
            "destroyed_kg": kg(self.destroyed_g),
            "other_kg": kg(self.other_g),
            "ending_book_kg": kg(self.ending_g),
            "ending_physical_kg": kg(self.physical_g),
            "muf_kg": kg(self.muf_g),
            "muf_items": self.muf_items,
        }


def _calendar_months(periods: Sequence[Period]) -> bool:
    return all(p == month_of(p.start) for p in periods)


def site_balances(
    reader: LogReader, periods: Sequence[Period], site: str | None = None
) -> list[SiteBalance]:
    """Every site's (or one site's) balance for each period, by site then period.

    Calendar months are read from the monthly flows the book keeps (one small read);
    other periods are summed from every holdings change.
    """
    if periods and _calendar_months(periods):
        out = _monthly(reader.book.monthly_flows(site), periods, site)
    else:
        out = balances_from_changes(reader, periods, site)
    _physical(reader.book.records(CountRecord), out)
    return out


def _monthly(
    flows: list[tuple[str, str, str, int, int]], periods: Sequence[Period], site: str | None
) -> list[SiteBalance]:
    by_site: dict[str, dict[str, dict[str, tuple[int, int]]]] = defaultdict(dict)
    for s, month, flow, g, n in flows:
        by_site[s].setdefault(month, {})[flow] = (g, n)
    sites = sorted(set(by_site) | ({site} if site else set()))
    out = []
    for s in sites:
        months = by_site.get(s, {})
        first = month_text(periods[0].start)
        carried_g = sum(g for m, f in months.items() if m < first for g, _ in f.values())
        carried_n = sum(n for m, f in months.items() if m < first for _, n in f.values())
        for p in periods:
            m = month_text(p.start)
            b = SiteBalance(s, p, beginning_g=carried_g, beginning_items=carried_n)
            f = months.get(m, {})
            b.receipts_g = f.get("receipts", (0, 0))[0]
            b.shipments_g = -f.get("shipments", (0, 0))[0]
            b.destroyed_g = -f.get("destroyed", (0, 0))[0]
            b.other_g = f.get("other", (0, 0))[0] + f.get("produced", (0, 0))[0]
            b.ending_g = b.beginning_g + b.receipts_g - b.shipments_g - b.destroyed_g + b.other_g
            b.ending_items = b.beginning_items + sum(n for _, n in f.values())
            carried_g, carried_n = b.ending_g, b.ending_items
            out.append(b)
    return out


def balances_from_changes(
    reader: LogReader, periods: Sequence[Period], site: str | None = None
) -> list[SiteBalance]:
    """The balances summed from every holdings change (any periods; no physical inventory)."""
    book = reader.book
    changes = book.changes_by_event(site)
    sites = sorted({c[0] for c in changes if c[0]} | ({site} if site else set()))
    out: list[SiteBalance] = []
    for s in sites:
        rows = [c for c in changes if c[0] == s]
        for p in periods:
            b = SiteBalance(s, p)
            for _site, at, etype, grams, items in rows:
                if at < p.start:
                    b.beginning_g += grams
                    b.beginning_items += items
                elif at < p.end:
                    flow = EVENT_TYPES[etype].flow
                    if flow == "shipments" or (flow == "destroyed" and grams < 0):
                        setattr(b, f"{flow}_g", getattr(b, f"{flow}_g") - grams)
                    elif flow == "receipts":
                        b.receipts_g += grams
                    else:
                        b.other_g += grams
                    b.ending_items += items
            b.ending_g = b.beginning_g + b.receipts_g - b.shipments_g - b.destroyed_g + b.other_g
            b.ending_items += b.beginning_items
            out.append(b)
    return out


def _physical(counts: list[CountRecord], balances: list[SiteBalance]) -> None:
    """A site's last complete inventory in a calendar month, as its physical ending
    inventory (other periods: the last such inventory inside the period)."""
    by_site: dict[str, list[CountRecord]] = defaultdict(list)
    for c in counts:
        by_site[c.site].append(c)
    for b in balances:
        taken = [c for c in by_site.get(b.site, []) if b.period.start <= c.at < b.period.end]
        if taken:
            last = max(taken, key=lambda c: c.at)
            b.physical_g, b.physical_items = last.grams, last.items


@dataclass(frozen=True)
class Difference:
    """One item's shipper/receiver difference on one transfer."""

    transfer: str
    origin: str
    destination: str
    item: str
    received_at: int
    shipped_kg: float
    received_kg: float
    u_kg: float  # standard uncertainty of the difference
    shipper_method: str
    receiver_method: str
    shipper_u: tuple[float, float] = field(default=(0.0, 0.0))
    receiver_u: tuple[float, float] = field(default=(0.0, 0.0))

    @property
    def srd_kg(self) -> float:
        """Shipper minus receiver."""
        return self.shipped_kg - self.received_kg


def differences(reader: LogReader) -> list[Difference]:
    """Every item received with both ends weighed, in time of receipt."""
    out = []
    for t in reader.book.records(TransferRecord):
        for line in t.lines:
            if line.shipped is None or line.received is None or line.received_at is None:
                continue
            s, r = line.shipped, line.received
            out.append(
                Difference(
                    t.transfer,
                    t.origin,
                    t.destination,
                    line.item,
                    line.received_at,
                    s.kg,
                    r.kg,
                    math.hypot(s.combined_u_kg, r.combined_u_kg),
                    s.method,
                    r.method,
                    (s.u_random_kg, s.u_systematic_kg),
                    (r.u_random_kg, r.u_systematic_kg),
                )
            )
    return sorted(out, key=lambda d: (d.received_at, d.transfer, d.item))


def _rsd(pairs: list[tuple[float, float, float]]) -> dict[str, float]:
    """A method's relative standard deviations: the median over its measurements."""
    return {
        "rsd_random": statistics.median(ur / kg for kg, ur, _ in pairs if kg > 0),
        "rsd_systematic": statistics.median(us / kg for kg, _, us in pairs if kg > 0),
    }


def _method_id(
    end: str, method: str, month: str, calibration: str, known: Mapping[str, MethodRegistered]
) -> str:
    """The series' method id: per period when the method is recalibrated each period."""
    per_period = (
        known[method].calibration == "period" if method in known else (calibration == "period")
    )
    return f"{end}:{method}:{month if per_period else 'series'}"


def _registered_rsd(m: MethodRegistered) -> dict[str, float]:
    return {"rsd_random": m.rsd_random, "rsd_systematic": m.rsd_systematic}


def route_series(
    diffs: Sequence[Difference],
    origin: str,
    destination: str,
    periods: Sequence[Period],
    *,
    page_k: float = 0.5,
    calibration: str = "period",
    registered: Mapping[str, MethodRegistered] | None = None,
) -> dict[str, Any]:
    """A route's shipper/receiver differences as a balance series document: per period,
    the shipper's weighings as inputs and the receiver's as outputs (so its "MUF" is the
    period's SRD). Methods take the median relative uncertainties of their weighings.

    ``calibration``: ``"period"`` (default) takes each method as recalibrated every period,
    so its systematic error is shared within a period and independent between periods;
    ``"series"`` takes one calibration for the whole series (a systematic error shared by
    every period, against which a slow loss cannot be told from a calibration bias).
    A method in ``registered`` (signed reference data, ``method.registered``) brings its
    own relative standard deviations and calibration instead."""
    on_route = [
        d
        for d in diffs
        if d.origin == origin
        and d.destination == destination
        and periods
        and periods[0].start <= d.received_at < periods[-1].end
    ]
    known = dict(registered or {})
    methods: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    names: dict[str, str] = {}
    measurements = []
    for d in on_route:
        p = next(p for p in periods if p.start <= d.received_at < p.end)
        when = rfc3339(max(p.start, min(d.received_at, p.last)))
        month = p.month
        sm = _method_id("shipper", d.shipper_method, month, calibration, known)
        rm = _method_id("receiver", d.receiver_method, month, calibration, known)
        at = f" ({month})" if sm.endswith(month) or rm.endswith(month) else ""
        methods[sm].append((d.shipped_kg, *d.shipper_u))
        methods[rm].append((d.received_kg, *d.receiver_u))
        names[sm], names[rm] = d.shipper_method, d.receiver_method
        measurements += [
            {
                "kind": "input",
                "point": f"shipped from {origin}{at}",
                "method": sm,
                "time": when,
                "value": d.shipped_kg,
            },
            {
                "kind": "output",
                "point": f"received at {destination}{at}",
                "method": rm,
                "time": when,
                "value": d.received_kg,
            },
        ]
    return {
        "unit": "kg",
        "periods": [p.to_json() for p in periods],
        "methods": {
            m: _registered_rsd(known[names[m]]) if names[m] in known else _rsd(v)
            for m, v in sorted(methods.items())
        },
        "measurements": measurements,
        "page_k": page_k,
    }


def site_series(
    reader: LogReader,
    site: str,
    periods: Sequence[Period],
    *,
    page_k: float = 0.5,
    registered: Mapping[str, MethodRegistered] | None = None,
) -> dict[str, Any]:
    """A site's material balance as a balance series: the receiver's weighings of what
    arrived as inputs, the shipper's weighings of what left and the grams destroyed as
    outputs, and its complete weighed physical inventories at the period boundaries (the
    count of the month before the first period, then of each period). Raises
    MalformedInput naming the months without a complete weighed inventory."""
    book = reader.book
    counts = {c.month: c for c in book.records(CountRecord, place=site)}
    months = [month_text(periods[0].start - 1)] + [month_text(p.start) for p in periods]
    missing = [m for m in months if m not in counts or counts[m].grams is None]
    if missing:
        raise MalformedInput(
            f"site {site}: no complete weighed physical inventory in {', '.join(missing)};"
            " a material balance needs one at every period boundary"
        )
    known = dict(registered or {})
    methods: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    names: dict[str, str] = {}
    measurements: list[dict[str, Any]] = []

    def add(kind: str, point: str, method: str, mass: Mass, at: int, p: Period) -> None:
        month = month_text(p.start)
        mid = _method_id(point, method, month, "period", known)
        suffix = f" ({month})" if mid.endswith(month) else ""
        methods[mid].append((mass.kg, mass.u_random_kg, mass.u_systematic_kg))
        names[mid] = method
        when = rfc3339(max(p.start, min(at, p.last)))
        measurements.append(
            {
                "kind": kind,
                "point": f"{point}{suffix}",
                "method": mid,
                "time": when,
                "value": mass.kg,
            }
        )

    def period_of(at: int) -> Period | None:
        return next((p for p in periods if p.start <= at < p.end), None)

    for t in book.records(TransferRecord):
        for line in t.lines:
            if t.destination == site and line.received is not None and line.received_at:
                if (p := period_of(line.received_at)) is not None:
                    add(
                        "input",
                        "receipts",
                        line.received.method,
                        line.received,
                        line.received_at,
                        p,
                    )
            if t.origin == site and line.shipped is not None:
                if (p := period_of(t.shipped_at)) is not None:
                    add("output", "shipments", line.shipped.method, line.shipped, t.shipped_at, p)
    for batch in book.records(BatchRecord):
        if batch.venue != site or (p := period_of(batch.at)) is None:
            continue
        for consumed in batch.lines:  # booked, not weighed: no uncertainty
            booked = Mass(kg=consumed.grams / 1000, method="book")
            add("output", "destroyed", "book", booked, batch.at, p)
    for boundary, month in enumerate(months):
        c = counts[month]
        at = periods[0].start if boundary == 0 else periods[boundary - 1].end
        u = _count_u(c, known)
        measurements.append(
            {
                "kind": "inventory",
                "point": "physical inventory",
                "method": "inventory",
                "time": rfc3339(at),
                "value": (c.grams or 0) / 1000,
            }
        )
        methods["inventory"].append(u)
    return {
        "unit": "kg",
        "periods": [p.to_json() for p in periods],
        "methods": {
            m: _registered_rsd(known[names[m]]) if names.get(m) in known else _rsd(v)
            for m, v in sorted(methods.items())
        },
        "measurements": measurements,
        "page_k": page_k,
    }


def _count_u(c: CountRecord, known: Mapping[str, MethodRegistered]) -> tuple[float, float, float]:
    """A physical inventory's mass and its uncertainties, from the method of its weighings."""
    kg = (c.grams or 0) / 1000
    if c.method in known:
        m = known[c.method]
        return kg, kg * m.rsd_random, kg * m.rsd_systematic
    return kg, kg * c.rsd_random, kg * c.rsd_systematic
