"""Destruction (a claim) and its verification (an observation)."""

from __future__ import annotations

from cwledger.book.book import Book, Context
from cwledger.book.records import (
    HELD,
    BatchLine,
    BatchRecord,
    ItemRecord,
    ItemState,
    grams,
)
from cwledger.book.rules.common import (
    claimed_item,
    claimed_site,
    item_record_for,
    kg_text,
    raise_finding,
    update_item,
)
from cwledger.model import (
    Item,
    ItemKind,
)
from cwledger.model.bodies import (
    DestructionBatch,
    DestructionVerified,
)


def destruction_batch(book: Book, ctx: Context, body: DestructionBatch) -> None:
    if (old := book.get(BatchRecord, body.batch)) is not None:
        ctx.refuse(
            "batch", f"destruction batch {body.batch} is already recorded (entry {old.entry})"
        )
        return
    venue = claimed_site(book, ctx, "venue", body.venue)
    lines: list[BatchLine] = []
    for n, line in enumerate(body.items):
        loc = f"items[{n}].item"
        rec = claimed_item(book, ctx, loc, line.item)
        if rec is None:
            continue
        if rec.state not in HELD or rec.site != body.venue:
            ctx.refuse(loc, f"item {line.item} is {rec.where()}, not held at {body.venue}")
            continue
        g = rec.held_g if line.kg is None else grams(line.kg)
        if g > rec.held_g:
            ctx.refuse(
                f"items[{n}].kg",
                f"destroying {kg_text(g)} of item {line.item},"
                f" but the book holds {kg_text(rec.held_g)}",
            )
            continue
        left = rec.held_g - g
        state = ItemState.DESTROYED if left == 0 else rec.state
        update_item(book, ctx, rec, rec.model_copy(update={"held_g": left, "state": state}))
        lines.append(BatchLine(item=line.item, chemical=rec.chemical, grams=g, complete=left == 0))
    for n, product in enumerate(body.products):
        if book.get(ItemRecord, product.item) is not None:
            ctx.refuse(f"products[{n}].item", f"item {product.item} is already in the book")
            continue
        item = Item(
            id=product.item,
            kind=ItemKind.BULK_LOT,
            chemical=product.label,
            declared=product.mass,
            site=body.venue,
        )
        made = item_record_for(item, ItemState.PRODUCED, ctx, grams(product.mass.kg))
        update_item(book, ctx, None, made)
    book.put(
        BatchRecord(
            batch=body.batch,
            venue=body.venue,
            entry=ctx.entry,
            event=ctx.event.id,
            at=ctx.at,
            in_country=venue is not None and venue.in_country,
            lines=lines,
            products=[p.item for p in body.products],
            recorded_by=ctx.event.author,
        )
    )


def destruction_verified(book: Book, ctx: Context, body: DestructionVerified) -> None:
    rec = book.get(BatchRecord, body.batch)
    if rec is None:
        raise_finding(
            book,
            ctx,
            "unrecorded-destruction",
            f"destruction batch {body.batch} verified but never recorded",
            [body.batch],
        )
        return
    if rec.recorded_by == ctx.event.author:
        ctx.refuse(
            "batch",
            f"{ctx.event.author} recorded destruction batch {body.batch} (entry {rec.entry});"
            " a party does not verify its own record",
        )
        return
    book.put(rec.model_copy(update={"verified_entry": ctx.entry}))
    for item in [*(line.item for line in rec.lines), *rec.products]:
        book.link(item, ctx.entry)
    if not body.confirmed:
        raise_finding(
            book,
            ctx,
            "destruction-not-confirmed",
            f"destruction batch {body.batch} at {rec.venue} not confirmed",
            [body.batch, *(line.item for line in rec.lines)],
        )
