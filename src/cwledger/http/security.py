"""The headers every response carries (`SecurityHeaders`), and the same-origin check of the
dashboard's forms (`same_origin`).

The content security policy allows what the pages use and nothing else: scripts, styles,
images and requests from this server only (the vendored htmx, the log explorer's modules,
the style sheet, the favicon; the charts and the map are inline SVG with no style
attribute), no inline script or style, no plugin, no frame around a page, forms posted to
this server only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "HEADERS", "SecurityHeaders", "same_origin", "origin_of"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Our own forms keep their Origin and Referer (the same-origin check reads them); no
    # address of a page leaves for another site.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
"""What every response carries, unless the endpoint set the header itself."""

_RAW = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()]


class SecurityHeaders:
    """Add `HEADERS` to every HTTP response (pages, API, static files, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in _RAW if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def origin_of(request: Request, public_origin: str | None) -> str:
    """The origin the pages are served at: `public_origin` when a proxy serves them, else
    the request's scheme and ``Host``."""
    if public_origin:
        return public_origin.rstrip("/")
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"


def same_origin(request: Request, public_origin: str | None) -> bool:
    """Whether a form was posted from this server's own pages: its ``Origin`` (every
    browser sends one with a POST), else its ``Referer``, names this server's origin. A
    request with neither, or with ``Origin: null`` (a sandboxed or privacy-stripped
    context), is refused."""
    want = origin_of(request, public_origin)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == want
    referer = request.headers.get("referer")
    if referer is None:
        return False
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" == want
