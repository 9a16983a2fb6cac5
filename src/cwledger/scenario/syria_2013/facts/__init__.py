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
    "Category 1 about 1,040 t with the isopropanol [OPCW-CAT1] kept; about 1,000 t in Oct"
    " 2013 [IND-DG1].",
    "Category 2 about 260 t [OPCW-CAT1] kept; about 290 t in Oct 2013 [IND-DG1].",
    "Isopropanol 122 t [UN-0520] kept; 120 t [ALALAM-ISO] and 133 t [OPCW-CAT1] elsewhere.",
    "Priority 1 is 918 t here (the Category 1 chemicals for removal), Priority 2 260 t (the"
    " Category 2 ones). The facts give about 700 t and 500 t [UN-0520][HAY-13], but the"
    " shares by priority reported with the overall shares (section 2.3: 45.6% with P1 29.5%,"
    " 49.3% with P1 34.8%, 92.5% with P1 96.7%, P2 82.6% throughout) put Priority 1 at 70%"
    " of the stockpile (5.3 points of P1 moved the total 3.7 points, 61.9 moved it 43.2):"
    " about 900 t of 1,300 t. With 700 t and 500 t the replay would show 58% on 20 Mar 2014"
    " against the 49.3% reported.",
    "The 4 Mar 2014 report expected 35% after the 6th consignment (P1 23%, P2 63%); on 7 Mar"
    " 2014 nearly 29% was reported. The replay keeps 29% and P2 63% on 7 Mar (P1 is 10%).",
    "13th consignment dated Monday 14 Apr 2014 (the facts say early/mid April, unverified).",
    "The late-August 2014 EC meeting (all Category 1 destroyed, 70% of Category 2, 94%) is"
    " dated 28 Aug 2014 here: the facts file does not pin the day.",
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
    "Generic codes CAT1-P1-A and CAT2-P2-07 stand for classes the facts do not name.",
]
