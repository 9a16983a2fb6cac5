"""The server's access list: the parties' bearer tokens, stored hashed (table `party_token`).

Not part of the log and not signed: it only decides who may call the HTTP API. Every
event still carries its author's signature, which the append path checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from cwledger.store.entries import row_bytes
from cwledger.store.schema import party_token

__all__ = ["AccessList", "StoredToken"]


@dataclass(frozen=True, slots=True)
class StoredToken:
    """One issued token, as stored (the secret itself is never stored)."""

    token_id: str
    party: str
    secret_hash: bytes
    issued_at: str
    expires_at: str | None
    revoked_at: str | None
    label: str


def _token(row: Any) -> StoredToken:
    secret = row_bytes(row[2], "secret's hash", "token {}", row[0])
    return StoredToken(row[0], row[1], secret, row[3], row[4], row[5], row[6])


_COLUMNS = (
    party_token.c.token_id,
    party_token.c.party,
    party_token.c.secret_hash,
    party_token.c.issued_at,
    party_token.c.expires_at,
    party_token.c.revoked_at,
    party_token.c.label,
)


class AccessList:
    """Tokens, read and written inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, token_id: str) -> StoredToken | None:
        """The token with that id, or None."""
        r = self.conn.execute(select(*_COLUMNS).where(party_token.c.token_id == token_id)).first()
        return None if r is None else _token(r)

    def all(self) -> list[StoredToken]:
        """Every token, by issue time then id."""
        q = select(*_COLUMNS).order_by(party_token.c.issued_at, party_token.c.token_id)
        return [_token(r) for r in self.conn.execute(q)]

    def add(self, token: StoredToken) -> None:
        """Store a newly issued token."""
        self.conn.execute(
            insert(party_token).values(
                token_id=token.token_id,
                party=token.party,
                secret_hash=token.secret_hash,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
                revoked_at=token.revoked_at,
                label=token.label,
            )
        )

    def drop_ended(self, id_prefix: str, at: str) -> int:
        """Delete the rows whose id starts with `id_prefix` (web sessions) that have ended by
        `at`: revoked, or expired. Returns how many."""
        c = party_token.c
        result = self.conn.execute(
            delete(party_token).where(
                c.token_id.startswith(id_prefix, autoescape=True),
                or_(c.revoked_at.is_not(None), c.expires_at <= at),
            )
        )
        return int(result.rowcount)

    def revoke(self, token_id: str, at: str) -> bool:
        """Mark a token revoked at `at`; False when there is no such token not yet revoked."""
        result = self.conn.execute(
            update(party_token)
            .where(party_token.c.token_id == token_id, party_token.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)
