"""A witness's directory: its cosignature key and its SQLite state.

``DIR/witness.key`` holds the witness's Ed25519 cosignature key (type 0x04) as a secret key
string, readable by its owner only. ``DIR/witness.db`` holds the logs it witnesses (origin
and trusted log keys) and, per origin, the latest checkpoint it cosigned. The database runs
in WAL mode with ``synchronous=FULL``: a commit is on disk before it returns.

:meth:`WitnessStore.record` takes a batch of opened requests and, in one ``BEGIN IMMEDIATE``
transaction, decides each in turn against the latest cosigned state (as updated by the
requests before it in the batch) and records every accepted checkpoint; it returns only
after the commit. Checking the old size and recording the new checkpoint are therefore one
atomic step, for requests in one process or in several, and a checkpoint is on disk before
any cosignature of it is sent. Batching is group commit: one disk flush for many requests.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cwledger.errors import ConflictError, CwledgerError, NotFound
from cwledger.tlog.checkpoint import Checkpoint
from cwledger.tlog.cosignature import CosignatureSigner
from cwledger.tlog.note import Verifier
from cwledger.witness.protocol import AddCheckpoint, Cosigned, decide

__all__ = ["KEY_FILE", "DB_FILE", "Opened", "WitnessNotFound", "WitnessStore", "init_witness"]

KEY_FILE = "witness.key"
DB_FILE = "witness.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_key (
    origin TEXT NOT NULL,
    vkey TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (origin, vkey)
);
CREATE TABLE IF NOT EXISTS cosigned (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
);
"""


class WitnessNotFound(NotFound):
    """The directory holds no witness."""

    code = "witness-not-found"


@dataclass(frozen=True)
class Opened:
    """A request whose checkpoint signature has been checked, ready to decide and record."""

    request: AddCheckpoint
    checkpoint: Checkpoint
    text: str


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def init_witness(path: Path, name: str) -> CosignatureSigner:
    """Create a witness in directory ``path``: a new cosignature key named ``name``, an
    empty state. Returns its signer.

    Raises: MalformedInput for a bad key name; ConflictError if ``path`` already holds a
    witness (nothing is overwritten).
    """
    signer = CosignatureSigner.generate(name)
    path.mkdir(parents=True, exist_ok=True)
    key_file = path / KEY_FILE
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise ConflictError(f"{path} already holds a witness ({KEY_FILE})") from e
    with os.fdopen(fd, "w") as f:
        f.write(signer.skey() + "\n")
        f.flush()
        os.fsync(f.fileno())
    conn = _connect(path / DB_FILE)
    conn.executescript(_SCHEMA)
    conn.close()
    return signer


class WitnessStore:
    """An open witness directory: its signer, its trusted logs, its latest cosigned state."""

    def __init__(self, path: Path) -> None:
        """Open the witness in ``path``. Raises: WitnessNotFound if there is none."""
        key_file, db_file = path / KEY_FILE, path / DB_FILE
        if not key_file.is_file() or not db_file.is_file():
            raise WitnessNotFound(f"no witness in {path} (run `cwledger witness init`)")
        self.path = path
        self.signer = CosignatureSigner.from_skey(key_file.read_text().strip())
        self._conn = _connect(db_file)

    def close(self) -> None:
        """Release the database."""
        self._conn.close()

    def add_log(self, origin: str, vkey: str) -> Verifier:
        """Trust the log key ``vkey`` (type 0x01) for checkpoints of ``origin``.

        Raises: MalformedInput for a bad origin line or key.
        """
        Checkpoint(origin, 0, bytes(32))  # checks the origin is one checkpoint line
        verifier = Verifier.from_vkey(vkey)
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.execute(
            "INSERT OR IGNORE INTO log_key (origin, vkey, added_at) VALUES (?, ?, ?)",
            (origin, verifier.vkey(), int(time.time())),
        )
        self._conn.execute("COMMIT")
        return verifier

    def trusted(self) -> dict[str, list[Verifier]]:
        """The trusted log keys by origin."""
        conn = _connect(self.path / DB_FILE)  # its own: safe beside a batch in another thread
        try:
            rows = conn.execute("SELECT origin, vkey FROM log_key ORDER BY origin, vkey").fetchall()
        finally:
            conn.close()
        keys: dict[str, list[Verifier]] = {}
        for origin, vkey in rows:
            keys.setdefault(origin, []).append(Verifier.from_vkey(vkey))
        return keys

    def latest(self, origin: str) -> Cosigned | None:
        """The latest checkpoint cosigned for ``origin`` (None if never)."""
        row = self._conn.execute(
            "SELECT size, root_hash FROM cosigned WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else Cosigned(row[0], bytes(row[1]))

    def record(self, batch: Sequence[Opened]) -> list[Exception | None]:
        """Decide each opened request in order and record the accepted ones, in one
        transaction; return only after it is committed (on disk).

        Returns, per request, None (accepted: it may be cosigned) or the refusal
        (:mod:`cwledger.witness.protocol`'s exceptions). Raises: sqlite3.Error if the
        database fails (then nothing of the batch is recorded and nothing may be cosigned).
        """
        outcomes: list[Exception | None] = []
        seen: dict[str, Cosigned | None] = {}
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            now = int(time.time())
            for item in batch:
                origin = item.checkpoint.origin
                latest = seen[origin] if origin in seen else self.latest(origin)
                try:
                    decide(item.request, item.checkpoint, latest)
                except CwledgerError as refusal:
                    seen[origin] = latest
                    outcomes.append(refusal)
                    continue
                cp = item.checkpoint
                conn.execute(
                    "INSERT INTO cosigned (origin, size, root_hash, note, cosigned_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
                    "size = excluded.size, root_hash = excluded.root_hash, "
                    "note = excluded.note, cosigned_at = excluded.cosigned_at",
                    (origin, cp.size, cp.root_hash, item.text, now),
                )
                seen[origin] = Cosigned(cp.size, cp.root_hash)
                outcomes.append(None)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return outcomes
