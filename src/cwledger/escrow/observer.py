"""The observer's check of the public record: every published aggregate recomputed from
the log's public entries alone (the escrow roots, the proofs, the aggregates), read from a
ledger or from an offline bundle checked with the keys the observer pinned. No sealed
part is opened and no item is named: this is what anyone can run.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

from pydantic import BaseModel

from cwledger.book.aggregates import AGGREGATE_PUBLISHED, PROVED_EVENT, AggregateCheck, observe
from cwledger.ledger.admission import decode_entry
from cwledger.ledger.bundle import BundleCheck, check_bundle
from cwledger.store.store import LogReader

__all__ = ["PUBLIC_RECORD_TYPES", "public_record_indices", "observe_log", "observe_bundle"]

PUBLIC_RECORD_TYPES = ("escrow.committed", *PROVED_EVENT.values(), AGGREGATE_PUBLISHED)
"""The event types an observer's check of the aggregates reads (all public)."""

Decoded = tuple[int, str, BaseModel | None]


def _decoded(index: int, envelope: bytes) -> Decoded:
    d = decode_entry(envelope, check_canonical=False)
    return index, d.event.type, d.body


def public_record_indices(reader: LogReader) -> list[int]:
    """The indices of the public record's entries (for a bundle of them)."""
    return [e.index for e in reader.entries_of_types(PUBLIC_RECORD_TYPES)]


def observe_log(reader: LogReader) -> list[AggregateCheck]:
    """Every published aggregate of the log `reader` reads, checked from its public
    entries (``book.aggregates.observe``)."""
    stored = reader.entries_of_types(PUBLIC_RECORD_TYPES)
    return observe(_decoded(e.index, e.envelope) for e in stored)


def observe_bundle(
    data: bytes,
    *,
    log_vkey: str | None = None,
    witness_vkeys: Sequence[str] | None = None,
    quorum: int | None = None,
) -> tuple[list[AggregateCheck], BundleCheck]:
    """Check a bundle's bytes with the pinned keys (``check_bundle``: raises BundleInvalid),
    then every aggregate in it from its public entries."""
    checked = check_bundle(data, log_vkey=log_vkey, witness_vkeys=witness_vkeys, quorum=quorum)
    wanted = {e.index for e in checked.entries if e.type in PUBLIC_RECORD_TYPES}
    raw = json.loads(data)["entries"]
    entries = [
        _decoded(item["index"], base64.b64decode(item["envelope"]))
        for item in raw
        if item["index"] in wanted
    ]
    return observe(entries), checked
