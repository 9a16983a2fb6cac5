"""Tags and seals (observations): tagging, applying, checking and removing seals."""

from __future__ import annotations

from cwledger.book.book import Book, Context
from cwledger.book.records import (
    HELD,
    ItemRecord,
    ItemState,
    SealCheck,
    SealRecord,
    SiteRecord,
)
from cwledger.book.rules.common import (
    observed_item,
    raise_finding,
    update_item,
)
from cwledger.model import (
    Seal,
    SealAction,
    SealCondition,
)
from cwledger.model.bodies import (
    ItemTagged,
    SealApplied,
    SealChecked,
    SealRemoved,
)
from cwledger.model.errors import IllegalTransition
from cwledger.time import from_rfc3339


def item_tagged(book: Book, ctx: Context, body: ItemTagged) -> None:
    rec = observed_item(book, ctx, body.item, body.site, "tagged")
    if rec is None:
        return
    state = ItemState.TAGGED if rec.state is ItemState.DECLARED else rec.state
    update_item(book, ctx, rec, rec.model_copy(update={"tag": body.tag, "state": state}))


def seal_applied(book: Book, ctx: Context, body: SealApplied) -> None:
    if (old := book.get(SealRecord, body.seal)) is not None:
        ctx.refuse(
            "seal",
            f"seal {body.seal} is already {old.seal.state.value} (entry {old.applied_entry})",
        )
        return
    seal = Seal(id=body.seal, type=body.type, closes=body.closes).after(SealAction.APPLY)
    due = from_rfc3339(body.next_check_due) if body.next_check_due else None
    book.put(SealRecord(seal=seal, applied_entry=ctx.entry, next_check_due=due, photos=body.photos))
    target = body.closes
    if target.kind == "site":
        if book.get(SiteRecord, target.id) is None:
            raise_finding(
                book,
                ctx,
                "undeclared-site",
                f"seal {body.seal} applied at undeclared site {target.id}",
                [target.id, body.seal],
            )
        return
    rec = book.get(ItemRecord, target.id)
    if rec is None or rec.state not in HELD:
        what = "is not in the declaration" if rec is None else f"is {rec.where()}"
        raise_finding(
            book,
            ctx,
            "unsealable-item",
            f"seal {body.seal} applied to item {target.id}, which {what}",
            [target.id, body.seal],
        )
        return
    state = ItemState.SEALED if rec.state in (ItemState.DECLARED, ItemState.TAGGED) else rec.state
    update_item(
        book, ctx, rec, rec.model_copy(update={"state": state, "seals": [*rec.seals, body.seal]})
    )


def _seal_step(book: Book, ctx: Context, seal_id: str, action: SealAction) -> SealRecord | None:
    rec = book.get(SealRecord, seal_id)
    if rec is None:
        ctx.refuse("seal", f"seal {seal_id} was never applied")
        return None
    try:
        return rec.model_copy(update={"seal": rec.seal.after(action)})
    except IllegalTransition as e:
        ctx.refuse("seal", str(e))
        return None


def seal_checked(book: Book, ctx: Context, body: SealChecked) -> None:
    action = SealAction.VERIFY if body.at_headquarters else SealAction.CHECK
    rec = _seal_step(book, ctx, body.seal, action)
    if rec is None:
        return
    check = SealCheck(entry=ctx.entry, condition=body.condition, photos=body.photos, at=ctx.at)
    due = from_rfc3339(body.next_check_due) if body.next_check_due else None
    book.put(
        rec.model_copy(
            update={"last_check": check, "checks": rec.checks + 1, "next_check_due": due}
        )
    )
    target = rec.seal.closes
    if target.kind == "item":
        book.link(target.id, ctx.entry)
    if body.condition is not SealCondition.INTACT:
        where = "at headquarters" if body.at_headquarters else f"on {target.kind} {target.id}"
        raise_finding(
            book,
            ctx,
            "seal-" + body.condition.value,
            f"seal {body.seal} found {body.condition.value} {where}",
            [body.seal, target.id],
        )


def seal_removed(book: Book, ctx: Context, body: SealRemoved) -> None:
    rec = _seal_step(book, ctx, body.seal, SealAction.REMOVE)
    if rec is None:
        return
    book.put(rec)
    target = rec.seal.closes
    item = book.get(ItemRecord, target.id) if target.kind == "item" else None
    if item is not None:
        seals = [s for s in item.seals if s != body.seal]
        book.put(item.model_copy(update={"seals": seals}))
        book.link(target.id, ctx.entry)
