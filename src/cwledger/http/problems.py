"""RFC 9457 problem details: every error the API answers, as ``application/problem+json``.

Each error class of ``cwledger.errors`` has a stable ``type`` (``/problems/<code>``, which
the server also serves as a short description), its HTTP status, a ``title`` and a human
``detail``; a refused event or request lists every problem with its location. No stack
trace ever reaches a client: an unexpected exception is logged and answered with a
generic 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cwledger import errors
from cwledger.book.answers import NotInBook

__all__ = [
    "ProblemDetail",
    "ProblemItem",
    "PROBLEM_TYPES",
    "problem_response",
    "problem_responses",
    "document_problems",
    "document_security",
    "install",
]

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("cwledger.api")


class ProblemItem(BaseModel):
    """One reason a request was refused, with where it was found."""

    location: str = Field(description="Where: e.g. `event[3].payload.body.site` or `query.at`.")
    detail: str
    index: int | None = Field(None, description="The event's position in a batch, if any.")


class ProblemDetail(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(description="A stable URI reference naming the error class.")
    title: str
    status: int
    detail: str
    instance: str | None = None
    problems: list[ProblemItem] | None = None
    retry_after: float | None = None


# code -> (status, title): the error classes a client can meet.
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "event-rejected": (422, "Event refused; nothing was written"),
    "validation": (422, "The request does not validate"),
    "malformed-input": (400, "Malformed input"),
    "verification-failed": (422, "Verification failed"),
    "conflict": (409, "Conflicts with the log"),
    "not-found": (404, "Not found"),
    "unauthorized": (401, "Authentication required"),
    "forbidden": (403, "Not allowed for this party"),
    "too-large": (413, "Request too large"),
    "rate-limited": (429, "Too many requests"),
    "method-not-allowed": (405, "Method not allowed"),
    "unavailable": (503, "Not ready"),
    "internal": (500, "Internal server error"),
}

_CODE_OF_STATUS = {
    404: "not-found",
    405: "method-not-allowed",
    413: "too-large",
    401: "unauthorized",
}


def problem_response(
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    problems: list[ProblemItem] | None = None,
    retry_after: float | None = None,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response of error class `code`."""
    default_status, title = PROBLEM_TYPES.get(code, PROBLEM_TYPES["internal"])
    doc = ProblemDetail(
        type=f"/problems/{code}",
        title=title,
        status=status or default_status,
        detail=detail,
        instance=instance,
        problems=problems,
        retry_after=retry_after,
    )
    headers = dict(headers or {})
    if doc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, round(retry_after + 0.5)))
    return JSONResponse(
        doc.model_dump(exclude_none=True),
        status_code=doc.status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _index(location: str) -> int | None:
    if location.startswith("event[") and "]" in location:
        return int(location[6 : location.index("]")])
    return None


def _code(e: errors.CwledgerError) -> str:
    if isinstance(e, errors.LedgerNotFound | errors.KeyNotFound | NotInBook):
        return "not-found"
    return e.code if e.code in PROBLEM_TYPES else "internal"


def install(app: FastAPI) -> None:
    """Map every error, once, to a problem response."""

    @app.exception_handler(errors.CwledgerError)
    async def _domain(request: Request, e: errors.CwledgerError) -> JSONResponse:
        code = _code(e)
        items = None
        if isinstance(e, errors.EventRejected | errors.InvalidQuery):
            items = [
                ProblemItem(location=p.location, detail=p.message, index=_index(p.location))
                for p in e.problems
            ]
        if code == "internal":
            log.error("error without a problem type: %r", e)
            return problem_response("internal", "the server failed; see its log")
        retry = e.retry_after if isinstance(e, errors.RateLimited) else None
        return problem_response(
            code, str(e), instance=request.url.path, problems=items, retry_after=retry
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, e: RequestValidationError) -> JSONResponse:
        items = [
            ProblemItem(location=".".join(str(p) for p in err["loc"]), detail=err["msg"])
            for err in e.errors()
        ]
        n = len(items)
        return problem_response(
            "validation",
            f"{n} problem(s) in the request",
            instance=request.url.path,
            problems=items,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException) -> JSONResponse:
        code = _CODE_OF_STATUS.get(
            e.status_code, "validation" if e.status_code < 500 else "internal"
        )
        return problem_response(
            code,
            str(e.detail),
            instance=request.url.path,
            status=e.status_code,
            headers=dict(e.headers or {}),  # e.g. Allow on a 405
        )

    @app.exception_handler(OperationalError)
    async def _database(request: Request, _exc: OperationalError) -> JSONResponse:
        log.exception("database unavailable on %s %s", request.method, request.url.path)
        return problem_response(
            "unavailable", "the database is not reachable; retry later", instance=request.url.path
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response("internal", "the server failed; see its log")


def document_problems(doc: dict[str, Any]) -> dict[str, Any]:
    """Make every error response of an OpenAPI document a problem document: its schema
    under ``application/problem+json`` only (FastAPI puts a model under application/json,
    and documents its own 422 shape, which this API never sends)."""
    ref = {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
    for operations in doc.get("paths", {}).values():
        for op in operations.values():
            for status, response in op.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {MEDIA_TYPE: ref}
    schemas = doc.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def document_security(doc: dict[str, Any], prefix: str, public: str) -> dict[str, Any]:
    """Declare the parties' bearer tokens: every operation under `prefix` but those under
    `public` needs one (the dependencies read the header themselves, so FastAPI does not
    see the scheme)."""
    doc.setdefault("components", {})["securitySchemes"] = {
        "partyToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "A party's token, issued by `cwledger tokens issue --party P`.",
        }
    }
    for path, operations in doc.get("paths", {}).items():
        if path.startswith(prefix) and not path.startswith(public):
            for op in operations.values():
                op["security"] = [{"partyToken": []}]
    return doc


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these statuses, each a problem document."""
    return {
        s: {
            "model": ProblemDetail,
            "content": {MEDIA_TYPE: {}},
            "description": _DESCRIBE.get(s, ""),
        }
        for s in statuses
    }


_DESCRIBE = {
    400: "Malformed input",
    401: "No valid bearer token",
    403: "Not allowed for this party",
    404: "Not found",
    409: "Conflicts with the log",
    413: "Request or batch too large",
    422: "Refused, with every problem listed",
    429: "Rate limited",
    503: "Not ready",
}
