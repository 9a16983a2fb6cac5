"""An item's page: its chain of custody as a time line, each step with its log entry.

The chain is `cwledger.book.answers.chain_of_custody` (what `cwledger item` prints and the
API's `/items/{id}` answers); each step's entry is read back and its leaf hash recomputed
from the stored bytes (RFC 9162: SHA-256(0x00 || entry)), so the page says which entries it
checked; the log explorer checks the same entry against a signed checkpoint in the browser.
A transfer's step shows the shipper's and the receiver's weighings and their difference as
`cwledger.accountancy.balances.differences` computes it. Each step shows what the viewer's
clearance reads (in a confidential ledger, a destruction facility is not told a sample's
result).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cwledger.accountancy.balances import Difference, differences
from cwledger.book import answers
from cwledger.book.records import ItemRecord, SealRecord, SiteRecord, TransferRecord
from cwledger.book.registry import EVENT_TYPES
from cwledger.tlog.hashing import leaf_hash
from cwledger.web.views import Book, Viewer, page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _step(event_type: str) -> str:
    """What an event is in an item's life, as the time line labels it (the registry's label)."""
    etype = EVENT_TYPES.get(event_type)
    return event_type if etype is None else etype.label


def _differences(r: Book) -> dict[tuple[str, str], Difference]:
    return r.answer(("web-differences",), lambda: {(d.transfer, d.item): d for d in differences(r)})


def _weighings(r: Book, transfer: str, item: str) -> dict[str, Any] | None:
    """The shipper's and the receiver's measurements of an item on a transfer."""
    rec = r.book.get(TransferRecord, transfer)
    line = None if rec is None else next((x for x in rec.lines if x.item == item), None)
    if rec is None or line is None:
        return None
    return {
        "transfer": transfer,
        "origin": rec.origin,
        "destination": rec.destination,
        "abroad": rec.abroad,
        "booked_kg": line.shipped_g / 1000,
        "shipped": line.shipped,
        "received": line.received,
        "difference": _differences(r).get((transfer, item)),
    }


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: str, who: Viewer, r: Book) -> HTMLResponse:
    """An item: where it is now, its seals, and its chain of custody entry by entry."""
    rec = r.book.get(ItemRecord, item_id)
    if rec is None:
        raise answers.NotInBook(f"item {item_id} is not in the book")
    steps = []
    keys = request.app.state.ledger.operator_keys()
    for c in answers.chain_of_custody(r, item_id, keys, r.clearance):
        [stored] = r.entries(c.index, c.index + 1)
        body = c.body or {}
        transfer = body.get("transfer") if c.type.startswith("transfer.") else None
        steps.append(
            {
                "entry": c,
                "step": _step(c.type),
                "leaf_hash": stored.leaf_hash.hex(),
                "in_log": leaf_hash(stored.envelope) == stored.leaf_hash,
                "weighings": None if transfer is None else _weighings(r, transfer, item_id),
            }
        )
    seals = [s for s in (r.book.get(SealRecord, sid) for sid in rec.seals) if s is not None]
    position = r.book.position(item_id)
    site = None if rec.site is None else r.book.get(SiteRecord, rec.site)
    return page(
        request,
        "item.html",
        who,
        active="map",
        rec=rec,
        item=rec.item.model_dump(mode="json", exclude_none=True),
        site=site,
        position=position,
        seals=seals,
        steps=steps,
        verified=sum(1 for s in steps if s["in_log"]),
    )
