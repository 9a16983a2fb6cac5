"""The witness's HTTP service: ``POST /add-checkpoint`` of c2sp.org/tlog-witness.

Each request is parsed and its log signature checked on the event loop; then it joins the
next group commit (:meth:`WitnessStore.record`, in a worker thread): while one batch is
being flushed to disk the requests that arrive queue for the next. A request's answer is
sent only after the batch that decided it is committed, so a cosignature never leaves the
witness before the checkpoint it cosigns is its durable latest. Cosignatures are signed
after the commit, with the clock's POSIX seconds as timestamp.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from cwledger.errors import CwledgerError
from cwledger.tlog.note import Verifier
from cwledger.witness.protocol import (
    SIZE_MEDIA_TYPE,
    OldSizeMismatch,
    UnknownLog,
    open_checkpoint,
    parse_request,
)
from cwledger.witness.store import Opened, WitnessStore

__all__ = ["MAX_BODY", "GroupCommit", "create_witness_app"]

MAX_BODY = 64 * 1024  # a checkpoint with 100 signatures and 63 proof lines is under 20 KiB


class GroupCommit:
    """Batches opened requests into one transaction each while the previous one commits."""

    def __init__(self, store: WitnessStore) -> None:
        self.store = store
        self._pending: list[tuple[Opened, asyncio.Future[Exception | None]]] = []
        self._running = False

    async def submit(self, item: Opened) -> None:
        """Wait until ``item`` is decided and committed. Raises: its refusal, if refused."""
        future: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain())
        refusal = await asyncio.shield(future)
        if refusal is not None:
            raise refusal

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                items = [item for item, _ in batch]
                try:
                    outcomes = await anyio.to_thread.run_sync(self.store.record, items)
                except sqlite3.Error as e:  # nothing of the batch was recorded
                    for _, future in batch:
                        future.set_exception(e)
                    continue
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    future.set_result(outcome)
        finally:
            self._running = False


def _refusal(e: CwledgerError) -> Response:
    if isinstance(e, OldSizeMismatch):
        size = f"{e.latest_size}\n"
        return Response(size, 409, headers={"Content-Type": SIZE_MEDIA_TYPE})  # no charset
    return PlainTextResponse(str(e) + "\n", e.status)


def create_witness_app(path: Path) -> Starlette:
    """The ASGI app of the witness in directory ``path``. Raises: WitnessNotFound."""
    store = WitnessStore(path)
    commits = GroupCommit(store)
    trusted: dict[str, list[Verifier]] = store.trusted()

    async def add_checkpoint(request: Request) -> Response:
        nonlocal trusted
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse(f"body over {MAX_BODY} bytes\n", 413)
        try:
            parsed = parse_request(bytes(body))
            try:
                checkpoint, text = open_checkpoint(parsed, trusted)
            except UnknownLog:  # `witness add-log` may have added it since
                trusted = await anyio.to_thread.run_sync(store.trusted)
                checkpoint, text = open_checkpoint(parsed, trusted)
            await commits.submit(Opened(parsed, checkpoint, text))
        except CwledgerError as e:
            return _refusal(e)
        line = store.signer.cosign(text)
        return PlainTextResponse(line + "\n", 200)

    app = Starlette(routes=[Route("/add-checkpoint", add_checkpoint, methods=["POST"])])
    app.state.store = store
    return app
