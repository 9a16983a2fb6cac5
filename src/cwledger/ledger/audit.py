"""`cwledger verify`: the full audit of a stored log, trusting nothing in the database.

Re-reads every envelope in index order and checks: no gap; it decodes and is stored in
canonical form; its stored leaf hash, id, type, author and time agree with it; its key
was valid for its author at its index and its role may write its type (the same replay
as the append path); its signature; the recomputed tree against every
stored tile hash; and every stored checkpoint against the recomputed root and the log
key the genesis names. The chain of checkpoints is complete: each batch recorded one (every
entry names the size of the checkpoint signed with it), so a deleted checkpoint is named,
and a stored checkpoint that is not at a batch boundary too; and so is the chain of witness
cosignatures (`cwledger.ledger.cosignatures`): each valid, by a witness of the policy in
force for its tree, none deleted or changed. Stops at the first bad entry and names it.

Sealed bodies (``cwledger.ledger.confidential``) are checked without opening them: only
in a confidential ledger, each a well-formed sealed part with a commitment and a box for
the operator, and no field above public in the clear. Opening them and replaying the book
from them is ``cwledger.ledger.projections.check_book``'s, with the operator's keys.

The per-entry work (decoding, hashing, Ed25519, the full bottom tiles) runs on one process
per core, chunk by chunk (`cwledger.ledger.chunk_workers`); this process does the
sequential part (authority replay, the tree above the bottom tiles, checkpoints) in log
order as the chunks come back, so the lowest bad index is always the one reported.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import groupby
from typing import Any, NamedTuple

from pydantic import BaseModel

from cwledger.book.registry import EVENT_TYPES, GOVERNANCE_TYPES
from cwledger.errors import (
    CorruptEntry,
    EventRejected,
    InvalidSignature,
    Problem,
    SealBroken,
    VerificationError,
    echo_key,
)
from cwledger.ledger.admission import RECIPIENTS, SEALED, decode_entry, typed_event
from cwledger.ledger.authority import Authority, KeyRecord
from cwledger.ledger.canonical import in_canonical_form
from cwledger.ledger.chunk_workers import ChunkWorkers
from cwledger.ledger.confidential import OPERATOR
from cwledger.ledger.cosignatures import CosignatureAudit
from cwledger.ledger.envelope import PAYLOAD_TYPE, cut_leaf, pae
from cwledger.ledger.sealing import check_form
from cwledger.ledger.signatures import verify_ed25519
from cwledger.ledger.tile_audit import TreeAudit, TreeFailure, check_bottom_tiles
from cwledger.model.classes import Class, field_classes
from cwledger.model.events import GenesisBody, KeyRotatedBody, PartyRegisteredBody
from cwledger.store import LogReader, Store, StoredCheckpoint
from cwledger.store.streams import (
    checkpoint_sizes,
    checkpoints_by_size,
    cosignatures_by_size,
    cosigned_sizes,
    tile_widths,
    witness_cosignatures,
)
from cwledger.time import from_rfc3339
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.hashing import HASH_SIZE, leaf_hash
from cwledger.tlog.note import Verifier
from cwledger.tlog.tiles import (
    STORED_FULL,
    TILE_HEIGHT,
    TILE_WIDTH,
    tile_layout,
)

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
    cosignatures: int = 0
    sealed: int = 0  # entries with a sealed body (checked in form, not opened)


# What the sequential checks judge an entry by, but for its time: (type, author, key id,
# the names of a domain body's fields in the clear (None for governance), whether it has a
# sealed part). A worker gives equal ones as one object in a chunk, which pickles once.
_Seen = tuple[str, str, str, tuple[str, ...] | None, bool]

# One entry as a worker reports it: (index, failure or None, what it is seen as, typed
# governance body or None, signature verified with the named key or None, leaf hash, and
# the event's time: the mandate of its author is judged by it).
_Checked = tuple[int, str | None, _Seen, BaseModel | None, bool | None, bytes, str]

_KEYS: dict[tuple[str, str], bytes] = {}


class _Head(NamedTuple):
    """The type, author and time of an entry: all the sequential checks read of it."""

    type: str
    author: str
    time: str


_WORKER_STORE: list[Store] = []  # a worker's own connection to the store


def _init_worker(keys: dict[tuple[str, str], bytes], url: str | None = None) -> None:
    _KEYS.clear()
    _KEYS.update(keys)
    if url is not None:
        _WORKER_STORE[:] = [Store.open(url, migrate=False)]


class _Chunk(NamedTuple):
    """What a worker gives back for a chunk of the log: its entries as `_check_entries`
    finds them, the root of each full bottom tile inside it that agrees with the stored
    one, by tile index, and the first stored tile node that does not
    (`cwledger.ledger.tile_audit.check_bottom_tiles`)."""

    entries: list[_Checked]
    tile_roots: dict[int, bytes]
    tree_failure: TreeFailure | None
    runs: list[_Run]  # of entries that record one checkpoint size (`_BatchRuns`)


def _check_range(start: int, end: int) -> _Chunk:
    """A worker reads entries start..<end itself (nothing is sent through the parent)."""
    with _WORKER_STORE[0].read() as r:
        return _check_chunk(r, start, end)


def _check_chunk(reader: LogReader, start: int, end: int) -> _Chunk:
    """The entries start..<end checked (`_check_stored`), and the full bottom tiles among
    them against the stored ones."""
    entries, runs = _check_stored(reader, start, end)
    roots, failure = check_bottom_tiles(reader, start, [c[5] for c in entries])
    return _Chunk(entries, roots, failure, runs)


def _check_stored(reader: LogReader, start: int, end: int) -> tuple[list[_Checked], list[_Run]]:
    """The entries start..<end as `_check_entries` finds them, read here, and the runs of
    them that record one checkpoint size. A row the store cannot read as an entry
    (`CorruptEntry`) ends the list, as a failure at its index."""
    try:
        rows = reader.audited_rows(start, end)
    except CorruptEntry as e:
        head = _check_stored(reader, start, e.index)[0] if e.index > start else []
        return [*head, _failed(e.index, e.reason)], []
    return _check_entries(rows), _runs(start, [r[9] for r in rows])


_Run = tuple[object, int, int]
"""Entries first..last that record one checkpoint size, as stored: (size, first, last)."""


def _runs(start: int, sizes: Sequence[object]) -> list[_Run]:
    """The entries from `start` that record the checkpoint sizes `sizes`, in runs of one."""
    runs: list[_Run] = []
    first = start
    for size, same in groupby(sizes):
        last = first + sum(1 for _ in same) - 1
        runs.append((size, first, last))
        first = last + 1
    return runs


class _BatchRuns:
    """The runs of entries that record one checkpoint size, as the chunks bring them in log
    order, held to the stored checkpoints as they come: each run (they follow each other
    from entry 0, as the chunks do) a batch that ends before the size it records, with that
    checkpoint stored, and no other checkpoint stored. A log whose runs all are passes
    without another scan of its entries; any other is scanned at the end
    (`LogReader.batches`, by size) so that `_check_batches` names what is wrong."""

    def __init__(self, checkpoints: Sequence[int]) -> None:
        self.checkpoints = checkpoints
        self.batches = 0  # runs closed so far
        self.run: _Run | None = None  # the run still open at the end of the last chunk
        self.regular = True

    def add(self, runs: Iterable[_Run]) -> None:
        for run in runs:
            if self.run is not None and self.run[0] == run[0] and self.run[2] + 1 == run[1]:
                self.run = (self.run[0], self.run[1], run[2])  # it goes on in this chunk
                continue
            self._close()
            self.run = run

    def _close(self) -> None:
        if self.run is None:
            return
        size, _, last = self.run
        n = self.batches
        if not (
            type(size) is int
            and last == size - 1
            and n < len(self.checkpoints)
            and self.checkpoints[n] == size
        ):
            self.regular = False
        self.batches += 1
        self.run = None

    def all_batches(self) -> bool:
        """Whether the runs are the log's batches, each with its checkpoint, and the stored
        checkpoints no more than theirs."""
        self._close()
        return self.regular and self.batches == len(self.checkpoints)


def _failed(index: int, why: str, type_: str = "", author: str = "", time: str = "") -> _Checked:
    """An entry that failed before anything else could be checked: `_admit` names it."""
    return (index, why, (type_, author, "", None, False), None, None, b"", time)


_Decoded = tuple[
    str,
    bytes,
    bytes,
    str | None,
    Any,
    BaseModel | None,
    dict[str, Any] | None,
    tuple[str, ...] | None,
    object,
]

_ENVELOPE_FORM = "stored envelope is not in canonical (RFC 8785) form"
_PAYLOAD_FORM = (
    "stored payload is not in canonical (RFC 8785) form, which the log refuses (JSON parsers"
    " may read such a payload differently)"
)


def _decoded(data: bytes, event_type: str) -> _Decoded:
    """A stored envelope decoded as the audit reads it: (key id, signature, the bytes it
    signs, why `data` is not in the log's form (None: the canonical envelope of a
    canonical payload), event, typed body if a governance event's, sealed part, the body's
    keys in the clear, sorted (None for governance), the recipients a sealed body names).
    In one pass when it is a plain event of its stored type in the log's form (`cut_leaf`,
    `typed_event`), else as `decode_entry` decodes it, whose EventRejected names every
    problem. The payload's form is checked as the append path checks it
    (`in_canonical_form`)."""
    cut = cut_leaf(data)
    if cut is not None:
        payload, keyid, sig, canonical = cut
        ev = typed_event(payload, event_type)
        if ev is not None:
            signed = pae(PAYLOAD_TYPE, payload)
            form = _form(canonical, payload)
            if EVENT_TYPES[event_type].governance:
                return keyid, sig, signed, form, ev, ev.body, None, None, None
            clear = tuple(sorted(ev.body.model_fields_set))
            return keyid, sig, signed, form, ev, None, None, clear, None
    d = decode_entry(data, check_canonical=False)
    env, ev = d.envelope, d.event
    head = (env.keyid, env.sig, env.signed_bytes(), _form(d.leaf == data, env.payload), ev)
    if d.etype.governance:
        return *head, d.body, None, None, None
    if d.sealed is None:  # neither reserved key: it would not have decoded
        return *head, None, None, tuple(sorted(ev.body)), None
    clear = tuple(sorted(k for k in ev.body if k not in (SEALED, RECIPIENTS)))
    return *head, None, d.sealed, clear, ev.body.get(RECIPIENTS)


def _form(envelope_canonical: bool, payload: bytes) -> str | None:
    """Why an entry is not in the log's form, or None."""
    if not envelope_canonical:
        return _ENVELOPE_FORM
    if not in_canonical_form(payload):
        return _PAYLOAD_FORM
    return None


def _check_entries(rows: list[Sequence[Any]]) -> list[_Checked]:
    """Everything about each entry that needs no sequential state: decoding, stored form,
    leaf hash, columns (the stored moment of its time too: what time filters compare),
    and the signature under the key its author and keyid name. `rows` are
    `LogReader.audited_rows`.

    The signatures are verified after every entry is decoded, one after another: each
    verification then finds libsodium's code and tables in the core's caches, where
    decoding an entry between two of them (pydantic's parser, the interpreter) would have
    evicted them (docs/performance.md, "The signatures of a chunk together")."""
    out: list[_Checked] = []
    signed_by: list[tuple[int, bytes, bytes, bytes]] = []  # (position in out, key, bytes, sig)
    seen_as: dict[_Seen, _Seen] = {}  # one object for equal ones (`_Seen`)
    for index, stored_leaf, event_id, event_type, author, time, envelope, _, at, _ in rows:
        try:
            keyid, sig, signed, form, ev, body, sealed, clear, named = _decoded(
                envelope, event_type
            )
        except EventRejected as x:
            why = f"envelope does not decode: {x}"
            out.append(_failed(index, why, event_type, author, time))
            continue
        failure = form or _stored_disagreement(
            envelope, stored_leaf, (event_type, event_id, time, author), at, ev
        )
        if failure is None and sealed is not None:
            failure = _sealed_form(sealed, named)
        seen = (ev.type, ev.author, keyid, clear, sealed is not None)
        seen = seen_as.setdefault(seen, seen)
        checked = (index, failure, seen, body, None, stored_leaf, ev.time)
        pk = _KEYS.get((ev.author, keyid))
        if pk is not None:  # else no key has that name: None, which `_admit` refuses
            signed_by.append((len(out), pk, signed, sig))
        out.append(checked)
    for position, pk, signed, sig in signed_by:
        index, failure, seen, body, _, stored_leaf, time = out[position]
        try:
            verify_ed25519(pk, signed, sig)
            sig_ok = True
        except InvalidSignature:
            sig_ok = False
        out[position] = (index, failure, seen, body, sig_ok, stored_leaf, time)
    return out


def _stored_disagreement(
    envelope: bytes, stored_leaf: bytes, columns: tuple[str, str, str, str], at: object, ev: Any
) -> str | None:
    """Why an entry's stored columns (leaf hash; type, id, time, author; the moment of its
    time) disagree with its envelope, or None."""
    if leaf_hash(envelope) != stored_leaf:
        return "stored leaf hash does not match the envelope"
    if (ev.type, ev.id, ev.time, ev.author) != columns:
        return "stored id, type, author or time disagree with the envelope"
    if at != from_rfc3339(ev.time):
        return f"stored moment {at!r} disagrees with the entry's time {ev.time}"
    return None


def _sealed_form(sealed: object, named: object = None) -> str | None:
    """Why a sealed part is not well formed with a box for the operator and for every
    recipient its body names (None if it is)."""
    try:
        to = check_form(sealed)
    except SealBroken as e:
        return f"the sealed part is malformed: {e}"
    if OPERATOR not in to:
        return f"the sealed part has no box for the {OPERATOR}"
    if named is not None:
        if not isinstance(named, list) or not all(isinstance(n, str) for n in named):
            return f"{RECIPIENTS} is not a list of party names"
        missing = sorted(set(named) - set(to))
        if missing:
            return f"the sealed part has no box for the recipients it names: {', '.join(missing)}"
    return None


def _confidentiality(checked: _Checked, authority: Authority) -> str | None:
    """Why a domain entry breaks its ledger's confidentiality (None if it does not): a
    sealed part in a ledger that is not confidential, or a field above public in the
    clear in one that is."""
    type_, author, _, clear, sealed = checked[2]
    if clear is None:
        return None
    if sealed and not authority.confidential:
        return "a sealed body in a ledger that is not confidential"
    if not authority.confidential:
        return None
    body_type: type[BaseModel] = EVENT_TYPES[type_].body
    marks = field_classes(body_type)
    role = authority.parties[author].role
    bad = [n for n in clear if n not in marks or marks[n].for_author(role) is not Class.PUBLIC]
    if bad:
        return f"in a confidential ledger, sent in the clear: {', '.join(sorted(bad))}"
    return None


def _named_keys(reader: LogReader) -> dict[tuple[str, str], bytes]:
    """Every (party, key id) -> public key that a governance entry names, first one kept.

    Only a lookup table for the workers: which key is valid where is still decided by the
    sequential Authority replay, and the audit checks the two agree.
    """
    keys: dict[tuple[str, str], bytes] = {}
    for e in reader.entries_of_types(GOVERNANCE_TYPES):
        try:
            body = decode_entry(e.envelope, check_canonical=False).body
        except EventRejected:
            continue  # the audit reports it at its index
        named: list[tuple[str, str]] = []
        if isinstance(body, GenesisBody):
            named = [(p.name, p.key) for p in body.parties]
        elif isinstance(body, PartyRegisteredBody):
            named = [(body.name, body.key)]
        elif isinstance(body, KeyRotatedBody):
            named = [(body.party, body.key)]
        for party, vkey in named:
            v = Verifier.from_vkey(vkey)
            keys.setdefault((party, v.key_id.hex()), v.public_key)
    return keys


def _admit(
    checked: _Checked,
    authority: Authority,
    keys: dict[tuple[str, str], bytes],
    judged: set[tuple[object, ...]],
) -> None:
    """The sequential part: key validity, role, governance rules; then apply.

    `judged` holds the (type, author, key id, fields in the clear, sealed) of the domain
    entries admitted since the last governance entry: the authority has not changed since,
    so such an entry passes as they did, but for its time (the author's mandate), which is
    checked anew. Empty it whenever a governance entry is applied."""
    index, failure, seen, body, sig_ok, _, time = checked
    if failure is not None:
        raise AuditFailure(index, failure)
    type_, author, keyid, _, _ = seen
    if body is None and sig_ok is True and seen in judged:
        if authority.parties[author].outside_mandate(time) is None:
            return
    event = _Head(type_, author, time)
    key = authority.key_for(event, body, keyid, index)
    problems = authority.check(event, EVENT_TYPES[type_], body, index)
    if isinstance(key, Problem):
        problems.insert(0, key)
    if problems:
        raise AuditFailure(index, "; ".join(str(p) for p in problems))
    assert isinstance(key, KeyRecord)
    if keys.get((author, keyid)) != key.public_key:
        raise AuditFailure(
            index,
            f"key {keyid} of {author}: the governance entries name it with another public key "
            "than the one the authority replay holds",
        )
    if sig_ok is not True:
        raise AuditFailure(index, "signature does not verify with the author's key")
    if (why := _confidentiality(checked, authority)) is not None:
        raise AuditFailure(index, why)
    authority.apply(body, index)
    if body is None:
        judged.add(seen)
    else:
        judged.clear()


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


def _check_batches(
    batches: Iterable[tuple[int | None, int, int, int]], checkpoints: Sequence[int]
) -> None:
    """The batches the entries record, (checkpoint size, first, last, count) by size, follow
    each other from entry 0 and each has its checkpoint stored; no other checkpoint is.
    `checkpoints` are the stored sizes in increasing order, walked beside the batches.
    (Their cosignatures and the witness records: `CosignatureAudit`.)"""
    boundary = 0
    at = 0  # the next stored checkpoint size not yet matched with a batch
    extra: int | None = None  # the smallest stored size that is no batch's
    for cp_size, first, last, count in batches:
        if cp_size is None:
            raise AuditFailure(
                first,
                f"entries {first}..{last} record no checkpoint: none was stored for their batch",
            )
        if type(cp_size) is not int:  # SQLite keeps any value: named, not a crash
            raise AuditFailure(
                first,
                f"entries {first}..{last} record the checkpoint size {echo_key(cp_size)}, "
                "which is no size",
            )
        if (first, last, count) != (boundary, cp_size - 1, cp_size - boundary):
            raise AuditFailure(
                first,
                f"entries {first}..{last} ({count}) record the checkpoint for size {cp_size}, "
                f"but the batch after the checkpoint for size {boundary} is entries "
                f"{boundary}..{cp_size - 1}",
            )
        while at < len(checkpoints) and checkpoints[at] < cp_size:
            extra = checkpoints[at] if extra is None else extra
            at += 1
        if at == len(checkpoints) or checkpoints[at] != cp_size:
            raise AuditFailure(
                last,
                f"the checkpoint for size {cp_size}, signed with entries {first}..{last}, "
                "is missing",
            )
        at += 1
        boundary = cp_size
    if extra is None and at < len(checkpoints):
        extra = checkpoints[at]
    if extra is not None:
        raise AuditFailure(
            max(extra - 1, 0),
            f"the checkpoint for size {extra} is at no batch boundary: no batch signed it",
        )


def _tile_set(size: int) -> Iterator[tuple[int, int, int]]:
    """(level, index, hashes stored) of every tile of a tree of `size`, by level then index."""
    for level, (full, width) in enumerate(tile_layout(size)):
        for index in range(full):
            yield level, index, STORED_FULL // HASH_SIZE
        if width:
            yield level, full, width


def _check_tile_set(tiles: Iterable[tuple[int, int, int]], size: int) -> int:
    """The stored tiles, (level, index, length in bytes) by level then index, are exactly
    those of a tree of `size` (each of its width), compared as two streams in that order:
    nothing held per tile. Returns how many."""
    stored = ((lv, ix, length // HASH_SIZE) for lv, ix, length in tiles)
    want = _tile_set(size)
    unexpected: list[tuple[tuple[int, int], int]] = []
    missing: list[tuple[tuple[int, int], int]] = []
    count = 0
    s, w = next(stored, None), next(want, None)
    while (s is not None or w is not None) and len(unexpected) + len(missing) < 3:
        if s is not None and (w is None or s[:2] < w[:2]):  # stored, not in the tree
            unexpected.append((s[:2], s[2]))
            s = next(stored, None)
        elif s is None or (w is not None and w[:2] < s[:2]):  # in the tree, not stored
            assert w is not None
            missing.append((w[:2], w[2]))
            w = next(want, None)
        else:  # the same tile: of the same width?
            assert w is not None
            if s[2] != w[2]:
                unexpected.append((s[:2], s[2]))
            count += 1
            s, w = next(stored, None), next(want, None)
    if unexpected or missing:
        raise AuditFailure(
            max(size - 1, 0),
            f"stored tiles do not match a tree of {size} entries: "
            f"unexpected (level, index): width {unexpected}; missing {missing}",
        )
    return count


def _batches(
    workers: ChunkWorkers[_Chunk] | None, reader: LogReader, size: int, chunk: int
) -> Iterator[_Chunk]:
    """Checked entries in log order: from the `workers` (started with the log), else here.

    Workers read their own ranges of indices below `size` through their own connection:
    entries of an append-only log never change, so every reader sees the same rows (and
    the parent still checks that the indices it gets back have no gap).
    """
    if workers is None:
        for start in range(0, size, chunk):
            yield _check_chunk(reader, start, min(start + chunk, size))
        return
    yield from workers.results(lambda start, end: _check_chunk(reader, start, end))


CHUNK = 8 * TILE_WIDTH
"""Entries a worker checks at a time, at most (`audit`): 2,048, eight bottom tiles, whose
checks against the stored tiles are the worker's (`check_bottom_tiles`)."""


TAIL_CHUNK = 32
"""The shortest of the last chunks (`ChunkWorkers`): they are shorter and shorter so that
the workers end together, and end at a bottom tile's end while they are a tile or longer;
a bottom tile that two chunks share is checked here, leaf by leaf."""


def audit(
    store: Store,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    chunk: int | None = None,
) -> AuditReport:
    """Audit the whole log. Returns an AuditReport; raises AuditFailure at the first bad entry.

    Per-entry checks run on `workers` processes (default: one per core) when the log
    spans more than two chunks (of `CHUNK` by default); the sequential checks run here,
    in log order. A chunk is `chunk` entries (default `CHUNK`), but for the last few, which
    are shorter and shorter (`ChunkWorkers`) so that the workers end together.
    """
    with store.read() as r, ExitStack() as stack:
        size = r.size()
        n_workers = workers or os.cpu_count() or 1
        if size <= 2 * (chunk or CHUNK):
            n_workers = 1  # starting the workers would cost more than they save
        chunk = chunk or CHUNK
        keys = _named_keys(r)
        _init_worker(keys)
        pool = None
        if n_workers >= 2:  # they open the very database this store is connected to
            pool = stack.enter_context(
                ChunkWorkers(
                    _check_range,
                    n_workers,
                    size,
                    chunk,
                    TAIL_CHUNK,
                    _init_worker,
                    (keys, store.url),
                    TILE_WIDTH,
                )
            )
        # The sizes only (8 bytes each); the checkpoints themselves are read in size order
        # as the replay reaches them: nothing held per checkpoint but its size.
        checkpoints = array("q", checkpoint_sizes(r))
        runs = _BatchRuns(checkpoints)
        stored = checkpoints_by_size(r)
        cp = next(stored, None)
        while cp is not None and cp.size < 1:  # reported below
            cp = next(stored, None)
        cosigned = CosignatureAudit(
            cosignatures_by_size(r),
            cosigned_sizes(r),
            lambda witness: witness_cosignatures(r, witness),
            r.witness_states(),
            checkpoints,
            AuditFailure,
        )
        authority = Authority()
        judged: set[tuple[object, ...]] = set()  # `_admit`'s
        tree = TreeAudit(r, AuditFailure)
        expected = 0
        sealed = 0
        for batch in _batches(pool, r, size, chunk):
            roots, tree_failure = batch.tile_roots, batch.tree_failure
            runs.add(batch.runs)
            for checked in batch.entries:
                index = checked[0]
                if index != expected:
                    raise AuditFailure(
                        expected, f"entry is missing (the next stored entry is {index})"
                    )
                _admit(checked, authority, keys, judged)
                if tree_failure is not None and tree_failure.at == index:
                    raise AuditFailure(tree_failure.first_leaf, tree_failure.reason)
                sealed += checked[2][4]
                # The worker matched the leaf hash to the envelope.
                tree.append(checked[5], roots.get(index >> TILE_HEIGHT))
                expected += 1
                if cp is not None and cp.size == expected:
                    _check_checkpoint(cp, tree.root(), authority)
                    cosigned.check_checkpoint(cp, authority.witness_policy)
                    cp = next(stored, None)
            if progress is not None:
                progress(expected, size)
        for cp_size in checkpoints:  # in increasing order
            if cp_size > expected or cp_size == 0:
                raise AuditFailure(
                    max(expected - 1, 0),
                    f"checkpoint for size {cp_size} but the log holds {expected} entries",
                )
        if not runs.all_batches():
            _check_batches(r.batches(), checkpoints)  # a full scan, to name what is wrong
        cosigned.finish()
        tile_count = _check_tile_set(tile_widths(r), expected)
    return AuditReport(
        size=expected,
        root_hash=tree.root(),
        checkpoints=len(checkpoints),
        tiles=tile_count,
        parties=len(authority.parties),
        keys=len(authority.keys),
        cosignatures=cosigned.count,
        sealed=sealed,
    )
