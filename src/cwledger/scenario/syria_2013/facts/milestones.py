"""The 24 milestones of section 1 of ``shared/SCENARIO-2013.md``, each with its predicate.

A row is the table's row of the same id (its ``source``), set by the secretariat on the
day its instrument was adopted: the Framework's on 14 Sep 2013, EC-M-33's and UNSC
resolution 2118's on 27 Sep 2013, EC-M-34's (and the revised removal plans') on 15 Nov
2013. A due date the instrument words loosely ("in the next few days", "monthly") is taken
as the ``note`` says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FRAMEWORK, EC33, EC34 = "Framework (14 Sep 2013)", "EC-M-33/DEC.1", "EC-M-34/DEC.1"


@dataclass(frozen=True)
class Milestone:
    """A milestone of section 1: set on `set_on`, due on `due` (None: open-ended), met
    when `predicate` becomes true (the book's predicates, ``cwledger.book.progress``)."""

    id: str
    set_on: str
    description: str
    instrument: str
    due: str | None
    predicate: dict[str, Any]
    note: str | None = None

    @property
    def source(self) -> str:
        """The row of the milestone table in section 1."""
        return f"1: {self.id}"


def _doc(kind: str) -> dict[str, Any]:
    return {"kind": "document", "document_kind": kind}


def _prio(*priorities: str) -> dict[str, Any]:
    return {"priority": list(priorities)}


MILESTONES = (
    Milestone(
        "M01",
        "2013-09-14",
        "Accession and provisional application of the CWC",
        "CWC accession",
        "2013-09-14",
        _doc("accession"),
    ),
    Milestone(
        "M02",
        "2013-09-14",
        "Comprehensive listing, within a week",
        FRAMEWORK,
        "2013-09-21",
        {"kind": "declaration", "version": 1},
    ),
    Milestone(
        "M03",
        "2013-09-14",
        "EC special procedures decision",
        FRAMEWORK,
        "2013-09-30",
        _doc("ec-decision"),
        "'in the next few days': due taken as 30 Sep 2013",
    ),
    Milestone(
        "M04",
        "2013-09-14",
        "UNSC resolution endorsing the EC decision",
        FRAMEWORK,
        "2013-09-30",
        _doc("unsc-resolution"),
        "'prompt': due taken as 30 Sep 2013",
    ),
    Milestone(
        "M05",
        "2013-09-27",
        "Further information (names, designators, quantities)",
        EC33,
        "2013-10-04",
        {"kind": "declaration", "version": 2},
    ),
    Milestone(
        "M06",
        "2013-09-27",
        "Inspections begin",
        "UNSCR 2118",
        "2013-10-01",
        {"kind": "inspections_begun"},
    ),
    Milestone(
        "M07",
        "2013-09-27",
        "Initial inspection of all declared sites",
        FRAMEWORK,
        "2013-11-01",
        {"kind": "initial_inspections"},
        "'by November': due taken as 1 Nov 2013",
    ),
    Milestone(
        "M08",
        "2013-09-27",
        "Formal initial declaration and general plan of destruction",
        EC33,
        "2013-10-27",
        {"kind": "declaration", "version": 3},
    ),
    Milestone(
        "M09",
        "2013-09-27",
        "Functional destruction of production, mixing and filling equipment",
        EC33,
        "2013-11-01",
        {
            "kind": "destroyed",
            "select": {
                "item_kind": ["equipment"],
                "equipment_type": ["production equipment", "filling equipment"],
            },
        },
    ),
    Milestone(
        "M10",
        "2013-09-27",
        "First monthly report of the Director-General",
        "UNSCR 2118",
        "2013-10-27",
        _doc("dg-report"),
    ),
    Milestone(
        "M11",
        "2013-11-15",
        "EC fixes intermediate destruction milestones",
        EC33,
        "2013-11-15",
        _doc("ec-milestones-decision"),
    ),
    Milestone(
        "M12",
        "2013-11-15",
        "Plan to destroy isopropanol and residual material in country",
        EC34,
        "2014-01-01",
        _doc("in-country-destruction-plan"),
    ),
    Milestone(
        "M13",
        "2013-11-15",
        "First monthly national report",
        EC34,
        "2013-12-31",
        _doc("national-report"),
        "'monthly': first due taken as 31 Dec 2013",
    ),
    Milestone(
        "M14",
        "2013-11-15",
        "Removal of Priority 1 chemicals",
        EC34,
        "2013-12-31",
        {"kind": "removed", "select": _prio("1")},
    ),
    Milestone(
        "M15",
        "2013-11-15",
        "Destruction of unfilled munitions (Category 3) in country",
        EC34,
        "2014-01-31",
        {"kind": "destroyed", "select": {"item_kind": ["munition"]}},
        "due date unverified in the facts file",
    ),
    Milestone(
        "M16",
        "2013-11-15",
        "Sequenced destruction of production facilities",
        EC34,
        "2014-03-15",
        {"kind": "facilities_destroyed"},
    ),
    Milestone(
        "M17",
        "2013-11-15",
        "Removal of all other chemicals except isopropanol",
        EC34,
        "2014-02-05",
        {"kind": "removed", "select": _prio("1", "2")},
    ),
    Milestone(
        "M18",
        "2013-11-15",
        "Destruction of isopropanol in country",
        EC34,
        "2014-03-01",
        {"kind": "destroyed", "select": _prio("in-country")},
    ),
    Milestone(
        "M19",
        "2013-11-15",
        "Removal under the revised removal plans",
        "Revised plans",
        "2014-04-27",
        {"kind": "removed", "select": _prio("1", "2")},
    ),
    Milestone(
        "M20",
        "2013-11-15",
        "Destruction of Priority 1 chemicals outside the country",
        EC34,
        "2014-03-31",
        {"kind": "destroyed", "select": _prio("1")},
    ),
    Milestone(
        "M21",
        "2013-11-15",
        "Destruction of all other declared chemicals",
        EC34,
        "2014-06-30",
        {"kind": "destroyed", "select": {"category": [1, 2]}},
    ),
    Milestone(
        "M22",
        "2013-11-15",
        "Disposal of the effluent of at-sea hydrolysis",
        EC34,
        "2014-12-31",
        {"kind": "destroyed", "select": {"products": True}},
    ),
    Milestone(
        "M23",
        "2013-11-15",
        "Complete elimination, first half of 2014",
        FRAMEWORK,
        "2014-06-30",
        {"kind": "all_of", "milestones": [f"M{n}" for n in range(14, 23)]},
    ),
    Milestone(
        "M24",
        "2013-11-15",
        "Declaration accurate and complete",
        "CWC, EC-M-33, UNSCR 2118",
        None,
        {"kind": "findings_closed", "rule": "raised"},
        "open-ended: the Declaration Assessment Team closes its outstanding issues",
    ),
)
