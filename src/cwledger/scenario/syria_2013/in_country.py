"""The story in the country: initial inspections, tags and seals, the equipment and the
unfilled munitions destroyed, the December seal check, and the isopropanol destroyed."""

from __future__ import annotations

from typing import Any

from cwledger.scenario.syria_2013.builder import Builder, at, batch, days
from cwledger.scenario.syria_2013.facts.declaration import ISOPROPANOL_T
from cwledger.scenario.syria_2013.facts.in_country import (
    EQUIPMENT_DESTROYED,
    INSPECTIONS,
    ISOPROPANOL_BY_4_MARCH,
    ISOPROPANOL_DESTROYED,
    MUNITIONS_DESTROYED,
)
from cwledger.scenario.syria_2013.world import ABANDONED, DECLARANT, ISOPROPANOL_LOTS, TS

BROKEN_SEAL_ITEM = "CAT2-P-004"  # planted: found broken at the December check


def inspections(
    b: Builder,
    sites: list[dict[str, Any]],
    facilities: dict[str, list[str]],
    items: list[dict[str, Any]],
) -> None:
    """Initial inspections of 21 of 23 sites in October 2013, tagging and sealing what
    is to be removed (section 1, M06-M07; section 2.1: all under seal by 31 Oct)."""
    inspected = [s["id"] for s in sites if "parent" not in s and s["id"] not in ABANDONED]
    removable = [i for i in items if i["kind"] in ("container", "bulk_lot")]
    for n, site in enumerate(inspected):
        day = days(INSPECTIONS.first, n + (1 if n else 0) + (n // 3))
        if n == len(inspected) - 1:
            day = INSPECTIONS.last
        iid = f"INS-{n + 1:02d}"
        b.add(
            TS,
            "inspection.opened",
            at(day, 8),
            {"inspection": iid, "site": site, "kind": "initial"},
        )
        for fac in facilities[site]:
            for item in (i for i in removable if i["site"] == fac):
                b.add(
                    TS,
                    "item.tagged",
                    at(day, 11),
                    {"item": item["id"], "tag": f"TAG-{item['id']}", "site": fac},
                )
                b.add(
                    TS,
                    "seal.applied",
                    at(day, 12),
                    {
                        "seal": f"SEAL-{item['id']}",
                        "type": "metal_cap",
                        "closes": {"kind": "item", "id": item["id"]},
                        "next_check_due": at("2013-12-15"),
                    },
                )
        b.add(
            TS,
            "inspection.closed",
            at(day, 17),
            {"inspection": iid, "summary": "initial inspection completed"},
        )


def equipment_and_munitions(b: Builder, items: list[dict[str, Any]]) -> None:
    """Equipment functionally destroyed by 31 Oct 2013 (M09), and with it the facility it
    served (section 2.6: critical equipment at all 23 sites), verified by the secretariat;
    unfilled munitions over 60 % by 15 Nov and all by 20 Dec 2013 (M15)."""
    equipment = [i for i in items if i["kind"] == "equipment"]
    for n, item in enumerate(equipment):
        last = n == len(equipment) - 1
        day = EQUIPMENT_DESTROYED.last if last else days(EQUIPMENT_DESTROYED.first, n)
        batch(
            b,
            f"EQ-B{n + 1:02d}",
            item["site"],
            day,
            "functional destruction",
            [{"item": item["id"]}],
            author=DECLARANT,
        )
        facility = {"facility": item["site"], "extent": "functional"}
        method = "critical equipment destroyed"
        b.add(DECLARANT, "facility.destroyed", at(day, 18), {**facility, "method": method})
        b.add(TS, "facility.verified", at(day, 20), facility)
    munitions = [i for i in items if i["kind"] == "munition"]
    by_site: dict[str, list[str]] = {}
    for m in munitions:
        by_site.setdefault(m["site"], []).append(m["id"])
    chunks = [
        (site, ids[k : k + 150])
        for site, ids in sorted(by_site.items())
        for k in range(0, len(ids), 150)
    ]
    for n, (site, ids) in enumerate(chunks):
        # Six chunks in the first week (over 60 %), the rest every other day from 25 Nov.
        day = days(MUNITIONS_DESTROYED.first, n) if n < 6 else days("2013-11-25", 2 * (n - 6))
        if n == len(chunks) - 1:
            day = MUNITIONS_DESTROYED.last
        batch(
            b,
            f"MU-B{n + 1:02d}",
            site,
            day,
            "crushing and cutting",
            [{"item": i} for i in ids],
            author=DECLARANT,
        )


def seal_checks(b: Builder, items: list[dict[str, Any]]) -> None:
    """A check of every seal in mid-December 2013; one is found broken, the item is
    re-verified and resealed (a finding is raised by the book on its own)."""
    sealed = [i for i in items if i["kind"] in ("container", "bulk_lot")]
    for item in sealed:
        broken = item["id"] == BROKEN_SEAL_ITEM
        b.add(
            TS,
            "seal.checked",
            at("2013-12-15", 11),
            {
                "seal": f"SEAL-{item['id']}",
                "condition": "broken" if broken else "intact",
                "method": "visual",
                "next_check_due": at("2014-03-15"),
            },
        )
    b.add(
        TS,
        "seal.applied",
        at("2013-12-17", 10),
        {
            "seal": f"SEAL-{BROKEN_SEAL_ITEM}-2",
            "type": "fibre_optic",
            "closes": {"kind": "item", "id": BROKEN_SEAL_ITEM},
        },
    )
    b.add(
        TS,
        "seal.removed",
        at("2013-12-17", 11),
        {
            "seal": f"SEAL-{BROKEN_SEAL_ITEM}",
            "reason": "found broken; replaced after the contents were re-verified",
        },
    )
    b.add(
        TS,
        "seal.checked",
        at("2013-12-17", 12),
        {"seal": f"SEAL-{BROKEN_SEAL_ITEM}-2", "condition": "intact", "method": "visual"},
    )


def isopropanol(b: Builder, items: list[dict[str, Any]]) -> None:
    """Destroyed in the country: 93.1 % by 4 Mar 2014, all by 20 May 2014 (M18)."""
    lots = [i for i in items if i.get("chemical") == "isopropanol"]
    each = ISOPROPANOL_T.value / ISOPROPANOL_LOTS
    february = ["2014-02-10", "2014-02-13", "2014-02-17", "2014-02-20", "2014-02-24"]
    february += ["2014-02-26", "2014-02-28"]
    for n, lot in enumerate(lots[:7]):
        _in_country(b, f"ISO-B{n + 1}", february[n], lot["site"], [{"item": lot["id"]}])
    last = lots[7]
    part = round(ISOPROPANOL_T.value * ISOPROPANOL_BY_4_MARCH.value - 7 * each, 3)
    _in_country(b, "ISO-B8", "2014-03-03", last["site"], [{"item": last["id"], "kg": part * 1000}])
    _in_country(b, "ISO-B9", ISOPROPANOL_DESTROYED.value, last["site"], [{"item": last["id"]}])


def _in_country(b: Builder, name: str, day: str, site: str, lines: list[dict[str, Any]]) -> None:
    batch(b, name, site, day, "neutralisation and incineration in country", lines, author=DECLARANT)
