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
EFFLUENT = (
    Campaign("V-EKOKEM", "incineration of effluent", "2014-11-01", "2015-06-11", "2.4: 11 Jun"),
    Campaign("V-GEKA", "incineration of effluent", "2014-11-01", "2015-06-12", "2.4: 12 Jun"),
)
ELLESMERE = Campaign("V-ELLESMERE", "incineration", "2014-07-16", "2014-08-06", "2.4: done 6 Aug")
EKOKEM = Campaign("V-EKOKEM", "incineration", "2014-06-28", "2014-11-20", "2.4: late Jun 2014")
PORT_ARTHUR = Campaign(
    "V-PORT-ARTHUR", "neutralisation", "2014-08-10", "2016-01-04", "2.4: announced 4 Jan 2016"
)
LAST_CYLINDERS = Fact(75, "2.2: 75 hydrogen-fluoride cylinders were the last items destroyed")
