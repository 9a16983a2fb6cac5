"""Progress against the day-one escrow, from the book: the events that commit a
declaration, prove a category's destroyed or removed total at a moment, and publish the
proven aggregate. What `cwledger escrow commit|prove-destroyed|prove-removed` and
`cwledger aggregates publish` send, and what the `syria-2013` replay sends on the same days.

Each function reads the book (a store reader's ``book``) and returns the events to sign,
as the dicts ``Ledger.sign`` takes; nothing here appends.
"""

from __future__ import annotations

from typing import Any

from cwledger.book.aggregates import AGGREGATE_PUBLISHED, figures, proofs_of
from cwledger.book.records import (
    CounterRecord,
    EscrowTreeRecord,
    ItemRecord,
    ItemState,
    TransferRecord,
)
from cwledger.book.rules.escrow import ESCROW_VERSION
from cwledger.errors import MalformedInput, NotFound, VerificationError
from cwledger.escrow.proofs import proved_bodies
from cwledger.escrow.secrets import EscrowSecrets
from cwledger.escrow.tree import escrow_items
from cwledger.model.aggregates import AggregatePublished
from cwledger.model.declarations import Declaration
from cwledger.model.escrow import EscrowCommitted, ProvedKind
from cwledger.store.book import BookReader as Book
from cwledger.time import rfc3339

__all__ = [
    "latest_version",
    "commit_event",
    "done_items",
    "proof_events",
    "aggregate_event",
]


def latest_version(book: Book) -> int:
    """The latest escrow version committed in the log (0: none)."""
    counter = book.get(CounterRecord, ESCROW_VERSION)
    return 0 if counter is None else counter.value


def commit_event(
    book: Book, secrets: EscrowSecrets, declaration: Declaration, when: str
) -> dict[str, Any]:
    """The ``escrow.committed`` event of the next version: the declaration's items as one
    Merkle-sum tree per category, added to `secrets` (save them before the event is sent:
    the log must never name a root whose salts are lost)."""
    if not declaration.items:
        raise MalformedInput("the declaration lists no items: there is nothing to commit")
    version = latest_version(book) + 1
    trees = secrets.add_version(version, escrow_items(declaration))
    body = EscrowCommitted(version=version, categories=[t.commitment() for t in trees.values()])
    return {
        "type": "escrow.committed",
        "id": f"escrow-v{version}",
        "time": when,
        "body": body.model_dump(mode="json"),
    }


def done_items(book: Book, what: ProvedKind, moment: int) -> list[str]:
    """The items the book has destroyed by `moment` (µs), or removed by then (shipped from
    the country's territory to outside it)."""
    if what == "destroyed":
        return [
            i.item.id
            for i in book.records(ItemRecord, status=ItemState.DESTROYED.value)
            if i.last_at <= moment
        ]
    return [
        line.item
        for t in book.records(TransferRecord)
        if t.abroad and t.shipped_at <= moment
        for line in t.lines
    ]


def proof_events(
    book: Book,
    secrets: EscrowSecrets,
    what: ProvedKind,
    category: int,
    moment: int,
    when: str,
    version: int | None = None,
) -> list[dict[str, Any]]:
    """The ``escrow.<what>_proved`` events that bring the proven total of `category` (of
    escrow `version`, default the latest) up to what the book has done by `moment`: subset
    proofs of the leaves not proven yet, no item named. Empty when nothing is new.
    Raises NotFound (no such tree in the log) or VerificationError (the escrow file's tree
    is not the one committed)."""
    v = version or latest_version(book)
    rec = book.get(EscrowTreeRecord, f"{v:06d}|{category}")
    if rec is None:
        raise NotFound(f"no escrow tree of category {category} in version {v} in this log")
    tree = secrets.trees(v).get(category) if v in secrets.versions else None
    if tree is None or tree.commitment().root != rec.root:
        raise VerificationError(
            f"the escrow file's category {category} tree of version {v} is not the one committed"
        )
    bodies = proved_bodies(
        tree,
        done_items(book, what, moment),
        what=what,
        at=rfc3339(moment),
        proven=getattr(rec, what),
        proven_g=getattr(rec, f"{what}_g"),
    )
    return [
        {
            "type": f"escrow.{what}_proved",
            "id": f"escrow-v{v}-c{category}-{what}-{b.total_count}",
            "time": when,
            "body": b.model_dump(mode="json"),
        }
        for b in bodies
    ]


def aggregate_event(
    book: Book, moment: int, when: str, version: int | None = None
) -> tuple[dict[str, Any], AggregatePublished]:
    """The ``aggregate.published`` event of escrow `version` (default the latest) at
    `moment`: per category the committed, removed, destroyed and remaining totals, each
    the sum of the proof entries it names; and its body. Raises NotFound when no escrow
    is committed."""
    v = version or latest_version(book)
    roots, proofs = proofs_of(book.records(EscrowTreeRecord), v)
    if not roots:
        raise NotFound("no escrow committed in this log" if v == 0 else f"no escrow version {v}")
    rows = figures(v, roots, proofs, moment)
    body = AggregatePublished(at=rfc3339(moment), version=v, categories=rows)
    event = {
        "type": AGGREGATE_PUBLISHED,
        "id": f"aggregate-v{v}-{body.at}-{when}",
        "time": when,
        "body": body.model_dump(mode="json"),
    }
    return event, body
