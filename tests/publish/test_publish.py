"""`cwledger publish`: the log as C2SP tlog-tiles files, the bytes the `/log/` API serves,
written incrementally (full tiles once), the checkpoint last."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cwledger.ledger.publish as publish_module
from cwledger.cli import app
from cwledger.errors import ConflictError
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.publish import publish
from cwledger.ledger.tile_bytes import resource_path, resources, split_entry_bundle
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.hashing import leaf_hash
from tests.conftest import ORIGIN, row_counts
from tests.publish.helpers import grow, log_api


def _files(top: Path) -> dict[str, Path]:
    return {p.relative_to(top).as_posix(): p for p in top.rglob("*") if p.is_file()}


def _size_of(directory: Path) -> int:
    text = (directory / "checkpoint").read_text()
    return Checkpoint.from_text(text[: text.index("\n\n") + 1]).size


def test_publish_writes_exactly_the_c2sp_files_with_the_api_bytes(
    ledger: Ledger, tmp_path: Path
) -> None:
    grow(ledger, 0, 600)  # 601 entries: 2 full tiles, a partial one, and level 1
    out = tmp_path / "pub"
    report = publish(ledger, out)
    cp = ledger.latest_checkpoint()
    assert (report.size, report.root_hash) == (601, cp.root_hash)
    files = _files(out)
    assert set(files) == {
        "checkpoint",
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/89",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/89",
    }
    assert files["checkpoint"].read_text() == cp.note
    api = log_api(ledger)
    assert api.get("/log/checkpoint").content == files["checkpoint"].read_bytes()
    for name, file in files.items():
        if name != "checkpoint":
            served = api.get(f"/log/{name}", headers={"Accept-Encoding": "identity"})
            assert served.status_code == 200 and served.content == file.read_bytes(), name
    # And independently of the shared code: leaf hashes and length-prefixed envelopes.
    with ledger.store.read() as r:
        stored = r.entries(0, 601)
    assert files["tile/0/001"].read_bytes() == b"".join(e.leaf_hash for e in stored[256:512])
    bundle = split_entry_bundle(files["tile/entries/002.p/89"].read_bytes(), 89)
    assert bundle == [e.envelope for e in stored[512:]]
    assert [leaf_hash(b) for b in bundle] == [e.leaf_hash for e in stored[512:]]
    top = hashlib.sha256(b"\x01" + files["tile/1/000.p/2"].read_bytes()).digest()
    with ledger.store.read() as r:
        assert top == ledger.tree(r).root(512)


def test_a_second_publication_keeps_full_tiles_and_adds_the_new_ones(
    ledger: Ledger, tmp_path: Path
) -> None:
    grow(ledger, 0, 600)
    out = tmp_path / "pub"
    publish(ledger, out)
    before = {n: (p.stat().st_mtime_ns, p.read_bytes()) for n, p in _files(out).items()}
    grow(ledger, 600, 300)  # 901 entries: tile 2 fills, tile 3 starts
    report = publish(ledger, out)
    after = _files(out)
    full = [n for n in before if n != "checkpoint" and ".p/" not in n]
    assert full == [
        n for n in full if (after[n].stat().st_mtime_ns, after[n].read_bytes()) == before[n]
    ]
    assert len(full) == 4
    new = set(after) - set(before)
    assert new == {
        "tile/0/002",
        "tile/0/003.p/133",
        "tile/1/000.p/3",
        "tile/entries/002",
        "tile/entries/003.p/133",
    }
    assert report.written == len(new) and report.kept == 4
    # The partial tiles of the first publication stay, as the spec has a log serve them.
    assert (
        "tile/0/002.p/89" in after
        and after["tile/0/002.p/89"].read_bytes() == before["tile/0/002.p/89"][1]
    )
    assert _size_of(out) == 901
    # A third publication with nothing new writes only the checkpoint.
    again = publish(ledger, out)
    assert again.written == 0 and again.kept == len(list(resources(901)))


def test_the_checkpoint_is_written_after_every_tile_it_names(
    ledger: Ledger, tmp_path: Path
) -> None:
    out = tmp_path / "pub"
    grow(ledger, 0, 100)
    publish(ledger, out)
    missing: list[str] = []
    seen: set[int] = set()
    stop = threading.Event()

    def reader() -> None:
        # Read the checkpoint, then every tile and bundle its tree has: never missing.
        while not stop.is_set():
            size = _size_of(out)
            seen.add(size)
            for ref in resources(size):
                if not (out / resource_path(ref)).is_file():
                    missing.append(f"{resource_path(ref)} for size {size}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for step in range(8):
            grow(ledger, 100 + step * 150, 150)
            publish(ledger, out)
    finally:
        stop.set()
        thread.join()
    assert missing == []
    assert _size_of(out) == 1301 and len(seen) >= 2
    # And on disk: the checkpoint is the newest file.
    newest = max(p.stat().st_mtime_ns for n, p in _files(out).items() if n != "checkpoint")
    assert (out / "checkpoint").stat().st_mtime_ns >= newest
    assert not [n for n in _files(out) if n.endswith(".tmp")]


def test_publish_holds_at_most_a_batch_of_unsynced_files_and_syncs_all_before_the_checkpoint(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What publish holds does not grow with the log: it flushes the files it wrote
    `SYNC_BATCH` at a time (4 here), not every one at the end; and every file is flushed
    before the checkpoint is written."""
    grow(ledger, 0, 1500)  # 6 full bundles and their tiles, and the partial ones
    monkeypatch.setattr(publish_module, "SYNC_BATCH", 4)
    unsynced: set[Path] = set()
    most = [0]
    fsync_file, write = publish_module._fsync_file, publish_module._write

    def written(file: Path, data: bytes, *, sync: bool) -> None:
        write(file, data, sync=sync)
        if file.name == "checkpoint":
            assert not unsynced, f"the checkpoint is written before {sorted(unsynced)}"
        else:
            unsynced.add(file)
            most[0] = max(most[0], len(unsynced))

    def synced(file: Path) -> None:
        fsync_file(file)
        unsynced.discard(file)

    monkeypatch.setattr(publish_module, "_write", written)
    monkeypatch.setattr(publish_module, "_fsync_file", synced)
    report = publish(ledger, tmp_path / "pub")
    assert report.written == len(list(resources(1501))) > 8
    assert most[0] == 4 and not unsynced


def test_publish_refuses_another_log_or_a_rewind_and_writes_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    grow(ledger, 0, 300)
    earlier = tmp_path / "earlier"
    shutil.copytree(ledger.path, earlier)  # the ledger at 301 entries
    grow(ledger, 300, 300)
    out = tmp_path / "pub"
    publish(ledger, out)
    files = {n: p.read_bytes() for n, p in _files(out).items()}
    old = Ledger.open(earlier)
    try:
        with pytest.raises(ConflictError, match="size 601, larger than this ledger's latest .301."):
            publish(old, out)
    finally:
        old.close()
    other = Ledger.init(tmp_path / "other", ORIGIN + "/other", time="2013-09-14T00:00:00Z")
    try:
        with pytest.raises(ConflictError, match="holds the log"):
            publish(other, out)
        counts = row_counts(other)
    finally:
        other.close()
    assert counts["log_entry"] == 1
    assert {n: p.read_bytes() for n, p in _files(out).items()} == files
    # A copy of the ledger that went another way after 301 entries: another history.
    fork = Ledger.open(earlier)
    try:
        grow(fork, 5000, 300)
        with pytest.raises(ConflictError, match="another history"):
            publish(fork, out)
    finally:
        fork.close()
    assert {n: p.read_bytes() for n, p in _files(out).items()} == files


def test_the_cli_publishes_and_reports(ledger: Ledger, tmp_path: Path) -> None:
    grow(ledger, 0, 300)
    out = tmp_path / "pub"
    done = CliRunner().invoke(
        app, ["publish", str(out), "--ledger", str(ledger.path), "--json"], catch_exceptions=False
    )
    assert done.exit_code == 0, done.output
    assert '"size": 301' in done.stdout and '"written": 5' in done.stdout
    assert os.path.isfile(out / "tile/entries/001.p/45")


def test_files_a_crashed_publication_left_beyond_the_checkpoint_are_written_again(
    ledger: Ledger, tmp_path: Path
) -> None:
    grow(ledger, 0, 600)
    out = tmp_path / "pub"
    publish(ledger, out)
    # A publication that crashed before its checkpoint: a torn full tile and bundle.
    for name in ("tile/0/002", "tile/entries/002"):
        (out / name).write_bytes(b"torn")
    grow(ledger, 600, 300)
    report = publish(ledger, out)
    assert report.written == 5
    api = log_api(ledger)
    for name in ("tile/0/002", "tile/entries/002"):
        served = api.get(f"/log/{name}", headers={"Accept-Encoding": "identity"})
        assert (out / name).read_bytes() == served.content and len(served.content) > 4
