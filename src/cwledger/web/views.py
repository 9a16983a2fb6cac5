"""What every page shares: the templates, who is looking (a session cookie holding a party's
token, or nobody when the server's pages are public), the login, and `mount`.

The pages read the book through the API's read snapshot (`cwledger.api.deps.Snapshot`), so
their answers are the API's: the same functions, the same answer cache.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from cwledger import __version__
from cwledger.api.deps import Snapshot, snapshot, token_caller
from cwledger.errors import Unauthorized
from cwledger.ledger.access import Caller

__all__ = ["mount", "router", "templates", "page", "Viewer", "Book", "SESSION_COOKIE"]

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
router = APIRouter(include_in_schema=False)


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


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, error: str | None = None) -> HTMLResponse:
    """The login form: paste a token issued by `cwledger tokens issue`."""
    return page(request, "login.html", None, error=error, active="login")


@router.post("/login")
async def login(request: Request, token: Annotated[str, Form()]) -> Response:
    """Check the token and keep it in an HttpOnly, same-site cookie."""
    try:
        await token_caller(request, token.strip())
    except Unauthorized as e:
        return page(request, "login.html", None, error=str(e), active="login")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token.strip(), httponly=True, samesite="strict", secure=False, path="/"
    )
    return response


@router.post("/logout")
async def logout() -> Response:
    """Forget the session."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def mount(app: FastAPI) -> None:
    """Add the pages and their static files to the app."""
    from cwledger.web import accounts, compliance, items, log, pages, sites

    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, _exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(router)
    for module in (pages, sites, items, accounts, compliance, log):
        app.include_router(module.router)
