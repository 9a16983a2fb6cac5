"""A local keystore of Ed25519 identities: one JSON file per party, readable by its owner only.

A party's file lists its keys, oldest first; the last is the one it signs with. Keys are
stored as C2SP signer-key strings (``PRIVATE+KEY+name+keyid+base64``), named after the
party, so the same string works with Go's ``note`` tools. The log's checkpoint key is
kept under the reserved name ``checkpoint-signer``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cwledger.errors import KeyNotFound, MalformedInput
from cwledger.time import clock, rfc3339
from cwledger.tlog.note import Signer

__all__ = ["Keystore", "StoredKey", "CHECKPOINT_SIGNER"]

CHECKPOINT_SIGNER = "checkpoint-signer"


@dataclass(frozen=True)
class StoredKey:
    """One key in the keystore."""

    party: str
    role: str
    signer: Signer
    created: str


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
        file = self._file(party)
        tmp = file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, file)

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
