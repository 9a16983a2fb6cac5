"""The accountancy the story holds (section 3): the measurement methods and the alarm
thresholds, signed before the first data; and a weighed physical inventory of every place
that holds material, at each month's end while it holds some (and the month's end before
and after, so that its monthly balances close on weighed inventories).

The inventories are taken from the story itself: its events, replayed in time order,
give what each place holds at each month's end (the masses weighed last, less what was
destroyed), so the book finds every item it holds and nothing else.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from cwledger.accountancy.balances import site_series_name
from cwledger.accountancy.statistics import page_pair
from cwledger.model.bodies import MAX_LINES
from cwledger.scenario.syria_2013.builder import Builder, StoryEvent, at
from cwledger.scenario.syria_2013.facts.abroad import VENUES
from cwledger.scenario.syria_2013.facts.in_country import (
    CONSIGNMENTS,
    FALSE_ALARM,
    FIRST_INVENTORY,
    METHODS,
    REFERENCE_FIXED,
    VESSELS,
)
from cwledger.scenario.syria_2013.world import TS

ROUTES = "shipper/receiver differences, every route, monthly"  # accountancy.answers.ROUTES
ROUTE_MONTHS = 6  # the road legs to the port: January to June 2014
METHOD = next(m for m in METHODS if m.method == "inventory weighing")
ABROAD = {p.id for p in (*VENUES, *VESSELS)}
REMOVAL_DONE = CONSIGNMENTS[-1].day[:8] + "30"  # the end of the month of the last one


def accountancy(b: Builder, declared: list[dict[str, Any]]) -> None:
    """The reference data, then the month-end inventories (after every other event)."""
    counts = _month_end_holdings(b.events, declared)
    fixed = at(REFERENCE_FIXED.value, 9)
    for m in METHODS:
        body = {
            "method": m.method,
            "rsd_random": m.rsd_random,
            "rsd_systematic": m.rsd_systematic,
            "calibration": "period",
            "source": m.source,
        }
        b.add(TS, "method.registered", fixed, body)
    _thresholds(b, ROUTES, ROUTE_MONTHS)
    for site in sorted(counts):
        _thresholds(b, site_series_name(site), len(counts[site]))
    for site, months in sorted(counts.items()):
        for day, held in months:
            if len(held) > MAX_LINES:
                continue  # more than one event can list: no complete inventory that month
            rng = random.Random(f"inventory {site} {day}")
            lines = [{"item": i, "measured": _weighed(kg, rng)} for i, kg in sorted(held.items())]
            b.add(TS, "inventory.taken", at(day, 22), {"site": site, "items": lines})


def _thresholds(b: Builder, series: str, periods: int) -> None:
    tests = [
        {"name": t.name, "k": t.k, "h": round(t.h, 6)}
        for t in page_pair(max(periods, 1), FALSE_ALARM.value)
    ]
    body = {"series": series, "alpha": FALSE_ALARM.value, "periods": periods, "tests": tests}
    b.add(TS, "thresholds.fixed", at(REFERENCE_FIXED.value, 10), body)


def _weighed(kg: float, rng: random.Random) -> dict[str, Any]:
    """Weighed at the inventory: within a third of its random uncertainty of `kg`."""
    return {
        "kg": round(kg + rng.gauss(0, kg * METHOD.rsd_random / 3), 3),
        "u_random_kg": round(kg * METHOD.rsd_random, 3),
        "u_systematic_kg": round(kg * METHOD.rsd_systematic, 3),
        "method": METHOD.method,
    }


def _month_ends(first: str, last: str) -> list[str]:
    out = []
    d = datetime.fromisoformat(first)
    while d.strftime("%Y-%m-%d") <= last:
        out.append(d.strftime("%Y-%m-%d"))
        d = (d + timedelta(days=1)).replace(day=28) + timedelta(days=4)
        d = d.replace(day=1) - timedelta(days=1)
    return out


def _month_end_holdings(
    events: list[StoryEvent], declared: list[dict[str, Any]]
) -> dict[str, list[tuple[str, dict[str, float]]]]:
    """Each place's holdings (item: kg) at the month ends it is inventoried."""
    site_of: dict[str, str | None] = {}
    kg_of: dict[str, float] = {}
    for i in declared:
        if i["declared"]["kg"] > 0:
            site_of[i["id"]], kg_of[i["id"]] = i["site"], float(i["declared"]["kg"])
    ordered = sorted(events, key=lambda e: e.time)
    declared_at = {
        e.body["site"]["id"]: e.time for e in reversed(ordered) if e.type == "site.declared"
    }
    last_day = max(e.time[:10] for e in ordered)
    ends = _month_ends(FIRST_INVENTORY.value, last_day)
    snapshots: list[dict[str, dict[str, float]]] = []
    touched: dict[str, set[int]] = defaultdict(set)  # the months each place saw a movement
    k = 0
    for n, end in enumerate(ends):
        cutoff = at(end, 22)
        while k < len(ordered) and ordered[k].time < cutoff:
            for place in _apply(ordered[k], site_of, kg_of):
                touched[place].add(n)
            k += 1
        held: dict[str, dict[str, float]] = defaultdict(dict)
        for item, site in site_of.items():
            if site is not None:
                held[site][item] = kg_of[item]
        snapshots.append(held)
    out: dict[str, list[tuple[str, dict[str, float]]]] = defaultdict(list)
    places = {site for snap in snapshots for site in snap} | set(touched)
    removed = ends.index(REMOVAL_DONE) if REMOVAL_DONE in ends else len(ends) - 1
    for site in places:
        holding = [n for n, snap in enumerate(snapshots) if snap.get(site)]
        moved = sorted(touched.get(site, set()))
        first = min([n - 1 for n in holding] + [n - 1 for n in moved])
        last = max([n + 1 for n in holding] + moved)
        if site not in ABROAD:  # the places in the country: verified empty until removal ends
            last = max(last, removed)
        for n in range(max(first, 0), min(last, len(ends) - 1) + 1):
            if at(ends[n], 22) >= declared_at.get(site, ""):  # once declared
                out[site].append((ends[n], snapshots[n].get(site, {})))
    return dict(out)


def _apply(e: StoryEvent, site_of: dict[str, str | None], kg_of: dict[str, float]) -> list[str]:
    """Play one event on the holdings; the places whose holdings of material it changed."""
    body = e.body
    kinds = ("transfer.shipped", "transfer.received", "destruction.batch")
    if e.type not in kinds or not any(line["item"] in site_of for line in body["items"]):
        return []  # nothing weighed: equipment and munitions are counted, not weighed
    if e.type == "transfer.shipped":
        for line in body["items"]:
            if line["item"] in site_of:
                site_of[line["item"]] = None
        return [body["origin"]]
    if e.type == "transfer.received":
        for line in body["items"]:
            if line["item"] in site_of:
                site_of[line["item"]] = body["site"]
                if "measured" in line:
                    kg_of[line["item"]] = float(line["measured"]["kg"])
        return [body["site"]]
    if e.type == "destruction.batch":
        for line in body["items"]:
            if line["item"] not in site_of:
                continue
            if "kg" in line:
                kg_of[line["item"]] -= float(line["kg"])
            else:
                site_of[line["item"]] = None
        for product in body.get("products", []):
            site_of[product["item"]] = body["venue"]
            kg_of[product["item"]] = float(product["mass"]["kg"])
        return [body["venue"]]
    return []
