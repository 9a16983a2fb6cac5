"""The log explorer (`/log`): the latest signed checkpoint and its signature lines, the most
recent entries, an entry by index or event id with its decoded event, and the panel where the
browser itself checks that entry against the checkpoint (`static/js/log-explorer.js`, over
the pure functions of `static/js/verify.js`).

The page only shows; it proves nothing. What the server says here (the checkpoint's parsed
fields, which key a signature line claims to be by, the key the genesis names) is for
reading and comparing. The proof is the browser's: it fetches the published bytes
(`/log/checkpoint`, `/api/v1/log/entries`, `/api/v1/log/proofs/inclusion`) and checks them
against the log key the reader pinned, never against a key this page offers.

Witnesses: the page shows each cosignature of the served checkpoint (witness, key id, UTC
time) and, for comparison, the ledger's `witness.policy` in force for that checkpoint. The
browser counts valid cosignatures by the witness keys the reader pinned against the quorum
they pinned, and refuses fewer, naming the missing; with no witness key pinned it counts
against the ledger's own policy and says that those keys were not pinned.
"""

from __future__ import annotations

import json
import re
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cwledger.book.registry import GOVERNANCE_TYPES
from cwledger.errors import CwledgerError
from cwledger.ledger.admission import decode_entry, replay_authority
from cwledger.ledger.envelope import Envelope
from cwledger.model.events import GenesisBody
from cwledger.store import LogReader, StoredCheckpoint, StoredEntry
from cwledger.tlog import note
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.cosignature import cosignature_timestamp, verifier_from_vkey
from cwledger.tlog.note import Signature, UnverifiedNoteError
from cwledger.web.views import LogSnapshot, Viewer, gettext, page

__all__ = ["router", "RECENT", "SignatureLine", "signature_lines", "event_json", "utc_time"]

router = APIRouter(include_in_schema=False)

RECENT = 25
"""How many of the latest entries the page lists."""
_EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")  # as the API's event_id query
_INDEX = re.compile(r"[0-9]{1,19}")
_MAX_INDEX = 2**63 - 1


@dataclass(frozen=True)
class SignatureLine:
    """One signature line of a note, as it reads (nothing verified here)."""

    name: str
    key_id: str
    kind: str
    """"log" (the key is named after the origin), "witness" (a cosignature/v1: 8-byte
    timestamp and signature) or "other"."""
    detail: str
    time: str | None = None
    """A cosignature's timestamp as UTC text ("2024-05-01 12:00:00 UTC"); None otherwise."""


def utc_time(timestamp: int) -> str | None:
    """POSIX seconds as UTC text, "2024-05-01 12:00:00 UTC" (None beyond the year 9999)."""
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return None


def signature_lines(sigs: list[Signature], origin: str) -> list[SignatureLine]:
    """What each signature line claims: its key name, key id and kind."""
    out = []
    for s in sigs:
        if len(s.signature) == 72:
            try:
                when = cosignature_timestamp(s.signature)
            except CwledgerError:
                when = None
            if when is not None:
                detail = f"cosignature/v1, timestamp {when}"
                out.append(SignatureLine(s.name, s.key_id.hex(), "witness", detail, utc_time(when)))
                continue
        if s.name == origin and len(s.signature) == 64:
            detail = "Ed25519 note signature by the key named after the log's origin"
            out.append(SignatureLine(s.name, s.key_id.hex(), "log", detail))
        else:
            detail = f"{len(s.signature)}-byte signature by another key"
            out.append(SignatureLine(s.name, s.key_id.hex(), "other", detail))
    return out


def _checkpoint_view(cp: StoredCheckpoint) -> dict[str, Any]:
    """The checkpoint's fields for the page; a note that does not parse is shown as it is,
    with the reason."""
    view: dict[str, Any] = {
        "size": cp.size,
        "root_hex": cp.root_hash.hex(),
        "root_b64": b64encode(cp.root_hash).decode("ascii"),
        "signed_at": cp.signed_at,
        "note": cp.cosigned_note,
        "origin": None,
        "signatures": [],
        "problem": None,
    }
    try:
        note.open(cp.cosigned_note.encode("utf-8"), [])
    except UnverifiedNoteError as e:  # no key given: every line is "unverified", as wanted
        opened = e.note
    except CwledgerError as e:
        view["problem"] = str(e)
        return view
    else:  # pragma: no cover (open with no verifier never verifies)
        raise AssertionError("a note opened with no key")
    try:
        parsed = Checkpoint.from_text(opened.text)
    except CwledgerError as e:
        view["problem"] = str(e)
        return view
    view["origin"] = parsed.origin
    view["signatures"] = signature_lines(opened.unverified_sigs, parsed.origin)
    return view


def event_json(entry: StoredEntry) -> tuple[str, str, str]:
    """(the envelope's payload type, its key id, the payload as indented JSON)."""
    envelope = Envelope.from_bytes(entry.envelope)
    try:
        shown = json.dumps(json.loads(envelope.payload), indent=2, ensure_ascii=False)
    except ValueError:  # stored entries were admitted as JSON; shown raw if ever not
        shown = envelope.payload.decode("utf-8", "replace")
    return envelope.payload_type, envelope.keyid, shown


def _entry_view(e: StoredEntry) -> dict[str, Any]:
    return {
        "index": e.index,
        "event_id": e.event_id,
        "type": e.event_type,
        "author": e.author,
        "time": e.event_time,
        "leaf_hash": e.leaf_hash.hex(),
    }


def _claimed_log_key(r: LogReader) -> str | None:
    """The log key the genesis entry names: shown for comparison, never used to verify."""
    first = r.entries(0, 1)
    if not first:
        return None
    try:
        body = decode_entry(first[0].envelope, check_canonical=False).body
    except CwledgerError:
        return None
    return body.log_key if isinstance(body, GenesisBody) else None


def _witness_policy(r: LogReader, size: int) -> dict[str, Any] | None:
    """The witness policy in force for the tree of `size`, as the log's governance entries
    below it say: shown for comparison, and counted against only when the reader pinned no
    witness key (the page then says so). None when the ledger names no witnesses."""
    governance = [e for e in r.entries_of_types(GOVERNANCE_TYPES) if e.index < size]
    try:
        policy = replay_authority((e.index, e.envelope) for e in governance).witness_policy
    except CwledgerError:
        return None
    if not policy.witnesses:
        return None
    witnesses = []
    for w in policy.witnesses:
        v = verifier_from_vkey(w.key)
        witnesses.append({"url": w.url, "key": w.key, "name": v.name, "key_id": v.key_id.hex()})
    return {"since": policy.since, "quorum": policy.quorum, "witnesses": witnesses}


def _find(r: LogReader, q: str, _: Callable[[str], str]) -> tuple[int | None, str | None]:
    """(the index `q` names, else None with the reason, in the reader's language `_`)."""
    if _INDEX.fullmatch(q) and int(q) <= _MAX_INDEX:
        return int(q), None
    if _EVENT_ID.fullmatch(q):
        found = r.entries_by_event_id([q]).get(q)
        if found is None:  # (128 characters at most)
            return None, _("No entry has the event id %(id)s.") % {"id": repr(q)}
        return found.index, None
    return None, _("%(query)s is neither an entry's index nor an event id.") % {
        "query": repr(q[:60])
    }


@router.get("/log", response_class=HTMLResponse)
async def log_explorer(
    request: Request,
    who: Viewer,
    r: LogSnapshot,
    entry: Annotated[str | None, Query(description="An entry's index.")] = None,
    q: Annotated[str | None, Query(description="An entry's index or event id.")] = None,
) -> Response:
    """The latest checkpoint, the latest entries, one entry and the browser's check of it."""
    _ = gettext(request)
    notice = None
    if q is not None and q.strip():
        index, notice = _find(r, q.strip(), _)
        if index is not None:
            return RedirectResponse(f"/log?entry={index}", status_code=303)
    chosen_index = None
    if entry is not None:
        if _INDEX.fullmatch(entry.strip()) and int(entry) <= _MAX_INDEX:
            chosen_index = int(entry)
        else:
            notice = _("%(entry)s is not an entry index.") % {"entry": repr(entry[:40])}
    cp = r.latest_checkpoint()
    size = 0 if cp is None else cp.size
    recent = [_entry_view(e) for e in reversed(r.entries(max(0, size - RECENT), size))]
    chosen = None
    if chosen_index is not None:
        if chosen_index >= size:
            notice = (
                _(
                    "Entry %(index)s is not in the latest checkpoint (size %(size)s):"
                    " the published log has entries 0 to %(last)s."
                )
                % {"index": chosen_index, "size": size, "last": size - 1}
                if size
                else _("The log has no signed checkpoint yet.")
            )
        else:
            (e,) = r.entries(chosen_index, chosen_index + 1)
            payload_type, keyid, shown = event_json(e)
            chosen = {**_entry_view(e), "payload_type": payload_type, "keyid": keyid}
            chosen["event"] = shown
    return page(
        request,
        "log.html",
        who,
        active="log",
        checkpoint=None if cp is None else _checkpoint_view(cp),
        recent=recent,
        chosen=chosen,
        notice=notice,
        q=q or "",
        claimed_key=_claimed_log_key(r),
        witness_policy=_witness_policy(r, size),
    )
