"""The documents filed, the outside estimates, the versions of the declaration and what
they declare: sites, chemicals, containers, munitions, structures (sections 1, 2.1-2.2,
2.6-2.7, 5); the declaration assessment's outstanding issues (section 2.7)."""

from __future__ import annotations

from dataclasses import dataclass

from cwledger.scenario.syria_2013.facts import Fact, Span


@dataclass(frozen=True)
class Document:
    """An instrument, decision or report, filed by `filer` on `day`."""

    filer: str
    day: str
    kind: str
    title: str
    issued_by: str
    source: str


@dataclass(frozen=True)
class Estimate:
    """An outside estimate of the programme (section 5); `value` None where not quantified."""

    party: str
    day: str
    value: float | None
    u: float | None
    unit: str
    scope: str
    method: str
    source: str
    remark: str | None = None
    category: int | None = None
    excludes: tuple[str, ...] = ()  # declared chemicals outside the estimate's scope
    u_basis: str = "assumed"  # no source of section 5 states an uncertainty


@dataclass(frozen=True)
class Declared:
    """A version of the declaration: submitted on `day`, due on `due`, under `basis`."""

    version: int
    day: str
    due: str
    basis: str
    source: str


@dataclass(frozen=True)
class Chemical:
    """A declared chemical: CWC category, schedule (number, part, entry) if one, priority."""

    label: str
    category: int
    priority: str
    source: str
    schedule: tuple[int, str, int] | None = None


@dataclass(frozen=True)
class Stock:
    """The containers of one chemical for removal, and the venue that destroys it."""

    label: str
    containers: int
    tonnes_each: float
    venue: str
    source: str


# The parties' mandates: the joint mission writes only while it exists.
JOINT_MISSION = Span(
    "2013-10-16", "2014-09-30", "1: OPCW-UN Joint Mission: established 16 Oct 2013, mandate ended"
)

DOCUMENTS = (
    Document(
        "declaring-state",
        "2013-09-14",
        "accession",
        "Instrument of accession to the CWC",
        "UN depositary",
        "1: accession instrument 14 Sep 2013",
    ),
    Document(
        "technical-secretariat",
        "2013-09-14",
        "framework",
        "Framework for Elimination of Syrian Chemical Weapons",
        "United States and Russian Federation",
        "1: Framework for Elimination of Syrian Chemical Weapons",
    ),
    Document(
        "technical-secretariat",
        "2013-09-27",
        "ec-decision",
        "Destruction of Syrian chemical weapons (EC-M-33/DEC.1)",
        "OPCW Executive Council",
        "1: M03",
    ),
    Document(
        "technical-secretariat",
        "2013-09-27",
        "unsc-resolution",
        "Resolution 2118 (2013)",
        "UN Security Council",
        "1: M04",
    ),
    Document(
        "technical-secretariat",
        "2013-10-25",  # "late Oct 2013": chosen
        "dg-report",
        "First monthly report of the Director-General",
        "OPCW Director-General",
        "1: M10",
    ),
    Document(
        "technical-secretariat",
        "2013-11-15",
        "ec-milestones-decision",
        "Detailed requirements for the destruction (EC-M-34/DEC.1)",
        "OPCW Executive Council",
        "1: M11",
    ),
    Document(
        "declaring-state",
        "2013-12-16",
        "in-country-destruction-plan",
        "Plan for the destruction of isopropanol and residual material in the country",
        "Declaring state",
        "1: M12",
    ),
    Document(
        "declaring-state",
        "2013-12-20",
        "national-report",
        "First monthly national report",
        "Declaring state",
        "1: M13",
    ),
    Document(
        "technical-secretariat",
        "2015-09-25",
        "dat-report",
        "Declaration Assessment Team report, Apr 2014 - Sep 2015",
        "OPCW Technical Secretariat",
        "2.7: EC-80/P/S/1, 25 Sep 2015",
    ),
)

ESTIMATES = (
    # "CW agents and precursors": Category 1 ("largely precursors", 2.1) less the
    # isopropanol the OPCW counted inside it (2.2); not the acids of Category 2. Chosen.
    Estimate(
        "observer-us",
        "2013-09-14",
        1000.0,
        100.0,  # chosen: the source gives none
        "t",
        "category",
        "national assessment, accepted at Geneva (about 1,000 t of agents and precursors)",
        "5: ~1,000 metric tons of CW agents and precursors [AP-FW][AP-GDI]",
        category=1,
        excludes=("isopropanol",),
    ),
    Estimate(
        "observer-us",
        "2013-09-14",
        45.0,
        5.0,  # chosen
        "sites",
        "sites",
        "national assessment (about 45 sites associated with the programme)",
        "5: US ~45 sites associated with CW",
    ),
    Estimate(
        "observer-ru",
        "2013-09-14",
        None,
        None,
        "sites",
        "sites",
        "national assessment",
        '5: Russian estimate "considerably lower" (not quantified) [AP-GDI][AP-FW]',
        remark="considerably lower than 45 (not quantified)",
    ),
)

DECLARATIONS = (
    Declared(1, "2013-09-20", "2013-09-21", "Framework (14 Sep 2013)", "1: M02"),
    Declared(2, "2013-10-03", "2013-10-04", "EC-M-33/DEC.1", "1: M05"),
    Declared(3, "2013-10-24", "2013-10-27", "CWC Article III", "1: M08"),
    Declared(
        4,
        "2014-07-20",  # "July 2014": chosen
        "2014-07-31",
        "CWC Article III (amendment)",
        "2.7: July 2014: Syria declared 3 more facilities",
    ),
)

SITES = Fact(23, "2.1: sites | 23")
FACILITIES = Fact(
    (("production", 18), ("storage", 12), ("mobile_filling_unit", 8), ("related", 3)),
    "2.1: 41 = 18 CW production facilities + 12 CW storage facilities + 8 mobile filling units",
)
UNSAFE_SITES = Fact(2, "6: 2 sites inaccessible at initial inspection")
UNFILLED_MUNITIONS = Fact(1230, "2.1: ~1,230 unfilled chemical munitions")
STRUCTURES = Fact(
    (("hangar", 7), ("underground structure", 5)),
    "2.6: 12 structures (7 aircraft hangars, 5 underground structures)",
)
STRUCTURES_INACCESSIBLE = Fact(
    (("underground structure", 1), ("hangar", 2)),
    "2.6: 1 underground structure and 2 hangars inaccessible",
)
FIRST_STRUCTURE_DESTROYED = Fact("2015-01-31", "2.6: first destroyed 31 Jan 2015")
TUNNELS_DESTROYED_BY_MARCH = Fact(3, "2.6: by Mar 2015 3 tunnels destroyed")
# The later count of production facilities (CWPFs); the first one, of October 2013, is
# the 18 production facilities of FACILITIES (without the mobile filling units).
CWPFS_DECLARED = Fact(27, "2.6: later count: 27 CWPFs declared")

CHEMICALS = (
    Chemical("DF", 1, "1", "2.2: binary precursor for sarin", schedule=(1, "B", 9)),
    Chemical("HD", 1, "1", "2.2: sulfur mustard", schedule=(1, "A", 4)),
    Chemical("B precursors", 1, "1", '2.2: "B precursors"'),
    Chemical("CAT1-P1-A", 1, "1", "6: generic chemical codes (e.g. CAT1-P1-A, CAT2-P2-07)"),
    Chemical("isopropanol", 1, "in-country", "4: OPCW counted isopropanol"),
    Chemical("HCl", 2, "2", "2.2: hydrochloric acid"),
    Chemical("HF", 2, "2", "2.2: hydrogen fluoride"),
    Chemical("CAT2-P2-07", 2, "2", "6: generic chemical codes"),
)

# The chemicals for removal, in the order they are declared: Category 1 about 1,040 t with
# the isopropanol, Category 2 about 260 t (section 2.2, [OPCW-CAT1]; see NOTES). Priority 1
# is the Category 1 chemicals for removal (918 t), Priority 2 the Category 2 ones (260 t):
# the split the reported shares by priority of section 2.3 imply (see NOTES).
STOCK = (
    Stock("CAT2-P2-07", 24, 156.0 / 24, "V-EKOKEM", "2.4: Category 2 / industrial chemicals"),
    Stock("HD", 5, 3.96, "V-CAPE-RAY", "2.4: 19.8 t HD"),
    Stock("HCl", 8, 5.5, "V-ELLESMERE", "2.4: ~44 t hydrochloric acid"),
    Stock("CAT1-P1-A", 18, 171.2 / 18, "V-EKOKEM", "2.2: Category 1 total ~1,040 t"),  # the rest
    Stock("B precursors", 20, 7.3, "V-ELLESMERE", "2.4: 190 t"),  # 190 t less the HCl
    Stock("HF", 280, 60.0 / 280, "V-PORT-ARTHUR", "2.5: 29 t HF left"),  # 60 t: chosen
    Stock("DF", 73, 581.0 / 73, "V-CAPE-RAY", "2.4: 581 t DF"),
)
ISOPROPANOL_T = Fact(122.0, "2.2: ~122 t isopropanol destroyed in country")

# -- the declaration assessment (section 2.7) -----------------------------------------------

OUTSTANDING_ISSUES = Fact(24, "2.7: 20 of 24 outstanding issues")
NEW_ISSUES = Fact(2, "2.7: Sep 2024: 2 new issues opened")
ISSUES_CLOSED = Fact(7, "6: 24 -> 26 opened, 7 closed")
