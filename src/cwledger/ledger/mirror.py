"""`cwledger mirror`: a complete, independent copy of a ledger from any C2SP tlog-tiles
source (`cwledger serve`'s `/log/`, or a directory `cwledger publish` wrote, behind any web
server), kept in its own store (SQLite, or PostgreSQL) and checked end to end.

One run:

1. fetch ``<prefix>/checkpoint`` (a prefix without one is tried again with ``/log``);
2. take the log key from the genesis entry (the first entry of the first bundle, or the
   mirror's own genesis once it holds one); a key pinned by the caller must be that key
   (a pinned key wins: anything else is refused); verify the checkpoint's signature, and,
   with witness keys pinned by the caller, that it holds their quorum of valid
   cosignatures (`tlog.monitor.open_checkpoint`), before anything is fetched;
3. check that the source's tiles hash to the signed root, and that the tree the source
   signed extends what the mirror holds (its root of the mirror's size is the mirror's own
   root): a smaller source (a rewind) or another root (a fork) is refused, naming the
   sizes, and nothing is written;
4. fetch the entry bundles from the mirror's size on, and store the entries through the
   ledger's own log path (`Ledger.extend_log`: entries and tiles), a chunk of bundles per
   transaction, each chunk's tiles compared with the source's. Before the last chunk is
   written, the witness policy the log's own governance puts in force for the signed tree
   (`witness.policy`, replayed from the entries held and fetched) is taken; without
   witness keys pinned, the checkpoint must hold that policy's quorum of valid
   cosignatures (a refusal then leaves the entries of the chunks before the last stored,
   checked against the log-signed tree, as an interrupted run does). The last chunk
   stores the checkpoint as the log signed it (the note with the log's signature only; a
   mirror cannot sign) with that policy's quorum, and each valid cosignature by a witness
   of that policy (`LogWriter.add_cosignature`, which keeps each witness's chain): the
   mirror serves the same cosigned checkpoint as its source. A source that has collected
   more cosignatures of a checkpoint the mirror holds gives them to the mirror too;
5. replay the book into its store (`projections.rebuild`) and run the whole audit of the
   log (`audit`: every envelope, signature, key, role, tile and checkpoint). (`cwledger
   verify` also compares the stored book with a replay: here the stored book *is* that
   replay, just written.) A confidential log's sealed bodies open only with the
   operator's encryption keys: a mirror whose keystore lacks them stores and audits the
   whole log (signatures, tiles, the form of every seal) but does not replay the book,
   which it leaves empty, and says so (`MirrorReport.book_unread`).

A run that stops (a crash, a network failure) resumes where it stopped: the entries
stored so far were each checked against a signed tree, and the next run checks that the
source's new checkpoint still extends them before it fetches anything else.

Pinned witness keys win over the log's policy: the checkpoint is refused only for lacking
their quorum. Cosignatures are stored only by witnesses of the log's own policy (the ones
its audit checks them against); a checkpoint holding fewer than that policy's quorum is
stored but not served (`LogReader.latest_checkpoint`) until a later run brings the rest,
as in the log itself.

The mirror cannot know when its source's log took each entry (`logged_at` is not in the
log): its entries' log times are unknown, and each stored checkpoint's `signed_at` is the
moment the mirror took it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from cwledger.book.registry import GOVERNANCE_TYPES
from cwledger.errors import EventRejected, MalformedInput, Unavailable, VerificationError
from cwledger.ledger.admission import decode_entry, replay_authority
from cwledger.ledger.audit import AuditReport, audit
from cwledger.ledger.database import DATABASE_URL_FILE, write_database_url
from cwledger.ledger.envelope import Envelope
from cwledger.ledger.fetch import fetch
from cwledger.ledger.ledger import Ledger, utc_now
from cwledger.ledger.projections import SealedUnread, rebuild
from cwledger.ledger.tile_bytes import resource_path, split_entry_bundle, width_in
from cwledger.model.events import GENESIS, GenesisBody
from cwledger.store import LogWriter, Store, StoredCheckpoint, StoredEntry
from cwledger.time import from_rfc3339
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.cosignature import CosignatureVerifier
from cwledger.tlog.hashing import HASH_SIZE, leaf_hash
from cwledger.tlog.monitor import (
    Cosignature,
    MonitorAlarm,
    Policy,
    open_checkpoint,
    valid_cosignatures,
)
from cwledger.tlog.note import Verifier
from cwledger.tlog.tiled import TiledTree
from cwledger.tlog.tiles import FULL_ROW, TILE_WIDTH, TileRef

__all__ = ["InconsistentSource", "MirrorReport", "TileSource", "mirror"]

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total)."""

BUNDLES_PER_CHUNK = 32
"""Entry bundles stored per write transaction (8,192 entries)."""
FETCHERS = 8
"""Concurrent requests to the source."""
MAX_RESOURCE = TILE_WIDTH * (2 + 65_535)
"""No tlog-tiles resource is larger than a full bundle of the largest entries."""


class InconsistentSource(VerificationError):
    """The source's signed tree does not extend what the mirror holds: a rewind or a fork."""

    code = "inconsistent-source"


@dataclass(frozen=True)
class MirrorReport:
    """What a mirror run did, and what the audit of the result found."""

    source: str  # the tlog-tiles prefix read
    size: int
    root_hash: bytes
    held_before: int
    fetched: int  # entries fetched and stored by this run
    log_vkey: str
    pinned: bool  # the log key was pinned by the caller (else: the genesis's, trusted)
    witnesses_pinned: bool  # the witness policy was pinned (else: the log's governance's)
    policy: Policy  # the witness policy the checkpoint was checked with (the log key's too)
    cosigned_by: tuple[str, ...]  # its witnesses with a valid cosignature (by name)
    log_quorum_met: bool  # the checkpoint holds the log's own quorum: the mirror serves it
    cosignatures_stored: int  # by this run
    audit: AuditReport
    book_unread: str | None = None  # why the book was not replayed (a sealed log, no key)

    @property
    def book_replayed(self) -> bool:
        """The book was replayed from the log (not left empty for lack of a key)."""
        return self.book_unread is None


class TileSource:
    """A tlog-tiles prefix over HTTP(S), read with urllib (gzip accepted)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.prefix = url.rstrip("/")
        self.timeout = timeout

    def get(self, path: str) -> bytes | None:
        """The resource at `prefix/path`; None for a 404. Raises Unavailable otherwise."""
        return fetch(f"{self.prefix}/{path}", MAX_RESOURCE, self.timeout)

    def need(self, path: str) -> bytes:
        """The resource at `prefix/path`; Unavailable when the source does not serve it."""
        data = self.get(path)
        if data is None:
            raise Unavailable(f"{self.prefix}/{path}: not found (HTTP 404)")
        return data

    def resolve(self) -> bytes:
        """The checkpoint's bytes; the prefix becomes `<url>/log` when only that serves one
        (the URL of a `cwledger serve`)."""
        found = self.get("checkpoint")
        if found is None:
            found = self.get("log/checkpoint")
            if found is None:
                raise Unavailable(f"no checkpoint at {self.prefix}/checkpoint nor under /log/")
            self.prefix += "/log"
        return found


class _SourceTree:
    """The source's tiles of its tree of `size`, fetched once each, for a TiledTree."""

    def __init__(self, source: TileSource, size: int) -> None:
        self.source = source
        self.size = size
        self.rows: dict[tuple[int, int], bytes] = {}

    def fetch(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The rows of tiles `keys` in the source's tree (absent ones left out)."""
        keys = list(keys)
        todo = [k for k in set(keys) if k not in self.rows]
        refs = []
        for level, index in todo:
            width = width_in(TileRef(level, index, TILE_WIDTH), self.size)
            if width:
                refs.append(TileRef(level, index, width))
        with ThreadPoolExecutor(FETCHERS) as pool:
            bodies = list(pool.map(lambda ref: self.source.need(resource_path(ref)), refs))
        for ref, body in zip(refs, bodies, strict=True):
            assert ref.level is not None
            if len(body) != ref.width * HASH_SIZE:
                raise VerificationError(
                    f"{self.source.prefix}/{resource_path(ref)}: {len(body)} bytes,"
                    f" want {ref.width * HASH_SIZE}"
                )
            self.rows[(ref.level, ref.index)] = body
        return {k: self.rows[k] for k in keys if k in self.rows}

    def forget(self, keys: Iterable[tuple[int, int]]) -> None:
        """Drop the rows of tiles `keys` (fetched again if ever asked for): the mirror keeps
        the level-0 tiles of one chunk at a time, not one per 256 entries of the log."""
        for key in keys:
            self.rows.pop(key, None)


def _open_store(out_dir: Path, database_url: str | None) -> Store:
    url_file = out_dir / DATABASE_URL_FILE
    if database_url is None and url_file.is_file():
        database_url = url_file.read_text().strip()
    out_dir.mkdir(parents=True, exist_ok=True)
    if database_url is None:
        return Store.for_directory(out_dir)
    if make_url(database_url).get_backend_name() != "sqlite" and (out_dir / "ledger.db").exists():
        raise VerificationError(f"{out_dir} already holds a ledger in its own ledger.db")
    store = Store.open(database_url)
    if not url_file.is_file():
        write_database_url(out_dir, database_url)
    return store


def _genesis_key(envelope: bytes, where: str) -> tuple[str, str]:
    """(origin, log vkey) of a genesis entry's envelope."""
    try:
        d = decode_entry(envelope, check_canonical=False)
    except EventRejected as e:
        raise VerificationError(f"{where}: the first entry does not decode: {e}") from e
    if d.event.type != GENESIS or not isinstance(d.body, GenesisBody):
        raise VerificationError(f"{where}: the first entry is {d.event.type}, not the genesis")
    return d.body.origin, d.body.log_key


def _stored(index: int, envelope: bytes, where: str) -> StoredEntry:
    """The entry as the store keeps it: the columns read from the envelope's payload (the
    audit then decodes and checks every entry in full, columns included)."""
    try:
        event = json.loads(Envelope.from_bytes(envelope).payload)
        columns = [event["id"], event["type"], event["author"], event["time"]]
        if not all(isinstance(c, str) for c in columns):
            raise ValueError("id, type, author and time must be strings")
        from_rfc3339(columns[3])
    except (MalformedInput, ValueError, KeyError, TypeError) as e:
        raise VerificationError(f"{where}: entry {index} does not decode: {e}") from e
    eid, etype, author, time = columns
    return StoredEntry(index, leaf_hash(envelope), eid, etype, author, time, envelope)


def mirror(
    url: str,
    out_dir: Path,
    *,
    database_url: str | None = None,
    log_key: str | None = None,
    witnesses: Sequence[str] | None = None,
    quorum: int | None = None,
    progress: Progress | None = None,
) -> MirrorReport:
    """Mirror the tlog-tiles log at `url` into the ledger directory `out_dir` (created, or
    extended), then audit it. `witnesses` and `quorum` pin the witness policy (pinned
    witnesses without a quorum: all of them); without them, the log's own governance names
    it. Raises InconsistentSource (a rewind or a fork: nothing written), VerificationError
    (a bad signature, tile or entry; a log key that is not the pinned one; a checkpoint
    without the quorum of valid cosignatures, naming the witnesses missing), Unavailable
    (the source cannot be read), MalformedInput (a bad pinned key or quorum)."""
    if witnesses is None and quorum is not None:
        raise MalformedInput("a quorum is pinned only with the witness keys it counts")
    if witnesses is not None:
        witnesses = tuple(witnesses)
        for vkey in witnesses:
            CosignatureVerifier.from_vkey(vkey)  # a bad key: refused before anything else
        Policy("", witnesses, len(witnesses) if quorum is None else quorum)
    source = TileSource(url)
    note = source.resolve()
    text = note.decode("utf-8", errors="replace")
    unsigned = Checkpoint.from_text(text[: text.find("\n\n") + 1] if "\n\n" in text else text)
    n = unsigned.size
    ledger = Ledger(out_dir, _open_store(out_dir, database_url), Ledger._keystore(out_dir))
    try:
        return _mirror(ledger, source, note, n, log_key, witnesses, quorum, progress)
    finally:
        ledger.close()


@dataclass(frozen=True)
class _Sealed:
    """The checkpoint to store (the log-signed note, the log policy's quorum) and the
    valid cosignatures of it by that policy's witnesses."""

    checkpoint: StoredCheckpoint
    cosignatures: tuple[Cosignature, ...]
    policy: Policy  # the log's own, for this tree
    cosigned_by: tuple[str, ...]  # the names of its witnesses that cosigned

    def store(self, w: LogWriter, *, new: bool) -> int:
        """Store the checkpoint (when `new`) and the cosignatures not stored yet; how many."""
        if new:
            w.insert_checkpoint(self.checkpoint)
        return sum(
            w.add_cosignature(self.checkpoint.size, c.witness, c.line, c.timestamp)
            for c in self.cosignatures
        )


def _refused(where: str, alarm: MonitorAlarm, whose: str) -> VerificationError:
    return VerificationError(f"{where}: the checkpoint is refused ({whose}): {alarm}")


def _seal(
    note: bytes,
    checkpoint: Checkpoint,
    log_vkey: str,
    governance: Iterable[tuple[int, bytes]],
    pinned: Policy | None,
    where: str,
) -> _Sealed:
    """What to store of the source's checkpoint, with the witness policy the log's
    governance (`governance`: its entries below the checkpoint's size) puts in force for
    its tree. Without a pinned policy, the checkpoint must hold that policy's quorum:
    raises VerificationError naming the witnesses missing."""
    log_policy = replay_authority(governance).witness_policy
    policy = Policy(log_vkey, log_policy.keys, log_policy.quorum)
    if pinned is None:
        try:
            open_checkpoint(note, policy, origin=checkpoint.origin)
        except MonitorAlarm as e:
            raise _refused(where, e, "the witness policy the log's governance names") from e
    verifier = Verifier.from_vkey(log_vkey)
    _, opened = Checkpoint.from_note(
        note, [verifier], origin=checkpoint.origin, log_key_name=verifier.name
    )
    signed = opened.text + "\n" + "".join(sig.line + "\n" for sig in opened.sigs)
    verifiers = [CosignatureVerifier.from_vkey(k) for k in policy.witnesses]
    # each cosignature under its witness's key as the policy spells it (as the log stores it)
    spelled = {v.vkey(): (k, v.name) for k, v in zip(policy.witnesses, verifiers, strict=True)}
    valid = valid_cosignatures(opened.text, note, verifiers)
    cosignatures = tuple(dataclasses.replace(c, witness=spelled[c.witness][0]) for c in valid)
    stored = StoredCheckpoint(
        checkpoint.size, checkpoint.root_hash, signed, utc_now(), quorum=policy.quorum
    )
    names = tuple(spelled[c.witness][1] for c in valid)
    return _Sealed(stored, cosignatures, policy, names)


def _mirror(
    ledger: Ledger,
    source: TileSource,
    note: bytes,
    n: int,
    pinned: str | None,
    witnesses: tuple[str, ...] | None,
    quorum: int | None,
    progress: Progress | None,
) -> MirrorReport:
    where = source.prefix
    first_bundle: bytes | None = None
    with ledger.store.read() as r:
        held = r.size()
        held_cp = r.newest_checkpoint()
        held_root = ledger.tree(r, held).root() if held else None
        genesis = r.entries(0, 1)
        governance = [(e.index, e.envelope) for e in r.entries_of_types(GOVERNANCE_TYPES)]
    if genesis:
        origin, vkey = _genesis_key(genesis[0].envelope, str(ledger.path))
    else:
        if n == 0:
            raise VerificationError(f"{where}: the source's checkpoint is of an empty log")
        first_bundle = source.need(resource_path(TileRef(None, 0, min(n, TILE_WIDTH))))
        entries = split_entry_bundle(first_bundle, min(n, TILE_WIDTH), f"{where} bundle 0")
        origin, vkey = _genesis_key(entries[0], where)
    if pinned is not None and Verifier.from_vkey(pinned).vkey() != vkey:
        raise VerificationError(
            f"the log key pinned ({pinned}) is not the one the genesis names ({vkey}); refused"
        )
    pinned_policy = None
    if witnesses is not None:
        pinned_policy = Policy(vkey, witnesses, len(witnesses) if quorum is None else quorum)
    try:  # the log's signature (and the pinned witnesses' quorum) before anything else
        signed = open_checkpoint(note, pinned_policy or Policy(vkey), origin=origin)
    except MonitorAlarm as e:
        raise _refused(where, e, "pinned keys" if e.kind == "quorum" else "the log key") from e
    if n < held:
        raise InconsistentSource(
            f"the source's checkpoint is for {n} entries but this mirror holds {held}:"
            " the source was rewound (or forked); refused, nothing written"
        )
    tiles = _SourceTree(source, n)
    tree = TiledTree(n, tiles.fetch)
    if tree.root() != signed.checkpoint.root_hash:
        raise VerificationError(
            f"{where}: the tiles do not hash to the signed root of size {n}"
            f" ({tree.root().hex()}, signed {signed.checkpoint.root_hash.hex()})"
        )
    if held and tree.root(held) != held_root:
        raise InconsistentSource(
            f"the source's tree of size {n} does not extend the {held} entries this mirror"
            f" holds (its root of size {held} is {tree.root(held).hex()}, here"
            f" {held_root.hex() if held_root else ''}): a fork; refused, nothing written"
        )

    def seal(fetched: Iterable[tuple[int, bytes]]) -> _Sealed:
        return _seal(note, signed.checkpoint, vkey, [*governance, *fetched], pinned_policy, where)

    if n == held:
        sealed = seal(())
        with ledger.store.write() as w:
            added = sealed.store(w, new=held_cp is None or held_cp.size < n)
    else:
        sealed, added = _fetch_entries(ledger, source, tiles, held, n, seal, first_bundle, progress)
    unread = None
    # A confidential log's book is replayed on every run: whether it can be depends on the
    # keys at hand now (a run with nothing new still says whether the book was replayed).
    if held != n or held_cp is None or held_cp.size < n or ledger.authority().confidential:
        try:
            keys = ledger.operator_keys()
            rebuild(ledger.store, _stage(progress, "replaying the book", n), keys)
        except SealedUnread as e:
            unread = str(e)
    report = audit(
        ledger.store,
        progress=None if progress is None else lambda d, t: progress("verifying", d, t),
    )
    checked = sealed.policy if pinned_policy is None else pinned_policy
    return MirrorReport(
        source=where,
        size=n,
        root_hash=signed.checkpoint.root_hash,
        held_before=held,
        fetched=n - held,
        log_vkey=vkey,
        pinned=pinned is not None,
        witnesses_pinned=pinned_policy is not None,
        policy=checked,
        cosigned_by=signed.cosigned_by if pinned_policy is not None else sealed.cosigned_by,
        log_quorum_met=len(sealed.cosignatures) >= sealed.policy.quorum,
        cosignatures_stored=added,
        audit=report,
        book_unread=unread,
    )


def _stage(progress: Progress | None, name: str, total: int) -> Callable[[int], None] | None:
    if progress is None:
        return None
    done = [0]

    def advance(k: int) -> None:
        done[0] += k
        progress(name, done[0], total)

    return advance


def _fetch_entries(
    ledger: Ledger,
    source: TileSource,
    tiles: _SourceTree,
    held: int,
    n: int,
    seal: Callable[[Iterable[tuple[int, bytes]]], _Sealed],
    first_bundle: bytes | None,
    progress: Progress | None,
) -> tuple[_Sealed, int]:
    """Fetch entries held..<n bundle by bundle and store them, a chunk per transaction,
    every tile they make compared with the source's; the checkpoint with the last chunk,
    as `seal` makes it from the governance entries fetched (before that chunk is written:
    a refusal leaves it out). Returns what was sealed and how many cosignatures stored."""
    where = source.prefix
    first, last = held // TILE_WIDTH, (n - 1) // TILE_WIDTH
    size = held
    governance: list[tuple[int, bytes]] = []
    sealed: _Sealed | None = None
    added = 0
    for start in range(first, last + 1, BUNDLES_PER_CHUNK):
        refs = [
            TileRef(None, i, width_in(TileRef(None, i, TILE_WIDTH), n))
            for i in range(start, min(start + BUNDLES_PER_CHUNK, last + 1))
        ]

        def get(ref: TileRef) -> bytes:
            if ref.index == 0 and first_bundle is not None:
                return first_bundle
            return source.need(resource_path(ref))

        with ThreadPoolExecutor(FETCHERS) as pool:
            bodies = list(pool.map(get, refs))
        entries: list[StoredEntry] = []
        for ref, body in zip(refs, bodies, strict=True):
            what = f"{where}/{resource_path(ref)}"
            for k, envelope in enumerate(split_entry_bundle(body, ref.width, what)):
                index = ref.index * TILE_WIDTH + k
                if index >= size:
                    entries.append(_stored(index, envelope, what))
        tiles.fetch({(0, ref.index) for ref in refs})  # the level-0 tiles, concurrently
        governance += [(e.index, e.envelope) for e in entries if e.event_type in GOVERNANCE_TYPES]
        if refs[-1].index == last:
            sealed = seal(governance)
        with ledger.store.write() as w:
            if size == held:
                # Entries a run interrupted before its checkpoint left behind belong to
                # this run's batch: its checkpoint (size n) is the one stored for them.
                w.adopt_unsigned_entries(n)
            compact, written = ledger.extend_log(w, size, entries, checkpoint_size=n)
            wanted = tiles.fetch(set(written))
            for (level, index), row in sorted(written.items()):
                ours = row[:FULL_ROW]
                theirs = wanted.get((level, index), b"")
                if theirs[: len(ours)] != ours:
                    raise VerificationError(
                        f"{where}: tile {level}/{index} does not match the hashes of the"
                        f" entries it covers (entries {size}..{compact.size})"
                    )
            if compact.size == n:
                assert sealed is not None  # the last chunk ends at n
                if compact.root() != sealed.checkpoint.root_hash:  # tiles matched: unreachable
                    raise VerificationError(f"{where}: the entries do not hash to the signed root")
                added = sealed.store(w, new=True)
        tiles.forget((0, ref.index) for ref in refs)  # each chunk has bundles of its own
        size = compact.size
        if progress is not None:
            progress("fetching", size, n)
    assert sealed is not None
    return sealed, added
