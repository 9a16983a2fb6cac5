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

A party's X25519 encryption keys (``cwledger.model.enckeys``) are in ``<party>.x25519``,
also 0600: a key ring, oldest first, that is only ever added to. Every key a party had
stays, because payloads sealed to an old key open with that key only; a box names its key
by key id. A new key is stored before the entry that names it is sent, so the log never
names a key this keystore lost; a key the log never took is only an unused ring member.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cwledger.errors import ConflictError, KeyNotFound, MalformedInput, VerificationError
from cwledger.model.enckeys import DecryptionKey
from cwledger.time import clock, rfc3339
from cwledger.tlog.note import Signer

__all__ = ["Keystore", "StoredKey", "PendingKey", "CHECKPOINT_SIGNER", "write_durably"]

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


def write_durably(file: Path, data: str | bytes) -> None:
    """Replace `file` with `data`, readable by its owner only: a 0600 temporary file,
    fsync, rename, fsync of the directory. On any failure (a full disk) the temporary file
    is removed and `file` is as it was."""
    tmp = file.with_name(file.name + ".tmp")
    raw = data.encode() if isinstance(data, str) else data
    try:
        tmp.unlink(missing_ok=True)  # a stale one may have other permissions
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
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
        write_durably(self._file(party), json.dumps(doc, indent=2))

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

    # -- encryption keys ----------------------------------------------------------------

    def _ring_file(self, party: str) -> Path:
        return self.path / f"{party}.x25519"

    def has_encryption_key(self, party: str) -> bool:
        """Whether the keystore holds an encryption key for `party`."""
        return self._ring_file(party).exists()

    def create_encryption_key(self, party: str, *, seed: bytes | None = None) -> DecryptionKey:
        """Generate a new X25519 key for `party` and add it to its ring. With `seed`, the
        key is derived from it (demonstration and synthetic ledgers only)."""
        if seed is None:
            key = DecryptionKey.generate(party)
        else:
            key = DecryptionKey.from_seed(party, seed)
        self.add_encryption_key(party, key)
        return key

    def add_encryption_key(self, party: str, key: DecryptionKey) -> None:
        """Add `key` to the ring of `party` (newest last), durably; a key already there is
        not added twice."""
        if key.name != party:
            raise MalformedInput(f"encryption key is named {key.name!r}, not {party!r}")
        ring = self._load_ring(party) if self.has_encryption_key(party) else []
        if any(k.key_id == key.key_id for k, _ in ring):
            return
        ring.append((key, rfc3339(clock())))
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        doc = {
            "party": party,
            "keys": [{"xkey": k.string(), "created": created} for k, created in ring],
        }
        write_durably(self._ring_file(party), json.dumps(doc, indent=2))

    def _load_ring(self, party: str) -> list[tuple[DecryptionKey, str]]:
        file = self._ring_file(party)
        try:
            doc = json.loads(file.read_text())
            return [(DecryptionKey.from_string(k["xkey"]), k["created"]) for k in doc["keys"]]
        except FileNotFoundError as e:
            raise KeyNotFound(f"no encryption key for {party!r} in the keystore {self.path}") from e
        except (KeyError, TypeError, json.JSONDecodeError, VerificationError) as e:
            raise MalformedInput(f"keystore file {file} is damaged: {e}") from e

    def encryption_keys(self, party: str) -> list[DecryptionKey]:
        """Every encryption key of `party`, oldest first. Raises KeyNotFound."""
        return [k for k, _ in self._load_ring(party)]

    def decryption_keys(self, party: str) -> Callable[[str], DecryptionKey | None]:
        """`party`'s decryption keys by hex key id: None for a key this keystore lacks (or
        a party with no key ring here), each read once (what opens sealed bodies)."""
        found: dict[str, DecryptionKey] = {}

        def key(kid: str) -> DecryptionKey | None:
            if kid not in found:
                try:
                    found[kid] = self.decryption_key(party, kid)
                except KeyNotFound:
                    return None
            return found[kid]

        return key

    def decryption_key(self, party: str, key_id: str | None = None) -> DecryptionKey:
        """The encryption key of `party` with the hex `key_id` (default: its newest), to
        open what is sealed to it. Raises KeyNotFound."""
        ring = self.encryption_keys(party)
        if key_id is None:
            return ring[-1]
        for key in ring:
            if key.key_id.hex() == key_id:
                return key
        raise KeyNotFound(f"{party} has no encryption key {key_id} in the keystore {self.path}")

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
        write_durably(self._pending_file(party), json.dumps(doc, indent=2))

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
