"""Liveness and readiness (is the process up; is the database reachable and migrated), and
who the caller is (a token's party and role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cwledger.errors import DatabaseUnavailable, Unavailable
from cwledger.http.deps import AnyCaller, get_ledger
from cwledger.http.problems import problem_response, problem_responses
from cwledger.ledger.ledger import Ledger
from cwledger.store.schema import SCHEMA_REVISION

__all__ = ["router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The server is up."""

    status: str


class Readiness(BaseModel):
    """The database answers and its schema is at the revision this code expects."""

    status: str
    schema_revision: str
    log_size: int


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up (no database call)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses=problem_responses(503))
def readyz(ledger: Annotated[Ledger, Depends(get_ledger)]) -> Readiness | JSONResponse:
    """The database is reachable and its migrations are current."""
    try:
        revision = ledger.store.revision()
        with ledger.store.read() as r:
            size = r.size()
    except Exception as e:  # any failure to reach the database means "not ready"
        return problem_response(DatabaseUnavailable, f"database not reachable: {type(e).__name__}")
    if revision != SCHEMA_REVISION:
        return problem_response(
            Unavailable, f"schema at revision {revision}, this server needs {SCHEMA_REVISION}"
        )
    return Readiness(status="ready", schema_revision=revision, log_size=size)


class WhoAmI(BaseModel):
    """The party a token acts for, its role in the log, and the token's id."""

    party: str
    role: str
    token_id: str


@router.get(
    "/api/v1/whoami",
    response_model=WhoAmI,
    responses=problem_responses(401, 429),
    tags=["access"],
)
async def whoami(who: AnyCaller) -> WhoAmI:
    """Who the bearer token stands for (no database read while the token is remembered)."""
    return WhoAmI(party=who.party, role=who.role, token_id=who.token_id)
