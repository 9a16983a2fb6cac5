"""The login (paste a party's token, kept in an HttpOnly session cookie) and the logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cwledger.errors import Unauthorized
from cwledger.http.deps import token_caller
from cwledger.web.views import SESSION_COOKIE, page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


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
