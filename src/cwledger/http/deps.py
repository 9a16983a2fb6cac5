"""What every endpoint asks for: the ledger, the caller (bearer token, rate limit), a read
snapshot. FastAPI dependencies, as few as can be (each one FastAPI resolves costs more than
a read of the book); the endpoints stay thin."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import AbstractContextManager, asynccontextmanager
from datetime import timedelta
from functools import cache
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from cwledger.errors import (
    Forbidden,
    InvalidQuery,
    MalformedInput,
    NotEntitled,
    RateLimited,
    Unauthorized,
)
from cwledger.http.settings import Settings
from cwledger.ledger.access import Caller, authenticate, end_session, open_session
from cwledger.ledger.authority import Authority
from cwledger.ledger.ledger import LATE_AFTER, Ledger
from cwledger.model.classes import CLEARANCE, Class
from cwledger.store import LogReader, Store
from cwledger.time import parse_moment, queryable

T = TypeVar("T")

__all__ = [
    "AnswerCache",
    "ImmutableAnswers",
    "get_ledger",
    "get_settings",
    "caller",
    "writer",
    "reader",
    "reader_at",
    "ProtectedReader",
    "HighlyProtectedReader",
    "clearance",
    "served_class",
    "serving",
    "snapshot",
    "open_snapshot",
    "authenticated_caller",
    "published",
    "LogReads",
    "Reader",
    "require_clearance",
    "entitled",
    "AnyCaller",
    "WritingCaller",
    "RateLimiter",
    "AuthorityCache",
    "CallerCache",
    "token_caller",
    "session_caller",
    "open_web_session",
    "end_web_session",
    "Snapshot",
    "Statements",
    "query_moment",
    "AUTH_FAILURE_RATE",
    "AUTH_FAILURE_BURST",
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
            if len(self._buckets) > 100_000:  # bounded, whatever keys a client invents
                self._buckets.clear()

    def check(self, key: str, now: float | None = None) -> None:
        """Raise RateLimited if `key` has no request left now (taking none)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            wait = (1.0 - tokens) / self.rate
            raise RateLimited(
                f"too many failed authentications from this address; retry in {wait:.2f} s",
                retry_after=wait,
            )


AUTH_FAILURE_RATE = 1.0
AUTH_FAILURE_BURST = 20
"""Failed authentications taken from one client address: a burst of 20, then one a second;
beyond that the address is answered 429 without its token being looked up."""


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


class ImmutableAnswers:
    """Answers that never change once given, by question: a tile or an entry bundle once
    a checkpoint covers it, a proof between two tree sizes, an entry's document (the log is
    append-only and its published checkpoint only grows). Least recently used go first
    beyond `capacity` bytes of answers. Used on the event loop only (no lock)."""

    def __init__(self, capacity: int = 32 * 2**20) -> None:
        self.capacity = capacity
        self.held = 0
        self._answers: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()

    def get(self, question: Hashable) -> Any:
        """The answer given before, or None."""
        found = self._answers.get(question)
        if found is None:
            return None
        self._answers.move_to_end(question)
        return found[1]

    def put(self, question: Hashable, answer: T, size: int) -> T:
        """Remember `answer`, of `size` bytes; returns it."""
        old = self._answers.pop(question, None)
        if old is not None:
            self.held -= old[0]
        self._answers[question] = (size, answer)
        self.held += size
        while self.held > self.capacity and self._answers:
            self.held -= self._answers.popitem(last=False)[1][0]
        return answer


class AnswerCache:
    """Answers by (log size, question). The book at a given log size never changes (it is
    written in the transaction that appends), so an answer computed at that size is the
    answer for as long as the log has that size; the next append makes every key new.
    Least recently used answers go first beyond `capacity`."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._answers: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, r: Snapshot, question: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """The answer to `question` in `r`'s snapshot, computed once per log size.

        The log's size is read first without opening `r`'s transaction (one statement); an
        answer computed in the transaction is kept under the size the transaction saw
        (the log may have grown in between)."""

        def computed() -> tuple[tuple[Hashable, ...], T]:
            answer = compute()
            return (r.size(), *question), answer

        return self.get_named(r, lambda s: (s.size(), *question), computed)

    def get_named(
        self,
        r: Snapshot,
        name: Callable[[LogReader], tuple[Hashable, ...]],
        compute: Callable[[], tuple[tuple[Hashable, ...], T]],
    ) -> T:
        """The answer that `name(reader)` names, computed once.

        `name` is one statement whose key starts with the log's size and holds whatever
        else, read at that size, fixes the answer (the holdings at a moment: the book's last
        change up to it); it is read without opening `r`'s transaction. `compute` gives the
        answer and its name read in the same snapshot (the log may have grown since)."""
        key = r.current(name)
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                answer: T = self._answers[key]
                return answer
        key, answer = compute()
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self.capacity:
                self._answers.popitem(last=False)
        return answer


async def get_ledger(request: Request) -> Ledger:
    """The app's ledger."""
    ledger: Ledger = request.app.state.ledger
    return ledger


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


class CallerCache:
    """Tokens and web sessions recently authenticated, for `ttl` seconds: a request then
    costs no database read for its credential (a revoked or expired one is refused within
    `ttl`; one ended here, at logout, at once)."""

    def __init__(self, ledger: Ledger, authority: AuthorityCache, ttl: float = 1.0) -> None:
        self.ledger, self.authority, self.ttl = ledger, authority, ttl
        self._seen: dict[tuple[bool, str], tuple[float, Caller]] = {}

    def cached(self, token: str, *, session: bool = False) -> Caller | None:
        """The caller of a token (a session's credential) authenticated less than `ttl`
        ago, or None."""
        hit = self._seen.get((session, token))
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return None
        return hit[1]

    def authenticate(self, token: str, *, session: bool = False) -> Caller:
        """Authenticate against the access list and the log (a database read)."""
        who = authenticate(self.ledger.store, self.authority.get(), token, session=session)
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[(session, token)] = (time.monotonic(), who)
        return who

    def forget(self, token: str, *, session: bool = False) -> None:
        """Forget a credential (a session just ended)."""
        self._seen.pop((session, token), None)


async def token_caller(request: Request, token: str, *, session: bool = False) -> Caller:
    """The caller a token (with `session`: a web session's credential) stands for:
    remembered, or read from the access list in a worker thread. Raises Unauthorized."""
    callers: CallerCache = request.app.state.callers
    who = callers.cached(token, session=session)
    if who is None:
        who = await run_in_threadpool(callers.authenticate, token, session=session)
    return who


async def session_caller(request: Request, credential: str) -> Caller:
    """The caller a web session's credential (the dashboard's cookie) stands for. Raises
    Unauthorized (an API token is not a session)."""
    return await token_caller(request, credential, session=True)


async def open_web_session(request: Request, token: str) -> tuple[Caller, str]:
    """Check an API token and open a web session for its party (`Settings.session_hours`);
    returns the party and the session's credential. Raises Unauthorized, or RateLimited
    after too many failures from the address (as the API's bearer tokens)."""
    who = await guarded_token_caller(request, token)
    settings: Settings = request.app.state.settings
    valid_for = timedelta(hours=settings.session_hours)
    store = request.app.state.ledger.store
    return who, await run_in_threadpool(open_session, store, who, valid_for)


async def end_web_session(request: Request, credential: str) -> None:
    """End a web session on the server (nothing if it is not open)."""
    await run_in_threadpool(end_session, request.app.state.ledger.store, credential)
    request.app.state.callers.forget(credential, session=True)


async def authenticated_caller(request: Request) -> Caller:
    """The caller that the request's bearer token stands for, within its rate.

    Read straight from the header (the OpenAPI document declares the bearer scheme): each
    dependency FastAPI resolves costs more than this check. Raises Unauthorized (401) or
    RateLimited (429)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send `Authorization: Bearer <token>` (`cwledger tokens issue`)")
    who = await guarded_token_caller(request, token)
    request.app.state.rate_limiter.take(who.token_id)
    return who


async def guarded_token_caller(request: Request, token: str) -> Caller:
    """The caller of an API token, guessed at no faster than AUTH_FAILURE_RATE per address:
    each address may fail AUTH_FAILURE_BURST times, then once a second (the API's bearer
    token and the login form alike). Raises Unauthorized or RateLimited."""
    failures: RateLimiter = request.app.state.auth_failures
    address = request.client.host if request.client else "unknown"
    failures.check(address)
    try:
        return await token_caller(request, token)
    except Unauthorized:
        failures.take(address)
        raise


async def caller(request: Request) -> Caller:
    """The authenticated caller."""
    return await authenticated_caller(request)


async def writer(request: Request) -> Caller:
    """A caller that may write events: any role but observer. Raises Forbidden (403)."""
    who = await authenticated_caller(request)
    if who.role == "observer":
        raise Forbidden(f"party {who.party} is an observer: observers only read")
    return who


AnyCaller = Annotated[Caller, Depends(caller)]
WritingCaller = Annotated[Caller, Depends(writer)]


class Statements:
    """One connection kept open for single statements on the event loop: the published
    log's reads and the log's size before an answer is looked up. Each statement runs on
    its own and sees the latest commit (`Store.read(snapshot=False)`), without taking a
    connection from the pool and giving it back around each one. Bound to the first
    thread that uses it; any other thread (an endpoint in the thread pool) gets a
    connection of its own from the store. A failed statement drops the connection (the
    next one opens another)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._conn: Connection | None = None
        self._thread: int | None = None

    def reader(self) -> LogReader | None:
        """The kept connection's reader in its own thread, else None."""
        if self._thread is None:
            self._thread = threading.get_ident()
        elif self._thread != threading.get_ident():
            return None
        if self._conn is None:
            conn = self._store.engine.connect()
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                conn.execution_options(cwledger_statements=True)
            self._conn = conn
        return LogReader(self._conn)

    def drop(self) -> None:
        """Close the kept connection for good (after a failed statement)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.invalidate()
            finally:
                conn.close()

    def close(self) -> None:
        """Give the kept connection back to the pool (the app stops)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()


def _wrapped(store: Store, e: Exception) -> Exception:
    """`e` as SQLAlchemy would raise it: a DB-API driver's error (from a raw cursor)
    wrapped in its SQLAlchemy class (OperationalError, ...); any other error as it is."""
    base = store.engine.dialect.loaded_dbapi.Error
    if isinstance(e, base):
        return DBAPIError.instance(None, None, e, base)
    return e


class Snapshot(LogReader):
    """A read transaction opened on first use and ended by `close`, whose answers to the
    book's questions are remembered per log size (`answer`)."""

    def __init__(
        self,
        store: Store,
        answers: AnswerCache,
        *,
        consistent: bool = True,
        late_after: int = LATE_AFTER,
        statements: Statements | None = None,
    ) -> None:
        # No super().__init__: the connection is taken when the endpoint first needs it.
        self._store, self._answers, self._consistent = store, answers, consistent
        self._statements = statements
        self.late_after = late_after  # the ledger's: when an entry counts as recorded late
        # The highest class the caller reads (set by `reader_at`); a mixed answer drops the
        # fields above it. Public until a dependency says otherwise.
        self.clearance = Class.PUBLIC
        self._transaction: AbstractContextManager[LogReader] | None = None
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:  # type: ignore[override]
        if self._conn is None:
            kept = None if self._consistent else self._single()
            if kept is not None:
                self._conn = kept.conn
            else:
                self._transaction = self._store.read(snapshot=self._consistent)
                self._conn = self._transaction.__enter__().conn
        return self._conn

    def _single(self) -> LogReader | None:
        """The kept connection for single statements, if this thread may use it."""
        return None if self._statements is None else self._statements.reader()

    def failed(self, e: Exception) -> Exception:
        """A statement failed with `e`: drop the kept connection if this snapshot used it.
        Returns the error as SQLAlchemy raises it (a driver's error on the raw cursor,
        wrapped: a database that went away is then a 503 problem, as anywhere else)."""
        if self._statements is not None and self._transaction is None and self._conn is not None:
            self._statements.drop()
        return _wrapped(self._store, e)

    def current_size(self) -> int:
        """The log's size: in this snapshot once it is open, else read in one statement."""
        return self.current(LogReader.size)

    def current(self, read: Callable[[LogReader], T]) -> T:
        """`read` (one statement) in this snapshot once it is open, else on its own (on the
        kept connection when this thread may use it), seeing the latest commit."""
        if self._conn is not None:
            return read(self)
        kept = self._single()
        if kept is None:
            with self._store.read(snapshot=False) as r:
                return read(r)
        try:
            return read(kept)
        except Exception as e:
            self._statements.drop()  # type: ignore[union-attr]
            wrapped = _wrapped(self._store, e)
            if wrapped is e:
                raise
            raise wrapped from e

    def answer(self, question: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """The answer to `question` at this snapshot's log size: remembered, or computed."""
        return self._answers.get(self, question, compute)

    def answer_named(
        self,
        name: Callable[[LogReader], tuple[Hashable, ...]],
        compute: Callable[[], tuple[tuple[Hashable, ...], T]],
    ) -> T:
        """The answer `name` names (`AnswerCache.get_named`): remembered, or computed with
        its name."""
        return self._answers.get_named(self, name, compute)

    def close(self) -> None:
        """End the transaction, if one was opened, and give its connection back."""
        if self._transaction is not None:
            self._transaction.__exit__(None, None, None)
            self._transaction = None
        self._conn = None


@asynccontextmanager
async def open_snapshot(request: Request, *, consistent: bool) -> AsyncIterator[Snapshot]:
    """A read snapshot of the app's ledger, in one of its `read_slots`: `consistent` in
    one transaction, else statement by statement (the published log's reads). An error of
    the database comes out as SQLAlchemy raises it (a database gone away: a 503)."""
    state = request.app.state
    async with state.read_slots:
        s = Snapshot(
            state.ledger.store,
            state.answers,
            consistent=consistent,
            late_after=state.ledger.late_after,
            statements=getattr(state, "statements", None),
        )
        try:
            yield s
        except Exception as e:
            wrapped = s.failed(e)
            if wrapped is e:
                raise
            raise wrapped from e
        finally:
            s.close()


async def published(request: Request) -> AsyncIterator[Snapshot]:
    """Reads of the published log, without authentication: the latest checkpoint, then
    entries and tiles below its size, which never change once written, so each statement
    may run on its own (`Store.read(snapshot=False)`)."""
    async with open_snapshot(request, consistent=False) as s:
        yield s


async def snapshot(request: Request) -> AsyncIterator[Snapshot]:
    """A read snapshot of the log, without authentication.

    Read endpoints run on the event loop: their work is a few index seeks in a local
    database, which never wait for a writer (SQLite WAL readers, PostgreSQL MVCC), and a
    thread hop would cost more than the work. `read_slots` bounds how many hold a
    connection at once, below the connection pool, so that taking one never blocks."""
    async with open_snapshot(request, consistent=True) as s:
        yield s


def clearance(request: Request, who: Caller | None) -> Class:
    """The highest class `who` (None: an anonymous visitor) reads here: every class in a
    ledger that is not confidential (every byte of it is public); in a confidential one
    its role's clearance (`CLEARANCE`), and `public` for an anonymous visitor."""
    if not request.app.state.authority.get().confidential:
        return Class.HIGHLY_PROTECTED
    return Class.PUBLIC if who is None else CLEARANCE.get(who.role, Class.PUBLIC)


def entitled(request: Request, who: Caller | None, level: Class) -> bool:
    """Whether `who` (None: an anonymous visitor) may read an answer holding fields of class
    `level`: anyone in a ledger that is not confidential, and in a confidential one a party
    whose role's clearance reaches `level` (issue 16)."""
    return clearance(request, who) >= level


def require_clearance(request: Request, who: Caller | None, level: Class) -> Class:
    """In a confidential ledger (issue 16), the book's answers are built from sealed
    payloads: an answer holding fields of class `level` goes only to a party whose role's
    clearance reaches it. Returns the caller's clearance (what a mixed answer may keep);
    raises NotEntitled (403) naming the party, its clearance and the class needed. The log
    itself (`/log/`, the entries' public parts) stays public."""
    cleared = clearance(request, who)
    if cleared >= level:
        return cleared
    whom = "an anonymous visitor" if who is None else f"{who.party} ({who.role})"
    if cleared is Class.PUBLIC:
        raise NotEntitled(
            f"this ledger is confidential: this answer holds {level} fields from sealed"
            f" payloads, and {whom} reads public data only (the log at /log/ and its"
            " entries' public fields)"
        )
    raise NotEntitled(
        f"this ledger is confidential: this answer holds {level} fields, and {whom} is"
        f" cleared to {cleared} only"
    )


_SERVES: dict[Callable[..., Any], Class] = {}


def served_class(dependency: Callable[..., Any]) -> Class | None:
    """The class a book dependency (`reader_at`, the pages' `book_at`) serves, or None."""
    return _SERVES.get(dependency)


def serving(level: Class, dependency: Callable[..., T]) -> Callable[..., T]:
    """Record that `dependency` opens answers holding fields up to `level` (`served_class`)."""
    _SERVES[dependency] = level
    return dependency


@cache
def reader_at(level: Class) -> Callable[[Request], AsyncIterator[Snapshot]]:
    """The dependency of a book answer holding fields up to `level`: an authenticated caller
    whose clearance reaches it (else 403), and a read snapshot whose `clearance` is the
    caller's (a mixed answer drops what is above it)."""

    async def read(request: Request) -> AsyncIterator[Snapshot]:
        cleared = require_clearance(request, await authenticated_caller(request), level)
        async for s in snapshot(request):
            s.clearance = cleared
            yield s

    read.__name__ = f"reader_{level.name.lower()}"
    return serving(level, read)


reader = reader_at(Class.RESTRICTED)
"""A read snapshot for an authenticated caller cleared above `public` (the events API:
entries as logged, their sealed parts unopened)."""

Reader = Annotated[Snapshot, Depends(reader)]
ProtectedReader = Annotated[Snapshot, Depends(reader_at(Class.PROTECTED))]
"""The book's answers about sites, items and masses (`protected`)."""
HighlyProtectedReader = Annotated[Snapshot, Depends(reader_at(Class.HIGHLY_PROTECTED))]
"""The book's answers holding the inspectors' findings and judgements (`highly-protected`)."""
LogReads = Annotated[Snapshot, Depends(published)]


def query_moment(value: str, name: str, *, start_of_day: bool = False) -> int:
    """A query parameter's moment (µs): a date means the end of that day (its start when
    `start_of_day`), or an RFC 3339 UTC time. Raises InvalidQuery (422)."""
    try:
        return queryable(parse_moment(value, start_of_day=start_of_day), value)
    except MalformedInput as e:
        raise InvalidQuery(f"query.{name}", str(e)) from None
