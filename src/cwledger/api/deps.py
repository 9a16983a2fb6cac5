"""What every endpoint asks for: the ledger, the caller (bearer token, rate limit), a read
transaction. FastAPI dependencies; the endpoints stay thin."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cwledger.api.settings import Settings
from cwledger.book.answers import moment
from cwledger.errors import Forbidden, InvalidQuery, RateLimited, Unauthorized
from cwledger.ledger.access import Caller, authenticate
from cwledger.ledger.authority import Authority
from cwledger.ledger.ledger import Ledger
from cwledger.store import LogReader

__all__ = [
    "get_ledger",
    "get_settings",
    "caller",
    "writer",
    "reader",
    "Reader",
    "AnyCaller",
    "WritingCaller",
    "RateLimiter",
    "AuthorityCache",
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


def get_ledger(request: Request) -> Ledger:
    """The app's ledger."""
    ledger: Ledger = request.app.state.ledger
    return ledger


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="partyToken",
    description="A party's token, issued by `cwledger tokens issue --party P`.",
)


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The authenticated caller. Raises Unauthorized (401) or RateLimited (429)."""
    if credentials is None or not credentials.credentials.strip():
        raise Unauthorized("send `Authorization: Bearer <token>` (`cwledger tokens issue`)")
    state = request.app.state
    who = authenticate(state.ledger.store, state.authority.get(), credentials.credentials.strip())
    state.rate_limiter.take(who.token_id)
    return who


AnyCaller = Annotated[Caller, Depends(caller)]


def writer(who: AnyCaller) -> Caller:
    """A caller that may write events: any role but observer. Raises Forbidden (403)."""
    if who.role == "observer":
        raise Forbidden(f"party {who.party} is an observer: observers only read")
    return who


WritingCaller = Annotated[Caller, Depends(writer)]


def reader(request: Request, _who: AnyCaller) -> Iterator[LogReader]:
    """A read transaction (one consistent snapshot) for an authenticated caller."""
    with request.app.state.ledger.store.read() as r:
        yield r


Reader = Annotated[LogReader, Depends(reader)]


def query_moment(value: str, name: str, *, start_of_day: bool = False) -> int:
    """A query parameter's moment (µs): a date means the end of that day (its start when
    `start_of_day`), or an RFC 3339 UTC time. Raises InvalidQuery (422)."""
    try:
        t = moment(value)
    except ValueError as e:
        raise InvalidQuery(f"query.{name}", str(e)) from None
    return t - 86_400_000_000 + 1 if start_of_day and len(value.strip()) == 10 else t
