"""The monitor's checks (cwledger.tlog.monitor) over an in-memory tlog-tiles log: each kind
of alarm, and the honest log that raises none."""

from __future__ import annotations

import pytest

from cwledger.errors import NotFound
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.cosignature import CosignatureSigner
from cwledger.tlog.hashing import leaf_hash
from cwledger.tlog.monitor import MonitorAlarm, Policy, Verified, check_log
from cwledger.tlog.note import Signer, add_signatures, sign
from cwledger.tlog.tiled import TiledTree
from cwledger.tlog.tiles import FULL_ROW, TILE_WIDTH, entries_path, tile_layout, tile_path

ORIGIN = "example.org/monitor-test"
LOG = Signer.from_seed(ORIGIN, bytes(range(32)))
WITNESSES = [CosignatureSigner.from_seed(f"w{i}.example", bytes([i]) * 32) for i in (1, 2, 3)]


class MemoryLog:
    """A log served from memory as C2SP tlog-tiles resources."""

    def __init__(self, entries: list[bytes], signer: Signer = LOG) -> None:
        self.entries = list(entries)
        self.signer = signer
        self.files: dict[str, bytes] = {}
        self.cosigners: list[CosignatureSigner] = []
        self.publish()

    def publish(self) -> None:
        stored: dict[tuple[int, int], bytes] = {}
        tree = TiledTree(0, lambda keys: {k: stored[k] for k in keys if k in stored})
        compact, tiles, _ = tree.append([leaf_hash(e) for e in self.entries])
        stored.update(tiles)
        size = len(self.entries)
        files = {}
        for level, (full, width) in enumerate(tile_layout(size)):
            for i in range(full + (1 if width else 0)):
                w = TILE_WIDTH if i < full else width
                files[tile_path(level, i, w)] = stored[(level, i)][:FULL_ROW][: w * 32]
        for b in range(-(-size // TILE_WIDTH)):
            part = self.entries[b * TILE_WIDTH : (b + 1) * TILE_WIDTH]
            body = b"".join(len(e).to_bytes(2, "big") + e for e in part)
            files[entries_path(b, len(part))] = body
        text = Checkpoint(ORIGIN, size, compact.root()).to_text()
        note = sign(text, [self.signer])
        if self.cosigners:
            note = add_signatures(note, self.cosigners, [self.signer.verifier()])
        files["checkpoint"] = note
        self.files = files

    def __call__(self, path: str) -> bytes:
        if path not in self.files:
            raise NotFound(path)
        return self.files[path]


def _entries(n: int, tag: str = "a") -> list[bytes]:
    return [f'{{"entry":{i},"branch":"{tag}"}}'.encode() for i in range(n)]


POLICY = Policy(LOG.verifier().vkey())


def _alarm(log: MemoryLog, last: Verified | None, policy: Policy = POLICY) -> MonitorAlarm:
    with pytest.raises(MonitorAlarm) as info:
        check_log(log, policy, last)
    return info.value


@pytest.mark.parametrize("first, then", [(0, 1), (1, 300), (256, 513), (300, 300), (5, 70000)])
def test_an_honest_log_raises_no_alarm(first: int, then: int) -> None:
    log = MemoryLog(_entries(first))
    seen = check_log(log, POLICY, None) if first else None
    log.entries = _entries(then)
    log.publish()
    got = check_log(log, POLICY, seen)
    assert (got.checkpoint.size, got.note) == (then, log.files["checkpoint"])


def test_a_rewind_is_an_alarm() -> None:
    log = MemoryLog(_entries(300))
    seen = check_log(log, POLICY, None)
    log.entries = log.entries[:299]
    log.publish()
    alarm = _alarm(log, seen)
    assert alarm.kind == "rewind" and "from size 300 to size 299" in str(alarm)


@pytest.mark.parametrize("size", [10, 300])
def test_a_fork_of_the_same_size_is_an_alarm(size: int) -> None:
    seen = check_log(MemoryLog(_entries(size)), POLICY, None)
    other = MemoryLog(_entries(size - 1) + [b"another last entry"])
    alarm = _alarm(other, seen)
    assert alarm.kind == "fork" and f"two checkpoints for size {size}" in str(alarm)


@pytest.mark.parametrize("seen_size, fork_at, size", [(10, 5, 20), (300, 1, 600), (256, 255, 257)])
def test_a_fork_that_grew_is_an_alarm(seen_size: int, fork_at: int, size: int) -> None:
    seen = check_log(MemoryLog(_entries(seen_size)), POLICY, None)
    forked = MemoryLog(_entries(fork_at) + _entries(size - fork_at, "b"))
    alarm = _alarm(forked, seen)
    assert alarm.kind == "fork" and f"not consistent with the one for size {seen_size}" in str(
        alarm
    )


def test_a_checkpoint_by_another_key_is_an_alarm() -> None:
    log = MemoryLog(_entries(3), Signer.generate(ORIGIN))
    alarm = _alarm(log, None)
    assert alarm.kind == "signature"


def _corrupt(files: dict[str, bytes], path: str, at: int) -> None:
    data = bytearray(files[path])
    data[at] ^= 1
    files[path] = bytes(data)


@pytest.mark.parametrize(
    "path, at",
    [
        ("tile/0/000", 5),  # a leaf hash the root needs
        ("tile/0/001.p/44", 40 * 32),  # a leaf hash of the partial tile
        ("tile/1/000.p/1", 0),  # the hash of the full tile below
        ("tile/entries/000", 100),  # an entry
        ("tile/entries/001.p/44", 3),
    ],
)
def test_tiles_or_entries_that_do_not_hash_to_the_root_are_an_alarm(path: str, at: int) -> None:
    log = MemoryLog(_entries(300))
    _corrupt(log.files, path, at)
    alarm = _alarm(log, None)
    assert alarm.kind == "tiles", str(alarm)


def test_a_missing_tile_is_an_alarm() -> None:
    log = MemoryLog(_entries(300))
    del log.files["tile/entries/001.p/44"]
    alarm = _alarm(log, None)
    assert alarm.kind == "tiles" and "is not served" in str(alarm)


def test_only_the_new_entries_are_read() -> None:
    """After size 300, growing to 310 reads the last bundle, not the full one before it."""
    log = MemoryLog(_entries(300))
    seen = check_log(log, POLICY, None)
    log.entries = _entries(310)
    log.publish()
    _corrupt(log.files, "tile/entries/000", 100)  # not re-read: the monitor saw it
    assert check_log(log, POLICY, seen).checkpoint.size == 310


def test_the_quorum_of_witness_cosignatures() -> None:
    keys = tuple(w.verifier().vkey() for w in WITNESSES)
    log = MemoryLog(_entries(5))
    alarm = _alarm(log, None, Policy(POLICY.log_key, keys, 1))
    assert alarm.kind == "quorum" and "missing: w1.example, w2.example, w3.example" in str(alarm)
    log.cosigners = WITNESSES[:2]
    log.publish()
    assert check_log(log, Policy(POLICY.log_key, keys, 2), None).cosigned_by == (
        "w1.example",
        "w2.example",
    )
    alarm = _alarm(log, None, Policy(POLICY.log_key, keys, 3))
    assert "has 2 valid witness cosignatures, the policy needs 3; missing: w3.example" in str(alarm)
    # A cosignature line with a bad signature counts for nothing.
    note = log.files["checkpoint"].decode()
    last = note.rstrip("\n").rsplit("\n", 1)[1]
    bad = last[:-6] + ("AAAA==" if not last.endswith("AAAA==") else "BBBB==")
    log.files["checkpoint"] = note.replace(last, bad).encode()
    alarm = _alarm(log, None, Policy(POLICY.log_key, keys, 2))
    assert alarm.kind == "quorum" and "missing: w2.example, w3.example" in str(alarm)


def test_a_quorum_beyond_the_witnesses_given_is_refused() -> None:
    from cwledger.errors import MalformedInput

    with pytest.raises(MalformedInput, match="quorum"):
        Policy(POLICY.log_key, (), 1)
