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
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import anyio.to_thread

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

__all__ = ["MAX_BODY", "GroupCommit", "WitnessApp", "create_witness_app"]

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
                except Exception as e:  # nothing of the batch was recorded: none may pass
                    for _, future in batch:
                        future.set_exception(e)
                    continue
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    future.set_result(outcome)
        finally:
            self._running = False


Answer = tuple[int, bytes, bytes]  # status, media type, body
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_TEXT = b"text/plain; charset=utf-8"


def _refusal(e: CwledgerError) -> Answer:
    if isinstance(e, OldSizeMismatch):
        return 409, SIZE_MEDIA_TYPE.encode(), f"{e.latest_size}\n".encode()
    return e.status, _TEXT, (str(e) + "\n").encode()


class _ClientGone(Exception):
    """The client disconnected before its request's body was read."""


async def _body(receive: Receive) -> bytes | None:
    """The request body; None if it exceeds MAX_BODY."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body", False):
            return bytes(body)


class WitnessApp:
    """The ASGI app: ``POST /add-checkpoint`` (a bare ASGI callable: the witness's one
    endpoint needs no framework, and each request costs less without one)."""

    def __init__(self, path: Path) -> None:
        """Open the witness in ``path``. Raises: WitnessNotFound."""
        self.store = WitnessStore(path)
        self.commits = GroupCommit(self.store)
        self.trusted: dict[str, list[Verifier]] = self.store.trusted()

    async def add_checkpoint(self, body: bytes) -> Answer:
        """Answer one add-checkpoint body (c2sp.org/tlog-witness)."""
        try:
            parsed = parse_request(body)
            try:
                checkpoint, text = open_checkpoint(parsed, self.trusted)
            except UnknownLog:  # `witness add-log` may have added it since
                self.trusted = await anyio.to_thread.run_sync(self.store.trusted)
                checkpoint, text = open_checkpoint(parsed, self.trusted)
            await self.commits.submit(Opened(parsed, checkpoint, text))
        except CwledgerError as e:
            return _refusal(e)
        except sqlite3.Error as e:  # nothing recorded, nothing cosigned: the client retries
            return 503, _TEXT, f"the witness could not record the checkpoint: {e}\n".encode()
        return 200, _TEXT, (self.store.signer.cosign(text) + "\n").encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        headers: list[tuple[bytes, bytes]] = []
        try:
            body = await _body(receive) if scope["method"] == "POST" else b""
        except _ClientGone:
            return
        if scope["path"] != "/add-checkpoint":
            status, media, answer = 404, _TEXT, b"not found: the witness serves /add-checkpoint\n"
        elif scope["method"] != "POST":
            status, media, answer = 405, _TEXT, b"method not allowed: POST only\n"
            headers.append((b"allow", b"POST"))
        elif body is None:
            status, media, answer = 413, _TEXT, f"body over {MAX_BODY} bytes\n".encode()
        else:
            status, media, answer = await self.add_checkpoint(body)
        headers += [(b"content-type", media), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def create_witness_app(path: Path) -> WitnessApp:
    """The ASGI app of the witness in directory ``path``. Raises: WitnessNotFound."""
    return WitnessApp(path)
