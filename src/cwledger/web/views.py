"""What every page shares: the templates, who is looking (a session cookie holding a party's
token, or nobody when the server's pages are public), `page` and the error page.

The page modules import this one; `cwledger.web.mount` imports them all and adds them to
the app. The pages read the book through the read snapshot the API also uses
(`cwledger.http.deps.Snapshot`): the same functions, the same answer cache.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cwledger import __version__
from cwledger.errors import CwledgerError, Unauthorized
from cwledger.http.deps import Snapshot, snapshot, token_caller
from cwledger.ledger.access import Caller

__all__ = [
    "HERE",
    "templates",
    "page",
    "error_page",
    "Viewer",
    "Book",
    "LoginRequired",
    "SESSION_COOKIE",
]

HERE = Path(__file__).parent
SESSION_COOKIE = "cwledger_session"
NAV = [
    ("overview", "/", "Overview"),
    ("map", "/map", "Map"),
    ("balances", "/balances", "Material balances"),
    ("findings", "/findings", "Findings and milestones"),
    ("log", "/log", "Log explorer"),
]

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(nav=NAV, version=__version__)


class LoginRequired(Exception):
    """A page asked for without a session (and the pages are not public)."""


async def viewer(request: Request) -> Caller | None:
    """Who is looking: the party of the session's token; None when the pages are public and
    there is no session. Raises LoginRequired otherwise."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            return await token_caller(request, token)
        except Unauthorized:
            pass
    if request.app.state.settings.public_pages:
        return None
    raise LoginRequired


Viewer = Annotated[Caller | None, Depends(viewer)]


async def _book(request: Request, _who: Viewer) -> AsyncIterator[Snapshot]:
    async for s in snapshot(request):
        yield s


Book = Annotated[Snapshot, Depends(_book)]


def page(request: Request, template: str, who: Caller | None, **context: Any) -> HTMLResponse:
    """Render a page with what every page shows (the navigation, who is looking)."""
    return templates.TemplateResponse(
        request, template, {"who": who, "public": who is None, **context}
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
            "status": kind.status,
            "title": kind.title,
            "detail": detail,
            "problem": kind.problem,
        },
    )
    response.status_code = kind.status
    return response
