"""Bearer tokens for the parties: issue, authenticate, revoke (the server's access list).

A token reads ``cwl_<id>_<secret>``: the id finds the stored row, the secret is checked
against its stored SHA-256 in constant time. A token belongs to one party of the log; its
role is the party's role as the log says now, so a party the log no longer lists (or a
revoked, expired or unknown token) authenticates as nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cwledger.errors import ConflictError, LedgerNotFound, Unauthorized
from cwledger.ledger.authority import Authority
from cwledger.model.events import Role
from cwledger.store import Store
from cwledger.store.access import StoredToken

__all__ = ["Caller", "issue_token", "authenticate", "revoke_token", "list_tokens", "PREFIX"]

PREFIX = "cwl"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the token's party, its role in the log, and the token's id."""

    party: str
    role: Role
    token_id: str


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_token(
    store: Store,
    authority: Authority,
    party: str,
    *,
    valid_for: timedelta | None = None,
    label: str = "",
    now: datetime | None = None,
) -> tuple[str, StoredToken]:
    """Issue a token for a party the log lists. Returns the token (shown once) and its row.

    Raises LedgerNotFound for a party the log does not list.
    """
    if party not in authority.parties:
        known = ", ".join(sorted(authority.parties)) or "none"
        raise LedgerNotFound(f"party {party!r} is not in the log (parties: {known})")
    now = now or datetime.now(UTC)
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    row = StoredToken(
        token_id=token_id,
        party=party,
        secret_hash=_hash(secret),
        issued_at=_stamp(now),
        expires_at=None if valid_for is None else _stamp(now + valid_for),
        revoked_at=None,
        label=label,
    )
    with store.write() as w:
        w.access.add(row)
    return f"{PREFIX}_{token_id}_{secret}", row


def authenticate(
    store: Store, authority: Authority, token: str, now: datetime | None = None
) -> Caller:
    """The caller a token stands for. Raises Unauthorized, saying why, for any other token."""
    prefix, _, rest = token.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not token_id or not secret:
        raise Unauthorized(f"a token reads {PREFIX}_<id>_<secret>")
    with store.read() as r:
        row = r.access.get(token_id)
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        raise Unauthorized("unknown token")
    stamp = _stamp(now or datetime.now(UTC))
    if row.revoked_at is not None:
        raise Unauthorized(f"token {token_id} was revoked at {row.revoked_at}")
    if row.expires_at is not None and row.expires_at <= stamp:
        raise Unauthorized(f"token {token_id} expired at {row.expires_at}")
    party = authority.parties.get(row.party)
    if party is None:
        raise Unauthorized(f"token {token_id}: party {row.party!r} is not in the log")
    return Caller(row.party, party.role, token_id)


def revoke_token(store: Store, token_id: str, now: datetime | None = None) -> None:
    """Revoke a token at once. Raises ConflictError if there is no such token not revoked."""
    with store.write() as w:
        if not w.access.revoke(token_id, _stamp(now or datetime.now(UTC))):
            raise ConflictError(f"no token {token_id} that is not already revoked")


def list_tokens(store: Store) -> list[StoredToken]:
    """Every token issued (hashes only), oldest first."""
    with store.read() as r:
        return r.access.all()
