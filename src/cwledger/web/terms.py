"""The interface's vocabulary: the words of the record that the pages show as words (a
milestone's status, a site's kind, a group of the tallies), each marked for the ``web``
catalogue. The values stay as recorded in the data, the JSON and the exports; a page shows
a value through the `term` filter (`cwledger.web.views`), which looks up its words."""

from __future__ import annotations

import re

__all__ = ["N_", "VOCABULARY", "ERROR_TITLES", "group"]


def N_(message: str) -> str:
    """Mark `message` for the catalogue, to be translated where it is shown."""
    return message


VOCABULARY = (
    # milestones (cwledger.book.progress.MILESTONE_STATES)
    N_("met"),
    N_("met late"),
    N_("overdue"),
    N_("at risk"),
    N_("due"),
    # findings (cwledger.model.findings.FindingStatus)
    N_("open"),
    N_("resolved"),
    N_("closed unresolvable"),
    # items (cwledger.book.records.ItemState, cwledger.model.items.ItemKind)
    N_("declared"),
    N_("tagged"),
    N_("sealed"),
    N_("in transit"),
    N_("received"),
    N_("produced"),
    N_("destroyed"),
    N_("withdrawn"),
    N_("container"),
    N_("munition"),
    N_("bulk lot"),
    N_("equipment"),
    # seals (cwledger.model.items)
    N_("metal cap"),
    N_("fibre optic"),
    N_("ultrasonic"),
    N_("electronic"),
    N_("tape"),
    N_("tag"),
    N_("intact"),
    N_("tampered"),
    N_("broken"),
    N_("missing"),
    N_("indeterminate"),
    N_("registered"),
    N_("applied"),
    N_("removed"),
    N_("verified"),
    # sites (cwledger.model.sites)
    N_("storage"),
    N_("production"),
    N_("mobile filling unit"),
    N_("related"),
    N_("port"),
    N_("vessel"),
    N_("destruction"),
    N_("laboratory"),
    N_("accessible"),
    N_("inaccessible"),
    N_("abandoned"),
    # the parties' roles (cwledger.model.events.ROLES)
    N_("declarant"),
    N_("inspectorate"),
    N_("observer"),
    N_("operator"),
    N_("witness"),
    N_("destruction facility"),
    # transfers and inspections
    N_("shipped"),
    N_("closed"),
    N_("in"),
    N_("out"),
    # Page's tests (cwledger.accountancy.statistics.page_pair)
    N_("abrupt"),
    N_("protracted"),
    # the steps of a record's life (cwledger.book.registry.EVENT_TYPES' labels)
    N_("aggregate published"),
    N_("declaration amended"),
    N_("destroyed total proven"),
    N_("destruction verified"),
    N_("document filed"),
    N_("encryption key set"),
    N_("escrow committed"),
    N_("escrowed item checked"),
    N_("estimate recorded"),
    N_("estimates correlated"),
    N_("facility destroyed"),
    N_("facility destruction verified"),
    N_("finding raised"),
    N_("finding resolved"),
    N_("inspection closed"),
    N_("inspection opened"),
    N_("inventory"),
    N_("key revoked"),
    N_("key rotated"),
    N_("ledger founded"),
    N_("method registered"),
    N_("milestone set"),
    N_("party registered"),
    N_("removed total proven"),
    N_("sample result"),
    N_("sampled"),
    N_("seal checked"),
    N_("seal removed"),
    N_("sealed payloads shared"),
    N_("selection committed"),
    N_("selection revealed"),
    N_("site declared"),
    N_("thresholds fixed"),
    N_("witness policy set"),
    # the links back of the date forms
    N_("now"),
    N_("latest"),
    # the columns of a chart's table (cwledger.charts)
    N_("day"),
    N_("milestone"),
    N_("group"),
    # a group of the tallies that has no number (the others: `group`)
    N_("priority in-country"),
)
"""Every word a page shows through `term`: a value of the data shown as a word."""

ERROR_TITLES = (
    N_("Internal server error"),
    N_("Verification failed"),
    N_("Malformed input"),
    N_("Event refused; nothing was written"),
    N_("Conflicts with the log"),
    N_("Not found"),
    N_("Authentication required"),
    N_("Not allowed for this party"),
    N_("Request too large"),
    N_("Too many requests"),
    N_("The request does not validate"),
    N_("Method not allowed"),
    N_("Not ready"),
    N_("Insufficient storage"),
    N_("The ledger's database was changed outside cwledger"),
    N_("PDF output is not available here"),
)
"""The titles of the problem types (`cwledger.errors`), as the error page shows them."""

_GROUP = re.compile(r"(category|priority) ([0-9]+)")


def group(name: str) -> tuple[str, str] | None:
    """A tally's group ("category 1", "priority 2") as (its message, its number or name);
    None for another name."""
    m = _GROUP.fullmatch(name)
    if m is None:
        return None
    message = N_("Category %(n)s") if m.group(1) == "category" else N_("Priority %(n)s")
    return message, m.group(2)
