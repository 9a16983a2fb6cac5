"""A ledger: a directory holding the log's store and the local keystore, and the append path.

Append, in one write transaction: decode and validate every envelope -> check each
signature and that its key is valid for its author at its index -> authorise the role
-> in a confidential ledger, open each sealed body with the operator's key and judge it
(``cwledger.ledger.confidential``) -> apply the book's rules (``cwledger.book``) ->
insert the entries and their tiles -> sign a checkpoint for the new size -> write the
book's changes -> commit.
Any problem in a batch refuses the whole batch and writes nothing; an envelope already
in the log returns its first receipt and adds nothing.

Time: the log reads its own clock (`Ledger.clock`) once per batch, inside the write
transaction, refuses an event whose time is more than `Ledger.max_skew` after it (the
future cannot be written), and records it with every entry as the entry's log time
(`logged_at`; not part of the signed event). An entry whose event time is more than
`LATE_AFTER` before its log time was recorded late (`cwledger late-entries`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cwledger.book.book import Book, Context
from cwledger.book.registry import GOVERNANCE_TYPES
from cwledger.errors import (
    ConflictError,
    EventForbidden,
    EventRejected,
    LedgerNotFound,
    MalformedInput,
    Problem,
    Unavailable,
    echo,
)
from cwledger.ledger.admission import (
    DecodedEntry,
    Receipt,
    authorise,
    decode_entry,
    replay_authority,
)
from cwledger.ledger.authority import Authority, approval_statement
from cwledger.ledger.canonical import canonical_json
from cwledger.ledger.confidential import (
    OPERATOR,
    KeyLookup,
    seal_body,
    unseal,
    unsealed,
    whole_body,
)
from cwledger.ledger.database import (
    DATABASE_URL_FILE,
    existing_store,
    read_database_url,
    shown_url,
    write_database_url,
)
from cwledger.ledger.envelope import sign_event
from cwledger.ledger.keystore import CHECKPOINT_SIGNER, Keystore
from cwledger.ledger.sealing import SealGroup
from cwledger.ledger.sharing import check_share, entry_at, share_events
from cwledger.ledger.signatures import SignatureJob, SignatureProcesses, signatures_checked
from cwledger.model.enckeys import DecryptionKey
from cwledger.model.events import ENCRYPTION_KEY_SET, GENESIS, KEY_ROTATED, Event, Role
from cwledger.store import LogReader, LogWriter, Store, StoredCheckpoint, StoredEntry
from cwledger.time import clock, from_rfc3339, rfc3339
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.compact import CompactRange
from cwledger.tlog.hashing import leaf_hash
from cwledger.tlog.note import Signer, sign
from cwledger.tlog.tiled import NodeMemo, TiledTree

__all__ = ["Ledger", "utc_now", "MAX_SKEW", "LATE_AFTER"]

MAX_SKEW = 5 * 60 * 1_000_000
"""How far (µs) an event's time may be after the log's clock by default: five minutes of
clock difference between a party and the log. Anything later is refused."""

LATE_AFTER = 7 * 86_400 * 1_000_000
"""How far (µs) an event's time may be before the moment the log took it by default
before the entry counts as recorded late: seven days."""


def utc_now() -> str:
    """The current time as RFC 3339 UTC with a Z, to the second."""
    return rfc3339(clock())


def _at(i: int, p: Problem) -> Problem:
    return Problem(f"event[{i}]" + (f".{p.location}" if p.location else ""), p.message)


def _in_future(event: Event, at: int, now: int, max_skew: int) -> list[Problem]:
    """The event's time (`at`) is more than `max_skew` after the log's clock `now`: refused."""
    if at <= now + max_skew:
        return []
    return [
        Problem(
            "payload.time",
            f"{event.time} is in the future: the log's clock reads {rfc3339(now)} and takes"
            f" events at most {max_skew // 1_000_000} s ahead of it",
        )
    ]


def _order(p: Problem) -> int:
    """Problems in batch order, by the position i in `event[i]...`."""
    return int(p.location[6 : p.location.index("]")])


def _same_event(stored: bytes, d: DecodedEntry, key: KeyLookup) -> bool:
    """Whether a stored envelope carries the same type, author and body as `d` (a sealed
    body compared opened: each seal has its own salt)."""
    s = decode_entry(stored, check_canonical=False)
    if (s.event.type, s.event.author) != (d.event.type, d.event.author):
        return False
    if s.sealed is None and d.sealed is None:
        return s.event.body == d.event.body
    body = whole_body(s, key)
    return body is not None and body == whole_body(d, key)


def _not_theirs(
    decoded: Sequence[tuple[int, DecodedEntry]], submitter: str, role: Role | None
) -> list[Problem]:
    """Why each event is not `submitter`'s to write: another author, or a type its role
    (as the batch began) does not author (governance events are the authority's to judge)."""
    out = []
    for i, d in decoded:
        author, etype = d.event.author, d.etype
        if author != submitter:
            out.append(
                _at(
                    i,
                    Problem(
                        "payload.author", f"authored by {echo(author)}, sent by {echo(submitter)}"
                    ),
                )
            )
        elif not etype.governance and role not in etype.authors:
            roles = ", ".join(sorted(etype.authors))
            out.append(
                _at(i, Problem("payload.type", f"{etype.name} is written by {roles}, not {role}"))
            )
    return out


CHUNK = 256
"""Envelopes decoded and judged at a time by `Ledger.append`."""


@dataclass
class _Batch:
    """One `Ledger.append` in progress: what it has admitted so far, and its problems."""

    size: int  # the log's size when the batch began
    now: int  # the log time of the whole batch (µs), read under the write lock
    authority: Authority
    book: Book
    count: int  # envelopes in the batch
    operator_key: KeyLookup  # opens sealed bodies
    new: list[StoredEntry] = field(default_factory=list)
    by_leaf: dict[bytes, Receipt] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    jobs: list[SignatureJob] = field(default_factory=list)  # by position in the batch
    keyids: dict[int, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    receipts: list[Receipt | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.receipts = [None] * self.count

    @property
    def next_index(self) -> int:
        """The log index the next admitted entry takes."""
        return self.size + len(self.new)

    def decode(
        self, envelopes: Sequence[bytes | str], start: int, stop: int
    ) -> list[tuple[int, DecodedEntry]]:
        """Decode envelopes[start:stop]; their problems join the batch's."""
        out = []
        for i in range(start, min(stop, len(envelopes))):
            try:
                out.append((i, decode_entry(envelopes[i])))
            except EventRejected as e:
                self.problems += [_at(i, p) for p in e.problems]
        return out

    def check_signature(self, i: int, d: DecodedEntry, public_key: bytes, key_id: str) -> None:
        """Queue envelope i's signature for the check at the end of the batch."""
        self.jobs.append((i, public_key, d.envelope.signed_bytes(), d.envelope.sig))
        self.keyids[i] = key_id


def _party(
    name: str,
    role: Role,
    vkey: str,
    enc_key: str,
    mandate: tuple[str | None, str | None] | None,
) -> dict[str, Any]:
    """A founding party in the genesis, with its encryption key: its mandate's ends only
    where it has them (so a genesis without mandates stays as it always was)."""
    out: dict[str, Any] = {"name": name, "role": role, "key": vkey, "enc_key": enc_key}
    if mandate is not None:
        start, until = mandate
        if start is not None:
            out["mandate_from"] = start
        if until is not None:
            out["mandate_until"] = until
    return out


class Ledger:
    """A ledger: its store (the directory's `ledger.db`, or the database its `database.url`
    names) and `keys/` (this machine's keystore).

    `clock` is the log's own clock (a moment now; `cwledger.time.clock` unless a test or a
    replay of history injects another), `max_skew` how far after it an event's time may
    be (µs, `MAX_SKEW` by default) and `late_after` how far before its log time an event's
    time may be before the entry counts as recorded late (µs, `LATE_AFTER` by default)."""

    def __init__(
        self,
        path: Path,
        store: Store,
        keystore: Keystore,
        *,
        clock: Callable[[], int] = clock,
        max_skew: int = MAX_SKEW,
        late_after: int = LATE_AFTER,
    ) -> None:
        self.path = path
        self.store = store
        self.keystore = keystore
        self.clock = clock
        self.max_skew = max_skew
        self.late_after = late_after
        self._nodes = NodeMemo()  # perfect nodes never change: shared by every proof
        self._signature_processes = SignatureProcesses()  # started by a batch of chunks
        self._signing_authority: tuple[int, Authority] | None = None  # `sign`'s, by log size
        # Called after each commit that added entries (the server's `Witnessing.poke`).
        self.after_append: Callable[[], None] | None = None

    # -- opening -------------------------------------------------------------------------

    @staticmethod
    def _keystore(path: Path) -> Keystore:
        return Keystore(Path(os.environ.get("CWLEDGER_KEYSTORE") or path / "keys"))

    @classmethod
    def open(cls, path: Path, database_url: str | None = None) -> Ledger:
        """Open an existing ledger. Raises LedgerNotFound.

        The database is `database_url` when given (``sqlite:///...`` or
        ``postgresql+psycopg://...``); else the directory's own `ledger.db` (SQLite); else
        the one its `database.url` names. The keys are in `path/keys` (or
        $CWLEDGER_KEYSTORE) either way. A database reached by URL must hold a ledger: its
        schema and at least the genesis entry.
        """
        if database_url is None and (path / "ledger.db").is_file():
            ledger = cls(path, Store.for_directory(path), cls._keystore(path))
        else:
            url = database_url if database_url is not None else read_database_url(path)
            ledger = cls(path, existing_store(url, path), cls._keystore(path))
        try:
            ledger.settle_keys()
        except BaseException:
            ledger.close()
            raise
        return ledger

    @classmethod
    def init(
        cls,
        path: Path,
        origin: str,
        *,
        founding: Sequence[tuple[str, Role]] = (),
        time: str | None = None,
        key_seed: bytes | None = None,
        database_url: str | None = None,
        quorum: int | None = None,
        log_clock: Callable[[], int] = clock,
        mandates: Mapping[str, tuple[str | None, str | None]] | None = None,
        confidential: bool = False,
    ) -> Ledger:
        """Create a ledger: operator and checkpoint keys, founding parties (each with a
        signing and an encryption key), the genesis entry.

        `key_seed` derives every key from a seed instead of drawing it at random: the same
        seed gives the same keys, entries and roots. For demonstration and synthetic
        ledgers only (anyone who knows the seed can sign as any party).
        `database_url` puts the log in that database (its schema is created there) instead
        of `path/ledger.db`; `path/database.url` records it, and `path/keys` holds the keys.
        `quorum` is how many founding parties must approve a key installed for a party
        that lost its own (default, left out of the genesis: a majority of the founding
        parties other than the one concerned). `log_clock` is the new ledger's clock
        (`Ledger.clock`). `mandates` gives a founding party its mandate, (from, until) as
        RFC 3339 times, either None for open: the span of event times in which it writes.
        `confidential` makes a confidential ledger: its genesis says so, and every field
        above public of every event is sealed (``cwledger.ledger.confidential``).
        Raises ConflictError if `path` already holds a ledger, or the database already
        holds entries.
        """
        url_file = path / DATABASE_URL_FILE
        if (path / "ledger.db").exists():
            raise ConflictError(f"{path} already holds a ledger")
        if url_file.exists() and (
            database_url is None or url_file.read_text().strip() != database_url
        ):
            raise ConflictError(
                f"{path} already holds a ledger (in the database its {url_file.name} names)"
            )
        store = None
        if database_url is not None:
            store = Store.open(database_url)
            with store.read() as r:
                size = r.size()
            if size:
                store.close()
                shown = shown_url(database_url)
                raise ConflictError(f"the database {shown} already holds a ledger ({size} entries)")
        path.mkdir(parents=True, exist_ok=True)
        if database_url is not None:
            write_database_url(path, database_url)
        keystore = cls._keystore(path)
        seed = key_seed
        parties: list[tuple[str, Role, Signer]] = [
            ("operator", "operator", keystore.create("operator", "operator", seed=seed))
        ]
        parties += [(name, role, keystore.create(name, role, seed=seed)) for name, role in founding]
        log_signer = keystore.create(CHECKPOINT_SIGNER, "log", key_name=origin, seed=seed)
        enc = {n: keystore.create_encryption_key(n, seed=seed).public for n, _, _ in parties}
        body: dict[str, Any] = {
            "origin": origin,
            "log_key": log_signer.vkey(),
            "parties": [
                _party(n, r, s.vkey(), enc[n].string(), (mandates or {}).get(n))
                for n, r, s in parties
            ],
            "registrars": ["operator"],
        }
        if quorum is not None:  # absent, the default: every older genesis stays as it was
            body["quorum"] = quorum
        if confidential:  # likewise: absent is not confidential
            body["confidential"] = True
        genesis = Event(
            type=GENESIS,
            id="genesis",
            time=time or rfc3339(log_clock()),
            author="operator",
            body=body,
        )
        ledger = cls(path, store or Store.for_directory(path), keystore, clock=log_clock)
        ledger.append([sign_event(genesis, parties[0][2]).to_bytes()])
        return ledger

    def close(self) -> None:
        """Release the store, and end the signature checking processes (if started)."""
        self._signature_processes.close()
        self.store.close()

    # -- reading -------------------------------------------------------------------------

    @staticmethod
    def authority_of(reader: LogReader) -> Authority:
        """Parties, roles and keys as the log says now."""
        return replay_authority(
            (e.index, e.envelope) for e in reader.entries_of_types(GOVERNANCE_TYPES)
        )

    def authority(self) -> Authority:
        """Parties, roles and keys as the log says now."""
        with self.store.read() as r:
            return self.authority_of(r)

    def tree(self, reader: LogReader, size: int | None = None) -> TiledTree:
        """The stored tree (of `size` leaves, default all) in `reader`'s transaction."""
        return TiledTree(reader.size() if size is None else size, reader.tiles, self._nodes)

    # -- appending -----------------------------------------------------------------------

    def sign(
        self, events: Sequence[dict[str, Any]], party: str, recipients: Sequence[str] = ()
    ) -> list[bytes]:
        """Sign raw events as `party` (filling author); the envelopes' bytes, ready to append.
        In a confidential ledger each body's fields above public are sealed first
        (``confidential.seal_body``), with `recipients` named in each body that seals
        something, one `SealGroup` for the call."""
        signer = self.keystore.signer(party)
        authority = self._authority_to_sign()
        group = SealGroup()
        out = []
        for i, raw in enumerate(events):
            try:
                event = Event.model_validate({"author": party, **raw})
            except ValueError as e:
                raise EventRejected([Problem(f"event[{i}]", str(e))]) from e
            if authority.confidential:
                body = seal_body(authority, event.type, party, event.body, recipients, group=group)
                event = event.model_copy(update={"body": body})
            elif recipients:
                raise MalformedInput("this ledger is not confidential: it seals nothing to name")
            out.append(sign_event(event, signer).to_bytes())
        return out

    def _authority_to_sign(self) -> Authority:
        """The authority as the log stands, for `sign` (which only reads it): replayed again
        only once the log has grown, since a log that has not grown has the same
        governance. A caller that signs one event at a time (the scenario, the command
        line's single events) read the whole governance from the store for each until
        2026-12."""
        with self.store.read() as r:
            size = r.size()
            held = self._signing_authority
            if held is not None and held[0] == size:
                return held[1]
            authority = self.authority_of(r)
        self._signing_authority = (size, authority)
        return authority

    def share(self, entries: Sequence[int], party: str, sender: str) -> list[Receipt]:
        """Share earlier sealed `entries` with `party` as `sender` (`sharing.share_events`)."""
        with self.store.read() as r:
            key = self.keystore.decryption_keys(sender)
            raws = share_events(r, self.authority_of(r), entries, party, sender, key)
        now = rfc3339(self.clock())
        return self.append(self.sign([{**raw, "time": now} for raw in raws], sender))

    def operator_keys(self) -> KeyLookup:
        """The operator's decryption keys in this keystore by hex key id (None for a key it
        lacks), each read once: what opens sealed bodies."""
        return self.keystore.decryption_keys(OPERATOR)

    def append(
        self, envelopes: Sequence[bytes | str], *, submitter: str | None = None
    ) -> list[Receipt]:
        """Append a batch of DSSE envelopes; all or nothing. Returns a receipt per envelope.

        `submitter` is the party sending the batch (the API's authenticated caller): every
        event must then be authored by it, and be of a type its role authors.
        Raises EventRejected (nothing written) listing every problem of every envelope;
        EventForbidden when some event is not the submitter's to write.

        Memory is bounded by the chunk, not the batch: envelopes are decoded `CHUNK` at a
        time and only what the log stores (and the book's changes) outlives its chunk.
        """
        with self.store.write() as w:
            size = w.size()
            authority = self.authority_of(w)
            party = None if submitter is None else authority.parties.get(submitter)
            batch = _Batch(
                size, self.clock(), authority, Book(w.book), len(envelopes), self.operator_keys()
            )
            forbidden: list[Problem] = []
            # A batch of several chunks has each chunk's signatures checked on the worker
            # processes while the next chunk is decoded and judged here; the last ones, or
            # a one-chunk batch's, on threads while the writes below drop the GIL.
            checked: list[Callable[[], list[int]]] = []
            sent = 0
            for start in range(0, len(envelopes), CHUNK):
                decoded = batch.decode(envelopes, start, start + CHUNK)
                if submitter is not None:
                    role = None if party is None else party.role
                    forbidden += _not_theirs(decoded, submitter, role)
                if not forbidden:
                    self._admit(w, batch, decoded)
                if len(envelopes) > CHUNK and not forbidden and len(batch.jobs) > sent:
                    checked.append(self._signature_processes.submit(batch.jobs[sent:]))
                    sent = len(batch.jobs)
            if forbidden:
                raise EventForbidden(forbidden)
            # The entries, tiles and book are written while the signatures are checked;
            # the checkpoint is signed and the batch committed only once every signature
            # verifies, else it is all rolled back.
            compact = None
            with signatures_checked(batch.jobs[sent:]) as failing:
                if batch.new and not batch.problems:
                    end = size + len(batch.new)
                    compact, _ = self.extend_log(w, size, batch.new, checkpoint_size=end)
                    w.book.write(batch.book.changes)
                for i in [*failing(), *(i for wait in checked for i in wait())]:
                    why = f"does not verify with key {batch.keyids[i]}"
                    batch.problems.append(_at(i, Problem("signatures[0].sig", why)))
            if batch.problems:
                raise EventRejected(sorted(batch.problems, key=_order))
            if compact is not None:
                assert authority.origin is not None  # the genesis is always the first entry
                quorum = authority.witness_policy.quorum  # in force for the new tree
                self._store_checkpoint(w, compact, authority.origin, quorum)
        if batch.new and self.after_append is not None:
            self.after_append()
        return [r for r in batch.receipts if r is not None]

    def _admit(self, w: LogWriter, b: _Batch, decoded: list[tuple[int, DecodedEntry]]) -> None:
        """Judge one chunk of decoded envelopes against the log and the book so far."""
        hashes = {i: leaf_hash(d.leaf) for i, d in decoded}
        known = w.entries_by_leaf_hash(hashes.values())
        used_ids = w.entries_by_event_id(d.event.id for _, d in decoded)
        authority = b.authority
        for i, d in decoded:
            lh, eid = hashes[i], d.event.id
            if (old := known.get(lh)) is not None:
                b.receipts[i] = Receipt(old.index, lh, eid, duplicate=True)
                continue
            if (first := b.by_leaf.get(lh)) is not None:
                b.receipts[i] = Receipt(first.index, lh, eid, duplicate=True)
                continue
            if (same := used_ids.get(eid)) is not None and _same_event(
                same.envelope, d, b.operator_key
            ):
                # The same event signed again (e.g. a retry with a new time): its first
                # receipt, but only once its own signature verifies with a key valid for
                # its author now (checked with the others); else a refusal.
                key_now = authority.key_for(d.event, d.body, d.envelope.keyid, b.next_index)
                if isinstance(key_now, Problem):
                    b.problems.append(_at(i, key_now))
                    continue
                b.check_signature(i, d, key_now.public_key, key_now.key_id)
                b.receipts[i] = Receipt(same.index, same.leaf_hash, eid, duplicate=True)
                continue
            index = b.next_index
            key, found = authorise(d, authority, index)
            moment = from_rfc3339(d.event.time)
            found += _in_future(d.event, moment, b.now, self.max_skew)
            if eid in b.ids or eid in used_ids:
                at = f"entry {used_ids[eid].index}" if eid in used_ids else "this batch"
                found.append(Problem("payload.id", f"event id {echo(eid)} is already used ({at})"))
            if key is not None:  # checked at the end, all at once, on every core
                b.check_signature(i, d, key.public_key, key.key_id)
            if d.event.author in authority.parties:  # else the authority said why
                if d.sealed is not None:
                    opened, refused = unseal(d, authority, index, b.operator_key)
                    found += refused
                    d = opened or d
                else:
                    found += unsealed(d, authority)
                if not found:  # a payload.shared entry: its boxes, against the entries
                    get = functools.partial(entry_at, w, b.size, b.new)
                    found += check_share(d, authority, index, get, b.operator_key)
            if found:
                b.problems += [_at(i, p) for p in found]
                continue
            if not d.etype.governance:
                assert d.body is not None  # every domain event type has a body type
                role = authority.parties[d.event.author].role
                ctx = Context(d.event, d.body, index, moment, role)
                if refused := d.etype.apply(b.book, ctx):
                    b.problems += [_at(i, p) for p in refused]
                    continue
            authority.apply(d.body, index)
            ev = d.event
            b.new.append(StoredEntry(index, lh, eid, ev.type, ev.author, ev.time, d.leaf, b.now))
            b.by_leaf[lh] = b.receipts[i] = Receipt(index, lh, eid)
            b.ids.add(eid)

    def write_entries(
        self,
        w: LogWriter,
        size: int,
        entries: Sequence[StoredEntry],
        origin: str,
        *,
        quorum: int = 0,
    ) -> CompactRange:
        """The log half of the append path, for entries already admitted: insert them,
        extend the tiles and store a signed checkpoint, in the caller's write transaction.
        Each entry records the size of that checkpoint: the batch's boundary, which the
        audit holds the stored checkpoints to (one per batch, none missing). `quorum` is
        how many witness cosignatures the policy in force asks of it before it is served."""
        compact, _ = self.extend_log(w, size, entries, checkpoint_size=size + len(entries))
        self._store_checkpoint(w, compact, origin, quorum)
        return compact

    def extend_log(
        self, w: LogWriter, size: int, entries: Sequence[StoredEntry], *, checkpoint_size: int
    ) -> tuple[CompactRange, dict[tuple[int, int], bytes]]:
        """Insert entries already admitted after the `size` the log has, and extend the
        tiles, in the caller's write transaction; no checkpoint (a mirror stores the one its
        source signed). Each entry records `checkpoint_size`, the size of the checkpoint
        stored with its batch. Returns the new right edge and the tiles written (as stored)."""
        w.insert_entries(entries, checkpoint_size=checkpoint_size)
        compact, tiles, present = self.tree(w, size).append([e.leaf_hash for e in entries])
        w.put_tiles(tiles, present)
        return compact, tiles

    def _store_checkpoint(self, w: LogWriter, tree: CompactRange, origin: str, quorum: int) -> None:
        """Sign the checkpoint of the tree `tree` ends with the log key and store it, asking
        `quorum` witness cosignatures of it, in the caller's write transaction."""
        size, root = tree.size, tree.root()
        signer = self.keystore.signer(CHECKPOINT_SIGNER)
        note = sign(Checkpoint(origin, size, root).to_text(), [signer]).decode()
        w.insert_checkpoint(StoredCheckpoint(size, root, note, rfc3339(self.clock()), quorum))

    # -- keys ----------------------------------------------------------------------------

    def settle_keys(self) -> dict[str, str]:
        """Finish what an interrupted key change left in the keystore: a pending key the log
        names is promoted (it becomes the party's current key; dropped if the log has
        already retired it); a pending rotation the log does not name is dropped (the party
        keeps its key); a request waits for the quorum.
        Skipped while another process holds the keystore's lock. Returns party -> what was
        done."""
        parties = self.keystore.pending_parties()
        done: dict[str, str] = {}
        if not parties:
            return done
        with self.keystore.locked(wait=False) as mine:
            if not mine:
                return done  # a key change is under way in another process
            authority = self.authority()
            for party in parties:
                pending = self.keystore.pending(party)
                if pending is None:
                    continue
                rec = authority.keys.get((party, pending.signer.key_id.hex()))
                if rec is not None and rec.retired_by is None:
                    self._promote(party)
                    done[party] = "promoted"
                elif rec is not None or pending.kind == "rotation":  # superseded, or lost
                    self.keystore.drop_pending(party)
                    done[party] = "dropped"
        return done

    def _promote(self, party: str) -> None:
        try:
            self.keystore.promote(party)
        except OSError as e:
            raise Unavailable(
                f"the log holds the new key of {party} but the keystore could not store it "
                f"({e.strerror or e}); it is kept in {self.keystore.path / (party + '.pending')} "
                "and becomes current at the next command once the disk has room"
            ) from e

    def rotate_key(self, party: str) -> tuple[Signer, Signer]:
        """Rotate `party`'s key: a new key, kept pending (synced) before `key.rotated`,
        signed with the current key, is appended; promoted once the log took it. A crash
        or a full disk in between is settled at the next open. Returns (old, new)."""
        with self.keystore.locked():
            current = self.keystore.keys(party)[-1]
            new = Signer.generate(party)
            self.keystore.save_pending(party, current.role, new, "rotation")
            raw = {
                "type": KEY_ROTATED,
                "id": f"key.rotated:{party}:{new.key_id.hex()}",
                "time": rfc3339(self.clock()),
                "body": {"party": party, "key": new.vkey()},
            }
            try:
                self.append(self.sign([raw], party))
            except EventRejected:
                self.keystore.drop_pending(party)  # refused: nothing is in the log
                raise
            self._promote(party)
        return current.signer, new

    def set_encryption_key(self, party: str) -> DecryptionKey:
        """Give `party` a new encryption key: stored in the keystore's ring (synced) first,
        then ``encryption_key.set``, signed with the party's current signing key, is
        appended. A refused entry leaves only an unused key in the ring."""
        with self.keystore.locked():
            new = self.keystore.create_encryption_key(party)
            raw = {
                "type": ENCRYPTION_KEY_SET,
                "id": f"{ENCRYPTION_KEY_SET}:{party}:{new.key_id.hex()}",
                "time": rfc3339(self.clock()),
                "body": {"party": party, "enc_key": new.public.string()},
            }
            self.append(self.sign([raw], party))
        return new

    def request_key(self, party: str) -> Signer:
        """A new key for a party whose key is lost or revoked, kept pending until a quorum
        of the founding parties installs it (``key.rotated`` with their approvals)."""
        known = self.authority().parties.get(party)
        if known is None:
            raise LedgerNotFound(f"{party!r} is not a party of this ledger")
        with self.keystore.locked():
            new = Signer.generate(party)
            self.keystore.save_pending(party, known.role, new, "request")
        return new

    def approve(self, event_type: str, body: dict[str, Any], party: str) -> dict[str, str]:
        """`party`'s approval of a governance act (its body without approvals), signed
        with its current key: an element of the act's `approvals`."""
        origin = self.authority().origin
        assert origin is not None  # every ledger has its genesis
        signer = self.keystore.signer(party)
        sig = signer.sign(approval_statement(origin, event_type, body))
        return {"party": party, "keyid": signer.key_id.hex(), "sig": base64.b64encode(sig).decode()}

    def submit_approved(
        self, event_type: str, body: dict[str, Any], approvals: Sequence[dict[str, str]], by: str
    ) -> Receipt:
        """Append a governance act with its approvals, sent (and signed) by `by`; a pending
        key it installs in this keystore is promoted."""
        digest = hashlib.sha256(canonical_json(body)).hexdigest()[:32]
        raw = {
            "type": event_type,
            "id": f"{event_type}:{digest}",
            "time": rfc3339(self.clock()),
            "body": {**body, "approvals": list(approvals)},
        }
        receipt = self.append(self.sign([raw], by))[0]
        self.settle_keys()
        return receipt

    # -- proofs --------------------------------------------------------------------------

    def latest_checkpoint(self) -> StoredCheckpoint:
        """The checkpoint the log publishes, with its cosignatures: the newest that holds
        the quorum of witness cosignatures the policy asks for it. Raises LedgerNotFound for
        a ledger without one."""
        with self.store.read() as r:
            cp = r.latest_checkpoint()
            newest = r.newest_checkpoint()
        if cp is None:
            raise LedgerNotFound(
                f"the ledger in {self.path} has no checkpoint"
                if newest is None
                else f"no checkpoint of the ledger in {self.path} has its witnesses' quorum "
                f"yet (the newest, for size {newest.size}, has {len(newest.cosignatures)} "
                f"of {newest.quorum} cosignatures): `cwledger witnesses collect`"
            )
        return cp

    def prove_inclusion(self, index: int, size: int | None = None) -> dict[str, Any]:
        """Inclusion proof of entry `index` in the tree of `size` (default: latest checkpoint)."""
        with self.store.read() as r:
            size = size if size is not None else self._checkpointed_size(r)
            tree = self.tree(r)
            proof = tree.inclusion_proof(index, size)
            root = tree.root(size)
            entry = r.entries(index, index + 1)
        return {
            "index": index,
            "tree_size": size,
            "leaf_hash": entry[0].leaf_hash.hex() if entry else None,
            "root_hash": root.hex(),
            "proof": [h.hex() for h in proof],
        }

    def prove_consistency(self, size1: int, size2: int | None = None) -> dict[str, Any]:
        """Consistency proof from `size1` to `size2` (default: latest checkpoint)."""
        with self.store.read() as r:
            size2 = size2 if size2 is not None else self._checkpointed_size(r)
            tree = self.tree(r)
            proof = tree.consistency_proof(size1, size2)
            root1, root2 = tree.root(size1), tree.root(size2)
        return {
            "size1": size1,
            "size2": size2,
            "root1": root1.hex(),
            "root2": root2.hex(),
            "proof": [h.hex() for h in proof],
        }

    @staticmethod
    def _checkpointed_size(r: LogReader) -> int:
        cp = r.latest_checkpoint()
        return 0 if cp is None else cp.size
