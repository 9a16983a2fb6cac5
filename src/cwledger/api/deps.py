"""What every endpoint asks for: the ledger, the caller (bearer token, rate limit), a read
transaction. FastAPI dependencies; the endpoints stay thin."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection

from cwledger.api.settings import Settings
from cwledger.book.answers import moment
from cwledger.errors import Forbidden, InvalidQuery, RateLimited, Unauthorized
from cwledger.ledger.access import Caller, authenticate
from cwledger.ledger.authority import Authority
from cwledger.ledger.ledger import Ledger
from cwledger.store import LogReader, Store

__all__ = [
    "get_ledger",
    "get_settings",
    "caller",
    "writer",
    "reader",
    "snapshot",
    "Reader",
    "AnyCaller",
    "WritingCaller",
    "RateLimiter",
    "AuthorityCache",
    "CallerCache",
    "Snapshot",
    "query_moment",
]


class RateLimiter:
    """A token bucket per API token: `rate` requests per second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> None:
        """Take one request for `key`. Raises RateLimited with the wait until the next."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise RateLimited(
                    f"more than {self.rate:g} requests/s (burst {self.burst}) with this token;"
                    f" retry in {wait:.2f} s",
                    retry_after=wait,
                )
            self._buckets[key] = (tokens - 1.0, now)


class AuthorityCache:
    """The log's parties and roles, replayed at most once a second (a party removed from the
    log loses access within that second; a revoked token at once, since tokens are read on
    every request)."""

    def __init__(self, ledger: Ledger, ttl: float = 1.0) -> None:
        self.ledger, self.ttl = ledger, ttl
        self._value: tuple[float, Authority] | None = None
        self._lock = threading.Lock()

    def get(self) -> Authority:
        """The authority, replayed if the cached one is older than the ttl."""
        now = time.monotonic()
        with self._lock:
            if self._value is None or now - self._value[0] > self.ttl:
                self._value = (now, self.ledger.authority())
            return self._value[1]


async def get_ledger(request: Request) -> Ledger:
    """The app's ledger."""
    ledger: Ledger = request.app.state.ledger
    return ledger


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="partyToken",
    description="A party's token, issued by `cwledger tokens issue --party P`.",
)


class CallerCache:
    """Tokens recently authenticated, for `ttl` seconds: a request then costs no database
    read for its token (a revoked or expired token is refused within `ttl`)."""

    def __init__(self, ledger: Ledger, authority: AuthorityCache, ttl: float = 1.0) -> None:
        self.ledger, self.authority, self.ttl = ledger, authority, ttl
        self._seen: dict[str, tuple[float, Caller]] = {}

    def cached(self, token: str) -> Caller | None:
        """The caller of a token authenticated less than `ttl` ago, or None."""
        hit = self._seen.get(token)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return None
        return hit[1]

    def authenticate(self, token: str) -> Caller:
        """Authenticate against the access list and the log (a database read)."""
        who = authenticate(self.ledger.store, self.authority.get(), token)
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[token] = (time.monotonic(), who)
        return who


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The authenticated caller. Raises Unauthorized (401) or RateLimited (429)."""
    if credentials is None or not credentials.credentials.strip():
        raise Unauthorized("send `Authorization: Bearer <token>` (`cwledger tokens issue`)")
    token = credentials.credentials.strip()
    cache: CallerCache = request.app.state.callers
    who = cache.cached(token)
    if who is None:
        who = await run_in_threadpool(cache.authenticate, token)
    request.app.state.rate_limiter.take(who.token_id)
    return who


AnyCaller = Annotated[Caller, Depends(caller)]


async def writer(who: AnyCaller) -> Caller:
    """A caller that may write events: any role but observer. Raises Forbidden (403)."""
    if who.role == "observer":
        raise Forbidden(f"party {who.party} is an observer: observers only read")
    return who


WritingCaller = Annotated[Caller, Depends(writer)]


class Snapshot(LogReader):
    """A read transaction opened on first use, in the thread that uses it (the endpoint's
    worker thread: waiting for a pooled connection never blocks the event loop), and ended
    by `close`."""

    def __init__(self, store: Store) -> None:  # no super().__init__: the connection is lazy
        self._store = store
        self._transaction: AbstractContextManager[LogReader] | None = None
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:  # type: ignore[override]
        if self._conn is None:
            self._transaction = self._store.read()
            self._conn = self._transaction.__enter__().conn
        return self._conn

    def close(self) -> None:
        """End the transaction, if one was opened, and give its connection back."""
        if self._transaction is not None:
            self._transaction.__exit__(None, None, None)
            self._transaction = self._conn = None


async def snapshot(request: Request) -> AsyncIterator[LogReader]:
    """A read transaction (one consistent snapshot), opened by the endpoint's first query in
    its worker thread: a request costs one thread hop, as an endpoint without a database
    does. Without authentication (the published log is public)."""
    s = Snapshot(request.app.state.ledger.store)
    try:
        yield s
    finally:
        s.close()


async def reader(request: Request, _who: AnyCaller) -> AsyncIterator[LogReader]:
    """`snapshot` for an authenticated caller."""
    async for s in snapshot(request):
        yield s


Reader = Annotated[LogReader, Depends(reader)]


def query_moment(value: str, name: str, *, start_of_day: bool = False) -> int:
    """A query parameter's moment (µs): a date means the end of that day (its start when
    `start_of_day`), or an RFC 3339 UTC time. Raises InvalidQuery (422)."""
    try:
        t = moment(value)
    except ValueError as e:
        raise InvalidQuery(f"query.{name}", str(e)) from None
    return t - 86_400_000_000 + 1 if start_of_day and len(value.strip()) == 10 else t
