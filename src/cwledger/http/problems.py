"""RFC 9457 problem details: every error the API answers, as ``application/problem+json``.

The mapping is the error tree's (``cwledger.errors``): an error class carries its HTTP
status and its problem type (``/problems/<problem>``, which the server also serves as a
short description, and its title); this module keeps no table of its own.
`PROBLEM_TYPES` is read off the tree, which is why it imports the error classes defined
outside ``cwledger.errors`` that name a type of their own (`ERROR_CLASSES`; a test holds it
complete); the OpenAPI document lists exactly these types. A refused event or request lists every
problem with its location. No stack trace ever reaches a client: an unexpected exception
is logged and answered with a generic 500 (the tree's root, ``internal``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cwledger import errors
from cwledger.accountancy.statistics import SingularCovariance
from cwledger.model.errors import IllegalTransition
from cwledger.store import disk_full
from cwledger.words import plural

__all__ = [
    "ProblemDetail",
    "ProblemItem",
    "ERROR_CLASSES",
    "PROBLEM_TYPES",
    "error_tree",
    "problem_items",
    "problem_response",
    "error_response",
    "http_error",
    "validation_error",
    "ErrorPage",
    "problem_responses",
    "document_problems",
    "document_security",
    "install",
]

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("cwledger.api")

ErrorClass = type[errors.CwledgerError]

ERROR_CLASSES: tuple[ErrorClass, ...] = (IllegalTransition, SingularCovariance)
"""The error classes outside ``cwledger.errors`` that name a problem type of their own
(imported here, so that `PROBLEM_TYPES` lists every type whichever modules the process has
imported; the others, e.g. ``book.answers.NotInBook``, share one of the tree's types)."""


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


def error_tree(root: ErrorClass = errors.CwledgerError) -> list[ErrorClass]:
    """`root` and every subclass of it, depth first."""
    found = [root]
    for sub in root.__subclasses__():
        found += error_tree(sub)
    return found


def _problem_types() -> dict[str, tuple[int, str]]:
    types: dict[str, tuple[int, str]] = {}
    for cls in error_tree():
        kind = (cls.status, cls.title)
        if types.setdefault(cls.problem, kind) != kind:
            raise TypeError(
                f"{cls.__qualname__}: problem type {cls.problem!r} is {types[cls.problem]}"
                f" elsewhere, {kind} here"
            )
    return dict(sorted(types.items()))


PROBLEM_TYPES: dict[str, tuple[int, str]] = _problem_types()
"""problem type -> (status, title), read off the error tree."""


def problem_response(
    kind: ErrorClass,
    detail: str,
    *,
    instance: str | None = None,
    problems: list[ProblemItem] | None = None,
    retry_after: float | None = None,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response of the problem type of error class `kind`."""
    doc = ProblemDetail(
        type=f"/problems/{kind.problem}",
        title=kind.title,
        status=status or kind.status,
        detail=errors.clip(detail),
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


def problem_items(e: errors.CwledgerError) -> list[ProblemItem] | None:
    """Every problem a refused event or request lists, with its location (None if none)."""
    if isinstance(e, errors.EventRejected | errors.InvalidQuery):
        return [
            ProblemItem(location=p.location, detail=p.message, index=_index(p.location))
            for p in e.problems
        ]
    return None


def _internal(kind: ErrorClass) -> bool:
    return kind.problem == errors.CwledgerError.problem


def _detail(e: errors.CwledgerError) -> str:
    """What a client is told: the error's text, but nothing of an internal error."""
    return "the server failed; see its log" if _internal(type(e)) else str(e)


def error_response(request: Request, e: errors.CwledgerError) -> JSONResponse:
    """The problem response for an error raised on purpose."""
    kind = type(e)
    if _internal(kind):
        return problem_response(kind, _detail(e))
    retry = e.retry_after if isinstance(e, errors.RateLimited) else None
    return problem_response(
        kind, str(e), instance=request.url.path, problems=problem_items(e), retry_after=retry
    )


def validation_error(e: RequestValidationError) -> errors.InvalidQuery:
    """A request FastAPI could not validate, as the tree's InvalidQuery (every problem)."""
    found = [errors.Problem(".".join(str(p) for p in err["loc"]), err["msg"]) for err in e.errors()]
    refused = errors.InvalidQuery("request", f"{plural(len(found), 'problem')} in the request")
    refused.problems = found
    return refused


_CLASS_OF_STATUS: dict[int, ErrorClass] = {
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    413: errors.TooLarge,
    401: errors.Unauthorized,
}


def http_error(status: int) -> ErrorClass:
    """The error class of an HTTP error the framework raised (an unknown path, a method)."""
    return _CLASS_OF_STATUS.get(
        status, errors.InvalidQuery if status < 500 else errors.CwledgerError
    )


ErrorPage = Callable[[Request, ErrorClass, str], Response | None]
"""Another rendering of an error for the requests it serves (the dashboard's HTML page),
or None for the others."""


_DISK_FULL = "disk full: nothing was written; retry once there is space"
_UNREACHABLE = "the database is not reachable; retry later"


def install(app: FastAPI, page: ErrorPage | None = None) -> None:
    """Map every error, once, from its class: to `page`'s rendering where it gives one,
    else to a problem response."""

    def rendered(request: Request, kind: ErrorClass, detail: str) -> Response | None:
        return None if page is None else page(request, kind, errors.clip(detail))

    @app.exception_handler(errors.CwledgerError)
    async def _domain(request: Request, e: errors.CwledgerError) -> Response:
        if _internal(type(e)):
            log.error("error without a problem type: %r", e)
        return rendered(request, type(e), _detail(e)) or error_response(request, e)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, e: RequestValidationError) -> Response:
        refused = validation_error(e)
        detail = f"{plural(len(refused.problems), 'problem')} in the request"
        html = rendered(request, errors.InvalidQuery, "; ".join(map(str, refused.problems)))
        return html or problem_response(
            errors.InvalidQuery,
            detail,
            instance=request.url.path,
            problems=problem_items(refused),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            http_error(e.status_code),
            str(e.detail),
            instance=request.url.path,
            status=e.status_code,
            headers=dict(e.headers or {}),  # e.g. Allow on a 405
        )

    def storage(request: Request, kind: ErrorClass, detail: str) -> Response:
        log.exception("%s on %s %s", detail, request.method, request.url.path)
        return rendered(request, kind, detail) or problem_response(
            kind, detail, instance=request.url.path
        )

    @app.exception_handler(OperationalError)
    async def _database(request: Request, exc: OperationalError) -> Response:
        if disk_full(exc):
            return storage(request, errors.DiskFull, _DISK_FULL)
        return storage(request, errors.DatabaseUnavailable, _UNREACHABLE)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # The append path's hot statements go to the driver itself: its errors come here.
        if disk_full(exc):
            return storage(request, errors.DiskFull, _DISK_FULL)
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(errors.CwledgerError, "the server failed; see its log")


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
    if "ProblemDetail" in schemas:
        schemas["ProblemDetail"]["properties"]["type"]["enum"] = [
            f"/problems/{problem}" for problem in PROBLEM_TYPES
        ]
    return doc


def document_security(doc: dict[str, Any], prefix: str, *public: str) -> dict[str, Any]:
    """Declare the parties' bearer tokens: every operation under `prefix` but those under
    any of `public` needs one (the dependencies read the header themselves, so FastAPI does not
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
    507: "Disk full; nothing was written",
}
