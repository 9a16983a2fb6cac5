"""The story abroad (section 2.4): transhipment, destruction at sea and at the venues on
land, the effluent of the hydrolysis as products of their own, the last cylinders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cwledger.scenario.syria_2013.builder import Builder, at, batch, between, days, move
from cwledger.scenario.syria_2013.facts.abroad import (
    CAPE_RAY,
    CAPE_RAY_DF_RUNS,
    DF_EFFLUENT_KG,
    EFFLUENT,
    EKOKEM,
    EKOKEM_STEPS,
    ELLESMERE,
    HD_EFFLUENT_KG,
    LAST_CYLINDERS,
    PORT_ARTHUR,
    PORT_ARTHUR_STEPS,
    TO_CAPE_RAY,
    TO_LAND,
    VENUES,
    Campaign,
    Step,
)
from cwledger.scenario.syria_2013.in_country import BROKEN_SEAL_ITEM
from cwledger.scenario.syria_2013.removal import P1_SHIP, P2_SHIP, SHORT_ITEM, SHORT_KG, ship_of
from cwledger.scenario.syria_2013.world import JM, TS, VENUE_OF, VENUE_PARTY, mass, place

# The effluent sealed aboard on 20 Aug 2014, and the day it reaches each venue (chosen).
EFFLUENT_ARRIVES = {"V-EKOKEM": "2014-09-20", "V-GEKA": "2014-10-10"}


def onward(b: Builder, items: list[dict[str, Any]]) -> None:
    """The venues declared; the chemicals shipped on to them and destroyed there."""
    for venue in VENUES:
        b.add(TS, "site.declared", at("2014-06-01"), {"site": place(venue, TS)})
    chem = {i["id"]: i for i in items if i.get("chemical") in VENUE_OF}
    # Every hand-over under a seal checked there, every receipt weighed (a re-inventory on
    # arrival, section 3): the mass the port of loading weighed.
    seals = {i: f"SEAL-{i}" + ("-2" if i == BROKEN_SEAL_ITEM else "") for i in chem}
    weighed = {i: _reweighed(x) for i, x in chem.items()}
    p1 = sorted(i for i, x in chem.items() if VENUE_OF[x["chemical"]] == CAPE_RAY.venue)
    for leg in TO_CAPE_RAY:
        move(
            b,
            leg.leg,
            leg.origin,
            leg.destination,
            p1,
            leg.sail,
            leg.arrive,
            JM,
            seals=seals,
            weighed=weighed,
        )
    for arrival in TO_LAND:  # from both ships, each sailing 10 days before it arrives
        ids = sorted(i for i, x in chem.items() if VENUE_OF[x["chemical"]] == arrival.venue)
        by_vessel: dict[str, list[str]] = {P1_SHIP: [], P2_SHIP: []}
        for i in ids:
            by_vessel[ship_of(chem[i])].append(i)
        for vessel, group in by_vessel.items():
            if group:
                name = f"{arrival.leg}-{vessel[-2:]}"
                sail = days(arrival.arrive, -10)
                move(
                    b,
                    name,
                    vessel,
                    arrival.venue,
                    group,
                    sail,
                    arrival.arrive,
                    JM,
                    seals=seals,
                    weighed=weighed,
                )
    _cape_ray(b, chem, p1)
    _land(b, chem, ELLESMERE)
    _stepped(b, chem, EKOKEM, EKOKEM_STEPS)
    _hf(b, chem)


def _reweighed(item: dict[str, Any]) -> dict[str, Any]:
    d = item["declared"]
    kg = d["kg"] - (SHORT_KG if item["id"] == SHORT_ITEM else 0.0)
    return {
        "kg": round(kg, 3),
        "u_random_kg": d["u_random_kg"],
        "u_systematic_kg": d["u_systematic_kg"],
        "method": "weighing on receipt",
    }


def _tonnes(item: dict[str, Any]) -> float:
    return float(item["declared"]["kg"]) / 1000


def _by_steps(
    ids: list[str], size: Callable[[str], float], steps: tuple[Step, ...]
) -> list[tuple[str, list[str]]]:
    """The items destroyed on each step's day, in order, until each step's cumulative
    quantity is reached (to the nearest item; the last step takes what is left)."""
    out: list[tuple[str, list[str]]] = []
    done, k = 0.0, 0
    for step in steps:
        part: list[str] = []
        while k < len(ids) and done + size(ids[k]) / 2 <= step.done:
            part.append(ids[k])
            done += size(ids[k])
            k += 1
        out.append((step.day, part))
    out[-1][1].extend(ids[k:])
    return [(day, part) for day, part in out if part]


def _cape_ray(b: Builder, chem: dict[str, dict[str, Any]], p1: list[str]) -> None:
    """581 t DF and 19.8 t HD hydrolysed at sea, 7 Jul - 18 Aug 2014; 5,463 t and 335.5 t
    of effluent, disposed of in Finland and Germany by 11-12 Jun 2015 (M22)."""
    df = [i for i in p1 if chem[i]["chemical"] == "DF"]
    hd = [i for i in p1 if chem[i]["chemical"] == "HD"]
    effluent: list[tuple[str, str]] = []
    lot_mass: dict[str, dict[str, Any]] = {}
    runs = _by_steps(df, lambda i: _tonnes(chem[i]), CAPE_RAY_DF_RUNS)
    for k, (day, ids) in enumerate(runs):
        lot = f"EFF-DF-{k + 1:02d}"
        effluent.append((lot, "V-EKOKEM"))
        lot_mass[lot] = mass(DF_EFFLUENT_KG.value * len(ids) / len(df), 0.01, 0.005, "tank gauge")
        product = {"item": lot, "label": "DF hydrolysis effluent", "mass": lot_mass[lot]}
        lines = [{"item": i} for i in ids]
        batch(b, f"CR-DF-{k + 1:02d}", CAPE_RAY.venue, day, CAPE_RAY.method, lines, [product])
    lot_mass["EFF-HD-01"] = mass(HD_EFFLUENT_KG.value, 0.01, 0.005, "tank gauge")
    product = {
        "item": "EFF-HD-01",
        "label": "HD hydrolysis effluent",
        "mass": lot_mass["EFF-HD-01"],
    }
    lines = [{"item": i} for i in hd]
    batch(b, "CR-HD-01", CAPE_RAY.venue, CAPE_RAY.last, CAPE_RAY.method, lines, [product])
    effluent.append(("EFF-HD-01", "V-GEKA"))
    for campaign in EFFLUENT:
        lots = [lot for lot, v in effluent if v == campaign.venue]
        for lot in lots:
            b.add(
                TS,
                "seal.applied",
                at("2014-08-20", 9),
                {
                    "seal": f"SEAL-{lot}",
                    "type": "electronic",
                    "closes": {"kind": "item", "id": lot},
                },
            )
        arrive = EFFLUENT_ARRIVES[campaign.venue]
        leg = f"EFF-{campaign.venue[2:]}"
        shipper = VENUE_PARTY[CAPE_RAY.venue]  # the joint mission's mandate has ended
        seals = {lot: f"SEAL-{lot}" for lot in lots}
        weighed = {lot: dict(lot_mass[lot], method="tank gauge on receipt") for lot in lots}
        sail = days(arrive, -7)
        move(
            b,
            leg,
            CAPE_RAY.venue,
            campaign.venue,
            lots,
            sail,
            arrive,
            shipper,
            seals=seals,
            weighed=weighed,
        )
        span = between(campaign.first, campaign.last)
        for k, lot in enumerate(lots):
            last = k == len(lots) - 1
            when = campaign.last if last else days(campaign.first, span * k // len(lots))
            batch(b, f"EFF-B-{lot}", campaign.venue, when, campaign.method, [{"item": lot}])


def _land(b: Builder, chem: dict[str, dict[str, Any]], campaign: Campaign) -> None:
    """The chemicals of one venue on land in about ten batches, the last on its last day."""
    ids = sorted(i for i, x in chem.items() if VENUE_OF[x["chemical"]] == campaign.venue)
    span = between(campaign.first, campaign.last)
    per = max(1, -(-len(ids) // 10))
    chunks = [ids[k : k + per] for k in range(0, len(ids), per)]
    for k, part in enumerate(chunks):
        last = k == len(chunks) - 1
        day = campaign.last if last else days(campaign.first, span * k // len(chunks))
        name = f"{campaign.venue[2:5]}-{k + 1:02d}"
        batch(b, name, campaign.venue, day, campaign.method, [{"item": i} for i in part])


def _stepped(
    b: Builder, chem: dict[str, dict[str, Any]], campaign: Campaign, steps: tuple[Step, ...]
) -> None:
    """The chemicals of one venue destroyed by the cumulative tonnes of `steps`."""
    ids = sorted(i for i, x in chem.items() if VENUE_OF[x["chemical"]] == campaign.venue)
    for k, (day, part) in enumerate(_by_steps(ids, lambda i: _tonnes(chem[i]), steps)):
        name = f"{campaign.venue[2:5]}-{k + 1:02d}"
        batch(b, name, campaign.venue, day, campaign.method, [{"item": i} for i in part])


def _hf(b: Builder, chem: dict[str, dict[str, Any]]) -> None:
    """HF cylinders at Port Arthur from September 2014, by the counts of
    ``PORT_ARTHUR_STEPS``; the last 75, some badly corroded, destroyed on 4 Jan 2016
    (sections 2.4 and 2.5)."""
    ids = sorted(i for i, x in chem.items() if x["chemical"] == "HF")
    venue, method = PORT_ARTHUR.venue, PORT_ARTHUR.method
    runs = _by_steps(ids, lambda _: 1.0, PORT_ARTHUR_STEPS)
    assert len(runs[-1][1]) == LAST_CYLINDERS.value, "the last batch is the last 75 cylinders"
    for k, (day, part) in enumerate(runs):
        name = "ART-LAST" if k == len(runs) - 1 else f"ART-{k + 1:02d}"
        batch(b, name, venue, day, method, [{"item": i} for i in part])
