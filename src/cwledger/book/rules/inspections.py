"""Inventories, inspections and samples (observations)."""

from __future__ import annotations

import math

from cwledger.book.book import Book, Context
from cwledger.book.records import (
    HELD,
    CountRecord,
    InspectionRecord,
    InventoryRecord,
    ItemRecord,
    SampleRecord,
    SiteRecord,
    grams,
)
from cwledger.book.rules.common import (
    AGREEMENT_K,
    book_mass,
    disagree,
    observed_item,
    raise_finding,
)
from cwledger.model.bodies import (
    InspectionClosed,
    InspectionOpened,
    InventoryTaken,
    SampleResult,
    SampleTaken,
)
from cwledger.time import month_text


def _count(book: Book, ctx: Context, body: InventoryTaken) -> None:
    """Keep the last complete inventory of the site's month, for its material balance."""
    month = month_text(ctx.at)
    old = book.get(CountRecord, f"{body.site}|{month}")
    if old is not None and old.at > ctx.at:
        return
    weighed = [line.measured for line in body.items if line.measured is not None]
    grams_ = sum(grams(m.kg) for m in weighed) if len(weighed) == len(body.items) else None
    total = sum(m.kg for m in weighed)
    rel_r = math.sqrt(sum(m.u_random_kg**2 for m in weighed)) / total if total else 0.0
    rel_s = sum(m.u_systematic_kg for m in weighed) / total if total else 0.0
    methods = sorted({m.method for m in weighed})
    book.put(
        CountRecord(
            site=body.site,
            month=month,
            at=ctx.at,
            event=ctx.event.id,
            grams=grams_,
            items=len(body.items),
            method=methods[0] if len(methods) == 1 else "",
            rsd_random=rel_r,
            rsd_systematic=rel_s,
        )
    )


def inventory_taken(book: Book, ctx: Context, body: InventoryTaken) -> None:
    book.put(
        InventoryRecord(
            event=ctx.event.id,
            entry=ctx.entry,
            site=body.site,
            measured={line.item: line.measured for line in body.items},
            at=ctx.at,
            complete=body.complete,
        )
    )
    if body.complete:
        _count(book, ctx, body)
    if book.get(SiteRecord, body.site) is None:
        raise_finding(
            book,
            ctx,
            "undeclared-site",
            f"inventory taken at undeclared site {body.site}",
            [body.site],
        )
    for line in body.items:
        rec = observed_item(book, ctx, line.item, body.site, "found at inventory")
        if rec is None:
            continue
        book.link(line.item, ctx.entry)
        if line.measured is not None and disagree(book_mass(rec), line.measured):
            raise_finding(
                book,
                ctx,
                "quantity-mismatch",
                f"item {line.item} at {body.site}: measured {line.measured.kg:,.3f} kg, the book"
                f" holds {rec.held_g / 1000:,.3f} kg (beyond {AGREEMENT_K:g} combined standard"
                " uncertainties)",
                [line.item, body.site],
            )
    if body.complete:
        seen = {line.item for line in body.items}
        for key in book.keys(ItemRecord, place=body.site):
            rec = book.get(ItemRecord, key)
            if rec is None or rec.state not in HELD or key in seen:
                continue
            raise_finding(
                book,
                ctx,
                "item-not-found",
                f"item {key} not found at the inventory of {body.site};"
                f" the book has it {rec.where()}",
                [key, body.site],
            )


def inspection_opened(book: Book, ctx: Context, body: InspectionOpened) -> None:
    if (old := book.get(InspectionRecord, body.inspection)) is not None:
        ctx.refuse(
            "inspection",
            f"inspection {body.inspection} was already opened (entry {old.opened_entry})",
        )
        return
    book.put(
        InspectionRecord(
            inspection=body.inspection,
            site=body.site,
            type=body.kind,
            opened_entry=ctx.entry,
            opened_event=ctx.event.id,
            opened_at=ctx.at,
        )
    )
    if book.get(SiteRecord, body.site) is None:
        raise_finding(
            book,
            ctx,
            "undeclared-site",
            f"{body.kind} inspection {body.inspection} at undeclared site {body.site}",
            [body.site],
        )


def inspection_closed(book: Book, ctx: Context, body: InspectionClosed) -> None:
    rec = book.get(InspectionRecord, body.inspection)
    if rec is None:
        ctx.refuse("inspection", f"inspection {body.inspection} was never opened")
    elif rec.closed_entry is not None:
        ctx.refuse(
            "inspection",
            f"inspection {body.inspection} was already closed (entry {rec.closed_entry})",
        )
    else:
        closed = {"closed_entry": ctx.entry, "closed_event": ctx.event.id, "closed_at": ctx.at}
        book.put(rec.model_copy(update=closed))


def sample_taken(book: Book, ctx: Context, body: SampleTaken) -> None:
    if (old := book.get(SampleRecord, body.sample)) is not None:
        ctx.refuse("sample", f"sample {body.sample} was already taken (entry {old.taken_entry})")
        return
    book.put(
        SampleRecord(sample=body.sample, item=body.item, site=body.site, taken_entry=ctx.entry)
    )
    if observed_item(book, ctx, body.item, body.site, "sampled") is not None:
        book.link(body.item, ctx.entry)


def sample_result(book: Book, ctx: Context, body: SampleResult) -> None:
    rec = book.get(SampleRecord, body.sample)
    if rec is None:
        ctx.refuse("sample", f"sample {body.sample} was never taken")
        return
    if rec.identity_confirmed is not None:
        ctx.refuse("sample", f"sample {body.sample} already has a result")
        return
    book.put(rec.model_copy(update={"identity_confirmed": body.identity_confirmed}))
    if book.get(ItemRecord, rec.item) is not None:
        book.link(rec.item, ctx.entry)
    if not body.identity_confirmed:
        raise_finding(
            book,
            ctx,
            "identity-not-confirmed",
            f"sample {body.sample} of item {rec.item}: declared identity not confirmed",
            [rec.item, body.sample],
        )
