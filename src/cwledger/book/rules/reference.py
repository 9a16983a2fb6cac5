"""Reference data: documents, milestones, verifiable selections, measurement methods and
alarm thresholds."""

from __future__ import annotations

from cwledger.accountancy.selection import commitment
from cwledger.book.book import Book, Context
from cwledger.book.records import (
    DocumentRecord,
    MethodRecord,
    MilestoneRecord,
    SelectionRecord,
    ThresholdsRecord,
)
from cwledger.model.bodies import (
    AllOfPredicate,
    DocumentFiled,
    MethodRegistered,
    MilestoneSet,
    SelectionCommitted,
    SelectionRevealed,
    ThresholdsFixed,
)


def document_filed(book: Book, ctx: Context, body: DocumentFiled) -> None:
    if (old := book.get(DocumentRecord, body.document)) is not None:
        ctx.refuse("document", f"document {body.document} is already filed (entry {old.entry})")
        return
    book.put(
        DocumentRecord(
            document=body.document,
            type=body.kind,
            title=body.title,
            event=ctx.event.id,
            entry=ctx.entry,
            at=ctx.at,
        )
    )


def milestone_set(book: Book, ctx: Context, body: MilestoneSet) -> None:
    predicate = body.predicate
    if isinstance(predicate, AllOfPredicate):
        unknown = [m for m in predicate.milestones if book.get(MilestoneRecord, m) is None]
        if unknown:
            ctx.refuse("predicate.milestones", f"milestones not set yet: {', '.join(unknown)}")
            return
    book.put(MilestoneRecord(milestone=body, entry=ctx.entry))


def selection_committed(book: Book, ctx: Context, body: SelectionCommitted) -> None:
    if (old := book.get(SelectionRecord, body.plan)) is not None:
        ctx.refuse(
            "plan", f"selection {body.plan} was already committed (entry {old.committed_entry})"
        )
        return
    if body.randomness_size <= ctx.entry + 1:
        ctx.refuse(
            "randomness_size",
            f"the randomness must come from a future checkpoint: size {body.randomness_size}"
            f" is already reached (this entry makes the log {ctx.entry + 1})",
        )
        return
    book.put(
        SelectionRecord(
            plan=body.plan,
            site=body.site,
            n=body.n,
            commitment=body.commitment,
            randomness_size=body.randomness_size,
            committed_entry=ctx.entry,
            committed_at=ctx.at,
        )
    )


def selection_revealed(book: Book, ctx: Context, body: SelectionRevealed) -> None:
    rec = book.get(SelectionRecord, body.plan)
    if rec is None:
        ctx.refuse("plan", f"selection {body.plan} was never committed")
        return
    if rec.secret is not None:
        ctx.refuse(
            "plan", f"selection {body.plan} was already revealed (entry {rec.revealed_entry})"
        )
        return
    if ctx.entry < rec.randomness_size:
        ctx.refuse(
            "plan",
            f"selection {body.plan} draws on the checkpoint of size {rec.randomness_size};"
            f" the log has {ctx.entry} entries",
        )
        return
    if commitment(bytes.fromhex(body.secret)) != rec.commitment:
        ctx.refuse(
            "secret", f"the secret does not match the commitment of entry {rec.committed_entry}"
        )
        return
    update = {"secret": body.secret, "selected": body.selected, "revealed_entry": ctx.entry}
    book.put(rec.model_copy(update=update))


def method_registered(book: Book, ctx: Context, body: MethodRegistered) -> None:
    book.put(MethodRecord(method=body, entry=ctx.entry))


def thresholds_fixed(book: Book, ctx: Context, body: ThresholdsFixed) -> None:
    if (old := book.get(ThresholdsRecord, body.series)) is not None:
        ctx.refuse("series", f"thresholds for {body.series} were fixed at entry {old.entry}")
        return
    book.put(ThresholdsRecord(thresholds=body, entry=ctx.entry, at=ctx.at))
