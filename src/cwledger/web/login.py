"""The login (paste a party's token: the server opens a web session for its party and keeps
the session's credential, never the token, in an HttpOnly cookie) and the logout (which ends
the session on the server).

Both are forms that change who is looking, so both are refused unless they come from this
server's own pages: the request's Origin (or Referer) must be this server's, and the form
must carry its anti-forgery token (the login form's from a nonce cookie set with the form,
the logout form's from the session's credential). The login page shows only messages the
server chose: `?error=` takes a code of `MESSAGES`, never text.
"""

from __future__ import annotations

import hmac
import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cwledger import i18n
from cwledger.errors import Forbidden, RateLimited, Unauthorized
from cwledger.http.deps import end_web_session, open_web_session
from cwledger.http.security import same_origin
from cwledger.web.terms import N_
from cwledger.web.views import (
    SESSION_COOKIE,
    cookie_name,
    error_page,
    form_token,
    page,
    page_language,
    secure_cookies,
)

__all__ = ["router", "MESSAGES", "LOGIN_COOKIE"]

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE = "cwledger_login"
"""The login form's nonce (its anti-forgery token is derived from it)."""

MESSAGES = {
    "token": N_(
        "That token was not accepted: it is unknown, revoked or expired, or its party"
        " is no longer in the log."
    ),
    "slow": N_("Too many tokens were refused from your address: wait a few seconds and try again."),
    "form": N_("The form had expired or did not come from this site; log in again."),
    "ended": N_(
        "Your session has ended (logged out, expired, or its token revoked); log in again."
    ),
}
"""What the login page may say, by code (`/login?error=<code>`); any other code says
nothing. The page shows it in the reader's language."""


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        cookie_name(request, name),
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/",
    )


def _delete_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        cookie_name(request, name),
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )


def _login_page(request: Request, error: str | None, status: int = 200) -> HTMLResponse:
    """The login form with its nonce (in a cookie; kept if the browser has one, so that two
    login tabs both work) and its token (in the form)."""
    nonce = request.cookies.get(cookie_name(request, LOGIN_COOKIE)) or secrets.token_urlsafe(32)
    response = page(
        request,
        "login.html",
        None,
        error=MESSAGES.get(error or ""),
        login_token=form_token(nonce, "login"),
        session_hours=i18n.number(request.app.state.settings.session_hours, page_language(request)),
        active="login",
    )
    response.status_code = status
    _set_cookie(request, response, LOGIN_COOKIE, nonce, max_age=3600)
    return response


def _forged(request: Request, csrf: str, credential: str | None, form: str) -> bool:
    """Whether a posted form did not come from this server's page: another origin, or no
    valid anti-forgery token for `credential`."""
    if not same_origin(request, request.app.state.settings.public_origin):
        return True
    if not credential or not csrf:
        return True
    return not hmac.compare_digest(csrf, form_token(credential, form))


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, error: str | None = None) -> HTMLResponse:
    """The login form: paste a token issued by `cwledger tokens issue`. `error` is a code
    of `MESSAGES`."""
    return _login_page(request, error)


@router.post("/login")
async def login(
    request: Request, token: Annotated[str, Form()], csrf: Annotated[str, Form()] = ""
) -> Response:
    """Check the token, open a web session for its party, and keep the session's credential
    in an HttpOnly, same-site cookie (the token itself is not kept). A form from anywhere
    but this server's login page changes nothing."""
    if _forged(request, csrf, request.cookies.get(cookie_name(request, LOGIN_COOKIE)), "login"):
        return _login_page(request, "form", status=Forbidden.status)
    try:
        _who, credential = await open_web_session(request, token.strip())
    except Unauthorized:
        return _login_page(request, "token", status=Unauthorized.status)
    except RateLimited as e:
        slow = _login_page(request, "slow", status=RateLimited.status)
        slow.headers["Retry-After"] = str(math.ceil(e.retry_after))
        return slow
    previous = request.cookies.get(cookie_name(request, SESSION_COOKIE))
    if previous:
        await end_web_session(request, previous)
    response = RedirectResponse("/", status_code=303)
    hours = request.app.state.settings.session_hours
    _set_cookie(request, response, SESSION_COOKIE, credential, max_age=int(hours * 3600))
    _delete_cookie(request, response, LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    """End the session on the server and forget its cookie. A form from anywhere but this
    server's pages changes nothing (403)."""
    credential = request.cookies.get(cookie_name(request, SESSION_COOKIE))
    if credential is None:
        return RedirectResponse("/login", status_code=303)
    if _forged(request, csrf, credential, "logout"):
        return error_page(
            request, Forbidden, "the logout form did not come from this site's own pages"
        )
    await end_web_session(request, credential)
    response = RedirectResponse("/login", status_code=303)
    _delete_cookie(request, response, SESSION_COOKIE)
    return response
