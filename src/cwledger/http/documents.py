"""Answers that the API and the dashboard both serve, remembered per log size in the read
snapshot's answer cache, so that a page and its API call give the same figures."""

from __future__ import annotations

from typing import Any

from cwledger.book import progress
from cwledger.book.answers import judged_milestones
from cwledger.book.answers import status_document as status_of
from cwledger.book.records import AggregateRecord
from cwledger.http.deps import Snapshot

__all__ = ["status_document", "milestone_documents", "aggregate_documents"]


def status_document(r: Snapshot, when: int | None) -> dict[str, Any]:
    """`cwledger status --json` at a moment (None: all of the log), remembered per log size."""
    return r.answer(("status", when), lambda: status_of(progress.load_facts(r.book), when))


def milestone_documents(r: Snapshot, when: int | None) -> list[dict[str, Any]]:
    """`cwledger milestones --json` at a moment, remembered per log size; without a moment
    judged against the clock now, and so computed each time. A milestone met by an entry
    recorded late (by the ledger's `late_after`) says so."""

    def judge() -> list[dict[str, Any]]:
        return [m.to_json() for m in judged_milestones(r, when, late_after=r.late_after)]

    return judge() if when is None else r.answer(("milestones", when), judge)


def aggregate_documents(r: Snapshot, when: int | None) -> list[dict[str, Any]]:
    """The published aggregates (`aggregate.published`, public, each number proven by the
    book at admission against the day-one escrow), in log order; with a moment, those
    whose own moment `at` is not after it. Remembered per log size."""

    def published() -> list[dict[str, Any]]:
        return [
            {
                "entry": a.entry,
                "at": a.body["at"],
                "time": a.time,
                "author": a.author,
                "version": a.body["version"],
                "categories": a.body["categories"],
            }
            for a in sorted(r.book.records(AggregateRecord), key=lambda a: a.entry)
            if when is None or a.at <= when
        ]

    return r.answer(("aggregates", when), published)
