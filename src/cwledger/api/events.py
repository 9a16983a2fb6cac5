"""Submitting events (one, or a batch: all or nothing) and listing them."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cwledger.errors import TooLarge
from cwledger.http.deps import Reader, WritingCaller, get_ledger, get_settings, query_moment
from cwledger.http.problems import problem_responses
from cwledger.http.settings import Settings
from cwledger.ledger.admission import Receipt
from cwledger.ledger.envelope import Envelope
from cwledger.ledger.ledger import Ledger
from cwledger.store.search import EntryFilter, find_entries

__all__ = ["router"]

router = APIRouter(tags=["events"])

LedgerDep = Annotated[Ledger, Depends(get_ledger)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


class DsseSignature(BaseModel):
    """One signature of a DSSE envelope."""

    model_config = ConfigDict(extra="forbid")
    keyid: str = Field(description="The signing key's id (hex), as the log registered it.")
    sig: str = Field(description="Ed25519 signature over PAE(payloadType, payload), base64.")


class DsseEnvelope(BaseModel):
    """A signed event: a DSSE envelope whose payload is the RFC 8785 canonical event JSON."""

    model_config = ConfigDict(extra="forbid")
    payload: str = Field(description="The event's canonical JSON, base64.")
    payloadType: str = Field(description="`application/vnd.cwledger.event+json`.")  # noqa: N815
    signatures: list[DsseSignature] = Field(min_length=1)


class Batch(BaseModel):
    """Envelopes to append together: all are taken, or none."""

    model_config = ConfigDict(extra="forbid")
    envelopes: list[DsseEnvelope] = Field(min_length=1)


class ReceiptDoc(BaseModel):
    """Where an event is in the log. A resubmitted event gets its first receipt again."""

    index: int
    leaf_hash: str
    event_id: str
    duplicate: bool


class Receipts(BaseModel):
    """One receipt per envelope of a batch, in order."""

    receipts: list[ReceiptDoc]


class EventDoc(BaseModel):
    """An entry of the log with its event."""

    index: int
    event_id: str
    type: str
    author: str
    time: str
    leaf_hash: str
    event: dict[str, Any] = Field(description="The signed event: type, id, time, author, body.")


class EventPage(BaseModel):
    """A page of entries in log order; pass `next_cursor` as `cursor` for the next page."""

    events: list[EventDoc]
    next_cursor: str | None


def _receipt(r: Receipt) -> ReceiptDoc:
    return ReceiptDoc.model_validate(r.to_json())


def _raw(envelopes: list[DsseEnvelope]) -> list[bytes]:
    return [json.dumps(e.model_dump()).encode() for e in envelopes]


_WRITE_ERRORS = problem_responses(401, 403, 409, 413, 422, 429, 507)


@router.post(
    "/events",
    response_model=ReceiptDoc,
    status_code=201,
    responses={200: {"model": ReceiptDoc, "description": "Already in the log"}, **_WRITE_ERRORS},
)
def submit_event(
    envelope: DsseEnvelope, who: WritingCaller, ledger: LedgerDep
) -> ReceiptDoc | JSONResponse:
    """Append one signed event, authored by the caller's party. Durable when answered; a
    resubmission answers 200 with the first receipt and adds nothing."""
    (receipt,) = ledger.append(_raw([envelope]), submitter=who.party)
    doc = _receipt(receipt)
    if receipt.duplicate:
        return JSONResponse(doc.model_dump(), status_code=200)
    return doc


@router.post(
    "/events/batch",
    response_model=Receipts,
    status_code=201,
    responses=_WRITE_ERRORS,
)
def submit_batch(
    batch: Batch, who: WritingCaller, ledger: LedgerDep, settings: SettingsDep
) -> Receipts:
    """Append a batch of signed events, all or nothing. A refusal lists every problem with
    the index of its envelope (`problems[].index`)."""
    if len(batch.envelopes) > settings.max_batch:
        raise TooLarge(
            f"{len(batch.envelopes)} envelopes: a batch holds at most {settings.max_batch}"
        )
    receipts = ledger.append(_raw(batch.envelopes), submitter=who.party)
    return Receipts(receipts=[_receipt(r) for r in receipts])


@router.get("/events", response_model=EventPage, responses=problem_responses(401, 422, 429))
async def list_events(
    r: Reader,
    settings: SettingsDep,
    type: Annotated[list[str] | None, Query(description="Event type (repeatable).")] = None,
    author: Annotated[list[str] | None, Query(description="Author party (repeatable).")] = None,
    item: Annotated[
        str | None, Query(description="Entries of this item's chain of custody.")
    ] = None,
    site: Annotated[str | None, Query(description="Entries that name this site.")] = None,
    since: Annotated[
        str | None, Query(description="Event time at or after (RFC 3339 UTC or a date).")
    ] = None,
    until: Annotated[
        str | None, Query(description="Event time at or before (RFC 3339 UTC or a date).")
    ] = None,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,18}$", description="From `next_cursor`.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    """Entries in log order, filtered; cursor pagination."""
    lo = None if since is None else query_moment(since, "since", start_of_day=True)
    hi = None if until is None else query_moment(until, "until")
    f = EntryFilter(type or (), author or (), item, site, lo, hi)
    after = -1 if cursor is None else int(cursor)
    rows = find_entries(r.conn, f, after=after, limit=min(limit, settings.page_limit))
    events = []
    for idx, eid, etype, by, t, lh, env in rows:
        body = json.loads(Envelope.from_bytes(env).payload)
        events.append(
            EventDoc(
                index=idx,
                event_id=eid,
                type=etype,
                author=by,
                time=t,
                leaf_hash=lh.hex(),
                event=body,
            )
        )
    full = len(rows) == limit
    return EventPage(events=events, next_cursor=str(rows[-1][0]) if full else None)
