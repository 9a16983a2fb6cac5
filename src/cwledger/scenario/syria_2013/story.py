"""The story: every event of the scenario in the order it is told, and the ledger it is
written to through the real append path.

Deterministic: keys derive from ``KEY_SEED`` (demo only: anyone can sign with them), and
every time, id and measurement comes from the facts or from ``random.Random(2013)``; the
same build gives the same entries and roots.

The story is written as it happened: the ledger's clock is set to the day being told, one
batch per day (at most 400 events), so that each entry's log time is the time of the last
event of its day: none is in the future, none is recorded late.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cwledger.intake.parts import BODY_BUDGET
from cwledger.ledger.confidential import part_budget
from cwledger.ledger.ledger import Ledger
from cwledger.scenario.syria_2013.abroad import onward
from cwledger.scenario.syria_2013.accountancy import accountancy
from cwledger.scenario.syria_2013.builder import Builder, StoryEvent, at, days
from cwledger.scenario.syria_2013.facts.declaration import (
    DECLARATIONS,
    DOCUMENTS,
    ESTIMATES,
    FIRST_STRUCTURE_DESTROYED,
    ISSUES_CLOSED,
    NEW_ISSUES,
    OUTSTANDING_ISSUES,
    STRUCTURES_INACCESSIBLE,
    TUNNELS_DESTROYED_BY_MARCH,
)
from cwledger.scenario.syria_2013.facts.milestones import MILESTONES
from cwledger.scenario.syria_2013.in_country import (
    equipment_and_munitions,
    inspections,
    isopropanol,
    seal_checks,
)
from cwledger.scenario.syria_2013.public_record import steps
from cwledger.scenario.syria_2013.removal import removal
from cwledger.scenario.syria_2013.world import (
    ABANDONED,
    DECLARANT,
    KEY_SEED,
    LATE_SITES,
    MANDATES,
    ORIGIN,
    PARTIES,
    TS,
    declaration,
    declared_document,
    items,
    mass,
    sites,
)
from cwledger.time import clock, from_rfc3339


def build(budget: int = BODY_BUDGET) -> list[StoryEvent]:
    """Every event of the scenario, in the order it is told (``load`` sorts them by time);
    the declarations in parts of at most `budget` bytes."""
    return _tell(budget).events


def _tell(budget: int) -> Builder:
    """The story told: its events, and the declaration the escrow commits."""
    rng = random.Random(2013)
    b = Builder()
    all_sites, facilities = sites(rng)
    declared, removal_order = items(all_sites)
    by_id = {i["id"]: i for i in declared}
    _documents(b)
    _estimates(b)
    _milestones(b)
    # Declarations: the listing (v1, some munitions at the two sites found unsafe later),
    # further information (v2: three masses corrected), the formal declaration with the
    # contents of the unsafe sites moved to inspected ones (v3).
    v1, v2, v3, v4 = DECLARATIONS
    listed = [dict(i) for i in declared]
    for n, i in enumerate(listed):
        if i["kind"] == "munition" and n % 40 == 0:
            i["site"] = facilities[ABANDONED[n % 2]][0]
    for body in declaration(declared_document(1, all_sites, listed, v1.basis, v1.due), budget):
        b.add(DECLARANT, "declaration.submitted", at(v1.day), body)
    for i in [x for x in declared if x.get("chemical") == "DF"][:3]:
        i["declared"] = mass(i["declared"]["kg"] * 1.005, 0.004, 0.002, "weighing")
    further = [dict(i, site=x["site"]) for i, x in zip(declared, listed, strict=True)]
    v2_doc = declared_document(2, all_sites, further, v2.basis, v2.due)
    for body in declaration(v2_doc, budget):
        b.add(DECLARANT, "declaration.amended", at(v2.day), body)
    inspections(b, all_sites, facilities, declared)
    v3_sites = [dict(s, access="abandoned") if s["id"] in ABANDONED else s for s in all_sites]
    b.escrowed = declared_document(3, v3_sites, declared, v3.basis, v3.due)
    for body in declaration(b.escrowed, budget):
        b.add(DECLARANT, "declaration.amended", at(v3.day), body)
    equipment_and_munitions(b, declared)
    seal_checks(b, declared)
    isopropanol(b, declared)
    removal(b, by_id, removal_order, rng)
    onward(b, declared)
    # July 2014: three more facilities, one in an area the declarant does not control.
    v4_doc = declared_document(4, [*v3_sites, *LATE_SITES], declared, v4.basis, v4.due)
    for body in declaration(v4_doc, budget):
        b.add(DECLARANT, "declaration.amended", at(v4.day), body)
    _structures(b, v3_sites)
    _findings(b)
    accountancy(b, declared)  # last: it takes its inventories from the story told
    return b


def _documents(b: Builder) -> None:
    for n, doc in enumerate(DOCUMENTS, start=1):
        b.add(
            doc.filer,
            "document.filed",
            at(doc.day, 9),
            {
                "document": f"DOC-{n:02d}",
                "kind": doc.kind,
                "title": doc.title,
                "issued_by": doc.issued_by,
            },
        )


def _estimates(b: Builder) -> None:
    for e in ESTIMATES:
        estimate: dict[str, Any] = {
            "party": e.party,
            "value": e.value,
            "u": e.u,
            "unit": e.unit,
            "scope": e.scope,
            "method": e.method,
        }
        if e.remark is not None:
            estimate["remark"] = e.remark
        if e.category is not None:
            estimate["category"] = e.category
        if e.excludes:
            estimate["excludes"] = list(e.excludes)
        if e.value is not None:
            estimate["u_basis"] = e.u_basis
        estimate["source"] = e.source
        b.add(e.party, "estimate.recorded", at(e.day, 12), {"estimate": estimate})


def _milestones(b: Builder) -> None:
    for m in MILESTONES:
        body: dict[str, Any] = {
            "milestone": m.id,
            "description": m.description,
            "instrument": m.instrument,
            "due": m.due,
            "predicate": copy.deepcopy(m.predicate),
        }
        if m.note:
            body["note"] = m.note
        b.add(TS, "milestone.set", at(m.set_on, 8), body)


def _structures(b: Builder, sites: list[dict[str, Any]]) -> None:
    """The structures of the production facilities (section 2.6): three tunnels destroyed
    by March 2015, the first on 31 Jan 2015; one underground structure and two hangars
    declared inaccessible (on 1 Mar 2015, chosen) and left standing (see ``NOTES``); the
    others destroyed one a month from April 2015. Each verified by the secretariat."""
    built = [s for s in sites if s.get("structure")]
    unreachable: list[dict[str, Any]] = []
    for what, count in STRUCTURES_INACCESSIBLE.value:
        unreachable += [s for s in built if s["structure"] == what][-count:]
    reached = [s for s in built if s not in unreachable]
    tunnels = [s for s in reached if s["structure"] == "underground structure"]
    first = tunnels[: TUNNELS_DESTROYED_BY_MARCH.value]
    schedule = [(s, days(FIRST_STRUCTURE_DESTROYED.value, 28 * k)) for k, s in enumerate(first)]
    rest = [s for s in reached if s not in first]
    schedule += [(s, days("2015-04-30", 30 * k)) for k, s in enumerate(rest)]
    for site in unreachable:
        body = {"site": dict(site, access="inaccessible")}
        b.add(DECLARANT, "site.declared", at("2015-03-01", 9), body)
    for site, day in schedule:
        facility = {"facility": site["id"], "extent": "physical"}
        method = f"{site['structure']} demolished"
        b.add(DECLARANT, "facility.destroyed", at(day, 18), {**facility, "method": method})
        b.add(TS, "facility.verified", at(day, 20), facility)


def _findings(b: Builder) -> None:
    """The Declaration Assessment Team's outstanding issues (section 2.7): 24 by 2022, 26 by
    Sep 2024, 7 of them closed; and the book's own first finding closed after follow-up."""
    # The book's own findings, in the order they are raised: the munitions of the sites
    # found unsafe put at inspected ones by the formal declaration alone (closed once they
    # were destroyed under verification there), the broken seal, the short weighing.
    b.add(
        TS,
        "finding.resolved",
        at("2013-12-21"),
        {
            "finding": 1,
            "status": "resolved",
            "remarks": "the items were verified at the inspected sites and destroyed there",
        },
    )
    b.add(
        TS,
        "finding.resolved",
        at("2014-01-20"),
        {"finding": 2, "status": "resolved", "remarks": "contents re-verified and resealed"},
    )
    themes = [
        "declared facility history",
        "quantities of precursors consumed",
        "production records",
        "munitions declared and found",
        "research and development",
        "documentation gap",
    ]
    # The team was set up in April 2014: an issue every 120 days from mid-May, two more
    # on one day of September 2024.
    for n in range(OUTSTANDING_ISSUES.value + NEW_ISSUES.value):
        day = days("2014-05-15", 120 * n) if n < OUTSTANDING_ISSUES.value else "2024-09-12"
        b.add(
            TS,
            "finding.raised",
            at(day, 12),
            {
                "title": f"Outstanding issue {n + 1}: {themes[n % len(themes)]}",
                "subjects": [f"S-{(n % 23) + 1:02d}"],
            },
        )
    # Findings 1 to 3 are the book's own, so the team's issues are numbered from 4; some
    # are closed over the years.
    for n in range(ISSUES_CLOSED.value):
        b.add(
            TS,
            "finding.resolved",
            at(f"{2016 + n}-06-30", 12),
            {
                "finding": 4 + n * 3,
                "status": "resolved",
                "remarks": "resolved in consultations with the declarant",
            },
        )


def _chunks(events: list[StoryEvent], size: int = 400) -> Iterator[list[StoryEvent]]:
    """The events in time order, a day at a time (at most `size` at once)."""
    chunk: list[StoryEvent] = []
    for e in events:
        if chunk and (len(chunk) == size or e.time[:10] != chunk[0].time[:10]):
            yield chunk
            chunk = []
        chunk.append(e)
    if chunk:
        yield chunk


def load(
    path: Path,
    *,
    progress: Callable[[int, int], object] | None = None,
    database_url: str | None = None,
    confidential: bool = True,
) -> Ledger:
    """Build the scenario into a new ledger at `path` (refused if one is there), in the
    directory's own SQLite database or in the one `database_url` names; `progress` is told
    (events of the story appended so far, events in all) after each chunk.

    `confidential` (the default, as the record was): every field above public is sealed to
    the parties cleared to read it, and the public reads the day-one escrow and the
    aggregates proven against it (``public_record``). Without it every body is in the
    clear and there is no escrow."""
    genesis = "2013-09-14T00:00:00Z"
    told = [from_rfc3339(genesis)]  # the story's clock: the day being told
    ledger = Ledger.init(
        path,
        ORIGIN,
        founding=PARTIES,
        time=genesis,
        key_seed=KEY_SEED,
        database_url=database_url,
        log_clock=lambda: told[0],
        mandates=MANDATES,
        confidential=confidential,
    )
    story = _tell(part_budget(ledger.authority(), DECLARANT, BODY_BUDGET))
    events = sorted(story.events, key=lambda e: e.time)
    pending = steps(story.escrowed) if confidential and story.escrowed is not None else []

    def publish_until(time: str | None) -> None:
        while pending and (time is None or pending[0].time < time):
            step = pending.pop(0)
            told[0] = max(told[0], from_rfc3339(step.time))
            step.run(ledger)

    done = 0
    for chunk in _chunks(events):
        publish_until(chunk[0].time)
        envelopes: list[bytes | str] = []
        for e in chunk:
            raw = {"type": e.type, "id": e.id, "time": e.time, "body": e.body}
            envelopes += ledger.sign([raw], e.author)
        told[0] = max(from_rfc3339(e.time) for e in chunk)
        ledger.append(envelopes)
        done += len(chunk)
        if progress is not None:
            progress(done, len(events))
    publish_until(None)
    ledger.clock = clock  # from now on, the real clock
    return ledger
