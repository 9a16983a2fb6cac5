"""`cwledger verify`: the full audit of a stored log, trusting nothing in the database.

Re-reads every envelope in index order and checks: no gap; it decodes and is stored in
canonical form; its stored leaf hash, id, type, author and time agree with it; its key
was valid for its author at its index and its role may write its type (the same replay
as the append path); its signature (on every core); the recomputed tree against every
stored tile hash; and every stored checkpoint against the recomputed root and the log
key the genesis names. Stops at the first bad entry and names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cwledger.errors import EventRejected, VerificationError
from cwledger.ledger.admission import authorise, decode_entry
from cwledger.ledger.authority import Authority
from cwledger.ledger.signatures import SignatureChecker, SignatureJob
from cwledger.store import LogReader, Store, StoredCheckpoint, StoredEntry
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.compact import CompactRange
from cwledger.tlog.hashing import HASH_SIZE, leaf_hash
from cwledger.tlog.note import Verifier
from cwledger.tlog.tiles import TILE_HEIGHT, TILE_WIDTH, tile_layout

__all__ = ["AuditFailure", "AuditReport", "audit"]

Progress = Callable[[int, int], None]


class AuditFailure(VerificationError):
    """The audit found a bad entry (or checkpoint, or tile); `index` names the entry."""

    code = "audit-failed"

    def __init__(self, index: int, reason: str) -> None:
        self.index = index
        self.reason = reason
        super().__init__(f"entry {index}: {reason}")


@dataclass(frozen=True)
class AuditReport:
    """What a passing audit checked."""

    size: int
    root_hash: bytes
    checkpoints: int
    tiles: int
    parties: int
    keys: int


class _TileChecker:
    """Compares every node at a tile level (heights 0, 8, 16...) with the stored tiles."""

    def __init__(self, reader: LogReader) -> None:
        self.reader = reader
        self.rows: dict[int, tuple[int, bytes]] = {}

    def __call__(self, level: int, index: int, digest: bytes) -> None:
        if level % TILE_HEIGHT:
            return
        t_level, (t_index, offset) = level // TILE_HEIGHT, divmod(index, TILE_WIDTH)
        cached = self.rows.get(t_level)
        if cached is None or cached[0] != t_index:
            row = self.reader.tiles([(t_level, t_index)]).get((t_level, t_index), b"")
            cached = self.rows[t_level] = (t_index, row)
        stored = cached[1][offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
        if stored != digest:
            first_leaf = index << level
            what = "is missing" if not stored else f"is {stored.hex()}"
            raise AuditFailure(
                first_leaf,
                f"stored tile {t_level}/{t_index} hash {offset} {what}, "
                f"recomputed node ({level}, {index}) is {digest.hex()}",
            )


def _check_entry(e: StoredEntry, authority: Authority) -> SignatureJob:
    try:
        d = decode_entry(e.envelope, check_canonical=False)
    except EventRejected as x:
        raise AuditFailure(e.index, f"envelope does not decode: {x}") from x
    if d.leaf != e.envelope:
        raise AuditFailure(e.index, "stored envelope is not in canonical (RFC 8785) form")
    if leaf_hash(e.envelope) != e.leaf_hash:
        raise AuditFailure(e.index, "stored leaf hash does not match the envelope")
    ev = d.event
    if (ev.id, ev.type, ev.author, ev.time) != (e.event_id, e.event_type, e.author, e.event_time):
        raise AuditFailure(e.index, "stored id, type, author or time disagree with the envelope")
    key, problems = authorise(d, authority, e.index)
    if problems or key is None:
        raise AuditFailure(e.index, "; ".join(str(p) for p in problems))
    authority.apply(d.body, e.index)
    return (e.index, key.public_key, d.envelope.signed_bytes(), d.envelope.sig)


def _check_checkpoint(cp: StoredCheckpoint, root: bytes, authority: Authority) -> None:
    where = cp.size - 1
    if authority.log_vkey is None or authority.origin is None:
        raise AuditFailure(where, f"checkpoint for size {cp.size} but the log has no genesis")
    try:
        signed, _ = Checkpoint.from_note(
            cp.note.encode(), [Verifier.from_vkey(authority.log_vkey)], origin=authority.origin
        )
    except VerificationError as e:
        raise AuditFailure(
            where, f"checkpoint for size {cp.size} does not verify with the log key: {e}"
        ) from e
    if signed.size != cp.size or signed.root_hash != root or cp.root_hash != root:
        raise AuditFailure(
            where,
            f"checkpoint for size {cp.size} says root {signed.root_hash.hex()} "
            f"(size {signed.size}), recomputed {root.hex()}",
        )


def audit(
    store: Store, *, progress: Progress | None = None, workers: int | None = None
) -> AuditReport:
    """Audit the whole log. Returns an AuditReport; raises AuditFailure at the first bad entry."""
    # Signatures of one chunk are checked on worker threads (libsodium drops the GIL)
    # while this thread decodes the next chunk; chunks are settled in order, so the
    # lowest bad index is the one reported.
    pending: list[tuple[Callable[[], list[int]], AuditFailure | None, int]] = []

    def settle(upto: int) -> None:
        while len(pending) > upto:
            bad_of, failure, done = pending.pop(0)
            bad = bad_of()
            if bad and (failure is None or bad[0] <= failure.index):
                raise AuditFailure(bad[0], "signature does not verify with the author's key")
            if failure is not None:
                raise failure
            if progress is not None:
                progress(done, size)

    with store.read() as r, SignatureChecker(workers) as checker:
        size = r.size()
        checkpoints = {c.size: c for c in r.checkpoints()}
        authority = Authority()
        compact = CompactRange()
        tiles = _TileChecker(r)
        expected = 0
        for chunk in r.iter_entries(chunk=2000):
            jobs: list[SignatureJob] = []
            failure: AuditFailure | None = None
            try:
                for e in chunk:
                    if e.index != expected:
                        raise AuditFailure(
                            expected, f"entry is missing (the next stored entry is {e.index})"
                        )
                    jobs.append(_check_entry(e, authority))
                    compact.append(e.leaf_hash, tiles)
                    expected += 1
                    if (cp := checkpoints.get(expected)) is not None:
                        _check_checkpoint(cp, compact.root(), authority)
            except AuditFailure as f:
                failure = f
            pending.append((checker.submit(jobs), failure, expected))
            settle(0 if failure is not None else 1)
        settle(0)
        for cp_size in sorted(checkpoints):
            if cp_size > expected or cp_size == 0:
                raise AuditFailure(
                    max(expected - 1, 0),
                    f"checkpoint for size {cp_size} but the log holds {expected} entries",
                )
        stored_tiles = {(lv, ix): len(row) // HASH_SIZE for lv, ix, row in r.all_tiles()}
        want_tiles: dict[tuple[int, int], int] = {}
        for level, (full, width) in enumerate(tile_layout(expected)):
            want_tiles |= {(level, i): TILE_WIDTH for i in range(full)}
            if width:
                want_tiles[(level, full)] = width
        if stored_tiles != want_tiles:
            extra = sorted(set(stored_tiles.items()) - set(want_tiles.items()))
            raise AuditFailure(
                max(expected - 1, 0),
                f"stored tiles do not match a tree of {expected} entries: "
                f"unexpected (level, index): width {extra[:3]}",
            )
    return AuditReport(
        size=expected,
        root_hash=compact.root(),
        checkpoints=len(checkpoints),
        tiles=len(stored_tiles),
        parties=len(authority.parties),
        keys=len(authority.keys),
    )
