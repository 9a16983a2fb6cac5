"""The server's HTTP/1.1 protocol: uvicorn's h11 protocol with TCP_NODELAY on every
connection.

With more than one worker, uvicorn binds the listening socket itself with protocol 0, and
asyncio sets TCP_NODELAY only on sockets whose protocol is IPPROTO_TCP: every answer then
waits for the client's delayed ACK (about 40 ms here) between its head and its body.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["NoDelayH11Protocol"]


class NoDelayH11Protocol(H11Protocol):
    """H11Protocol that turns Nagle's algorithm off on its connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
