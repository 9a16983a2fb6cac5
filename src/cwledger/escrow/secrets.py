"""The declarant's escrow file: the secrets behind its commitments, kept on its own machine.

One JSON file per declaring party (``<party>.escrow`` in the ledger's keystore directory,
or a path given), readable by its owner only (0600), replaced atomically and durably (a
temporary file, fsync, rename, fsync of the directory). It holds the order key and, for
each committed version, every item record with its salt: all that is needed to rebuild
the trees and open any leaf. Losing it loses the ability to prove anything against the
commitments (never the log); leaking it discloses the declaration.

Layout::

    {"format": "cwledger-escrow/v1", "party": "dec", "order_key": "<64 hex>",
     "versions": {"1": [{"record": {...}, "salt": "<64 hex>"}, ...], ...}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cwledger.errors import MalformedInput
from cwledger.escrow.tree import EscrowTree, build_trees, new_salt, new_salts
from cwledger.ledger.keystore import write_durably
from cwledger.model.escrow import EscrowItem

__all__ = ["FORMAT", "EscrowSecrets", "escrow_path"]

FORMAT = "cwledger-escrow/v1"


def escrow_path(keystore: Path, party: str) -> Path:
    """Where a party's escrow file lives in a keystore directory."""
    return keystore / f"{party}.escrow"


@dataclass
class EscrowSecrets:
    """A party's escrow secrets: the order key, and each version's records and salts."""

    party: str
    order_key: bytes
    versions: dict[int, list[tuple[EscrowItem, bytes]]] = field(default_factory=dict)

    @classmethod
    def new(cls, party: str) -> EscrowSecrets:
        return cls(party, new_salt())

    def add_version(self, version: int, records: list[EscrowItem]) -> dict[int, EscrowTree]:
        """Salt a new version's records and return its trees. A record identical to one of
        the latest version keeps its salt (so its leaf is the same and a diff shows it
        kept); any other gets a fresh one."""
        if version in self.versions:
            raise MalformedInput(f"escrow version {version} is already in the escrow file")
        previous = {r.id: (r, s) for r, s in self.versions.get(max(self.versions, default=0), [])}
        fresh = iter(new_salts(len(records)))
        salted = []
        for rec in records:
            old = previous.get(rec.id)
            salt = next(fresh)
            salted.append((rec, old[1] if old is not None and old[0] == rec else salt))
        self.versions[version] = salted
        return self.trees(version)

    def trees(self, version: int) -> dict[int, EscrowTree]:
        """The trees of a version, by category (MalformedInput if it is not here)."""
        salted = self.versions.get(version)
        if salted is None:
            have = ", ".join(map(str, sorted(self.versions))) or "none"
            raise MalformedInput(f"escrow version {version} is not in the escrow file ({have})")
        records = [r for r, _ in salted]
        return build_trees(version, records, {r.id: s for r, s in salted}, self.order_key)

    # -- the file ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "party": self.party,
            "order_key": self.order_key.hex(),
            "versions": {
                str(v): [
                    {"record": r.model_dump(mode="json", exclude_none=True), "salt": s.hex()}
                    for r, s in salted
                ]
                for v, salted in sorted(self.versions.items())
            },
        }

    @classmethod
    def from_json(cls, doc: Any, where: str) -> EscrowSecrets:
        """Read the file's document; MalformedInput naming ``where`` for anything wrong."""
        try:
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                raise ValueError(f"not an escrow file (format {FORMAT!r} wanted)")
            key = bytes.fromhex(doc["order_key"])
            versions = {
                int(v): [
                    (EscrowItem.model_validate(e["record"]), bytes.fromhex(e["salt"]))
                    for e in entries
                ]
                for v, entries in doc["versions"].items()
            }
            return cls(str(doc["party"]), key, versions)
        except (KeyError, TypeError, ValueError, ValidationError) as e:
            first = str(e).splitlines()[0]
            raise MalformedInput(f"{where}: {first}") from None

    @classmethod
    def load(cls, path: Path) -> EscrowSecrets:
        """Read an escrow file; MalformedInput if it is missing or malformed."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise MalformedInput(f"cannot read the escrow file {path}: {e.strerror or e}") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise MalformedInput(f"{path}: not JSON ({e})") from None
        return cls.from_json(doc, str(path))

    def save(self, path: Path) -> None:
        """Replace the file at ``path`` atomically and durably, readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_durably(path, json.dumps(self.to_json(), separators=(",", ":")))
