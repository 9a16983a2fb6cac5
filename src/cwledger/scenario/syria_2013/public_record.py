"""What the public saw, made checkable: the day-one escrow and the proven aggregates.

In 2013-2016 the declarations were confidential to the States Parties and the Technical
Secretariat, and the public got percentages removed and destroyed. The replay keeps the
same split: its ledger is confidential (every field above public sealed to the parties
cleared to read it), and what the public reads is proven against a commitment made before
any detail was disclosed:

- on the formal declaration's due day (27 Oct 2013, section 1 M08) the declaring state
  commits its items as one Merkle-sum tree per category (``escrow.committed``: a root,
  the grams and the leaf count per category; the salts stay in its escrow file);
- at the end of every day the facts file reports a share removed or destroyed (sections
  2.3 and 2.5), the declaring state proves the removed and destroyed totals of each
  category as subset proofs of those trees (no item named), and the secretariat publishes
  the aggregate (``aggregate.published``): each number the sum of the proofs it names,
  checked by the book at admission and by any observer from the public entries alone
  (``cwledger aggregates check``).

The July 2014 amendment declares facilities, not items: the escrow keeps one version.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from cwledger.book.aggregates import AggregateCheck
from cwledger.book.records import EscrowTreeRecord
from cwledger.escrow import EscrowSecrets, escrow_path
from cwledger.escrow.progress import aggregate_event, commit_event, proof_events
from cwledger.ledger.ledger import Ledger
from cwledger.model import Declaration
from cwledger.model.escrow import PROVED_TYPES
from cwledger.scenario.syria_2013.builder import at
from cwledger.scenario.syria_2013.facts.abroad import DESTROYED_REPORTED
from cwledger.scenario.syria_2013.facts.declaration import DECLARATIONS
from cwledger.scenario.syria_2013.facts.in_country import BY_PRIORITY_REPORTED, REMOVAL_REPORTED
from cwledger.scenario.syria_2013.world import DECLARANT, TS
from cwledger.time import from_rfc3339

__all__ = ["ESCROW_DAY", "REPORT_DAYS", "Step", "steps", "Compared", "against_reports"]

ESCROW_DAY = DECLARATIONS[2].due
"""The day the formal declaration was due (section 1 M08): the escrow is committed then."""

REPORT_DAYS = sorted({r.day for r in REMOVAL_REPORTED} | {d.day for d in DESTROYED_REPORTED})
"""The days the facts file reports a share removed or destroyed: an aggregate each."""

END_OF_DAY = 23
"""The hour the day's proofs and aggregate are sent: after the day's last story event."""


@dataclass(frozen=True)
class Step:
    """Something the public record does at `time`, once the story is told up to then."""

    time: str
    run: Callable[[Ledger], None]


def steps(escrowed: Declaration) -> list[Step]:
    """The public record's steps in time order: the escrow of `escrowed` on ESCROW_DAY,
    then the proofs and the aggregate at the end of each report day."""
    first = at(ESCROW_DAY, END_OF_DAY)
    out = [Step(first, functools.partial(_commit, escrowed=escrowed, when=first))]
    for day in REPORT_DAYS:
        when = at(day, END_OF_DAY)
        out.append(Step(when, functools.partial(_report, when=when)))
    return out


def _commit(ledger: Ledger, *, escrowed: Declaration, when: str) -> None:
    path = escrow_path(ledger.keystore.path, DECLARANT)
    secrets = EscrowSecrets.new(DECLARANT)
    with ledger.store.read() as r:
        event = commit_event(r.book, secrets, escrowed, when)
    envelopes = ledger.sign([event], DECLARANT)
    secrets.save(path)  # the salts are on disk before the log names their root
    ledger.append(envelopes)


def _report(ledger: Ledger, *, when: str) -> None:
    """The day's proofs of every category (removed and destroyed), then its aggregate."""
    secrets = EscrowSecrets.load(escrow_path(ledger.keystore.path, DECLARANT))
    moment = from_rfc3339(when)
    with ledger.store.read() as r:
        categories = sorted({t.category for t in r.book.records(EscrowTreeRecord)})
        proofs = [
            event
            for c in categories
            for what in PROVED_TYPES
            for event in proof_events(r.book, secrets, what, c, moment, when)
        ]
    if proofs:
        ledger.append(ledger.sign(proofs, DECLARANT))
    with ledger.store.read() as r:
        event, _ = aggregate_event(r.book, moment, when)
    ledger.append(ledger.sign([event], TS))


# -- the observer's comparison -------------------------------------------------------------


@dataclass(frozen=True)
class Compared:
    """A share the facts file reports, beside the same share computed from the proven
    aggregate of that day (None when no proven aggregate of the day says it)."""

    day: str
    what: str
    reported: float
    proven: float | None
    source: str


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def against_reports(checks: list[AggregateCheck]) -> list[Compared]:
    """Every reported share an aggregate can speak for, beside the proven one: the share
    destroyed of all chemicals and of categories 1 and 2 (section 2.5), and the share of
    Category 2 removed, which is Priority 2 (section 2.3; Priority 1 is Category 1 less
    the isopropanol destroyed in the country, and the DF share is one chemical's: the
    escrow's trees are by category, so no proof speaks for those). Only proven aggregates
    count; the latest of a day is taken."""
    by_day = {c.at[:10]: c for c in checks if c.proven}
    out: list[Compared] = []

    def row(day: str, what: str, reported: float, source: str, share: Callable[..., float]) -> None:
        check = by_day.get(day)
        proven = None if check is None else share({r.category: r for r in check.categories})
        out.append(Compared(day, what, reported, proven, source))

    for d in DESTROYED_REPORTED:
        if d.of == "total":
            row(
                d.day,
                "destroyed, all chemicals",
                d.pct,
                d.source,
                lambda c: _pct(
                    sum(r.destroyed_grams for r in c.values()),
                    sum(r.committed_grams for r in c.values()),
                ),
            )
        elif d.of.startswith("category "):
            n = int(d.of.split()[1])
            row(
                d.day,
                f"destroyed, {d.of}",
                d.pct,
                d.source,
                lambda c, n=n: _pct(c[n].destroyed_grams, c[n].committed_grams),
            )
    for p in BY_PRIORITY_REPORTED:
        if p.p2_pct is not None:
            row(
                p.day,
                "removed, category 2 (priority 2)",
                p.p2_pct,
                p.source,
                lambda c: _pct(c[2].removed_grams, c[2].committed_grams),
            )
    return sorted(out, key=lambda c: (c.day, c.what))
