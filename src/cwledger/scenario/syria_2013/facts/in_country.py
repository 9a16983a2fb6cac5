"""What happened in the country: initial inspections, destruction in the country, and the
removal through the port of loading (sections 1 and 2.3)."""

from __future__ import annotations

from dataclasses import dataclass

from cwledger.scenario.syria_2013.facts import Fact, Span


@dataclass(frozen=True)
class Reported:
    """A reported cumulative share (%) removed or destroyed in the country, on `day`."""

    day: str
    pct: float
    source: str


@dataclass(frozen=True)
class ByPriority:
    """A reported cumulative share (%) of Priority 1 and of Priority 2 removed, on `day`."""

    day: str
    p1_pct: float
    p2_pct: float | None
    source: str


@dataclass(frozen=True)
class Consignment:
    """Consignment `number`, loaded at the port on `day`: the cumulative tonnes of
    Priority 1 and of Priority 2 shipped out after it (chosen, with the isopropanol
    destroyed in the country, so that the shares of ``REMOVAL_REPORTED`` and
    ``BY_PRIORITY_REPORTED`` come out as reported)."""

    number: int
    day: str
    p1_t: float
    p2_t: float
    source: str

    @property
    def cumulative_t(self) -> float:
        """The cumulative tonnes shipped out after this consignment, both priorities."""
        return self.p1_t + self.p2_t


@dataclass(frozen=True)
class Place:
    """A site outside the declared ones: the port, a ship, a venue (public coordinates)."""

    id: str
    name: str
    kind: str
    lat: float
    lon: float
    source: str


# -- inspection and destruction in the country ----------------------------------------------

INSPECTIONS = Span("2013-10-01", "2013-10-31", "1: 21 of 23 sites, 39 of 41 facilities")
EQUIPMENT_DESTROYED = Span("2013-10-06", "2013-10-31", "1: M09")  # the first day: chosen
MUNITIONS_DESTROYED = Span("2013-11-02", "2013-12-20", "1: M15")
ISOPROPANOL_DESTROYED = Fact("2014-05-20", "1: M18")
ISOPROPANOL_BY_4_MARCH = Fact(0.931, "2.3: isopropanol 93.1%")

# -- removal (section 2.3) ------------------------------------------------------------------

# The cumulative share removed (or destroyed in the country) at reported dates.
REMOVAL_REPORTED = (
    Reported("2014-02-05", 4.0, "2.3: early Feb 2014"),
    Reported("2014-03-04", 26.0, "2.3: 4 Mar 2014"),
    Reported("2014-03-07", 29.0, "2.3: 7 Mar 2014"),
    Reported("2014-03-17", 45.6, "2.3: 14 and 17 Mar 2014"),
    Reported("2014-03-20", 49.3, "2.3: 20 Mar 2014"),
    Reported("2014-04-14", 65.1, "2.3: a Monday, early/mid Apr 2014"),  # day: see NOTES
    Reported("2014-04-16", 72.3, "2.3: 16 Apr 2014"),
    Reported("2014-04-19", 80.0, "2.3: 19 Apr 2014"),
    Reported("2014-04-24", 92.5, "2.3: 24 Apr 2014"),
    Reported("2014-06-23", 100.0, "2.3: 23 Jun 2014"),
)

# The cumulative share of each priority removed, where the reports give it. The 35% "after
# the 6th" of the 4 Mar report (P1 23%, P2 63%) cannot hold with the 29% of 7 Mar: the
# replay keeps P2 63% and 29% overall (see NOTES).
BY_PRIORITY_REPORTED = (
    ByPriority("2014-03-07", 23.0, 63.0, "2.3: 35% after 6th: P1 23%, P2 63%"),
    ByPriority("2014-03-17", 29.5, 82.6, "2.3: 45.6% (P1 29.5%, P2 82.6%)"),
    ByPriority("2014-03-20", 34.8, 82.6, "2.3: 49.3% (P1 34.8%, P2 82.6%)"),
    ByPriority("2014-04-14", 57.4, None, "2.3: 65.1% (P1 57.4%)"),
    ByPriority("2014-04-24", 96.7, 82.6, "2.3: high priority 96.7%, other 82.6%"),
)
ISOPROPANOL_BY_24_APRIL = Fact(93.1, "2.3: isopropanol 93.1%")

_ANY = "6: 19 consignments over 24 weeks"  # no report dates these: their days are chosen
CONSIGNMENTS = (
    Consignment(1, "2014-01-07", 15.5, 0.0, "2.3: 7 Jan 2014"),
    Consignment(2, "2014-01-27", 25.0, 25.0, "2.3: ~4% (~50 t, 18 containers)"),
    Consignment(3, "2014-02-10", 45.0, 50.0, _ANY),
    Consignment(4, "2014-02-24", 70.0, 90.0, _ANY),
    Consignment(5, "2014-03-01", 90.0, 134.4, "2.3: 5 done, 6th due"),
    Consignment(6, "2014-03-07", 99.6, 163.8, "2.3: 7 Mar 2014"),
    Consignment(7, "2014-03-11", 150.0, 190.0, _ANY),
    Consignment(8, "2014-03-13", 195.0, 205.0, _ANY),
    Consignment(9, "2014-03-14", 235.0, 214.8, "2.3: 14 and 17 Mar 2014"),
    Consignment(10, "2014-03-17", 270.8, 214.8, "2.3: 14 and 17 Mar 2014"),
    Consignment(11, "2014-03-20", 319.5, 214.8, "2.3: 20 Mar 2014"),
    Consignment(12, "2014-04-04", 420.0, 214.8, "2.3: resumed 4 Apr 2014"),
    Consignment(13, "2014-04-14", 526.9, 214.8, "2.3: a Monday, early/mid Apr 2014"),
    Consignment(14, "2014-04-15", 570.0, 214.8, _ANY),
    Consignment(15, "2014-04-16", 611.6, 214.8, "2.3: 16 Apr 2014"),
    Consignment(16, "2014-04-19", 711.6, 214.8, "2.3: 19 Apr 2014"),
    Consignment(17, "2014-04-22", 800.0, 214.8, _ANY),
    Consignment(18, "2014-04-24", 878.2, 214.8, "2.3: 24 Apr 2014"),
    Consignment(19, "2014-06-23", 918.0, 260.0, "2.3: 23 Jun 2014"),
)
# The last ~100 t, packed at a single site from May 2014: the last DF containers, the
# HCl containers and a few HF cylinders (5 x 7.96 t, 8 x 5.5 t and 6 x 0.214 t: 85 t,
# 6.5%; chosen so that P1 and P2 stand at 95.7% and 82.6% from 24 Apr).
STUCK_CONTAINERS = Fact(
    {"DF": 5, "HCl": 8, "HF": 6}, "2.3: ~100 t (~7.2-8%) packed at a single site"
)

PORT = Place("PORT-LOADING", "Port of loading", "port", 35.52, 35.78, "2.3: Latakia")
# The Danish ship carries Priority 1, the Norwegian one Priority 2.
VESSELS = (
    Place("VESSEL-DK", "Danish cargo ship", "vessel", 35.6, 35.6, "2.3: Danish vessel"),
    Place("VESSEL-NO", "Norwegian cargo ship", "vessel", 35.6, 35.6, "2.3: Danish and Norwegian"),
)

# -- accountancy (section 3) ----------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """A measurement method as the scenario's weighings name it, with its relative random
    and systematic standard deviations (chosen: the uncertainties the scenario gives the
    measurements of that method; the facts file gives none)."""

    method: str
    rsd_random: float
    rsd_systematic: float
    source: str


_VERIFY = "3: inspectors verify quantity and identity of chemicals"
_ARRIVAL = "3: re-inventory on arrival at destruction facility"
METHODS = (
    Method("weighing", 0.004, 0.002, _VERIFY),
    Method("tank level gauge", 0.01, 0.005, _VERIFY),
    Method("weighbridge", 0.004, 0.002, "3: loading verified at Latakia"),
    Method("weighing aboard", 0.004, 0.002, "3: loading verified at Latakia"),
    Method("weighing on receipt", 0.004, 0.002, _ARRIVAL),
    Method("tank gauge", 0.01, 0.005, "3: effluent as a tracked product"),
    Method("tank gauge on receipt", 0.01, 0.005, _ARRIVAL),
    Method("inventory weighing", 0.004, 0.002, _VERIFY),
)
# Registered, and the alarm thresholds fixed, before the first data (the first weighing
# of the removal, January 2014), for this false-alarm probability (chosen).
REFERENCE_FIXED = Fact("2013-12-01", "3: agreed seals, markers or other inventory controls")
FALSE_ALARM = Fact(0.05, "3: inspectors verify quantity and identity of chemicals")
# Weighed physical inventories at each month's end while a place holds material: from
# the end of December 2013, once the unfilled munitions (counted, not weighed) were
# destroyed (chosen).
FIRST_INVENTORY = Fact("2013-12-31", "3: inspectors verify quantity and identity of chemicals")
