"""The report's own words built in code, marked for translation: the names of the states a
milestone, a finding or a facility is in, of the groups the status tables count, of the
kinds of facility and of the units of what a milestone still lacks.

The report's data keeps these as the ledger's code writes them ("met_late", "priority 1",
"verified destroyed": JSON and CSV print them so); only the HTML, Markdown and PDF show
them in the reader's language, through `cwledger.reports.render`. `N_` marks a message for
extraction (``scripts/catalogues.py``), `Nn_` a message and its plural, without translating
them where they are written.
"""

from __future__ import annotations

__all__ = ["N_", "Nn_", "STATES", "GROUPS", "FACILITY_KINDS", "UNITS"]


def N_(message: str) -> str:
    """`message`, marked for the catalogues; it is translated where it is shown."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """A message with its plural, marked for the catalogues (``-k Nn_:1,2``)."""
    return singular, plural


STATES: dict[str, str] = {
    # milestones (`progress.MILESTONE_STATES`)
    "met": N_("met"),
    "met_late": N_("met late"),
    "overdue": N_("overdue"),
    "at_risk": N_("at risk"),
    "due": N_("due"),
    # findings and declaration issues (`FindingStatus`)
    "open": N_("open"),
    "resolved": N_("resolved"),
    "closed_unresolvable": N_("closed unresolvable"),
    # production facilities (`FacilityRecord.status_at`, `inaccessible_at`)
    "declared": N_("declared"),
    "functionally destroyed": N_("functionally destroyed"),
    "physically destroyed": N_("physically destroyed"),
    "verified destroyed": N_("verified destroyed"),
    "accessible": N_("accessible"),
    "inaccessible": N_("inaccessible"),
    # an entry's log time when the log did not keep it (`LateEntryRow.logged`)
    "unknown": N_("unknown"),
}
"""A state as the code names it -> its words in the report."""

GROUPS: dict[str, str] = {
    "category 1": N_("category 1"),
    "category 2": N_("category 2"),
    "category 3": N_("category 3"),
    "priority 1": N_("priority 1"),
    "priority 2": N_("priority 2"),
    "priority in-country": N_("priority in-country"),
}
"""The groups of `progress.status` (by category, by removal priority) -> their names."""

FACILITY_KINDS: dict[str, str] = {
    "production": N_("production facility"),
    "mobile_filling_unit": N_("mobile filling unit"),
    "mobile filling unit": N_("mobile filling unit"),
    "storage": N_("storage facility"),
    "related": N_("related facility"),
}
"""A facility's kind (`SiteKind`) -> its name."""

UNITS: dict[str, tuple[str, str]] = {
    "items": Nn_("%(num)s item", "%(num)s items"),
    "tonnes": Nn_("%(num)s tonne", "%(num)s tonnes"),
    "facilities": Nn_("%(num)s facility", "%(num)s facilities"),
    "findings": Nn_("%(num)s finding", "%(num)s findings"),
}
"""What a milestone still lacks, by unit -> its singular and plural message."""
