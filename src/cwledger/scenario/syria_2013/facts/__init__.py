"""The public facts the scenario is built from, as tables: ``declaration`` (the documents,
estimates, declarations and what they declare), ``milestones``, ``in_country`` (inspection,
destruction in the country, removal) and ``abroad`` (destruction at the venues abroad).

Every row and figure names where it comes from in ``shared/SCENARIO-2013.md``: its
``source`` is a section number, then, after ": ", words of the row or item it comes from
(``"2.4: Ellesmere Port"`` is that venue's row of section 2.4). A value the facts file
does not give (a day inside a reported span, a tonnage chosen so that the reported shares
come out) is marked "chosen" and keeps the source of the fact it serves. Where sources
disagree the value kept is the one the file marks, and the others are in ``NOTES``.
Parties are named by their ids in the scenario's world (``world.PARTIES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Fact(Generic[T]):
    """One figure or date of the facts file."""

    value: T
    source: str


@dataclass(frozen=True)
class Span:
    """The first and the last day of something the facts file dates."""

    first: str
    last: str
    source: str


NOTES = [
    "Category 1 about 1,000 t (Oct 2013 [IND-DG1]) kept; about 1,040 t later [OPCW-CAT1].",
    "Category 2 about 290 t (Oct 2013 [IND-DG1]) kept; about 260 t later [OPCW-CAT1].",
    "Isopropanol 122 t [UN-0520] kept; 120 t [ALALAM-ISO] and 133 t [OPCW-CAT1] elsewhere.",
    "Priority 1 is 746.8 t here (DF, HD, B precursors); the facts give about 700 t.",
    "13th consignment dated Monday 14 Apr 2014 (the facts say early/mid April, unverified).",
    "The 3 structures inaccessible in 2015 [INN-12] are left undestroyed: the date they were"
    " destroyed is not in the facts file.",
    "The 27 CWPFs [LT-27] are taken as the 18 production facilities and the 8 mobile filling"
    " units (filling is production under CWC Article II(8); the Oct 2013 count of 18 left the"
    " units out) and the former facility declared in July 2014 (the DAT's 1 additional CWPF);"
    " the facts do not say which 27 they are. The 12 structures are at 12 of the production"
    " facilities.",
    "Functional destruction of each facility is dated with its equipment's (Oct 2013); the"
    " structures reached are destroyed monthly after the first three (days chosen); the"
    " former facility of July 2014, inaccessible, is left undestroyed.",
    "Generic codes CAT1-P2-A and CAT2-P2-07 stand for classes the facts do not name.",
]
