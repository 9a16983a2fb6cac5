"""Offline bundles (`cwledger-bundle/1`): entries of the log, their inclusion proofs and the
cosigned checkpoint they are proved against, in one JSON file that anyone checks with no
ledger and no network (docs/bundle.md gives the format and the checking algorithm).

`build_bundle` writes one from a snapshot of the log; `check_bundle` checks one, with the
keys the checker pins (which win over the file's own). A bundle carries, besides the
entries asked for, every governance entry up to the last of them (the genesis, party
registrations, key rotations and revocations), each with its own inclusion proof: they
establish the authors' keys, so each envelope's signature is checked against a key the log
itself published, offline.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cwledger.book.registry import GOVERNANCE_TYPES
from cwledger.errors import CwledgerError, MalformedInput, Problem, VerificationError
from cwledger.ledger.admission import decode_entry, replay_authority
from cwledger.ledger.authority import Authority
from cwledger.ledger.canonical import canonical_json, parse_json_object
from cwledger.ledger.signatures import verify_ed25519
from cwledger.model.events import GENESIS, is_majority
from cwledger.store import LogReader, StoredCheckpoint, StoredEntry
from cwledger.time import from_rfc3339
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.cosignature import CosignatureVerifier, verifier_from_vkey
from cwledger.tlog.hashing import HASH_SIZE, leaf_hash
from cwledger.tlog.note import Verifier
from cwledger.tlog.tiled import TiledTree
from cwledger.tlog.verify import verify_inclusion

__all__ = [
    "BUNDLE_FORMAT",
    "BundleCheck",
    "BundleInvalid",
    "CheckedEntry",
    "UNPINNED_LOG_KEY",
    "build_bundle",
    "check_bundle",
    "governance_indices",
    "indices_in_period",
]

BUNDLE_FORMAT = "cwledger-bundle/1"
_FIELDS = frozenset({"format", "checkpoint", "log_vkey", "witness_vkeys", "quorum", "entries"})
_ENTRY_FIELDS = frozenset({"index", "envelope", "inclusion_proof"})
UNPINNED_LOG_KEY = (
    "log key not pinned: taken from the bundle, which proves only consistency with itself"
)
_UNPINNED_WITNESSES = (
    "witness keys not pinned: taken from the bundle, which proves only consistency with itself"
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def governance_indices(reader: LogReader, last: int) -> list[int]:
    """The log indices of the governance entries at or before `last`."""
    return [e.index for e in reader.entries_of_types(GOVERNANCE_TYPES) if e.index <= last]


def indices_in_period(reader: LogReader, start: int, end: int, size: int) -> list[int]:
    """The indices below `size` of the entries whose event time is in [start, end) (µs)."""
    return [i for i, t in reader.event_times() if i < size and start <= from_rfc3339(t) < end]


def _runs(indices: Sequence[int]) -> Iterable[tuple[int, int]]:
    """Sorted distinct indices as half-open runs [start, end) of consecutive ones."""
    start = prev = indices[0]
    for i in indices[1:]:
        if i != prev + 1:
            yield start, prev + 1
            start = i
        prev = i
    yield start, prev + 1


def _stored(reader: LogReader, indices: Sequence[int]) -> list[StoredEntry]:
    out: list[StoredEntry] = []
    for start, end in _runs(indices):
        out += reader.entries(start, end)
    return out


def build_bundle(
    reader: LogReader,
    tree: TiledTree,
    checkpoint: StoredCheckpoint,
    indices: Iterable[int],
    *,
    checkpoint_note: str | None = None,
    witness_vkeys: Sequence[str] = (),
    quorum: int = 0,
) -> bytes:
    """The bundle of the entries `indices` proved against `checkpoint`, as its file's bytes
    (RFC 8785 JSON and one newline).

    `tree` is the stored tree `reader` sees; `checkpoint_note` the checkpoint's note with
    every cosignature the ledger holds (default: the stored note); `witness_vkeys` and
    `quorum` the ledger's witness policy (none and 0 until the ledger has witnesses).
    Raises MalformedInput for no entries, or one the checkpoint does not cover.
    """
    wanted = sorted(set(indices))
    if not wanted:
        raise MalformedInput("a bundle needs at least one entry; none was chosen")
    size = checkpoint.size
    if wanted[0] < 0 or wanted[-1] >= size:
        bad = wanted[0] if wanted[0] < 0 else wanted[-1]
        raise MalformedInput(
            f"entry {bad} is not in the latest checkpoint, of {size} entries (0..{size - 1})"
        )
    if quorum < 0 or quorum > len(witness_vkeys):
        raise MalformedInput(f"a quorum of {quorum} of {len(witness_vkeys)} witnesses")
    chosen = sorted(set(wanted) | set(governance_indices(reader, wanted[-1])))
    stored = _stored(reader, chosen)
    authority = replay_authority(
        (e.index, e.envelope) for e in stored if e.event_type in GOVERNANCE_TYPES
    )
    if authority.log_vkey is None:
        raise MalformedInput("the log has no genesis: nothing to bundle")
    entries = [
        {
            "index": e.index,
            "envelope": _b64(e.envelope),
            "inclusion_proof": [_b64(h) for h in tree.inclusion_proof(e.index, size)],
        }
        for e in stored
    ]
    doc = {
        "format": BUNDLE_FORMAT,
        "checkpoint": checkpoint.note if checkpoint_note is None else checkpoint_note,
        "log_vkey": authority.log_vkey,
        "witness_vkeys": list(witness_vkeys),
        "quorum": quorum,
        "entries": entries,
    }
    return canonical_json(doc) + b"\n"


# -- checking ----------------------------------------------------------------------------------


class BundleInvalid(VerificationError):
    """A bundle that does not check; the message names the first failure."""

    code = "bundle-invalid"


@dataclass(frozen=True)
class CheckedEntry:
    """What a checked entry is: its place in the log and the event its author signed."""

    index: int
    type: str
    author: str
    time: str
    id: str
    key_id: str
    governance: bool

    def to_json(self) -> dict[str, object]:
        """As `check-bundle --json` prints it."""
        return {
            "index": self.index,
            "type": self.type,
            "author": self.author,
            "time": self.time,
            "id": self.id,
            "key_id": self.key_id,
            "governance": self.governance,
        }


@dataclass
class BundleCheck:
    """A bundle that checked: its checkpoint, who signed it, its entries, and the warnings
    (keys taken from the file rather than pinned, signatures by keys nobody named)."""

    checkpoint: Checkpoint
    log_key: str
    cosigned_by: list[str]
    quorum: int
    witnesses: int
    entries: list[CheckedEntry]
    warnings: list[str] = field(default_factory=list)


def _field(doc: dict[str, Any], name: str, kind: type, where: str = "bundle") -> Any:
    value = doc[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BundleInvalid(f"{where}.{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _unb64(text: object, where: str) -> bytes:
    if not isinstance(text, str):
        raise BundleInvalid(f"{where}: expected a base64 string, got {type(text).__name__}")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise BundleInvalid(f"{where}: not standard base64 ({e})") from None
    if _b64(raw) != text:
        raise BundleInvalid(f"{where}: not canonical base64")
    return raw


def _parse(data: bytes) -> dict[str, Any]:
    try:
        doc = parse_json_object(data, "bundle")
    except MalformedInput as e:
        raise BundleInvalid(str(e)) from None
    if set(doc) != _FIELDS:
        missing, extra = sorted(_FIELDS - set(doc)), sorted(set(doc) - _FIELDS)
        raise BundleInvalid(f"bundle fields: missing {missing}, unknown {extra}")
    if doc["format"] != BUNDLE_FORMAT:
        raise BundleInvalid(f"bundle.format: expected {BUNDLE_FORMAT!r}, got {doc['format']!r}")
    try:
        written = canonical_json(doc) + b"\n"
    except MalformedInput as e:
        raise BundleInvalid(str(e)) from None
    if written != bytes(data):
        at = next(
            (i for i, (a, b) in enumerate(zip(written, bytes(data), strict=False)) if a != b),
            min(len(written), len(data)),
        )
        raise BundleInvalid(
            f"bundle: not written as the format writes it (RFC 8785 JSON and one newline); "
            f"first difference at byte {at}"
        )
    return doc


def _policy(
    doc: dict[str, Any],
    log_vkey: str | None,
    witness_vkeys: Sequence[str] | None,
    quorum: int | None,
    warnings: list[str],
) -> tuple[Verifier, list[CosignatureVerifier], int, bool]:
    """The keys and quorum to check with: the pinned ones, else the file's (said plainly).
    Returns (log key, witness keys, quorum, whether the witness keys are the file's)."""
    file_log = _field(doc, "log_vkey", str)
    file_witnesses = _field(doc, "witness_vkeys", list)
    file_quorum = _field(doc, "quorum", int)
    if log_vkey is None:
        warnings.append(UNPINNED_LOG_KEY)
    from_file = witness_vkeys is None
    if from_file and (file_witnesses or quorum):
        warnings.append(_UNPINNED_WITNESSES)
    try:
        log = Verifier.from_vkey(file_log if log_vkey is None else log_vkey)
        witnesses = [
            CosignatureVerifier.from_vkey(_field({"w": w}, "w", str, "bundle.witness_vkeys"))
            for w in (file_witnesses if witness_vkeys is None else witness_vkeys)
        ]
    except MalformedInput as e:
        raise BundleInvalid(f"key: {e}") from None
    for vkey in [file_log, *file_witnesses]:  # one spelling of each key in a file
        try:
            canonical = verifier_from_vkey(vkey).vkey() == vkey
        except (MalformedInput, TypeError, AttributeError):
            canonical = False
        if not canonical:
            raise BundleInvalid(f"bundle: key {vkey!r}: expected a verifier key as C2SP writes it")
    if quorum is not None:
        k = quorum
    elif from_file:
        k = file_quorum
    else:
        k = len(witnesses)  # pinned witnesses and no quorum: all of them
    if not 0 <= k <= len(witnesses):
        raise BundleInvalid(f"quorum {k} of {len(witnesses)} witness keys: cannot be met")
    if witnesses and not is_majority(k, len(witnesses)):  # the rule of the log's policy
        why = (
            f"quorum {k} of {len(witnesses)} witnesses is not a majority: two disjoint sets "
            "of honest witnesses could each cosign one side of a split view"
        )
        if from_file:
            raise BundleInvalid(f"bundle: {why}")
        warnings.append(why)
    return log, witnesses, k, from_file


def _check_checkpoint(
    text: str,
    log: Verifier,
    witnesses: list[CosignatureVerifier],
    k: int,
    strict: bool,
    warnings: list[str],
) -> tuple[Checkpoint, list[str]]:
    try:
        cp, opened = Checkpoint.from_note(text.encode("utf-8"), [log, *witnesses])
    except CwledgerError as e:
        raise BundleInvalid(f"checkpoint: {e}") from None
    if cp.origin != log.name:
        raise BundleInvalid(f"checkpoint: origin {cp.origin!r}, log key {log.name!r}")
    wit = {(w.name, w.key_id) for w in witnesses}
    cosigned = [f"{s.name}+{s.key_id.hex()}" for s in opened.sigs if (s.name, s.key_id) in wit]
    for s in opened.unverified_sigs:
        who = f"{s.name}+{s.key_id.hex()}"
        if strict:  # the file names its own witnesses: a line by anyone else is foreign
            raise BundleInvalid(f"checkpoint: a signature by {who}, a key the bundle does not name")
        warnings.append(f"ignored a signature by {who}, a key not pinned")
    if len(cosigned) < k:
        missing = sorted(
            f"{w.name}+{w.key_id.hex()}"
            for w in witnesses
            if (w.name, w.key_id) not in {(s.name, s.key_id) for s in opened.sigs}
        )
        raise BundleInvalid(
            f"checkpoint: {len(cosigned)} valid cosignatures, quorum {k}; "
            f"missing {', '.join(missing)}"
        )
    return cp, cosigned


def _check_entries(raw: list[Any], cp: Checkpoint, log_vkey: str) -> list[CheckedEntry]:
    if not raw:
        raise BundleInvalid("bundle.entries: expected at least one entry, got none")
    authority = Authority()
    out: list[CheckedEntry] = []
    last = -1
    for n, item in enumerate(raw):
        where = f"bundle.entries[{n}]"
        if not isinstance(item, dict) or set(item) != _ENTRY_FIELDS:
            raise BundleInvalid(f"{where}: expected an object with {sorted(_ENTRY_FIELDS)}")
        index = _field(item, "index", int, where)
        if index <= last:
            raise BundleInvalid(f"{where}: index {index} after {last}; want ascending indices")
        last = index
        if index >= cp.size:
            raise BundleInvalid(f"{where}: index {index} is not in a tree of {cp.size} entries")
        leaf = _unb64(item["envelope"], f"{where}.envelope")
        proof = [
            _unb64(h, f"{where}.inclusion_proof[{i}]")
            for i, h in enumerate(_field(item, "inclusion_proof", list, where))
        ]
        if any(len(h) != HASH_SIZE for h in proof):
            raise BundleInvalid(f"{where}.inclusion_proof: expected {HASH_SIZE}-byte hashes")
        try:
            verify_inclusion(leaf_hash(leaf), index, cp.size, proof, cp.root_hash)
        except VerificationError as e:
            raise BundleInvalid(f"entry {index}: not in the checkpoint's tree: {e}") from None
        try:
            d = decode_entry(leaf, check_canonical=False)
        except CwledgerError as e:
            raise BundleInvalid(f"entry {index}: not an event envelope: {e}") from None
        event = d.event
        if n == 0 and (index != 0 or event.type != GENESIS):
            raise BundleInvalid(
                "the bundle does not start with the genesis (entry 0), which establishes "
                "the authors' keys"
            )
        key = authority.key_for(event, d.body, d.envelope.keyid, index)
        if isinstance(key, Problem):
            raise BundleInvalid(f"entry {index}: {key.message}")
        try:
            verify_ed25519(key.public_key, d.envelope.signed_bytes(), d.envelope.sig)
        except CwledgerError:
            raise BundleInvalid(
                f"entry {index}: the signature does not verify with {event.author}'s key "
                f"{d.envelope.keyid}"
            ) from None
        governance = d.etype.governance
        if governance:
            authority.apply(d.body, index)
            if n == 0 and authority.log_vkey != log_vkey:
                raise BundleInvalid(
                    f"entry 0: the genesis names the log key {authority.log_vkey}, not {log_vkey}"
                )
        out.append(
            CheckedEntry(
                index,
                event.type,
                event.author,
                event.time,
                event.id,
                d.envelope.keyid,
                governance,
            )
        )
    return out


def check_bundle(
    data: bytes,
    *,
    log_vkey: str | None = None,
    witness_vkeys: Sequence[str] | None = None,
    quorum: int | None = None,
) -> BundleCheck:
    """Check a bundle file's bytes, offline, with the pinned keys where given.

    Unpinned, the log key (and the witness keys and quorum) are the file's, which proves
    only that the file agrees with itself: the result's warnings say so. Pinned witness
    keys without a quorum need all of them. Raises BundleInvalid naming the first failure.
    """
    warnings: list[str] = []
    doc = _parse(bytes(data))
    log, witnesses, k, strict = _policy(doc, log_vkey, witness_vkeys, quorum, warnings)
    text = _field(doc, "checkpoint", str)
    cp, cosigned = _check_checkpoint(text, log, witnesses, k, strict, warnings)
    entries = _check_entries(_field(doc, "entries", list), cp, log.vkey())
    return BundleCheck(cp, log.vkey(), cosigned, k, len(witnesses), entries, warnings)
