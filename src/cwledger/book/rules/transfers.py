"""Transfers (claims): shipping from a site and receiving at another, with the
shipper/receiver difference."""

from __future__ import annotations

from cwledger.book.book import Book, Context
from cwledger.book.records import (
    HELD,
    SHIPPABLE,
    ItemRecord,
    ItemState,
    SealRecord,
    TransferLineRecord,
    TransferRecord,
    grams,
)
from cwledger.book.rules.common import (
    AGREEMENT_K,
    book_mass,
    claimed_item,
    claimed_site,
    disagree,
    raise_finding,
    update_item,
)
from cwledger.model import (
    SealCondition,
)
from cwledger.model.bodies import (
    TransferReceived,
    TransferShipped,
)
from cwledger.time import from_rfc3339
from cwledger.words import plural


def _seal_breach(book: Book, rec: ItemRecord) -> str | None:
    """What is wrong with an item's seals, if the last check of one found it not intact."""
    for seal_id in rec.seals:
        seal = book.get(SealRecord, seal_id)
        last = None if seal is None else seal.last_check
        if last is None:
            continue
        if last.condition is not SealCondition.INTACT:
            return f"seal {seal_id} was found {last.condition.value} (entry {last.entry})"
    return None


def checked_at_handover(book: Book, rec: ItemRecord, at: int) -> bool:
    """Whether one of the item's seals was last checked intact between its last movement
    (its last receipt at a site; for an item that never moved, ever) and moment `at`.

    The rule of the hand-over: an item leaves a site under a seal someone checked there,
    after it arrived and before it left. Only a seal's last check is kept, so a check
    dated after `at` hides an earlier one: the item is then taken as not checked."""
    for seal_id in rec.seals:
        seal = book.get(SealRecord, seal_id)
        last = None if seal is None else seal.last_check
        if last is None or last.at is None or last.condition is not SealCondition.INTACT:
            continue
        if (rec.arrived_at is None or last.at >= rec.arrived_at) and last.at <= at:
            return True
    return False


def transfer_shipped(book: Book, ctx: Context, body: TransferShipped) -> None:
    if (old := book.get(TransferRecord, body.transfer)) is not None:
        ctx.refuse(
            "transfer", f"transfer {body.transfer} was already shipped (entry {old.shipped_entry})"
        )
        return
    origin = claimed_site(book, ctx, "origin", body.origin)
    destination = claimed_site(book, ctx, "destination", body.destination)
    lines: list[TransferLineRecord] = []
    unchecked: list[str] = []
    for n, line in enumerate(body.items):
        loc = f"items[{n}].item"
        rec = claimed_item(book, ctx, loc, line.item)
        if rec is None:
            continue
        if rec.site != body.origin or rec.state not in HELD:
            ctx.refuse(loc, f"item {line.item} is {rec.where()}, not at {body.origin}")
            continue
        if rec.state not in SHIPPABLE:
            ctx.refuse(
                loc, f"item {line.item} is {rec.where()}: only a sealed item may leave a site"
            )
            continue
        if (breach := _seal_breach(book, rec)) is not None:
            ctx.refuse(loc, f"item {line.item}: {breach}; it may leave only under an intact seal")
            continue
        if line.measured is not None and disagree(book_mass(rec), line.measured):
            raise_finding(
                book,
                ctx,
                "quantity-mismatch",
                f"item {line.item} shipped from {body.origin}: measured"
                f" {line.measured.kg:,.3f} kg, the book holds {rec.held_g / 1000:,.3f} kg",
                [line.item, body.origin],
            )
        if not checked_at_handover(book, rec, ctx.at):
            unchecked.append(line.item)
        moved = rec.model_copy(
            update={"state": ItemState.IN_TRANSIT, "site": None, "transfer": body.transfer}
        )
        update_item(book, ctx, rec, moved)
        lines.append(
            TransferLineRecord(
                item=line.item, chemical=rec.chemical, shipped_g=rec.held_g, shipped=line.measured
            )
        )
    if unchecked:
        raise_finding(
            book,
            ctx,
            "handover-unchecked",
            f"transfer {body.transfer} left {body.origin} with"
            f" {plural(len(unchecked), 'item')} whose seals were not checked there between"
            " their arrival and the shipment",
            [body.transfer, body.origin, *unchecked],
        )
    book.put(
        TransferRecord(
            transfer=body.transfer,
            origin=body.origin,
            destination=body.destination,
            shipped_entry=ctx.entry,
            shipped_event=ctx.event.id,
            shipped_at=ctx.at,
            due=from_rfc3339(body.due),
            lines=lines,
            abroad=bool(
                origin and destination and origin.in_country and not destination.in_country
            ),
        )
    )


def transfer_received(book: Book, ctx: Context, body: TransferReceived) -> None:
    transfer = book.get(TransferRecord, body.transfer)
    if transfer is None:
        ctx.refuse("transfer", f"transfer {body.transfer} was never shipped")
        return
    if body.site != transfer.destination:
        ctx.refuse(
            "site",
            f"transfer {body.transfer} was shipped to {transfer.destination}, not {body.site}",
        )
        return
    lines = {line.item: line for line in transfer.lines}
    unweighed: list[str] = []
    for n, got in enumerate(body.items):
        loc = f"items[{n}].item"
        line = lines.get(got.item)
        if line is None:
            ctx.refuse(loc, f"item {got.item} was not shipped on transfer {body.transfer}")
            continue
        if line.received_entry is not None:
            ctx.refuse(
                loc,
                f"item {got.item} of transfer {body.transfer} was already received"
                f" (entry {line.received_entry})",
            )
            continue
        rec = claimed_item(book, ctx, loc, got.item)
        if rec is None:
            continue
        held = grams(got.measured.kg) if got.measured is not None else rec.held_g
        if got.measured is None and rec.held_g > 0:
            unweighed.append(got.item)
        arrived = rec.model_copy(
            update={
                "state": ItemState.RECEIVED,
                "site": body.site,
                "transfer": None,
                "held_g": held,
                "arrived_at": ctx.at,
            }
        )
        update_item(book, ctx, rec, arrived)
        lines[got.item] = line.model_copy(
            update={
                "received": got.measured,
                "received_entry": ctx.entry,
                "received_at": ctx.at,
            }
        )
        if (
            line.shipped is not None
            and got.measured is not None
            and disagree(line.shipped, got.measured)
        ):
            srd = line.shipped.kg - got.measured.kg
            raise_finding(
                book,
                ctx,
                "shipper-receiver-difference",
                f"transfer {body.transfer}, item {got.item}: shipped {line.shipped.kg:,.3f} kg,"
                f" received {got.measured.kg:,.3f} kg (difference {srd:+,.3f} kg, beyond"
                f" {AGREEMENT_K:g} combined standard uncertainties)",
                [body.transfer, got.item],
                [transfer.shipped_event],
            )
    if unweighed:
        raise_finding(
            book,
            ctx,
            "receipt-unweighed",
            f"transfer {body.transfer} received at {body.site}: {plural(len(unweighed), 'item')}"
            " holding a mass received without a weighing",
            [body.transfer, body.site, *unweighed],
            [transfer.shipped_event],
        )
    book.put(transfer.model_copy(update={"lines": list(lines.values())}))
