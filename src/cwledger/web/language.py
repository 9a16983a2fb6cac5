"""The language switch: `/language/{code}` remembers the reader's language in a cookie and
goes back to the page the reader was on.

A GET that sets a preference, not a credential: a page elsewhere that links here changes
only the language the next page is shown in, which the reader sees and changes back with
one click, so it needs no anti-forgery token. It goes back only to a path of this server
(`next` must start with one "/"), never to another site.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from cwledger import i18n
from cwledger.errors import NotFound
from cwledger.web.views import LANGUAGE_COOKIE, cookie_name, secure_cookies

__all__ = ["router", "back_to", "YEAR"]

router = APIRouter(include_in_schema=False)

YEAR = 365 * 24 * 3600


def back_to(next_page: str | None) -> str:
    """Where to go after switching: `next_page` when it is a path of this server (one
    leading slash, no scheme, no backslash), else the overview."""
    if (
        not next_page
        or not next_page.startswith("/")
        or next_page.startswith("//")
        or "\\" in next_page
        or any(ord(c) < 0x20 for c in next_page)
    ):
        return "/"
    return next_page


@router.get("/language/{code}")
async def choose_language(
    request: Request,
    code: str,
    next_page: Annotated[
        str | None, Query(alias="next", description="The page to go back to (a path).")
    ] = None,
) -> RedirectResponse:
    """Remember `code` (one of the six languages) and go back to `next`."""
    try:
        lang = i18n.language(code)
    except i18n.UnknownLanguage as e:
        raise NotFound(str(e)) from None
    response = RedirectResponse(back_to(next_page), status_code=303)
    response.set_cookie(
        cookie_name(request, LANGUAGE_COOKIE),
        lang.code,
        max_age=YEAR,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    return response
