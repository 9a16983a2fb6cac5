"""The most read routes as plain Starlette routes, in front of their FastAPI routes.

FastAPI's parameter binding, dependencies and response validation cost more than these
reads themselves (docs/performance.md, "The HTTP API under load"). Each `HotRoute` stands
before the FastAPI route of the same path and answers the well-formed, common request
itself: the same checks in the same order (the bearer token, its rate limit, the
caller's clearance, then the query), the same documents, byte for byte, through the same
middleware and error handlers. Anything else (a query it does not read exactly, a value
out of bounds, an entry or a tile the checkpoint does not reach) it hands to the FastAPI
route, which answers as it always has, problem documents included. The OpenAPI document
still describes the FastAPI routes.

What the published log answers below a checkpoint's size never changes (the log is
append-only and its published checkpoint only grows): tiles and entry bundles once
served, proofs between two tree sizes, entries' documents are kept (`ImmutableAnswers`);
each request still reads the latest checkpoint, in one statement, so that it answers as
of the newest tree. The book's answers are kept per log size (`AnswerCache`), as the
FastAPI routes keep them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from pydantic import BaseModel
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Router
from starlette.types import Receive, Scope, Send

from cwledger.api.book import holdings_json
from cwledger.api.log import (
    CHECKPOINT_CACHE,
    MAX_INDEX,
    OCTET_STREAM,
    _accepts_gzip,
    checkpoint_doc,
    consistency_doc,
    entry_doc,
    inclusion_doc,
    tile_resource,
)
from cwledger.book import answers
from cwledger.errors import CwledgerError
from cwledger.http.deps import (
    ImmutableAnswers,
    Snapshot,
    authenticated_caller,
    open_snapshot,
    query_moment,
    require_clearance,
)
from cwledger.ledger.tile_bytes import width_in
from cwledger.model.classes import Class
from cwledger.store import StoredCheckpoint
from cwledger.tlog.tiles import TileRef, parse_tile_path

__all__ = ["HotRoute", "install_hot_routes"]

Answer = Callable[[Request], Awaitable[Response | None]]
_DECLINED = "cwledger.hot_declined"
"""Set in the scope when a hot route hands the request on to the router."""
_GROUPINGS: dict[str, answers.Grouping] = {
    "site": "site",
    "chemical": "chemical",
    "category": "category",
    "priority": "priority",
    "item": "item",
}


class HotRoute(BaseRoute):
    """`answer` for `GET path` (a path ending in ``/{path:path}`` matches any path below
    it, as `path_params["path"]`), before the app's other routes: its response, or when
    it gives None, the router's (the FastAPI route's) for the same request."""

    def __init__(self, router: Router, path: str, answer: Answer) -> None:
        self.router, self.answer = router, answer
        self.path, self.below = path.removesuffix("{path:path}"), path.endswith("{path:path}")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "GET" or _DECLINED in scope:
            return Match.NONE, {}
        path = get_route_path(scope)
        if self.below:
            if path.startswith(self.path) and len(path) > len(self.path):
                return Match.FULL, {"path_params": {"path": path[len(self.path) :]}}
        elif path == self.path:
            return Match.FULL, {"path_params": {}}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(Request(scope, receive))
        if response is None:
            scope[_DECLINED] = True
            await self.router(scope, receive, send)
        else:
            await response(scope, receive, send)


def _query(
    request: Request, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, str] | None:
    """The query's values by name when it names each of `required` once, any of
    `optional` at most once, nothing else, and no value is blank; else None."""
    raw = request.scope["query_string"]
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if raw else []
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out or not value or (name not in required and name not in optional):
            return None
        out[name] = value
    return out if all(name in out for name in required) else None


def _bounded(value: str | None, low: int) -> int | None:
    """A decimal integer within low..MAX_INDEX, or None (the FastAPI route then judges)."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    n = int(value)
    return n if low <= n <= MAX_INDEX else None


def _published(request: Request) -> AbstractAsyncContextManager[Snapshot]:
    """The published log's reads (`cwledger.http.deps.published`)."""
    return open_snapshot(request, consistent=False)


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


async def checkpoint_note(request: Request) -> Response | None:
    """`GET /log/checkpoint`."""
    if request.scope["query_string"]:
        return None
    async with _published(request) as r:
        cp = r.latest_checkpoint()
    if cp is None:
        return None
    return PlainTextResponse(
        cp.cosigned_note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": CHECKPOINT_CACHE},
    )


async def latest_checkpoint(request: Request) -> Response | None:
    """`GET /api/v1/log/checkpoint`."""
    if request.scope["query_string"]:
        return None
    async with _published(request) as r:
        cp = r.latest_checkpoint()
    return None if cp is None else _json(checkpoint_doc(cp).model_dump_json().encode())


async def tile(request: Request) -> Response | None:
    """`GET /log/tile/<path>`: its bytes kept once served (they never change), served again
    while the latest checkpoint's tree holds the tile (the checkpoint read each time)."""
    if request.scope["query_string"]:
        return None
    path: str = request.path_params["path"]
    gzipped = _accepts_gzip(request)
    kept: ImmutableAnswers = request.app.state.immutable
    key = ("tile", path, gzipped)
    found: tuple[TileRef, bytes, dict[str, str]] | None = kept.get(key)
    try:
        async with _published(request) as r:
            if found is None:
                ref = parse_tile_path("tile/" + path)
                body, headers = tile_resource(r, path, gzipped)
                found = kept.put(key, (ref, body, headers), len(body))
            else:
                cp = r.latest_checkpoint()
                if cp is None or width_in(found[0], cp.size) < found[0].width:
                    return None  # the FastAPI route's 404
    except CwledgerError:
        return None  # the FastAPI route's problem document
    return Response(found[1], media_type=OCTET_STREAM, headers=found[2])


async def _proof(
    request: Request,
    names: tuple[str, str],
    lowest: int,
    prove: Callable[[Snapshot, int, int, StoredCheckpoint], BaseModel],
) -> Response | None:
    """A proof about `names[0]` in the tree of `names[1]` (default: the latest checkpoint's
    size), kept once given: `prove(reader, first, size, checkpoint)`. `lowest` is 0 for an
    entry's index (below the tree's size), 1 for a first tree's size (at most the second)."""
    q = _query(request, names[:1], names[1:])
    if q is None:
        return None
    first, size = _bounded(q[names[0]], lowest), _bounded(q.get(names[1]), 1)
    if first is None or (size is None and names[1] in q):
        return None
    kept: ImmutableAnswers = request.app.state.immutable
    async with _published(request) as r:
        cp = r.latest_checkpoint()
        if cp is None or (size is not None and size > cp.size):
            return None
        tree_size = cp.size if size is None else size
        if first > tree_size or (lowest == 0 and first == tree_size):
            return None  # an entry beyond the tree, or a first tree larger than the second
        key = (names, first, tree_size)
        body = kept.get(key)
        if body is None:
            body = prove(r, first, tree_size, cp).model_dump_json().encode()
            kept.put(key, body, len(body))
    return _json(body)


async def inclusion_proof(request: Request) -> Response | None:
    """`GET /api/v1/log/proofs/inclusion?index=<i>[&size=<n>]`."""
    ledger = request.app.state.ledger
    return await _proof(
        request,
        ("index", "size"),
        0,
        lambda r, index, size, cp: inclusion_doc(r, ledger, index, None, size, cp),
    )


async def consistency_proof(request: Request) -> Response | None:
    """`GET /api/v1/log/proofs/consistency?first=<m>[&second=<n>]`."""
    ledger = request.app.state.ledger
    return await _proof(
        request,
        ("first", "second"),
        1,
        lambda r, first, size, cp: consistency_doc(r, ledger, first, size, cp),
    )


async def entries(request: Request) -> Response | None:
    """`GET /api/v1/log/entries?start=<i>&end=<j>`: each entry's document kept."""
    q = _query(request, ("start", "end"), ())
    if q is None:
        return None
    start, end = _bounded(q["start"], 0), _bounded(q["end"], 0)
    if start is None or end is None or end < start:
        return None
    if end - start > request.app.state.settings.page_limit:
        return None
    kept: ImmutableAnswers = request.app.state.immutable
    async with _published(request) as r:
        cp = r.latest_checkpoint()
        if cp is None:
            return None
        end = max(start, min(end, cp.size))
        docs = [kept.get(("entry", i)) for i in range(start, end)]
        if any(d is None for d in docs):
            docs = []
            for e in r.entries(start, end):
                d = entry_doc(e).model_dump_json().encode()
                docs.append(kept.put(("entry", e.index), d, len(d)))
    # One copy of the page: the head joined to the first document, the close to the last.
    parts = [d for d in docs if d is not None] or [b""]
    head = f'{{"start":{start},"end":{end},"tree_size":{cp.size},"entries":['
    parts[0] = head.encode() + parts[0]
    parts[-1] += b"]}"
    return _json(b",".join(parts))


async def holdings(request: Request) -> Response | None:
    """`GET /api/v1/holdings[?at=..][&site=..][&by=..]`: a caller cleared to `protected`."""
    q = _query(request, (), ("at", "site", "by"))
    if q is None:
        return None
    by, site, at = _GROUPINGS.get(q.get("by", "site")), q.get("site"), q.get("at")
    if by is None or (by == "item" and site is None):
        return None
    cleared = require_clearance(request, await authenticated_caller(request), Class.PROTECTED)
    when = None if at is None else query_moment(at, "at")
    async with open_snapshot(request, consistent=True) as s:
        s.clearance = cleared
        body = holdings_json(s, when, site, by)
    return _json(body)


HOT: dict[str, Answer] = {
    "/log/checkpoint": checkpoint_note,
    "/log/tile/{path:path}": tile,
    "/api/v1/holdings": holdings,
    "/api/v1/log/proofs/inclusion": inclusion_proof,
    "/api/v1/log/checkpoint": latest_checkpoint,
    "/api/v1/log/entries": entries,
    "/api/v1/log/proofs/consistency": consistency_proof,
}
"""The hot routes by the path of the FastAPI route each stands in front of."""


def install_hot_routes(app: FastAPI) -> None:
    """Put the hot routes first in `app`'s router."""
    state: Any = app.state
    state.immutable = ImmutableAnswers()
    app.router.routes[:0] = [HotRoute(app.router, path, answer) for path, answer in HOT.items()]
