"""Bearer tokens for the parties: issue, authenticate, revoke (the server's access list);
and the dashboard's sessions, kept in the same list.

A token reads ``cwl_<id>_<secret>``: the id finds the stored row, the secret is checked
against its stored SHA-256 in constant time. A token belongs to one party of the log; its
role is the party's role as the log says now, so a party the log no longer lists (or a
revoked, expired or unknown token) authenticates as nobody.

A web session (`open_session`, at login) is a row of its own, short-lived, opened with a
token: its credential reads ``cws_<session id>_<secret>`` and its id ``s-<token id>-<n>``
names the token it was opened with. A session credential is not a token (the API refuses
it, and a token is no session); it stands for the party only while the token it was opened
with does too (revoking or expiring the token ends its sessions), and `end_session` (at
logout) revokes it.
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

__all__ = [
    "Caller",
    "issue_token",
    "authenticate",
    "revoke_token",
    "list_tokens",
    "open_session",
    "end_session",
    "PREFIX",
    "SESSION_PREFIX",
]

PREFIX = "cwl"
SESSION_PREFIX = "cws"
_SESSION_ID = "s-"
"""The start of a session's id (a token's id is hexadecimal: never this)."""


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


def _parse(token: str, prefix: str) -> tuple[str, str]:
    """A credential's id and secret. Raises Unauthorized if it does not read
    ``<prefix>_<id>_<secret>``."""
    found, _, rest = token.partition("_")
    token_id, _, secret = rest.partition("_")
    if found != prefix or not token_id or not secret:
        kind = "a token" if prefix == PREFIX else "a web session"
        raise Unauthorized(f"{kind} reads {prefix}_<id>_<secret>")
    return token_id, secret


def _valid(row: StoredToken | None, secret: str | None, stamp: str, token_id: str) -> StoredToken:
    """`row` if it is there, its secret is `secret` (None: not checked), and it is neither
    revoked nor expired at `stamp`. Raises Unauthorized."""
    if row is None or (
        secret is not None and not hmac.compare_digest(row.secret_hash, _hash(secret))
    ):
        raise Unauthorized("unknown token")
    if row.revoked_at is not None:
        raise Unauthorized(f"token {token_id} was revoked at {row.revoked_at}")
    if row.expires_at is not None and row.expires_at <= stamp:
        raise Unauthorized(f"token {token_id} expired at {row.expires_at}")
    return row


def _opened_with(session_id: str) -> str:
    """The id of the token a session was opened with."""
    return session_id.removeprefix(_SESSION_ID).rpartition("-")[0]


def authenticate(
    store: Store,
    authority: Authority,
    token: str,
    now: datetime | None = None,
    *,
    session: bool = False,
) -> Caller:
    """The caller a token (with `session`: a web session's credential) stands for. Raises
    Unauthorized, saying why, for any other credential: a session is not a token, nor a
    token a session; a session stands for nobody once the token it was opened with is
    revoked or expired."""
    token_id, secret = _parse(token, SESSION_PREFIX if session else PREFIX)
    if token_id.startswith(_SESSION_ID) != session:
        raise Unauthorized("unknown token")
    stamp = _stamp(now or datetime.now(UTC))
    with store.read() as r:
        row = _valid(r.access.get(token_id), secret, stamp, token_id)
        if session:
            opener = _opened_with(token_id)
            _valid(r.access.get(opener), None, stamp, opener)
    party = authority.parties.get(row.party)
    if party is None:
        raise Unauthorized(f"token {token_id}: party {row.party!r} is not in the log")
    return Caller(row.party, party.role, token_id)


def open_session(
    store: Store, opened_with: Caller, valid_for: timedelta, now: datetime | None = None
) -> str:
    """A web session for the party of an authenticated token (`opened_with`), valid for
    `valid_for` at most (less if the token expires first). Returns its credential (only
    its hash is kept). Raises Unauthorized if `opened_with` is itself a session."""
    if opened_with.token_id.startswith(_SESSION_ID):
        raise Unauthorized("a session cannot open another session")
    now = now or datetime.now(UTC)
    session_id = f"{_SESSION_ID}{opened_with.token_id}-{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32)
    row = StoredToken(
        token_id=session_id,
        party=opened_with.party,
        secret_hash=_hash(secret),
        issued_at=_stamp(now),
        expires_at=_stamp(now + valid_for),
        revoked_at=None,
        label=f"web session (token {opened_with.token_id})",
    )
    with store.write() as w:
        w.access.drop_ended(_SESSION_ID, row.issued_at)  # ended sessions are not kept
        w.access.add(row)
    return f"{SESSION_PREFIX}_{session_id}_{secret}"


def end_session(store: Store, credential: str, now: datetime | None = None) -> bool:
    """Revoke the session of `credential` (its secret checked); False when it names no
    session that is still open (nothing to end)."""
    try:
        session_id, secret = _parse(credential, SESSION_PREFIX)
    except Unauthorized:
        return False
    if not session_id.startswith(_SESSION_ID):
        return False
    with store.write() as w:
        row = w.access.get(session_id)
        if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
            return False
        return w.access.revoke(session_id, _stamp(now or datetime.now(UTC)))


def revoke_token(store: Store, token_id: str, now: datetime | None = None) -> None:
    """Revoke a token at once. Raises ConflictError if there is no such token not revoked."""
    with store.write() as w:
        if not w.access.revoke(token_id, _stamp(now or datetime.now(UTC))):
            raise ConflictError(f"no token {token_id} that is not already revoked")


def list_tokens(store: Store) -> list[StoredToken]:
    """Every token issued (hashes only), oldest first."""
    with store.read() as r:
        return r.access.all()
