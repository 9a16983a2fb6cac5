"""The steps every rule shares: findings, item updates, the item or site a claim or an
observation is about, and overdue transfers."""

from __future__ import annotations

from collections.abc import Sequence

from cwledger.book.book import Book, Context, Movement, Position
from cwledger.book.records import (
    HELD,
    IN_TRANSIT,
    FindingRecord,
    ItemRecord,
    ItemState,
    SiteRecord,
    TransferRecord,
)
from cwledger.model import (
    Finding,
    Item,
    Mass,
    masses_agree,
)
from cwledger.time import rfc3339

# Two measurements disagree when they differ by more than this many combined standard
# uncertainties (3: a false alarm about 3 times in 1,000 comparisons for normal errors).
AGREEMENT_K = 3.0


FINDINGS = "finding"


DECLARATION = "declaration"


def kg_text(g: int) -> str:
    return f"{g / 1000:,.3f} kg"


def raise_finding(
    book: Book,
    ctx: Context,
    rule: str,
    title: str,
    subjects: Sequence[str],
    evidence: Sequence[str] = (),
) -> int:
    """Open a numbered finding, opened by this event. Returns its number."""
    number = book.next_value(FINDINGS)
    finding = Finding(number=number, title=title, opened_by=ctx.event.id, evidence=list(evidence))
    book.put(
        FindingRecord(
            finding=finding,
            rule=rule,
            subjects=list(subjects),
            opened_entry=ctx.entry,
            opened_at=ctx.at,
            author=ctx.event.author,
        )
    )
    return number


def _holding(rec: ItemRecord | None) -> tuple[str, str, int] | None:
    """(site or IN_TRANSIT, chemical, grams) of what the item adds to holdings, if anything."""
    if rec is None:
        return None
    if rec.state in HELD and rec.site is not None:
        return rec.site, rec.chemical, rec.held_g
    if rec.state is ItemState.IN_TRANSIT:
        return IN_TRANSIT, rec.chemical, rec.held_g
    return None


def update_item(book: Book, ctx: Context, old: ItemRecord | None, new: ItemRecord) -> None:
    """Store the item's new record with the holdings movements and position it implies
    (in the material balance as the event's type says: ``ctx.flow``)."""
    if ctx.at >= new.last_at:
        new = new.model_copy(update={"last_at": ctx.at, "last_entry": ctx.entry})
    # else an observation dated before the item's last change (a seal applied, recorded
    # late): it must not lower the moment a later claim has to follow, or a shipment dated
    # before a destruction could be booked after it and the holdings at that moment would
    # no longer be the replay of the events dated up to it.
    before, after = _holding(old), _holding(new)
    item, flow = new.item.id, ctx.flow
    if before is not None and after is not None and before[:2] == after[:2]:
        if before[2] != after[2]:  # same site and chemical: only the grams changed
            g = after[2] - before[2]
            book.move(Movement(ctx.entry, ctx.at, item, *after[:2], g, 0, flow))
    else:
        if before is not None:
            g = -before[2]
            book.move(Movement(ctx.entry, ctx.at, item, before[0], before[1], g, -1, flow))
        if after is not None:
            book.move(Movement(ctx.entry, ctx.at, item, after[0], after[1], after[2], 1, flow))
    book.put(new)
    book.position(Position(new.item.id, ctx.at, ctx.entry, new.site, new.state, new.held_g))
    book.link(new.item.id, ctx.entry)


def claimed_item(book: Book, ctx: Context, loc: str, item_id: str) -> ItemRecord | None:
    """The item a claim is about; refuses an unknown item or a claim dated too early."""
    rec = book.get(ItemRecord, item_id)
    if rec is None:
        ctx.refuse(loc, f"item {item_id} is not in the book")
        return None
    if ctx.at < rec.last_at:
        ctx.refuse(
            loc,
            f"item {item_id} was last changed by entry {rec.last_entry} at {rfc3339(rec.last_at)};"
            f" this event is dated earlier ({ctx.event.time})",
        )
        return None
    return rec


def claimed_site(book: Book, ctx: Context, loc: str, site_id: str) -> SiteRecord | None:
    rec = book.get(SiteRecord, site_id)
    if rec is None:
        ctx.refuse(loc, f"site {site_id} is not declared")
    return rec


def item_record_for(item: Item, state: ItemState, ctx: Context, held_g: int) -> ItemRecord:
    """A fresh record for an item that enters the book with this event."""
    return ItemRecord(
        item=item,
        state=state,
        site=item.site,
        held_g=held_g,
        tag=item.tag,
        chemical=item.chemical or "",
        last_at=ctx.at,
        last_entry=ctx.entry,
    )


def disagree(book_mass: Mass, measured: Mass) -> bool:
    return not masses_agree(book_mass, measured, AGREEMENT_K)


def book_mass(rec: ItemRecord) -> Mass:
    """What the book holds of an item, with the declared uncertainties scaled to it."""
    d = rec.item.declared
    scale = (rec.held_g / 1000) / d.kg if d.kg else 0.0
    return Mass(
        kg=rec.held_g / 1000,
        u_random_kg=d.u_random_kg * scale,
        u_systematic_kg=d.u_systematic_kg * scale,
        method=d.method,
    )


def observed_item(
    book: Book, ctx: Context, item_id: str, site: str, what: str
) -> ItemRecord | None:
    """The item an observation is about; a finding if the book lacks it or has it elsewhere."""
    rec = book.get(ItemRecord, item_id)
    if rec is None:
        raise_finding(
            book,
            ctx,
            "undeclared-item",
            f"item {item_id} {what} at {site} is not in the declaration",
            [item_id, site],
        )
        return None
    if rec.state not in HELD or rec.site != site:
        raise_finding(
            book,
            ctx,
            "misplaced-item",
            f"item {item_id} {what} at {site}; the book has it {rec.where()}",
            [item_id, site],
        )
        return None
    return rec


def raise_overdue(book: Book, ctx: Context) -> None:
    """Raise a finding for every open transfer whose due moment this event's time has passed."""
    for key in book.overdue(TransferRecord, ctx.at):
        rec = book.get(TransferRecord, key)
        assert rec is not None and rec.overdue_finding is None
        missing = [line.item for line in rec.lines if line.received_entry is None]
        number = raise_finding(
            book,
            ctx,
            "transfer-overdue",
            f"transfer {rec.transfer} from {rec.origin} to {rec.destination} was due by"
            f" {rfc3339(rec.due)}; not received: {', '.join(missing)}",
            [rec.transfer, *missing],
            [rec.shipped_event],
        )
        book.put(rec.model_copy(update={"overdue_finding": number}))
