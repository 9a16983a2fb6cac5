"""What every page shares: the templates, who is looking (a session cookie holding a web
session's credential, opened at login, or nobody when the server's pages are public), `page`
and the error page.

The page modules import this one; `cwledger.web.mount` imports them all and adds them to
the app. The pages read the book through the read snapshot the API also uses
(`cwledger.http.deps.Snapshot`): the same functions, the same answer cache.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cwledger import __version__
from cwledger.errors import CwledgerError, Unauthorized
from cwledger.http.deps import (
    Snapshot,
    entitled,
    require_clearance,
    serving,
    session_caller,
    snapshot,
)
from cwledger.ledger.access import Caller
from cwledger.model.classes import Class

__all__ = [
    "HERE",
    "templates",
    "page",
    "error_page",
    "Viewer",
    "Book",
    "HighlyProtectedBook",
    "book_at",
    "opens",
    "LogSnapshot",
    "LoginRequired",
    "SESSION_COOKIE",
    "cookie_name",
    "secure_cookies",
    "form_token",
]

HERE = Path(__file__).parent
SESSION_COOKIE = "cwledger_session"
NAV: list[tuple[str, str, str, Class | None]] = [
    ("overview", "/", "Overview", None),
    ("map", "/map", "Map", None),
    ("balances", "/balances", "Material balances", Class.PROTECTED),
    ("findings", "/findings", "Findings and milestones", Class.HIGHLY_PROTECTED),
    ("log", "/log", "Log explorer", None),
]
"""The navigation: key, link, label, and the highest class the page serves when it reads
the book (None: a page every viewer may open, public in a confidential ledger). A page of
the book is linked only for a viewer whose clearance reaches its class: in a confidential
ledger it answers 403 to anyone else, and no link of a page may lead to a 403."""

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(nav=NAV, version=__version__)


class LoginRequired(Exception):
    """A page asked for without a session (and the pages are not public); `ended` when the
    request had a session cookie that no longer names an open session."""

    def __init__(self, ended: bool = False) -> None:
        super().__init__("log in" if not ended else "the session has ended")
        self.ended = ended


def secure_cookies(request: Request) -> bool:
    """Whether the pages are reached over HTTPS (the request's scheme, or the server's
    `public_origin`): cookies are then `Secure` and host-only (``__Host-``)."""
    public = request.app.state.settings.public_origin or ""
    return request.url.scheme == "https" or public.startswith("https://")


def cookie_name(request: Request, name: str) -> str:
    """A cookie's name: with the ``__Host-`` prefix over HTTPS (the browser then keeps it
    only as this host set it: Secure, path /, no domain)."""
    return f"__Host-{name}" if secure_cookies(request) else name


def form_token(credential: str, form: str) -> str:
    """The anti-forgery token of `form` for the holder of `credential` (a session's, or the
    login form's nonce): the page shows it, a page elsewhere cannot compute it."""
    return hmac.new(credential.encode(), f"cwledger {form}".encode(), hashlib.sha256).hexdigest()


async def viewer(request: Request) -> Caller | None:
    """Who is looking: the party of the session's cookie; None when the pages are public and
    there is no open session. Raises LoginRequired otherwise."""
    credential = request.cookies.get(cookie_name(request, SESSION_COOKIE))
    if credential:
        try:
            return await session_caller(request, credential)
        except Unauthorized:
            pass
    if request.app.state.settings.public_pages:
        return None
    raise LoginRequired(ended=bool(credential))


Viewer = Annotated[Caller | None, Depends(viewer)]


@cache
def book_at(level: Class) -> Callable[[Request, Caller | None], AsyncIterator[Snapshot]]:
    """The dependency of a page of the book holding fields up to `level`: a viewer whose
    clearance reaches it (else 403, the error page), and a snapshot whose `clearance` is the
    viewer's (a page mixing classes drops what is above it)."""

    async def read(request: Request, who: Viewer) -> AsyncIterator[Snapshot]:
        cleared = require_clearance(request, who, level)
        async for s in snapshot(request):
            s.clearance = cleared
            yield s

    read.__name__ = f"book_{level.name.lower()}"
    return serving(level, read)


Book = Annotated[Snapshot, Depends(book_at(Class.PROTECTED))]
"""A page of the book about sites, items and masses (`protected`)."""
HighlyProtectedBook = Annotated[Snapshot, Depends(book_at(Class.HIGHLY_PROTECTED))]
"""A page of the book holding the inspectors' findings and judgements."""


def opens(request: Request, who: Caller | None) -> frozenset[str]:
    """The navigation's pages `who` may open (the keys of `NAV`)."""
    return frozenset(
        key for key, _, _, level in NAV if level is None or entitled(request, who, level)
    )


async def _log(request: Request, _who: Viewer) -> AsyncIterator[Snapshot]:
    async for s in snapshot(request):
        yield s


LogSnapshot = Annotated[Snapshot, Depends(_log)]
"""A snapshot for a page of the log alone (its entries as stored, its checkpoints): public
to whoever may see the pages, confidential ledger or not; `Book` is for the book's."""


def page(request: Request, template: str, who: Caller | None, **context: Any) -> HTMLResponse:
    """Render a page with what every page shows (the navigation, who is looking and the
    logout form's token)."""
    credential = request.cookies.get(cookie_name(request, SESSION_COOKIE), "")
    logout = form_token(credential, "logout") if who is not None else ""
    return templates.TemplateResponse(
        request,
        template,
        {
            "who": who,
            "public": who is None and request.app.state.settings.public_pages,
            "logout_token": logout,
            "opens": opens(request, who),
            **context,
        },
    )


def error_page(request: Request, kind: type[CwledgerError], detail: str) -> HTMLResponse:
    """The dashboard's error page for an error of class `kind`: its status, its problem
    type's title, and what went wrong (the API answers the same error as a problem
    document)."""
    response = templates.TemplateResponse(
        request,
        "error.html",
        {
            "who": None,
            "public": False,
            "opens": opens(request, None),
            "status": kind.status,
            "title": kind.title,
            "detail": detail,
            "problem": kind.problem,
        },
    )
    response.status_code = kind.status
    return response
