"""`cwledger verify` catches every kind of tampering with the stored log and names the entry."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import cwledger.ledger.audit as audit_module
from cwledger.errors import CorruptEntry, EventRejected
from cwledger.ledger.access import issue_token
from cwledger.ledger.audit import CHUNK, TAIL_CHUNK, AuditFailure, audit
from cwledger.ledger.chunk_workers import _Chunks
from cwledger.ledger.ledger import Ledger
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.note import Signer, sign
from cwledger.tlog.tiles import TILE_WIDTH
from tests.conftest import ORIGIN, event

SIZE = 300  # entries after the fixture's genesis: past one full level-0 tile


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    for start in range(1, SIZE, 100):
        ledger.append(ledger.sign([event(i) for i in range(start, min(start + 100, SIZE))], "insp"))
    return ledger


def _db(led: Ledger) -> sqlite3.Connection:
    return sqlite3.connect(led.path / "ledger.db")


def _flip_envelope_byte(db: sqlite3.Connection) -> None:
    (env,) = db.execute("SELECT envelope FROM log_entry WHERE idx = 123").fetchone()
    changed = bytearray(env)
    changed[60] ^= 0x01
    db.execute("UPDATE log_entry SET envelope = ? WHERE idx = 123", (bytes(changed),))


def _delete_row(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM log_entry WHERE idx = 77")


def _swap_rows(db: sqlite3.Connection) -> None:
    rows = {
        i: db.execute("SELECT * FROM log_entry WHERE idx = ?", (i,)).fetchone() for i in (40, 41)
    }
    db.execute("DELETE FROM log_entry WHERE idx IN (40, 41)")
    for new_idx, old in ((40, rows[41]), (41, rows[40])):
        marks = ", ".join("?" * len(old))
        db.execute(f"INSERT INTO log_entry VALUES ({marks})", (new_idx, *old[1:]))


def _change_tile_hash(db: sqlite3.Connection) -> None:
    (row,) = db.execute("SELECT hashes FROM tree_tile WHERE level = 0 AND idx = 0").fetchone()
    changed = bytearray(row)
    changed[200 * 32] ^= 0xFF  # the leaf hash of entry 200
    db.execute("UPDATE tree_tile SET hashes = ? WHERE level = 0 AND idx = 0", (bytes(changed),))


def _change_interior_hash(db: sqlite3.Connection) -> None:
    (row,) = db.execute("SELECT hashes FROM tree_tile WHERE level = 0 AND idx = 0").fetchone()
    at = (256 + 128 + 16) * 32  # height 2, the node over leaves 64..67
    changed = row[:at] + bytes(32) + row[at + 32 :]
    db.execute("UPDATE tree_tile SET hashes = ? WHERE level = 0 AND idx = 0", (changed,))


def _change_upper_tile_hash(db: sqlite3.Connection) -> None:
    (row,) = db.execute("SELECT hashes FROM tree_tile WHERE level = 1 AND idx = 0").fetchone()
    db.execute(
        "UPDATE tree_tile SET hashes = ? WHERE level = 1 AND idx = 0", (b"\x00" * 32 + row[32:],)
    )


def _checkpoint_by_other_key(db: sqlite3.Connection) -> None:
    size, root = db.execute(
        "SELECT size, root_hash FROM checkpoint ORDER BY size LIMIT 1 OFFSET 2"
    ).fetchone()
    forger = Signer.generate(ORIGIN)  # same name, another key
    note = sign(Checkpoint(origin=ORIGIN, size=size, root_hash=root).to_text(), [forger]).decode()
    db.execute("UPDATE checkpoint SET note = ? WHERE size = ?", (note, size))


def _checkpoint_other_root(db: sqlite3.Connection) -> None:
    db.execute(
        "UPDATE checkpoint SET root_hash = zeroblob(32) "
        "WHERE size = (SELECT max(size) FROM checkpoint)"
    )


def _log_time_text(db: sqlite3.Connection) -> None:
    db.execute("UPDATE log_entry SET logged_at = 'soon' WHERE idx = 150")


def _envelope_text(db: sqlite3.Connection) -> None:
    db.execute("UPDATE log_entry SET envelope = CAST(envelope AS TEXT) WHERE idx = 99")


def _leaf_hash_text(db: sqlite3.Connection) -> None:
    db.execute("UPDATE log_entry SET leaf_hash = 'abc' WHERE idx = 250")


def _tile_text(db: sqlite3.Connection) -> None:
    db.execute("UPDATE tree_tile SET hashes = 'junk' WHERE level = 0 AND idx = 1")


def _checkpoint_size_text(db: sqlite3.Connection) -> None:
    db.execute(
        f"UPDATE log_entry SET checkpoint_size = 'x' || char(27) WHERE checkpoint_size = {SIZE}"
    )


def _full_tile_text(db: sqlite3.Connection) -> None:
    db.execute("UPDATE tree_tile SET hashes = 'junk' WHERE level = 0 AND idx = 0")


def _tile_number(db: sqlite3.Connection) -> None:
    db.execute("UPDATE tree_tile SET hashes = 12 WHERE level = 0 AND idx = 1")


# (tampering, the entry verify must name, a phrase of the reason)
CASES: dict[str, tuple[Callable[[sqlite3.Connection], None], int, str]] = {
    "one byte of an envelope": (_flip_envelope_byte, 123, "entry 123"),
    "a deleted row": (_delete_row, 77, "entry is missing"),
    "two swapped rows": (_swap_rows, 40, "tile 0/0 hash 40"),
    "a level-0 tile hash": (_change_tile_hash, 200, "tile 0/0 hash 200"),
    "a level-1 tile hash": (_change_upper_tile_hash, 0, "tile 1/0 hash 0"),
    "an interior node of a full tile": (_change_interior_hash, 64, "interior node (height 2, 16)"),
    # its index (the checkpoint's last entry) is read from the store in the test
    "a checkpoint signed by another key": (
        _checkpoint_by_other_key,
        -1,
        "does not verify with the log key",
    ),
    "a checkpoint's stored root": (_checkpoint_other_root, SIZE - 1, f"checkpoint for size {SIZE}"),
    # SQLite keeps a value of any type in any column: the row is named, not a crash
    "a log time that is no number": (_log_time_text, 150, "stored log time is 'soon'"),
    "an envelope stored as text": (_envelope_text, 99, "stored envelope is str"),
    "a leaf hash stored as text": (_leaf_hash_text, 250, "stored leaf hash is str 'abc'"),
    "a tile stored as text": (_tile_text, 256, "tile 0/1: the stored hashes are str 'junk'"),
    "a full tile stored as text": (_full_tile_text, 0, "tile 0/0: the stored hashes are str"),
    # the last batch's size as text: it sorts after every number (a traceback before)
    "a checkpoint size that is no number": (
        _checkpoint_size_text,
        201,
        "entries 201..299 record the checkpoint size 'x\\x1b', which is no size",
    ),
    # bytes() would make it 12 zero bytes, which the audit would show as the stored hashes
    "a tile stored as a number": (_tile_number, 256, "the stored hashes are int '12', not bytes"),
}


@pytest.mark.parametrize(
    ("table", "column", "key", "row"),
    [
        ("checkpoint", "root_hash", "size = (SELECT max(size) FROM checkpoint)", "checkpoint"),
        ("party_token", "secret_hash", "1 = 1", "token"),
    ],
)
def test_another_rows_bytes_stored_as_text_are_named_not_a_crash(
    filled: Ledger, table: str, column: str, key: str, row: str
) -> None:
    # SQLite keeps a value of any type in any column: `bytes()` refused text with a
    # traceback (and made a number that many zero bytes)
    if table == "party_token":
        issue_token(filled.store, filled.authority(), "insp")
    with _db(filled) as db:
        db.execute(f"UPDATE {table} SET {column} = 'junk' WHERE {key}")
    readers = [["verify"], ["checkpoint"]] if table == "checkpoint" else [["tokens", "list"]]
    for command in readers:
        cli = subprocess.run(
            [sys.executable, "-m", "cwledger", *command, "--ledger", str(filled.path)],
            capture_output=True,
            text=True,
            check=False,
        )
        said = " ".join(cli.stderr.split())
        assert cli.returncode == 1 and "Traceback" not in cli.stderr, cli.stderr
        assert f"error (corrupt-row): the {row}" in said or f"error (corrupt-row): {row}" in said
        assert "is str 'junk', not bytes" in said


def test_untouched_log_verifies(filled: Ledger) -> None:
    report = audit(filled.store)
    assert report.size == SIZE and report.checkpoints == 4 and report.parties == 4


@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_caught_and_the_entry_named(filled: Ledger, case: str) -> None:
    tamper, index, phrase = CASES[case]
    if case == "a checkpoint signed by another key":
        with filled.store.read() as r:
            index = r.checkpoints()[2].size - 1
    with _db(filled) as db:
        tamper(db)
    with pytest.raises(AuditFailure) as info:
        audit(filled.store)
    assert info.value.index == index, str(info.value)
    assert phrase in str(info.value)
    # Chunks of whole tiles (the default) have their bottom tiles checked by the worker;
    # chunks of 40 leave them to a walk leaf by leaf: both name the same node.
    with pytest.raises(AuditFailure) as walked:
        audit(filled.store, chunk=40)
    assert str(walked.value) == str(info.value)
    cli = subprocess.run(
        [sys.executable, "-m", "cwledger", "verify", "--ledger", str(filled.path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 1
    assert f"entry {index}:" in " ".join(cli.stderr.split())


def test_signature_failure_is_named_even_when_the_rest_is_consistent(tmp_path: Path) -> None:
    """An envelope re-stored with a bad signature and matching leaf, tile and checkpoint."""
    led = Ledger.init(tmp_path / "l", ORIGIN, founding=[("insp", "inspectorate")])
    envs = led.sign([event(i) for i in range(1, 10)], "insp")
    led.append(envs[:4])
    # Append a forged envelope through the storage layer only, bypassing the checks.
    from cwledger.ledger.envelope import Envelope
    from cwledger.store import StoredEntry
    from cwledger.tlog import leaf_hash

    e = Envelope.from_bytes(envs[4])
    forged = Envelope(e.payload_type, e.payload, e.keyid, bytes(64)).to_bytes()
    with led.store.write() as w:
        size = w.size()
        w.insert_entries(
            [
                StoredEntry(
                    size,
                    leaf_hash(forged),
                    "ev-000005",
                    "estimate.recorded",
                    "insp",
                    "2014-01-06T10:00:00Z",
                    forged,
                )
            ]
        )
        compact, tiles, present = led.tree(w, size).append([leaf_hash(forged)])
        w.put_tiles(tiles, present)
    with pytest.raises(AuditFailure, match="signature does not verify") as info:
        audit(led.store)
    assert info.value.index == size


def test_a_signed_payload_not_in_canonical_form_is_named(tmp_path: Path) -> None:
    """A payload that gives its id twice, signed by its author and stored with a matching
    leaf hash and tiles: the log refuses such a payload (JSON parsers differ on which value
    they keep), and so does the audit, at its index, on both paths."""
    from cwledger.ledger.envelope import PAYLOAD_TYPE, Envelope, pae
    from cwledger.store import StoredEntry
    from cwledger.tlog import leaf_hash

    led = Ledger.init(tmp_path / "l", ORIGIN, founding=[("insp", "inspectorate")])
    envs = led.sign([event(i) for i in range(1, 10)], "insp")
    led.append(envs[:4])
    payload = Envelope.from_bytes(envs[4]).payload
    assert b',"id":"ev-000005",' in payload
    twice = payload.replace(b',"id":"ev-000005",', b',"id":"ev-decoy","id":"ev-000005",')
    signer = led.keystore.signer("insp")
    stored = Envelope(
        PAYLOAD_TYPE, twice, signer.key_id.hex(), signer.sign(pae(PAYLOAD_TYPE, twice))
    ).to_bytes()
    with led.store.write() as w:
        size = w.size()
        row = StoredEntry(
            size,
            leaf_hash(stored),
            "ev-000005",
            "estimate.recorded",
            "insp",
            "2014-01-06T10:00:00Z",
            stored,
        )
        w.insert_entries([row])
        _, tiles, present = led.tree(w, size).append([leaf_hash(stored)])
        w.put_tiles(tiles, present)
    for chunk in (None, 2):  # in this process; on the workers
        with pytest.raises(AuditFailure, match="stored payload is not in canonical") as info:
            audit(led.store, chunk=chunk)
        assert info.value.index == size
    with pytest.raises(EventRejected, match="not RFC 8785 canonical JSON"):
        led.append([stored])  # the append path refuses it too


def test_the_process_pool_path_finds_the_same_first_bad_entry(filled: Ledger) -> None:
    """Small chunks force the multi-process path: the lowest bad index still wins."""
    report = audit(filled.store, workers=2, chunk=40)
    assert report.size == SIZE and report.root_hash == audit(filled.store, workers=1).root_hash
    with _db(filled) as db:
        _flip_envelope_byte(db)  # entry 123
        _change_tile_hash(db)  # entry 200, later in the log
    with pytest.raises(AuditFailure) as info:
        audit(filled.store, workers=2, chunk=40)
    assert info.value.index == 123


@pytest.mark.parametrize("workers", [1, 2])
def test_an_unreadable_row_is_named_after_what_fails_before_it(
    filled: Ledger, workers: int
) -> None:
    """A row the store cannot read stops its chunk's read; the entries before it are still
    checked, so a failure earlier in the same chunk is the one named (chunks of 40: entries
    120..159 are one)."""
    with _db(filled) as db:
        db.execute("UPDATE log_entry SET logged_at = 'soon' WHERE idx = 130")
    with pytest.raises(AuditFailure, match="entry 130: the stored log time") as info:
        audit(filled.store, workers=workers, chunk=40)
    assert info.value.index == 130
    with _db(filled) as db:
        _flip_envelope_byte(db)  # entry 123
    with pytest.raises(AuditFailure) as info:
        audit(filled.store, workers=workers, chunk=40)
    assert info.value.index == 123
    with filled.store.read() as r:
        with pytest.raises(CorruptEntry, match="entry 130") as read:
            r.entries(100, 200)
        assert read.value.index == 130 and r.envelopes(100, 200)[30][0] == 130


@pytest.mark.parametrize("workers", [2, 4])
@pytest.mark.parametrize("size", [4_097, 10_001, 1_000_000])
def test_the_workers_chunks_are_whole_bottom_tiles_but_for_the_last(
    size: int, workers: int
) -> None:
    """Chunks of `CHUNK` entries start and end at bottom tiles, which their workers check
    against the stored ones; of the last, shorter ones (at most `workers` chunks' worth),
    those a tile or longer end at a tile's end too: the full tiles that two chunks share,
    which the audit's process walks leaf by leaf, hold at most `2 * workers + 1` tiles'
    worth of entries (without the alignment, some 3,800 of 10,001)."""
    chunks = list(_Chunks(size, CHUNK, TAIL_CHUNK, workers, TILE_WIDTH))
    whole = [c for c in chunks if c[1] - c[0] == CHUNK]
    assert all(s % TILE_WIDTH == 0 and e % TILE_WIDTH == 0 for s, e in whole)
    assert size - sum(e - s for s, e in whole) <= (workers + 1) * CHUNK
    shared = [
        t
        for t in range(0, size - TILE_WIDTH + 1, TILE_WIDTH)
        if not any(s <= t and t + TILE_WIDTH <= e for s, e in chunks)
    ]
    assert len(shared) <= 2 * workers + 1


def _extra_tile(db: sqlite3.Connection) -> None:
    db.execute("INSERT INTO tree_tile (level, idx, hashes) VALUES (3, 0, zeroblob(32))")


def _wider_partial_tile(db: sqlite3.Connection) -> None:
    (row,) = db.execute("SELECT hashes FROM tree_tile WHERE level = 1 AND idx = 0").fetchone()
    db.execute("UPDATE tree_tile SET hashes = ? WHERE level = 1 AND idx = 0", (row + row[:32],))


@pytest.mark.parametrize("tamper", [_extra_tile, _wider_partial_tile])
def test_a_tile_the_tree_does_not_have_is_named(
    filled: Ledger, tamper: Callable[[sqlite3.Connection], None]
) -> None:
    """A stored tile beyond the tree, or one wider than the tree's, fails the audit at the
    last entry, naming the tile."""
    with _db(filled) as db:
        tamper(db)
    with pytest.raises(AuditFailure) as info:
        audit(filled.store)
    assert info.value.index == SIZE - 1
    assert "stored tiles do not match a tree of 300 entries" in str(info.value)
    assert ("(3, 0), 1" if tamper is _extra_tile else "(1, 0), 2") in str(info.value)


_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["drop", "add", "widen"]),
        st.integers(0, 10_000),
        st.integers(0, 3),
        st.integers(1, 256),
    ),
    max_size=3,
)


@given(st.integers(1, 3_000_000), _EDITS)
def test_the_streamed_tile_set_check_agrees_with_comparing_the_sets(
    size: int, edits: list[tuple[str, int, int, int]]
) -> None:
    """`_check_tile_set` (two streams in key order, nothing held per tile) fails exactly
    when the stored set differs from the tree's layout, as comparing the two whole sets did;
    and counts the tiles when they agree."""
    want = {(lv, ix): w for lv, ix, w in audit_module._tile_set(size)}
    stored = dict(want)
    for kind, at, level, width in edits:
        keys = sorted(stored)
        if kind == "drop" and keys:
            del stored[keys[at % len(keys)]]
        elif kind == "add":
            stored[(level, at)] = width
        elif kind == "widen" and keys:
            key = keys[at % len(keys)]
            stored[key] = stored[key] % 256 + 1
    rows = sorted((lv, ix, w * 32) for (lv, ix), w in stored.items())
    if stored == want:
        assert audit_module._check_tile_set(rows, size) == len(want)
    else:
        with pytest.raises(AuditFailure, match="stored tiles do not match"):
            audit_module._check_tile_set(rows, size)


def _grouped_by_size(sizes: list[int | None]) -> list[tuple[int | None, int, int, int]]:
    """What `LogReader.batches` reads from entries recording `sizes`: (size, first, last,
    count) per size, by size, None first."""
    groups: dict[int | None, list[int]] = {}
    for index, size in enumerate(sizes):
        groups.setdefault(size, []).append(index)
    order = sorted(groups, key=lambda s: (s is not None, s or 0))
    return [(s, min(groups[s]), max(groups[s]), len(groups[s])) for s in order]


@given(
    st.lists(st.integers(1, 9), max_size=8),
    st.lists(
        st.tuples(
            st.sampled_from(["copy", "none", "set", "drop", "add"]),
            st.integers(0, 60),
            st.integers(0, 70),
        ),
        max_size=3,
    ),
    st.integers(1, 30),
)
@example([3, 3], [("copy", 2, 3)], 4)  # a batch's last entry records the next one's size
@example([3, 3], [("copy", 3, 2)], 2)  # the next batch's first records this one's
@example([3, 3], [("drop", 1, 0)], 5)  # the last checkpoint is missing
@example([3, 3], [("add", 0, 4)], 1)  # a checkpoint at no boundary
def test_the_runs_the_chunks_bring_pass_exactly_when_the_scan_by_size_does(
    batches: list[int], edits: list[tuple[str, int, int]], chunk: int
) -> None:
    """`_BatchRuns` (the runs of entries recording one checkpoint size, chunk by chunk, as
    the workers read them) passes a log exactly when `_check_batches` over the scan by size
    does, so that the scan runs only to name what is wrong: entries recording another
    batch's size, another size or none, checkpoints missing or extra."""
    sizes: list[int | None] = []
    for n in batches:
        sizes += [len(sizes) + n] * n
    checkpoints = sorted({s for s in sizes if s is not None})
    for kind, at, value in edits:
        if kind == "copy" and sizes:
            sizes[at % len(sizes)] = sizes[value % len(sizes)]
        elif kind in ("none", "set") and sizes:
            sizes[at % len(sizes)] = value if kind == "set" else None
        elif kind == "drop" and checkpoints:
            del checkpoints[at % len(checkpoints)]
        elif kind == "add":
            checkpoints = sorted({*checkpoints, value})
    runs = audit_module._BatchRuns(checkpoints)
    for start in range(0, len(sizes), chunk):
        runs.add(audit_module._runs(start, sizes[start : start + chunk]))
    try:
        audit_module._check_batches(_grouped_by_size(sizes), checkpoints)
        scanned = True
    except AuditFailure:
        scanned = False
    assert runs.all_batches() == scanned
