"""A local keystore of Ed25519 identities: one JSON file per party, readable by its owner only.

A party's file lists its keys, oldest first; the last is the one it signs with. Keys are
stored as C2SP signer-key strings (``PRIVATE+KEY+name+keyid+base64``), named after the
party, so the same string works with Go's ``note`` tools. The log's checkpoint key is
kept under the reserved name ``checkpoint-signer``.

A new key that the log has not taken yet is *pending*: ``<party>.pending`` holds it (and
why: a rotation, or a request to the quorum), written and synced (file and directory)
before the entry that names it is sent, so a crash or a full disk between the log and the
keystore never loses the key the log names. ``cwledger.ledger.ledger.Ledger.open``
settles pending keys: promoted when the log names them, dropped when an interrupted
rotation never reached the log. Every write is atomic and durable: a temporary file,
fsync, rename, fsync of the directory; a failed write leaves no temporary file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cwledger.errors import ConflictError, KeyNotFound, MalformedInput
from cwledger.time import clock, rfc3339
from cwledger.tlog.note import Signer

__all__ = ["Keystore", "StoredKey", "PendingKey", "CHECKPOINT_SIGNER"]

CHECKPOINT_SIGNER = "checkpoint-signer"


@dataclass(frozen=True)
class StoredKey:
    """One key in the keystore."""

    party: str
    role: str
    signer: Signer
    created: str


@dataclass(frozen=True)
class PendingKey:
    """A key not yet in force: `kind` is `rotation` (the party rotates it in itself) or
    `request` (it waits for a quorum of the founding parties to install it)."""

    party: str
    role: str
    signer: Signer
    kind: str
    created: str


def _write_durably(file: Path, text: str) -> None:
    """Replace `file` with `text`: a 0600 temporary file, fsync, rename, fsync of the
    directory. On any failure (a full disk) the temporary file is removed and `file` is
    as it was."""
    tmp = file.with_name(file.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, file)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_directory(file.parent)


def _sync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Keystore:
    """The keystore in a directory (created 0700; files 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _file(self, party: str) -> Path:
        return self.path / f"{party}.json"

    def _load(self, party: str) -> tuple[str, list[StoredKey]]:
        file = self._file(party)
        try:
            doc = json.loads(file.read_text())
            keys = [
                StoredKey(party, doc["role"], Signer.from_skey(k["skey"]), k["created"])
                for k in doc["keys"]
            ]
            return doc["role"], keys
        except FileNotFoundError as e:
            raise KeyNotFound(f"no key for {party!r} in the keystore {self.path}") from e
        except (KeyError, TypeError, json.JSONDecodeError) as e:
            raise MalformedInput(f"keystore file {file} is damaged: {e}") from e

    def _save(self, party: str, role: str, keys: list[StoredKey]) -> None:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        doc = {
            "party": party,
            "role": role,
            "keys": [{"skey": k.signer.skey(), "created": k.created} for k in keys],
        }
        _write_durably(self._file(party), json.dumps(doc, indent=2))

    def has(self, party: str) -> bool:
        """Whether the keystore holds a key for `party`."""
        return self._file(party).exists()

    def create(
        self, party: str, role: str, *, key_name: str | None = None, seed: bytes | None = None
    ) -> Signer:
        """Generate a new key for `party` and store it as its current one. Returns its signer.

        With `seed`, the key is derived from it (SHA-256 of the seed and the party's name):
        only for demonstration and synthetic ledgers, whose keys anyone can recompute.
        """
        name = key_name or party
        if seed is None:
            signer = Signer.generate(name)
        else:
            signer = Signer(name, hashlib.sha256(seed + b"\x00" + party.encode()).digest())
        self.add(party, role, signer)
        return signer

    def add(self, party: str, role: str, signer: Signer) -> None:
        """Store `signer` as the current key of `party` (after any it had)."""
        keys: list[StoredKey] = []
        if self.has(party):
            old_role, keys = self._load(party)
            if old_role != role:
                raise MalformedInput(f"{party} is {old_role} in the keystore, not {role}")
        stamp = rfc3339(clock())
        self._save(party, role, [*keys, StoredKey(party, role, signer, stamp)])

    def signer(self, party: str) -> Signer:
        """The key `party` signs with now (its newest). Raises KeyNotFound."""
        return self._load(party)[1][-1].signer

    def keys(self, party: str) -> list[StoredKey]:
        """Every key of `party`, oldest first. Raises KeyNotFound."""
        return self._load(party)[1]

    def parties(self) -> list[str]:
        """The parties with keys here (the checkpoint signer included)."""
        if not self.path.is_dir():
            return []
        return sorted(p.stem for p in self.path.glob("*.json"))

    # -- keys the log has not taken yet ------------------------------------------------

    def _pending_file(self, party: str) -> Path:
        return self.path / f"{party}.pending"

    def save_pending(self, party: str, role: str, signer: Signer, kind: str) -> None:
        """Keep `signer` as the pending key of `party`, durably, before the log names it.
        Raises ConflictError if one is pending already (settle or drop it first)."""
        if self.pending(party) is not None:
            raise ConflictError(
                f"{party} already has a pending key in {self._pending_file(party)}; "
                "it is promoted once the log names it (see `cwledger keys list`)"
            )
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        doc = {
            "party": party,
            "role": role,
            "kind": kind,
            "skey": signer.skey(),
            "created": rfc3339(clock()),
        }
        _write_durably(self._pending_file(party), json.dumps(doc, indent=2))

    def pending(self, party: str) -> PendingKey | None:
        """The pending key of `party`, if any."""
        file = self._pending_file(party)
        try:
            doc = json.loads(file.read_text())
            return PendingKey(
                party, doc["role"], Signer.from_skey(doc["skey"]), doc["kind"], doc["created"]
            )
        except FileNotFoundError:
            return None
        except (KeyError, TypeError, json.JSONDecodeError) as e:
            raise MalformedInput(f"pending key file {file} is damaged: {e}") from e

    def pending_parties(self) -> list[str]:
        """The parties with a pending key."""
        if not self.path.is_dir():
            return []
        return sorted(p.stem for p in self.path.glob("*.pending"))

    def promote(self, party: str) -> Signer:
        """Make the pending key of `party` its current one (the log has taken it)."""
        pending = self.pending(party)
        if pending is None:
            raise KeyNotFound(f"{party} has no pending key in the keystore {self.path}")
        known = self.has(party) and any(
            k.signer.key_id == pending.signer.key_id for k in self.keys(party)
        )
        if not known:  # a crash after this write and before the unlink: already there
            keys = self._load(party)[1] if self.has(party) else []
            stored = StoredKey(party, pending.role, pending.signer, pending.created)
            self._save(party, pending.role, [*keys, stored])
        self.drop_pending(party)
        return pending.signer

    def drop_pending(self, party: str) -> None:
        """Forget the pending key of `party` (the log never took it)."""
        self._pending_file(party).unlink(missing_ok=True)
        _sync_directory(self.path)

    @contextmanager
    def locked(self, *, wait: bool = True) -> Iterator[bool]:
        """Hold the keystore's lock (``.lock``, flock) while a key changes; yields False
        without waiting when `wait` is off and another process holds it."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)
