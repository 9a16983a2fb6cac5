"""Sites and declarations (claims): a declaration arrives in parts and counts when complete;
later versions amend the book item by item."""

from __future__ import annotations

from typing import Any

from cwledger.book.book import Book, Context
from cwledger.book.records import (
    ChemicalsRecord,
    DeclarationRecord,
    DraftRecord,
    ItemRecord,
    ItemState,
    SiteRecord,
    grams,
)
from cwledger.book.rules.common import (
    DECLARATION,
    claimed_item,
    item_record_for,
    kg_text,
    raise_finding,
    update_item,
)
from cwledger.book.rules.facilities import site_changed
from cwledger.model import (
    Declaration,
    Item,
    diff,
)
from cwledger.model.bodies import (
    DeclarationAmended,
    DeclarationSubmitted,
    SiteDeclared,
)
from cwledger.words import plural


def site_declared(book: Book, ctx: Context, body: SiteDeclared) -> None:
    site = body.site
    if site.party != ctx.event.author:
        ctx.refuse("site.party", f"{ctx.event.author} cannot declare a site for {site.party}")
    old = book.get(SiteRecord, site.id)
    if old is not None and old.site.party != site.party:
        ctx.refuse("site.party", f"site {site.id} was declared by {old.site.party}")
    if site.parent is not None and book.get(SiteRecord, site.parent) is None:
        ctx.refuse("site.parent", f"parent site {site.parent} is not declared")
    book.put(SiteRecord(site=site, entry=ctx.entry, role=ctx.role))
    site_changed(book, ctx, site)


def _latest_version(book: Book) -> int:
    return book.counter(DECLARATION)


def declaration_part(
    book: Book, ctx: Context, body: DeclarationSubmitted | DeclarationAmended
) -> None:
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
            site_changed(book, ctx, site)
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
        rec = claimed_item(book, ctx, "items", item_id)
        if rec is None:
            continue
        if rec.state not in (ItemState.DECLARED, ItemState.TAGGED):
            ctx.refuse(
                "items",
                f"item {item_id} is {rec.where()}: version {new.version} cannot withdraw it",
            )
            continue
        update_item(book, ctx, rec, rec.model_copy(update={"state": ItemState.WITHDRAWN}))
    moved: list[str] = []
    for change in changes.items_changed:
        rec = claimed_item(book, ctx, "items", change.id)
        if rec is not None and _amend_item(book, ctx, rec, after[change.id], change.fields):
            moved.append(change.id)
    if moved:
        # Only a transfer moves an item; a declaration that puts it elsewhere is accepted
        # (the declarant says where it is) but nobody saw it move: a finding.
        raise_finding(
            book,
            ctx,
            "site-changed-by-amendment",
            f"declaration version {new.version} puts {plural(len(moved), 'item')} at another site"
            " with no transfer that moved them",
            moved,
        )


def _amend_item(book: Book, ctx: Context, rec: ItemRecord, item: Item, fields: list[str]) -> bool:
    """Amend one item as the new version declares it; whether its site changed."""
    if rec.state in (ItemState.DESTROYED, ItemState.WITHDRAWN, ItemState.IN_TRANSIT):
        ctx.refuse("items", f"item {item.id} is {rec.where()}: it can no longer be amended")
        return False
    update: dict[str, Any] = {"item": item, "chemical": item.chemical or ""}
    if "site" in fields:
        if rec.state is not ItemState.DECLARED:
            ctx.refuse(
                "items",
                f"item {item.id} is {rec.where()}: only a transfer can move it to {item.site}",
            )
            return False
        update["site"] = item.site
    if any(f.startswith("declared.kg") for f in fields):
        held = rec.held_g + grams(item.declared.kg) - grams(rec.item.declared.kg)
        if held < 0:
            ctx.refuse("items", f"item {item.id}: the book holds only {kg_text(rec.held_g)}")
            return False
        update["held_g"] = held
    update_item(book, ctx, rec, rec.model_copy(update=update))
    return "site" in fields and item.site != rec.site
