"""Destruction abroad (section 2.4): the venues, the passages to them, the campaigns at
each, the effluent of the hydrolysis at sea, the last cylinders."""

from __future__ import annotations

from dataclasses import dataclass

from cwledger.scenario.syria_2013.facts import Fact
from cwledger.scenario.syria_2013.facts.in_country import Place


@dataclass(frozen=True)
class Leg:
    """A passage of chemicals for removal from `origin` to `destination`."""

    leg: str
    origin: str
    destination: str
    sail: str
    arrive: str
    source: str


@dataclass(frozen=True)
class Arrival:
    """A passage from both cargo ships to `venue`, arriving on `arrive`."""

    leg: str
    venue: str
    arrive: str
    source: str


@dataclass(frozen=True)
class Campaign:
    """The destruction at one venue: its method, its first and last day."""

    venue: str
    method: str
    first: str
    last: str
    source: str


@dataclass(frozen=True)
class Step:
    """The cumulative quantity destroyed at a venue by `day` (tonnes, or items where
    counted): chosen so that the shares of section 2.5 come out, on the days it gives."""

    day: str
    done: float
    source: str


@dataclass(frozen=True)
class Destroyed:
    """A reported share (%) destroyed on `day`: of the whole declared stockpile, or of one
    category (`of`)."""

    day: str
    pct: float
    source: str
    of: str = "total"


# -- destruction (section 2.4) --------------------------------------------------------------

VENUES = (
    Place("TRANSHIP", "Transhipment port (Italy)", "port", 38.44, 15.9, "2.3: Gioia Tauro"),
    Place(
        "V-CAPE-RAY",
        "MV Cape Ray, hydrolysis at sea",
        "vessel",
        35.0,
        18.0,
        "2.4: MV Cape Ray (US), Mediterranean",
    ),
    Place(
        "V-ELLESMERE",
        "Veolia, Ellesmere Port (UK)",
        "destruction",
        53.28,
        -2.9,
        "2.4: Veolia, Ellesmere Port (UK)",
    ),
    Place(
        "V-EKOKEM", "Ekokem, Riihimaki (FI)", "destruction", 60.74, 24.77, "2.4: Ekokem, Riihimaki"
    ),
    Place(
        "V-PORT-ARTHUR",
        "Veolia, Port Arthur (US)",
        "destruction",
        29.88,
        -93.93,
        "2.4: Port Arthur, Texas",
    ),
    Place("V-GEKA", "GEKA, Munster (DE)", "destruction", 52.98, 10.09, "2.4: GEKA mbH, Munster"),
)

# Priority 1 for the ship: the Danish vessel to the transhipment port, then to Cape Ray.
TO_CAPE_RAY = (
    Leg("ONWARD-1", "VESSEL-DK", "TRANSHIP", "2014-06-29", "2014-07-01", "2.3: Ark Futura"),
    Leg("ONWARD-2", "TRANSHIP", "V-CAPE-RAY", "2014-07-02", "2014-07-02", "2.2: on 2 Jul 2014"),
)
# The rest, from both ships to the venues on land.
TO_LAND = (
    Arrival("ONWARD-3", "V-ELLESMERE", "2014-07-15", "2.4: arrived ~mid-Jul"),
    Arrival("ONWARD-4", "V-EKOKEM", "2014-06-25", "2.4: from ~late Jun 2014"),
    Arrival("ONWARD-5", "V-PORT-ARTHUR", "2014-07-20", "2.3: other cargo to"),  # day: chosen
)

CAPE_RAY = Campaign("V-CAPE-RAY", "hydrolysis at sea", "2014-07-07", "2014-08-18", "2.4: 18 Aug")
CAPE_RAY_DF_DONE = Fact("2014-08-13", "2.4: DF done ~13 Aug")
DF_EFFLUENT_KG = Fact(5_463_000, "2.4: 5,463 t DF effluent")
HD_EFFLUENT_KG = Fact(335_500, "2.4: ~335.5 t")
# The effluent: DF's to Ekokem, HD's to GEKA, disposed of from November 2014 (chosen).
# DF hydrolysed aboard, cumulative tonnes, a run every other day from 7 Jul 2014.
_DF = "2.4: DF done ~13 Aug"
CAPE_RAY_DF_RUNS = (
    Step("2014-07-07", 10.0, "2.4: began 7 Jul 2014"),
    Step("2014-07-09", 25.0, _DF),
    Step("2014-07-11", 40.0, _DF),
    Step("2014-07-13", 55.0, _DF),
    Step("2014-07-15", 70.0, _DF),
    Step("2014-07-17", 87.0, "2.5: ~15% of the DF on Cape Ray"),
    Step("2014-07-19", 110.0, _DF),
    Step("2014-07-21", 140.0, _DF),
    Step("2014-07-23", 170.0, _DF),
    Step("2014-07-25", 200.0, _DF),
    Step("2014-07-27", 240.0, _DF),
    Step("2014-07-29", 280.0, _DF),
    Step("2014-07-31", 320.0, _DF),
    Step("2014-08-02", 360.0, _DF),
    Step("2014-08-04", 400.0, _DF),
    Step("2014-08-06", 440.0, "2.5: 74.2%"),
    Step("2014-08-08", 480.0, _DF),
    Step("2014-08-10", 520.0, _DF),
    Step("2014-08-12", 560.0, _DF),
    Step("2014-08-13", 581.0, _DF),
)
# Ekokem's chemicals (Category 1 rest first, then Category 2), cumulative tonnes.
_EK = "2.4: chemicals from ~late Jun 2014"
EKOKEM_STEPS = (
    Step("2014-06-28", 20.0, _EK),
    Step("2014-07-05", 50.0, _EK),
    Step("2014-07-12", 80.0, _EK),
    Step("2014-07-19", 110.0, _EK),
    Step("2014-07-26", 150.0, _EK),
    Step("2014-08-02", 190.0, _EK),
    Step("2014-08-07", 216.7, "2.5: 74.2%"),
    Step("2014-08-14", 250.0, _EK),
    Step("2014-08-21", 280.0, _EK),
    Step("2014-08-28", 307.7, "2.5: 70% of ~260 t Cat 2"),
    Step("2014-09-04", 327.2, "2.5: 95.8%"),
)
# HF cylinders at Port Arthur, cumulative count: 29 t left on 3 Feb 2015, 16 t (the last
# 75 cylinders) on 17 Jun 2015, destroyed on 4 Jan 2016.
_HF = "2.4: Category 2 chemicals; last 75 HF cylinders"
PORT_ARTHUR_STEPS = (
    Step("2014-09-02", 25, "2.5: 95.8%"),
    Step("2014-10-15", 55, _HF),
    Step("2014-12-01", 95, _HF),
    Step("2015-02-02", 145, "2.5: 29 t HF left at UK and US facilities"),
    Step("2015-04-01", 175, _HF),
    Step("2015-06-15", 205, "2.5: all but 16 t HF of 1,328 t"),
    Step("2016-01-04", 280, "2.4: 16 t HF left in Jun 2015"),
)
# Section 2.5; "late Aug 2014 (EC meeting)" dated 28 Aug (chosen).
DESTROYED_REPORTED = (
    Destroyed("2014-07-18", 15.0, "2.5: ~15% of the DF on Cape Ray", of="DF"),
    Destroyed("2014-08-07", 74.2, "2.5: 74.2%"),
    Destroyed("2014-08-28", 100.0, "2.5: 100% of Cat 1 (~1,040 t)", of="category 1"),
    Destroyed("2014-08-28", 70.0, "2.5: 70% of ~260 t Cat 2", of="category 2"),
    Destroyed("2014-08-28", 94.0, "2.5: 94% overall"),
    Destroyed("2014-09-04", 95.8, "2.5: 95.8%"),
    Destroyed("2015-02-03", 98.0, "2.5: 98%; 29 t HF left"),
    Destroyed("2015-06-17", 100 * (1 - 16 / 1328), "2.5: all but 16 t HF of 1,328 t"),
    Destroyed("2016-01-04", 100.0, "2.5: 100% of declared chemical weapons"),
)

EFFLUENT = (
    Campaign("V-EKOKEM", "incineration of effluent", "2014-11-01", "2015-06-11", "2.4: 11 Jun"),
    Campaign("V-GEKA", "incineration of effluent", "2014-11-01", "2015-06-12", "2.4: 12 Jun"),
)
ELLESMERE = Campaign("V-ELLESMERE", "incineration", "2014-07-16", "2014-08-06", "2.4: done 6 Aug")
EKOKEM = Campaign("V-EKOKEM", "incineration", "2014-06-28", "2014-09-04", "2.4: late Jun 2014")
PORT_ARTHUR = Campaign(
    "V-PORT-ARTHUR", "neutralisation", "2014-08-10", "2016-01-04", "2.4: announced 4 Jan 2016"
)
LAST_CYLINDERS = Fact(75, "2.2: 75 hydrogen-fluoride cylinders were the last items destroyed")
