"""The HTTP API: `create_app(settings)` builds the FastAPI app over one ledger.

Nothing connects at import time: the app opens its ledger when built. Routers:
``health`` (liveness, readiness), ``events`` (submit, list), ``book`` (items, sites,
holdings, findings, declarations, milestones, status), ``log`` (proofs and entries as
JSON under ``/api/v1/log``, and the C2SP tlog-tiles read API under ``/log/``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cwledger import __version__
from cwledger.api import aggregates, book, events, health, log
from cwledger.api.hot import install_hot_routes
from cwledger.errors import NotFound, TooLarge
from cwledger.heap import freeze_start_up, keep_freed_heap
from cwledger.http.deps import (
    AUTH_FAILURE_BURST,
    AUTH_FAILURE_RATE,
    AnswerCache,
    AuthorityCache,
    CallerCache,
    RateLimiter,
    Statements,
)
from cwledger.http.problems import (
    PROBLEM_TYPES,
    document_problems,
    document_security,
    install,
    problem_response,
)
from cwledger.http.security import SecurityHeaders
from cwledger.http.settings import Settings
from cwledger.ledger.ledger import Ledger
from cwledger.ledger.witnessing import AddCheckpoint, Witnessing
from cwledger.web.mount import error_page_for, mount

__all__ = ["create_app", "server_app"]

API_PREFIX = "/api/v1"
READ_SLOTS = 16
"""Read snapshots open at once per worker: below the store's connection pool (20 kept)."""


class _BodyLimit:
    """Refuse a request body over `limit` bytes with a 413 problem, whether it announces its
    length or streams it, before any endpoint reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        too_large = False

        async def counted() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def guarded(message: Message) -> None:
            nonlocal started
            if too_large:  # the app saw a cut-off body: answer 413 instead of its answer
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted, guarded)
        if too_large and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Connection: close, so that the server reads no more of the body (it may be
        # streaming hundreds of megabytes) and drops the connection after the answer.
        response = problem_response(
            TooLarge,
            f"the request body is over {self.limit} bytes",
            instance=scope.get("path"),
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


@asynccontextmanager
async def _witnessing(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves: a thread that collects the witnesses' cosignatures after each
    batch (`Ledger.after_append`), retrying, never in the way of an append."""
    ledger: Ledger = app.state.ledger
    collector = Witnessing(ledger, post=app.state.witness_post).start()
    ledger.after_append = collector.poke
    app.state.witnessing = collector
    try:
        yield
    finally:
        ledger.after_append = None
        app.state.statements.close()
        await asyncio.to_thread(collector.stop)


def create_app(
    settings: Settings | None = None,
    ledger: Ledger | None = None,
    *,
    witness_post: AddCheckpoint | None = None,
) -> FastAPI:
    """The app over `ledger` (default: the one `settings` names); `witness_post` reaches
    the ledger's witnesses (default: over HTTP, `cwledger.witness.client`)."""
    settings = settings or Settings()
    if ledger is None:
        ledger = Ledger.open(settings.ledger, database_url=settings.database_url)
    ledger.max_skew, ledger.late_after = settings.max_skew, settings.late_after
    app = FastAPI(
        lifespan=_witnessing,
        title="cwledger",
        version=__version__,
        summary="Tamper-evident, multi-party ledger of a chemical weapons stockpile elimination",
        description=(
            "Submit signed events (DSSE envelopes) and read the book and the log. Every"
            " `/api/v1` call but the published log's needs `Authorization: Bearer <token>`"
            " (`cwledger tokens issue`); observers only read. The published log is public:"
            " its checkpoint, tiles and entry bundles under `/log/` (C2SP tlog-tiles), and"
            " its checkpoint, entries and proofs as JSON under `/api/v1/log/`, which reveal"
            " nothing the tiles do not. So are the published aggregates under"
            " `/api/v1/aggregates`, each proven against the day-one escrow. Errors are RFC"
            " 9457 problem documents."
        ),
        openapi_url="/openapi.json",
        # No /docs or /redoc: FastAPI's pages load Swagger UI and ReDoc from a CDN. The
        # document is served here and committed as docs/openapi.json (see docs/architecture.md).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.ledger = ledger
    app.state.witness_post = witness_post
    ttl = settings.token_cache_seconds
    app.state.authority = AuthorityCache(ledger, ttl)
    app.state.callers = CallerCache(ledger, app.state.authority, ttl)
    app.state.answers = AnswerCache()
    app.state.statements = Statements(ledger.store)
    app.state.read_slots = asyncio.Semaphore(READ_SLOTS)
    app.state.rate_limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
    app.state.auth_failures = RateLimiter(AUTH_FAILURE_RATE, AUTH_FAILURE_BURST)
    install(app, page=error_page_for)
    # Routes are matched in order, at a few microseconds each: the most read first.
    app.include_router(health.router)
    app.include_router(log.tiles_router)
    app.include_router(book.router, prefix=API_PREFIX)
    app.include_router(log.api_router, prefix=API_PREFIX)
    app.include_router(aggregates.router, prefix=API_PREFIX)
    app.include_router(events.router, prefix=API_PREFIX)
    mount(app)

    @app.get("/problems/{code}", include_in_schema=False)
    def problem_type(code: str) -> dict[str, Any]:
        """A problem type of the error tree: its status and title. Raises NotFound (404)
        for any other name."""
        if code not in PROBLEM_TYPES:
            raise NotFound("no such problem type (see the ProblemDetail schema in /openapi.json)")
        status, title = PROBLEM_TYPES[code]
        return {"type": f"/problems/{code}", "title": title, "status": status}

    install_hot_routes(app)  # first: the most read routes, without FastAPI's machinery
    app.add_middleware(_BodyLimit, limit=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: every response, the 413 included
    describe = app.openapi
    app.openapi = lambda: document_security(  # type: ignore[method-assign]
        document_problems(describe()),
        API_PREFIX,
        f"{API_PREFIX}/log/",
        f"{API_PREFIX}/aggregates",
    )
    return app


def server_app() -> FastAPI:
    """The app of a `cwledger serve` worker process (uvicorn's factory): over the settings
    the command handed to its workers (`Settings.for_server`), in a process whose freed
    heap is kept for the next answer (`keep_freed_heap`), and whose start-up objects are
    out of the cyclic collector's sight once the app is built (`freeze_start_up`)."""
    keep_freed_heap()
    app = create_app(Settings.for_server())
    freeze_start_up()
    return app
