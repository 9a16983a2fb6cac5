"""The rules of the book: what each event type does, and when it is refused.

Two kinds of event, two kinds of answer:

- **Claims** (declaring, shipping, receiving, destroying) change the book. A claim that
  contradicts the book is refused, whoever makes it, with a message naming the item, its
  state and site as the book has them, and what the event claimed.
- **Observations** (tags, seal checks, inventories, samples, verifications) never change
  what the book holds and are never refused for disagreeing with it: they are recorded,
  and the disagreement raises a finding automatically. An observation is refused only
  when it contradicts the observer's own records (a seal that was never applied, an
  inspection closed twice): that is a bad reference, not a discrepancy.

Quantities are compared with ``masses_agree`` at ``AGREEMENT_K`` combined standard
uncertainties. Every claim about an item must be dated no earlier than the item's last
claim, so that the holdings at any moment are the replay of the events dated up to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cwledger.book.book import Book, Context, Movement, Position
from cwledger.book.records import (
    HELD,
    IN_TRANSIT,
    SHIPPABLE,
    BatchLine,
    BatchRecord,
    ChemicalsRecord,
    CorrelationRecord,
    CountRecord,
    DeclarationRecord,
    DocumentRecord,
    DraftRecord,
    EstimateRecord,
    FindingRecord,
    InspectionRecord,
    InventoryRecord,
    ItemRecord,
    ItemState,
    MethodRecord,
    MilestoneRecord,
    SampleRecord,
    SealCheck,
    SealRecord,
    SelectionRecord,
    SiteRecord,
    ThresholdsRecord,
    TransferLineRecord,
    TransferRecord,
    grams,
)
from cwledger.model import (
    Declaration,
    Finding,
    FindingStatus,
    Item,
    ItemKind,
    Mass,
    Seal,
    SealAction,
    SealCondition,
    apply_status,
    diff,
    masses_agree,
)
from cwledger.model._base import micros
from cwledger.model.bodies import (
    AllOfPredicate,
    DeclarationAmended,
    DeclarationSubmitted,
    DestructionBatch,
    DestructionVerified,
    DocumentFiled,
    EstimateRecorded,
    EstimatesCorrelated,
    FindingRaised,
    FindingResolved,
    InspectionClosed,
    InspectionOpened,
    InventoryTaken,
    ItemTagged,
    MethodRegistered,
    MilestoneSet,
    SampleResult,
    SampleTaken,
    SealApplied,
    SealChecked,
    SealRemoved,
    SelectionCommitted,
    SelectionRevealed,
    SiteDeclared,
    ThresholdsFixed,
    TransferReceived,
    TransferShipped,
)
from cwledger.model.errors import IllegalTransition

__all__ = ["RULES", "AGREEMENT_K", "item_record_for", "raise_finding", "update_item"]

# Two measurements disagree when they differ by more than this many combined standard
# uncertainties (3: a false alarm about 3 times in 1,000 comparisons for normal errors).
AGREEMENT_K = 3.0

FINDINGS = "finding"
DECLARATION = "declaration"


def _t(at: int) -> str:
    """A moment in microseconds as RFC 3339 (for messages)."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=at)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _kg(g: int) -> str:
    return f"{g / 1000:,.3f} kg"


# -- shared steps ------------------------------------------------------------------------


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


# What a holdings change is in a material balance, by the event that makes it.
_FLOWS = {
    "transfer.shipped": "shipments",
    "transfer.received": "receipts",
    "destruction.batch": "destroyed",
}


def update_item(book: Book, ctx: Context, old: ItemRecord | None, new: ItemRecord) -> None:
    """Store the item's new record with the holdings movements and position it implies."""
    new = new.model_copy(update={"last_at": ctx.at, "last_entry": ctx.entry})
    before, after = _holding(old), _holding(new)
    item = new.item.id
    flow = _FLOWS.get(ctx.event.type, "other")
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


def _claimed_item(book: Book, ctx: Context, loc: str, item_id: str) -> ItemRecord | None:
    """The item a claim is about; refuses an unknown item or a claim dated too early."""
    rec = book.get(ItemRecord, item_id)
    if rec is None:
        ctx.refuse(loc, f"item {item_id} is not in the book")
        return None
    if ctx.at < rec.last_at:
        ctx.refuse(
            loc,
            f"item {item_id} was last changed by entry {rec.last_entry} at {_t(rec.last_at)};"
            f" this event is dated earlier ({ctx.event.time})",
        )
        return None
    return rec


def _claimed_site(book: Book, ctx: Context, loc: str, site_id: str) -> SiteRecord | None:
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


def _disagree(book_mass: Mass, measured: Mass) -> bool:
    return not masses_agree(book_mass, measured, AGREEMENT_K)


def _book_mass(rec: ItemRecord) -> Mass:
    """What the book holds of an item, with the declared uncertainties scaled to it."""
    d = rec.item.declared
    scale = (rec.held_g / 1000) / d.kg if d.kg else 0.0
    return Mass(
        kg=rec.held_g / 1000,
        u_random_kg=d.u_random_kg * scale,
        u_systematic_kg=d.u_systematic_kg * scale,
        method=d.method,
    )


def _observed_item(
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


# -- sites and declarations ----------------------------------------------------------------


def _site_declared(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, SiteDeclared)
    site = body.site
    if site.party != ctx.event.author:
        ctx.refuse("site.party", f"{ctx.event.author} cannot declare a site for {site.party}")
    old = book.get(SiteRecord, site.id)
    if old is not None and old.site.party != site.party:
        ctx.refuse("site.party", f"site {site.id} was declared by {old.site.party}")
    if site.parent is not None and book.get(SiteRecord, site.parent) is None:
        ctx.refuse("site.parent", f"parent site {site.parent} is not declared")
    book.put(SiteRecord(site=site, entry=ctx.entry, role=ctx.role))


def _latest_version(book: Book) -> int:
    return book.counter(DECLARATION)


def _declaration_part(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, DeclarationSubmitted | DeclarationAmended)
    latest = _latest_version(book)
    if body.version <= latest:
        ctx.refuse("version", f"version {body.version} is already complete")
        return
    if body.version != latest + 1:
        ctx.refuse("version", f"the next version is {latest + 1}, not {body.version}")
        return
    draft = book.get(DraftRecord, str(body.version))
    if draft is None:
        if body.part != 1:
            ctx.refuse("part", f"part 1 (the header) of version {body.version} must come first")
            return
        header = Declaration(
            version=body.version,
            amends=getattr(body, "amends", None),
            legal_basis=body.legal_basis or "",
            due=body.due or "",
            chemicals=body.chemicals,
            sites=body.sites,
        )
        draft = DraftRecord(
            version=body.version, parts=body.parts, header=header, received={}, latest_at=ctx.at
        )
    elif body.parts != draft.parts:
        ctx.refuse("parts", f"version {body.version} has {draft.parts} parts, not {body.parts}")
        return
    elif body.part in draft.received:
        ctx.refuse("part", f"part {body.part} already received (entry {draft.received[body.part]})")
        return
    _check_part_items(book, ctx, draft, body.items)
    if ctx.problems:
        return
    header = draft.header.model_copy(update={"items": [*draft.header.items, *body.items]})
    draft = draft.model_copy(
        update={
            "header": header,
            "received": {**draft.received, body.part: ctx.entry},
            "latest_at": max(draft.latest_at, ctx.at),
        }
    )
    if len(draft.received) < draft.parts:
        book.put(draft)
        return
    _complete(book, ctx, draft)


def _check_part_items(book: Book, ctx: Context, draft: DraftRecord, items: list[Item]) -> None:
    chemicals = {c.label for c in draft.header.chemicals}
    sites = {s.id for s in draft.header.sites}
    earlier = {i.id for i in draft.header.items}
    for n, item in enumerate(items):
        loc = f"items[{n}]"
        if item.chemical is not None and item.chemical not in chemicals:
            ctx.refuse(
                f"{loc}.chemical", f"chemical {item.chemical!r} is not in the chemicals table"
            )
        if item.site not in sites and book.get(SiteRecord, item.site) is None:
            ctx.refuse(f"{loc}.site", f"site {item.site} is neither in the header nor declared")
        if item.id in earlier:
            ctx.refuse(f"{loc}.id", f"item {item.id} is already in an earlier part")


def _complete(book: Book, ctx: Context, draft: DraftRecord) -> None:
    """The last part arrived: the version counts. Apply it to the book at its latest moment."""
    new = draft.header
    when = Context(ctx.event, ctx.body, ctx.entry, draft.latest_at, ctx.role, ctx.problems)
    for site in new.sites:
        old_site = book.get(SiteRecord, site.id)
        if old_site is None or old_site.site != site:
            book.put(SiteRecord(site=site, entry=ctx.entry, role=ctx.role))
    if new.version == 1:
        for item in new.items:
            if book.get(ItemRecord, item.id) is not None:
                ctx.refuse("items", f"item {item.id} is already in the book")
                continue
            rec = item_record_for(item, ItemState.DECLARED, when, grams(item.declared.kg))
            update_item(book, when, None, rec)
    else:
        previous = book.get(DeclarationRecord, str(new.version - 1))
        assert previous is not None  # versions complete in order
        _amend(book, when, previous.declaration, new)
    table = book.get(ChemicalsRecord, "table")
    known = {} if table is None else table.chemicals
    book.put(ChemicalsRecord(chemicals=known | {c.label: c for c in new.chemicals}))
    entries = [draft.received[p] for p in sorted(draft.received)]
    # The draft is done with: keep the record of its parts, not a second copy of the items.
    book.put(draft.model_copy(update={"header": new.model_copy(update={"items": []})}))
    book.put(
        DeclarationRecord(
            declaration=new,
            entries=entries,
            completed_at=draft.latest_at,
            completed_by=ctx.event.id,
        )
    )
    book.next_value(DECLARATION)


def _amend(book: Book, ctx: Context, old: Declaration, new: Declaration) -> None:
    changes = diff(old, new)
    after = {i.id: i for i in new.items}
    for item_id in changes.items_added:
        if book.get(ItemRecord, item_id) is not None:
            ctx.refuse("items", f"item {item_id} is already in the book")
            continue
        item = after[item_id]
        update_item(
            book, ctx, None, item_record_for(item, ItemState.DECLARED, ctx, grams(item.declared.kg))
        )
    for item_id in changes.items_removed:
        rec = _claimed_item(book, ctx, "items", item_id)
        if rec is None:
            continue
        if rec.state not in (ItemState.DECLARED, ItemState.TAGGED):
            ctx.refuse(
                "items",
                f"item {item_id} is {rec.where()}: version {new.version} cannot withdraw it",
            )
            continue
        update_item(book, ctx, rec, rec.model_copy(update={"state": ItemState.WITHDRAWN}))
    for change in changes.items_changed:
        rec = _claimed_item(book, ctx, "items", change.id)
        if rec is not None:
            _amend_item(book, ctx, rec, after[change.id], change.fields)


def _amend_item(book: Book, ctx: Context, rec: ItemRecord, item: Item, fields: list[str]) -> None:
    if rec.state in (ItemState.DESTROYED, ItemState.WITHDRAWN, ItemState.IN_TRANSIT):
        ctx.refuse("items", f"item {item.id} is {rec.where()}: it can no longer be amended")
        return
    update: dict[str, Any] = {"item": item, "chemical": item.chemical or ""}
    if "site" in fields:
        if rec.state is not ItemState.DECLARED:
            ctx.refuse(
                "items",
                f"item {item.id} is {rec.where()}: only a transfer can move it to {item.site}",
            )
            return
        update["site"] = item.site
    if any(f.startswith("declared.kg") for f in fields):
        held = rec.held_g + grams(item.declared.kg) - grams(rec.item.declared.kg)
        if held < 0:
            ctx.refuse("items", f"item {item.id}: the book holds only {_kg(rec.held_g)}")
            return
        update["held_g"] = held
    update_item(book, ctx, rec, rec.model_copy(update=update))


# -- tags and seals (observations) --------------------------------------------------------


def _item_tagged(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, ItemTagged)
    rec = _observed_item(book, ctx, body.item, body.site, "tagged")
    if rec is None:
        return
    state = ItemState.TAGGED if rec.state is ItemState.DECLARED else rec.state
    update_item(book, ctx, rec, rec.model_copy(update={"tag": body.tag, "state": state}))


def _seal_applied(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, SealApplied)
    if (old := book.get(SealRecord, body.seal)) is not None:
        ctx.refuse(
            "seal",
            f"seal {body.seal} is already {old.seal.state.value} (entry {old.applied_entry})",
        )
        return
    seal = Seal(id=body.seal, type=body.type, closes=body.closes).after(SealAction.APPLY)
    due = micros(body.next_check_due) if body.next_check_due else None
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


def _seal_checked(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, SealChecked)
    action = SealAction.VERIFY if body.at_headquarters else SealAction.CHECK
    rec = _seal_step(book, ctx, body.seal, action)
    if rec is None:
        return
    check = SealCheck(entry=ctx.entry, condition=body.condition, photos=body.photos)
    due = micros(body.next_check_due) if body.next_check_due else None
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


def _seal_removed(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, SealRemoved)
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


# -- transfers (claims) -------------------------------------------------------------------


def _overdue(book: Book, ctx: Context) -> None:
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
            f" {_t(rec.due)}; not received: {', '.join(missing)}",
            [rec.transfer, *missing],
            [rec.shipped_event],
        )
        book.put(rec.model_copy(update={"overdue_finding": number}))


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


def _transfer_shipped(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, TransferShipped)
    if (old := book.get(TransferRecord, body.transfer)) is not None:
        ctx.refuse(
            "transfer", f"transfer {body.transfer} was already shipped (entry {old.shipped_entry})"
        )
        return
    origin = _claimed_site(book, ctx, "origin", body.origin)
    destination = _claimed_site(book, ctx, "destination", body.destination)
    lines: list[TransferLineRecord] = []
    for n, line in enumerate(body.items):
        loc = f"items[{n}].item"
        rec = _claimed_item(book, ctx, loc, line.item)
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
        if line.measured is not None and _disagree(_book_mass(rec), line.measured):
            raise_finding(
                book,
                ctx,
                "quantity-mismatch",
                f"item {line.item} shipped from {body.origin}: measured"
                f" {line.measured.kg:,.3f} kg, the book holds {rec.held_g / 1000:,.3f} kg",
                [line.item, body.origin],
            )
        moved = rec.model_copy(
            update={"state": ItemState.IN_TRANSIT, "site": None, "transfer": body.transfer}
        )
        update_item(book, ctx, rec, moved)
        lines.append(
            TransferLineRecord(
                item=line.item, chemical=rec.chemical, shipped_g=rec.held_g, shipped=line.measured
            )
        )
    book.put(
        TransferRecord(
            transfer=body.transfer,
            origin=body.origin,
            destination=body.destination,
            shipped_entry=ctx.entry,
            shipped_event=ctx.event.id,
            shipped_at=ctx.at,
            due=micros(body.due),
            lines=lines,
            abroad=bool(
                origin and destination and origin.in_country and not destination.in_country
            ),
        )
    )


def _transfer_received(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, TransferReceived)
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
        rec = _claimed_item(book, ctx, loc, got.item)
        if rec is None:
            continue
        held = grams(got.measured.kg) if got.measured is not None else rec.held_g
        arrived = rec.model_copy(
            update={
                "state": ItemState.RECEIVED,
                "site": body.site,
                "transfer": None,
                "held_g": held,
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
            and _disagree(line.shipped, got.measured)
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
    book.put(transfer.model_copy(update={"lines": list(lines.values())}))


# -- inventories, inspections, samples (observations) ------------------------------------


def _count(book: Book, ctx: Context, body: InventoryTaken) -> None:
    """Keep the last complete inventory of the site's month, for its material balance."""
    month = _t(ctx.at)[:7]
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


def _inventory_taken(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, InventoryTaken)
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
        rec = _observed_item(book, ctx, line.item, body.site, "found at inventory")
        if rec is None:
            continue
        book.link(line.item, ctx.entry)
        if line.measured is not None and _disagree(_book_mass(rec), line.measured):
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


def _inspection_opened(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, InspectionOpened)
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


def _inspection_closed(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, InspectionClosed)
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


def _sample_taken(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, SampleTaken)
    if (old := book.get(SampleRecord, body.sample)) is not None:
        ctx.refuse("sample", f"sample {body.sample} was already taken (entry {old.taken_entry})")
        return
    book.put(
        SampleRecord(sample=body.sample, item=body.item, site=body.site, taken_entry=ctx.entry)
    )
    if _observed_item(book, ctx, body.item, body.site, "sampled") is not None:
        book.link(body.item, ctx.entry)


def _sample_result(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, SampleResult)
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


# -- destruction ----------------------------------------------------------------------------


def _destruction_batch(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, DestructionBatch)
    if (old := book.get(BatchRecord, body.batch)) is not None:
        ctx.refuse(
            "batch", f"destruction batch {body.batch} is already recorded (entry {old.entry})"
        )
        return
    venue = _claimed_site(book, ctx, "venue", body.venue)
    lines: list[BatchLine] = []
    for n, line in enumerate(body.items):
        loc = f"items[{n}].item"
        rec = _claimed_item(book, ctx, loc, line.item)
        if rec is None:
            continue
        if rec.state not in HELD or rec.site != body.venue:
            ctx.refuse(loc, f"item {line.item} is {rec.where()}, not held at {body.venue}")
            continue
        g = rec.held_g if line.kg is None else grams(line.kg)
        if g > rec.held_g:
            ctx.refuse(
                f"items[{n}].kg",
                f"destroying {_kg(g)} of item {line.item}, but the book holds {_kg(rec.held_g)}",
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
        update_item(
            book, ctx, None, item_record_for(item, ItemState.PRODUCED, ctx, grams(product.mass.kg))
        )
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
        )
    )


def _destruction_verified(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, DestructionVerified)
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


# -- estimates and findings ---------------------------------------------------------------


def _estimate_recorded(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, EstimateRecorded)
    book.put(
        EstimateRecord(
            event=ctx.event.id, entry=ctx.entry, author=ctx.event.author, estimate=body.estimate
        )
    )


def _estimates_correlated(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, EstimatesCorrelated)
    unknown = [e for e in body.estimates if book.get(EstimateRecord, e) is None]
    if unknown:
        ctx.refuse("estimates", f"no estimate recorded as {', '.join(unknown)}")
        return
    a, b = sorted(body.estimates)
    book.put(CorrelationRecord(estimates=(a, b), rho=body.rho, basis=body.basis, entry=ctx.entry))


def _finding_raised(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, FindingRaised)
    raise_finding(book, ctx, "raised", body.title, body.subjects, body.evidence)


def _finding_resolved(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, FindingResolved)
    rec = book.get(FindingRecord, f"{body.finding:08d}")
    if rec is None:
        ctx.refuse("finding", f"there is no finding {body.finding}")
        return
    try:
        finding = apply_status(rec.finding, body.status, ctx.event.id)
    except IllegalTransition as e:
        ctx.refuse("status", str(e))
        return
    evidence = [*finding.evidence, *(e for e in body.evidence if e not in finding.evidence)]
    closed_at = None if finding.status is FindingStatus.OPEN else ctx.at
    finding = finding.model_copy(update={"evidence": evidence})
    book.put(rec.model_copy(update={"finding": finding, "closed_at": closed_at}))


# -- documents and milestones --------------------------------------------------------------


def _document_filed(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, DocumentFiled)
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


def _milestone_set(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, MilestoneSet)
    predicate = body.predicate
    if isinstance(predicate, AllOfPredicate):
        unknown = [m for m in predicate.milestones if book.get(MilestoneRecord, m) is None]
        if unknown:
            ctx.refuse("predicate.milestones", f"milestones not set yet: {', '.join(unknown)}")
            return
    book.put(MilestoneRecord(milestone=body, entry=ctx.entry))


def _selection_committed(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, SelectionCommitted)
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


def _selection_revealed(book: Book, ctx: Context) -> None:
    from cwledger.accountancy.selection import commitment

    body = ctx.body
    assert isinstance(body, SelectionRevealed)
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


def _method_registered(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, MethodRegistered)
    book.put(MethodRecord(method=body, entry=ctx.entry))


def _thresholds_fixed(book: Book, ctx: Context) -> None:
    body = ctx.body
    assert isinstance(body, ThresholdsFixed)
    if (old := book.get(ThresholdsRecord, body.series)) is not None:
        ctx.refuse("series", f"thresholds for {body.series} were fixed at entry {old.entry}")
        return
    book.put(ThresholdsRecord(thresholds=body, entry=ctx.entry, at=ctx.at))


def _with_overdue(rule: Callable[[Book, Context], None]) -> Callable[[Book, Context], None]:
    def run(book: Book, ctx: Context) -> None:
        _overdue(book, ctx)
        rule(book, ctx)

    return run


RULES: dict[str, Callable[[Book, Context], None]] = {
    name: _with_overdue(rule)
    for name, rule in {
        "site.declared": _site_declared,
        "declaration.submitted": _declaration_part,
        "declaration.amended": _declaration_part,
        "item.tagged": _item_tagged,
        "seal.applied": _seal_applied,
        "seal.checked": _seal_checked,
        "seal.removed": _seal_removed,
        "transfer.shipped": _transfer_shipped,
        "transfer.received": _transfer_received,
        "inventory.taken": _inventory_taken,
        "inspection.opened": _inspection_opened,
        "inspection.closed": _inspection_closed,
        "sample.taken": _sample_taken,
        "sample.result": _sample_result,
        "destruction.batch": _destruction_batch,
        "destruction.verified": _destruction_verified,
        "estimate.recorded": _estimate_recorded,
        "estimates.correlated": _estimates_correlated,
        "finding.raised": _finding_raised,
        "finding.resolved": _finding_resolved,
        "document.filed": _document_filed,
        "milestone.set": _milestone_set,
        "selection.committed": _selection_committed,
        "selection.revealed": _selection_revealed,
        "method.registered": _method_registered,
        "thresholds.fixed": _thresholds_fixed,
    }.items()
}
