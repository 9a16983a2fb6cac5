"""The dashboard in the app: every page module's routes, the static files, the login
redirect, and the error page for errors raised by a page (`mount`, `error_page_for`)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from cwledger.errors import CwledgerError
from cwledger.web import accounts, compliance, items, language, log, login, pages, sites
from cwledger.web.views import HERE, LoginRequired, error_page

__all__ = ["mount", "error_page_for", "ROUTERS"]

ROUTERS = (
    login.router,
    language.router,
    pages.router,
    sites.router,
    items.router,
    accounts.router,
    compliance.router,
    log.router,
)
"""Every page module's router, in the order the app matches them."""

_PAGES = frozenset(
    route.endpoint for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)
)


def error_page_for(request: Request, kind: type[CwledgerError], detail: str) -> HTMLResponse | None:
    """The error page, if the request was for a page; None for any other path (the API
    answers it as a problem document)."""
    if request.scope.get("endpoint") not in _PAGES:
        return None
    return error_page(request, kind, detail)


async def _login(_request: Request, exc: Exception) -> Response:
    ended = isinstance(exc, LoginRequired) and exc.ended
    return RedirectResponse("/login?error=ended" if ended else "/login", status_code=303)


def mount(app: FastAPI) -> None:
    """Add the pages and their static files to the app."""
    app.add_exception_handler(LoginRequired, _login)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in ROUTERS:
        app.include_router(router)
