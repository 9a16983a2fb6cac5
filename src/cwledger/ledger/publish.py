"""`cwledger publish`: the log as static C2SP tlog-tiles files, for any web server, object
store or CDN to serve (c2sp.org/tlog-tiles).

``publish(ledger, out_dir)`` writes, as of the ledger's latest checkpoint (one read
snapshot), exactly the bytes the `/log/` read API serves (:mod:`cwledger.ledger.tile_bytes`):

* ``tile/<L>/<N>`` and ``tile/entries/<N>`` for every full tile and entry bundle: written
  once, never rewritten (one that the directory's checkpoint already names is kept; one
  beyond it, which a crashed publication may have left torn, is written again);
* ``tile/<L>/<N>.p/<W>`` and ``tile/entries/<N>.p/<W>``, the partial ones of that tree:
  a new file for each new width; the narrower ones of earlier publications stay (the spec
  has a log serve the partial tiles of every checkpoint it published, and lets it delete
  them only once the full tile is there);
* ``checkpoint``, the signed note, last.

Every file is written to a temporary name and renamed into place (a reader sees it whole
or not at all); the files written are flushed to disk `SYNC_BATCH` at a time (fsync, in
parallel threads: what is held in memory does not grow with the log), then the
directories holding new names; the checkpoint is written, flushed and renamed last,
once every tile it needs is durable. So a reader (or a crash) never sees a torn file, nor a
checkpoint whose tiles are missing.

A directory already holding a publication is only extended: its checkpoint must be of the
same origin, no larger than the ledger's, and its root must be the root of the ledger's
tree of that size (else the full tiles there, which are never rewritten, would belong to
another history): `ConflictError` otherwise, and nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cwledger.errors import ConflictError, LedgerNotFound, VerificationError
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.tile_bytes import resource_bytes, resource_path, resources, width_in
from cwledger.tlog.checkpoint import Checkpoint

__all__ = ["CHECKPOINT_FILE", "PublishReport", "publish", "write_durably"]

CHECKPOINT_FILE = "checkpoint"

SYNC_THREADS = 16
"""Files flushed to disk at once (the file system commits concurrent fsyncs together)."""

SYNC_BATCH = 4096
"""Files written before they are flushed, together (their paths are all publish holds)."""

Progress = Callable[[int, int], None]
"""Called with (resources done, resources in all)."""


@dataclass(frozen=True)
class PublishReport:
    """What one publication did."""

    size: int
    root_hash: bytes
    written: int  # tiles and bundles written
    kept: int  # already there (full ones, or a partial one of the same width)
    bytes_written: int


def write_durably(file: Path, data: bytes) -> None:
    """Write `data` to `file` through a temporary name, fsync it and rename it into place
    (the caller syncs the directory)."""
    _write(file, data, sync=True)


def _write(file: Path, data: bytes, *, sync: bool) -> None:
    """Write `data` to a temporary name beside `file` and rename it into place (a reader
    sees the whole file or none); fsync before the rename when `sync`."""
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, file)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_files(pool: ThreadPoolExecutor, files: list[Path]) -> None:
    """Flush `files` to disk, in parallel; empties the list."""
    list(pool.map(_fsync_file, files))
    files.clear()


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _published(out_dir: Path) -> Checkpoint | None:
    """The checkpoint already published in `out_dir` (its text; signatures are the log's
    concern, the root is compared with the ledger's own tree)."""
    file = out_dir / CHECKPOINT_FILE
    if not file.is_file():
        return None
    raw = file.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    end = text.find("\n\n")
    try:
        return Checkpoint.from_text(text[: end + 1] if end >= 0 else text)
    except VerificationError as e:
        raise ConflictError(
            f"{file} is not a checkpoint ({e}); publish into another directory"
        ) from e


def publish(ledger: Ledger, out_dir: Path, progress: Progress | None = None) -> PublishReport:
    """Publish the ledger's log as of its latest checkpoint into `out_dir` (created if
    needed). Raises LedgerNotFound for a ledger without a checkpoint, ConflictError when
    `out_dir` holds another log or a larger publication."""
    with ledger.store.read() as r:
        cp = r.latest_checkpoint()
        if cp is None:
            raise LedgerNotFound(f"the ledger in {ledger.path} has no checkpoint to publish")
        origin = Checkpoint.from_text(cp.note[: cp.note.find("\n\n") + 1]).origin
        before = _published(out_dir)
        if before is not None:
            if before.origin != origin:
                raise ConflictError(
                    f"{out_dir} holds the log {before.origin!r}, not {origin!r}; nothing written"
                )
            if before.size > cp.size:
                raise ConflictError(
                    f"{out_dir} holds a checkpoint of size {before.size}, larger than this"
                    f" ledger's latest ({cp.size}): a rewind; nothing written"
                )
            if before.size and ledger.tree(r, cp.size).root(before.size) != before.root_hash:
                raise ConflictError(
                    f"{out_dir} holds a checkpoint of size {before.size} whose root is not the"
                    f" root of this ledger's first {before.size} entries: another history;"
                    " nothing written"
                )
        out_dir.mkdir(parents=True, exist_ok=True)
        total = sum(1 for _ in resources(cp.size))
        published = 0 if before is None else before.size
        unsynced: list[Path] = []
        new_dirs: set[Path] = set()  # one per 1,000 files (`resource_path`)
        written = kept = nbytes = 0
        with ThreadPoolExecutor(SYNC_THREADS) as pool:
            for done, ref in enumerate(resources(cp.size), start=1):
                file = out_dir / resource_path(ref)
                if width_in(ref, published) == ref.width and file.is_file():
                    kept += 1  # the last checkpoint named it: written and synced then
                else:  # (also one a crashed publication left, or one deleted: written again)
                    if not file.parent.is_dir():
                        file.parent.mkdir(parents=True, exist_ok=True)
                    data = resource_bytes(r, ref)
                    _write(file, data, sync=False)
                    unsynced.append(file)
                    new_dirs.add(file.parent)
                    written += 1
                    nbytes += len(data)
                    if len(unsynced) >= SYNC_BATCH:
                        _sync_files(pool, unsynced)
                if progress is not None and (done % 64 == 0 or done == total):
                    progress(done, total)
            # Durable before the checkpoint names them: the files (in parallel, so that the
            # file system commits them together), then the directories that gained names.
            _sync_files(pool, unsynced)
    for d in sorted(_with_parents(new_dirs, out_dir), key=lambda p: -len(p.parts)):
        _sync_dir(d)
    write_durably(out_dir / CHECKPOINT_FILE, cp.cosigned_note.encode("utf-8"))
    _sync_dir(out_dir)
    return PublishReport(cp.size, cp.root_hash, written, kept, nbytes)


def _with_parents(dirs: set[Path], top: Path) -> set[Path]:
    """`dirs` and every directory between them and `top` (the ones `mkdir` may have made)."""
    out = set(dirs)
    for d in dirs:
        for parent in d.parents:
            if parent == top or top not in parent.parents:
                break
            out.add(parent)
    out.add(top)
    return out
