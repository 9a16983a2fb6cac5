"""A monitor of a C2SP tlog-tiles log: is the new checkpoint an honest extension of the last?

Given the checkpoint it verified last (or none), :func:`check_log` reads the source's
``checkpoint`` and its tiles through a fetch function (so this module knows no network)
and checks, in order:

1. the checkpoint note is signed by the pinned log key (and its origin is the one seen
   before);
2. it carries valid cosignatures (c2sp.org/tlog-cosignature) from at least ``quorum`` of
   the given witness keys;
3. it is not a rewind (a smaller tree than the one seen) nor a fork (the same size with
   another root);
4. the tree seen is a prefix of the new one: a consistency proof (RFC 9162 2.1.4) built from
   the source's tiles verifies against both signed roots;
5. every new entry and tile hashes to the signed root: each entry of the new entry bundles
   hashes to its leaf in the level-0 tiles, the tree is extended leaf by leaf from the
   seen one, every node at a tile level matches the tile that holds it, and the root is the
   signed root.

Any failure raises :class:`MonitorAlarm`, whose ``kind`` names what happened: ``signature``,
``quorum``, ``rewind``, ``fork`` or ``tiles``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cwledger.errors import MalformedInput, NotFound, RootMismatchError, VerificationError
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.compact import CompactRange
from cwledger.tlog.cosignature import CosignatureVerifier, verify_cosignature
from cwledger.tlog.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash
from cwledger.tlog.nodes import split_range
from cwledger.tlog.note import Verifier
from cwledger.tlog.tiled import TiledTree
from cwledger.tlog.tiles import TILE_HEIGHT, TILE_WIDTH, entries_path, tile_path
from cwledger.tlog.verify import verify_consistency

__all__ = [
    "Cosignature",
    "Fetch",
    "MonitorAlarm",
    "Policy",
    "Verified",
    "check_log",
    "open_checkpoint",
    "valid_cosignatures",
]

Fetch = Callable[[str], bytes]
"""Reads a resource of the log by its tlog-tiles path (``checkpoint``, ``tile/0/000``...).
Raises :class:`~cwledger.errors.CwledgerError` (not an alarm) when it cannot."""

ALARM_KINDS = ("signature", "quorum", "rewind", "fork", "tiles")


class MonitorAlarm(VerificationError):
    """The log is not what an honest log would serve; ``kind`` is one of ``ALARM_KINDS``."""

    code = "monitor-alarm"

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.served: Verified | None = None  # the log-signed checkpoint at fault, if any
        super().__init__(f"ALARM ({kind}): {message}")


@dataclass(frozen=True)
class Policy:
    """What the monitor trusts: the log's key, the witnesses' keys and how many must cosign."""

    log_key: str
    witnesses: tuple[str, ...] = ()
    quorum: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.quorum <= len(self.witnesses):
            raise MalformedInput(
                f"quorum: expected 0..{len(self.witnesses)} (the witness keys given), "
                f"got {self.quorum}"
            )


@dataclass(frozen=True)
class Verified:
    """A checkpoint the monitor verified: the note as served, parsed, and who cosigned it."""

    note: bytes
    checkpoint: Checkpoint
    cosigned_by: tuple[str, ...]


@dataclass(frozen=True)
class Cosignature:
    """A witness's valid cosignature line of a checkpoint, and its timestamp."""

    witness: str  # the witness's verifier key
    line: str  # without its newline
    timestamp: int  # POSIX seconds


def valid_cosignatures(
    text: str, note: bytes, witnesses: Sequence[CosignatureVerifier]
) -> list[Cosignature]:
    """The valid cosignature lines in `note` over its checkpoint text `text`, one per
    witness of `witnesses` that has one (in their order). A line by another key, or one by
    a witness that does not verify, counts for nothing."""
    lines = note.decode("utf-8")[len(text) + 1 :].splitlines()
    found = []
    for w in witnesses:
        for line in lines:
            try:
                timestamp = verify_cosignature(w, text, line)
            except VerificationError:
                continue  # a bad line by this witness counts for nothing
            if timestamp is not None:
                found.append(Cosignature(w.vkey(), line, timestamp))
                break
    return found


def open_checkpoint(note: bytes, policy: Policy, origin: str | None = None) -> Verified:
    """Verify a checkpoint note with the policy: the log's signature (and the origin, when
    one is given), then the quorum of witness cosignatures.

    Raises MonitorAlarm (``signature``; or ``quorum``, with the log-signed checkpoint as
    ``served``); MalformedInput for a bad key.
    """
    log_verifier = Verifier.from_vkey(policy.log_key)
    witnesses = [CosignatureVerifier.from_vkey(v) for v in policy.witnesses]
    try:
        checkpoint, opened = Checkpoint.from_note(
            note, [log_verifier], origin=origin, log_key_name=log_verifier.name
        )
    except VerificationError as e:
        raise MonitorAlarm(
            "signature", f"the checkpoint does not verify with the log key: {e}"
        ) from e
    valid = valid_cosignatures(opened.text, note, witnesses)
    names = {w.vkey(): w.name for w in witnesses}
    cosigned = [names[c.witness] for c in valid]
    verified = Verified(bytes(note), checkpoint, tuple(cosigned))
    if len(cosigned) < policy.quorum:
        missing = sorted({w.name for w in witnesses} - set(cosigned))
        alarm = MonitorAlarm(
            "quorum",
            f"the checkpoint for size {checkpoint.size} has {len(cosigned)} valid witness "
            f"cosignatures, the policy needs {policy.quorum}; missing: {', '.join(missing)}",
        )
        alarm.served = verified  # signed by the log: served without its witnesses
        raise alarm
    return verified


class _Tiles:
    """The source's tiles of the tree of `size`, each fetched once at its width there."""

    def __init__(self, fetch: Fetch, size: int) -> None:
        self._fetch = fetch
        self._size = size
        self._rows: dict[tuple[int, int], bytes] = {}

    def row(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self._rows:
            width = min(TILE_WIDTH, (self._size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH)
            if width <= 0:
                raise VerificationError(f"tile {level}/{index} is beyond size {self._size}")
            path = tile_path(level, index, width)
            data = _fetch_covered(self._fetch, path, self._size)
            if len(data) != width * HASH_SIZE:
                raise MonitorAlarm(
                    "tiles",
                    f"{path} is {len(data)} bytes, want {width * HASH_SIZE} ({width} hashes)",
                )
            self._rows[key] = data
        return self._rows[key]

    def __call__(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return {k: self.row(*k) for k in keys}


def _fetch_covered(fetch: Fetch, path: str, size: int) -> bytes:
    """A resource the checkpoint of `size` covers: its absence is an alarm."""
    try:
        return fetch(path)
    except NotFound as e:
        raise MonitorAlarm(
            "tiles", f"{path} is not served, but the checkpoint for size {size} covers it ({e})"
        ) from e


def _bundle_entries(data: bytes, path: str) -> list[bytes]:
    """The entries of a bundle: each a big-endian uint16 length and that many bytes."""
    out, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise MonitorAlarm("tiles", f"{path} ends inside an entry's length")
        n = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + n > len(data):
            raise MonitorAlarm("tiles", f"{path} ends inside an entry of {n} bytes")
        out.append(data[at + 2 : at + 2 + n])
        at += 2 + n
    return out


def _check_extension(
    fetch: Fetch, tiles: _Tiles, tree: TiledTree, old_size: int, cp: Checkpoint
) -> int:
    """Entries old_size..<cp.size hash to their leaves, the tree grown from old_size by them
    matches every tile and ends at the signed root. Returns how many entries were checked."""
    compact = CompactRange(old_size, tree.node_hashes(split_range(0, old_size)))

    def on_node(level: int, index: int, digest: bytes) -> None:
        if level == 0 or level % TILE_HEIGHT:
            return
        t_index, offset = divmod(index, TILE_WIDTH)
        row = tiles.row(level // TILE_HEIGHT, t_index)
        stored = row[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
        if not hmac.compare_digest(stored, digest):
            raise MonitorAlarm(
                "tiles",
                f"tile {level // TILE_HEIGHT}/{t_index} hash {offset} is {stored.hex()}, "
                f"the entries below it hash to {digest.hex()}",
            )

    for bundle in range(old_size // TILE_WIDTH, -(-cp.size // TILE_WIDTH)):
        start = bundle * TILE_WIDTH
        width = min(TILE_WIDTH, cp.size - start)
        path = entries_path(bundle, width)
        entries = _bundle_entries(_fetch_covered(fetch, path, cp.size), path)
        if len(entries) != width:
            raise MonitorAlarm("tiles", f"{path} holds {len(entries)} entries, want {width}")
        row = tiles.row(0, bundle)
        for i in range(max(start, old_size), start + width):
            digest = leaf_hash(entries[i - start])
            stored = row[(i - start) * HASH_SIZE : (i - start + 1) * HASH_SIZE]
            if not hmac.compare_digest(stored, digest):
                raise MonitorAlarm(
                    "tiles",
                    f"entry {i} in {path} hashes to {digest.hex()}, tile 0/{bundle} holds "
                    f"{stored.hex()}",
                )
            compact.append(digest, on_node)
    if not hmac.compare_digest(compact.root(), cp.root_hash):
        raise MonitorAlarm(
            "tiles",
            f"the entries hash to root {compact.root().hex()}, the checkpoint for size "
            f"{cp.size} signs {cp.root_hash.hex()}",
        )
    return cp.size - old_size


def check_log(fetch: Fetch, policy: Policy, last: Verified | None) -> Verified:
    """Fetch the source's checkpoint and check it against `last` (the checkpoint verified
    before, if any) and the policy, and the tiles and entries against it.

    Returns the new verified checkpoint (the one to keep). Raises MonitorAlarm naming what
    is wrong (with the checkpoint at fault as `served` once the log's key verified it:
    beside `last`, the evidence of a split view); what `fetch` raises when it cannot read
    (other than a covered tile's 404).
    """
    new = open_checkpoint(
        fetch("checkpoint"),
        policy,
        origin=None if last is None else last.checkpoint.origin,
    )
    try:
        _check_against(fetch, new.checkpoint, last)
    except MonitorAlarm as e:
        e.served = new
        raise
    return new


def _check_against(fetch: Fetch, cp: Checkpoint, last: Verified | None) -> None:
    """No rewind or fork from `last`; the tiles and new entries hash to `cp`'s root."""
    old_size, old_root = (
        (0, EMPTY_ROOT) if last is None else (last.checkpoint.size, last.checkpoint.root_hash)
    )
    if cp.size < old_size:
        raise MonitorAlarm(
            "rewind",
            f"the log went back from size {old_size} to size {cp.size} (both signed by the "
            "log key)",
        )
    if cp.size == old_size and not hmac.compare_digest(cp.root_hash, old_root):
        raise MonitorAlarm(
            "fork",
            f"two checkpoints for size {cp.size} with different roots: {old_root.hex()} seen "
            f"before, {cp.root_hash.hex()} now (both signed by the log key)",
        )
    tiles = _Tiles(fetch, cp.size)
    tree = TiledTree(cp.size, tiles)
    try:
        served = tree.root()
    except MonitorAlarm:
        raise
    except VerificationError as e:
        raise MonitorAlarm("tiles", f"the tiles of size {cp.size} cannot be read: {e}") from e
    if not hmac.compare_digest(served, cp.root_hash):
        raise MonitorAlarm(
            "tiles",
            f"the tiles hash to root {served.hex()}, the checkpoint for size {cp.size} signs "
            f"{cp.root_hash.hex()}",
        )
    if 0 < old_size < cp.size:
        try:
            proof = tree.consistency_proof(old_size)
            verify_consistency(old_size, cp.size, proof, old_root, cp.root_hash)
        except RootMismatchError as e:
            raise MonitorAlarm(
                "fork",
                f"the checkpoint for size {cp.size} is not consistent with the one for size "
                f"{old_size} seen before (root {old_root.hex()}): the log's tree of size "
                f"{old_size} is another one ({e})",
            ) from e
        except MonitorAlarm:
            raise
        except VerificationError as e:
            raise MonitorAlarm("tiles", f"no consistency proof from the tiles: {e}") from e
    _check_extension(fetch, tiles, tree, old_size, cp)
