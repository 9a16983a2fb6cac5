"""Shared fixtures: real ledgers on real SQLite files in a temporary directory, and on a
real PostgreSQL server.

PostgreSQL (``postgres`` at 127.0.0.1:5432, trust auth): `pg_database` is one fresh
database per test session (per pytest-xdist worker), dropped at the end; `pg_url` empties
it for one test and gives its URL. Where the server is unreachable the tests that need it
skip, saying why; with ``CI=true`` they fail instead. `backend` runs a test on each
backend ("sqlite", "postgresql"): `backend_url` is that backend's empty database and
`any_ledger` a new ledger on it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import settings
from psycopg import sql

from cwledger.ledger.ledger import Ledger

# Timings never go in tests: no per-example deadline anywhere (a loaded CI machine must
# not turn a slow example into a failure).
settings.register_profile("cwledger", deadline=None)
settings.load_profile("cwledger")

ORIGIN = "example.org/cwledger/test"
FOUNDING = [("insp", "inspectorate"), ("dec", "declarant"), ("obs", "observer")]


def estimate(n: int, party: str = "insp") -> dict[str, Any]:
    """The body of an estimate.recorded event: a neutral event any party but the operator
    may write, that no rule of the book refuses."""
    return {
        "estimate": {
            "party": party,
            "value": float(n),
            "u": 1.0,
            "unit": "t",
            "method": "open sources",
            "scope": "total",
        }
    }


def event(n: int, type_: str = "estimate.recorded", **body: Any) -> dict[str, Any]:
    """An event with a unique id and a fixed time (an estimate unless told otherwise)."""
    return {
        "type": type_,
        "id": f"ev-{n:06d}",
        "time": f"2014-01-{1 + n % 28:02d}T10:00:00Z",
        "body": body or estimate(n),
    }


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A new ledger with an operator, an inspectorate, a declarant and an observer."""
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    yield led
    led.close()


def row_counts(led: Ledger) -> dict[str, int]:
    """Rows in every table: compared before and after a refused write."""
    with led.store.read() as r:
        return r.row_counts()


def execute_sql(led: Ledger, statement: str) -> int:
    """Run one SQL statement on a ledger's database behind its back, committed at once (to
    tamper with it); the number of rows it changed."""
    with led.store.engine.begin() as conn:
        return conn.exec_driver_sql(statement).rowcount


# -- PostgreSQL ------------------------------------------------------------------------

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


def pg_connect(dbname: str = "postgres") -> psycopg.Connection[Any]:
    """An autocommit connection to a database of the test server (default: the maintenance
    database), for creating and dropping databases."""
    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=True, connect_timeout=5
    )


def pg_database_url(dbname: str) -> str:
    """The URL the store opens for a database of the test server."""
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{dbname}"


def pg_drop_database(admin: psycopg.Connection[Any], dbname: str) -> None:
    """Drop a database of the test server, ending its connections first."""
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (dbname,),
    )
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (each pytest-xdist worker its own,
    named with a random suffix), dropped at the end: its URL. Skips where the server is
    unreachable; fails instead under ``CI=true``."""
    try:
        admin = pg_connect()
    except psycopg.Error as e:
        reason = f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {' '.join(str(e).split())}"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(reason)
        pytest.skip(reason)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"cwledger_test_{worker}_{secrets.token_hex(4)}"
    try:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        yield pg_database_url(name)
    finally:
        pg_drop_database(admin, name)
        admin.close()


@pytest.fixture(scope="session")
def pg_new_database(pg_database: str) -> Iterator[Callable[[], str]]:
    """Makes further fresh databases for fixtures wider than a test (a module's ledger), each
    its own, dropped at the end of the session: call it for a new URL."""
    made: list[str] = []
    base = pg_database.rsplit("/", 1)[1]

    def new() -> str:
        name = f"{base}_{len(made)}"
        with pg_connect() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
            )
        made.append(name)
        return pg_database_url(name)

    yield new
    with pg_connect() as admin:
        for name in made:
            pg_drop_database(admin, name)


@pytest.fixture(scope="session")
def _pg_resetter(pg_database: str) -> Iterator[psycopg.Connection[Any]]:
    """The connection that empties the session's database before each test that asks."""
    with pg_connect(pg_database.rsplit("/", 1)[1]) as conn:
        yield conn


@pytest.fixture
def pg_url(pg_database: str, _pg_resetter: psycopg.Connection[Any]) -> str:
    """The session's PostgreSQL database emptied for this test (no tables, no schema, no
    connection left from an earlier test): its URL. About a millisecond."""
    conn = _pg_resetter
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
    conn.execute("CREATE SCHEMA public")
    return pg_database


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Runs the test once per backend: "sqlite", then "postgresql"."""
    return str(request.param)


@pytest.fixture
def backend_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of this test's backend: a new SQLite file, or `pg_url`."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def any_ledger(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """`ledger` on this test's backend: the directory's own ledger.db on SQLite; on
    PostgreSQL the directory names the database in its database.url (keys stay in it).
    A module runs its `ledger` tests on both with ``ledger = any_ledger``-style override:

        @pytest.fixture
        def ledger(any_ledger: Ledger) -> Ledger:
            return any_ledger
    """
    url = None if backend == "sqlite" else str(request.getfixturevalue("pg_url"))
    led = Ledger.init(
        tmp_path / "ledger",
        ORIGIN,
        founding=FOUNDING,
        time="2013-09-14T00:00:00Z",
        database_url=url,
    )
    yield led
    led.close()


@pytest.fixture
def conf(tmp_path: Path) -> Iterator[Ledger]:
    """A confidential ledger (issue 16: every field above public sealed), with the
    founding parties of `ledger`: operator, inspectorate, declarant, observer."""
    led = Ledger.init(
        tmp_path / "ledger",
        ORIGIN,
        founding=FOUNDING,
        time="2013-09-14T00:00:00Z",
        confidential=True,
    )
    yield led
    led.close()


@pytest.fixture
def book(ledger: Ledger) -> Any:
    """The ledger with version 1 of a declaration: I-1 (1,000 kg) and I-2 (500 kg) of DF at
    S-1, I-3 (800 kg of HF) at S-2 (see tests/book/builders.py)."""
    from tests.book.builders import Book, item

    b = Book(ledger)
    b.declare([item("I-1"), item("I-2", kg=500), item("I-3", "S-2", kg=800, chemical="HF")])
    return b


# -- the syria-2013 scenario, built once per test process ------------------------------------


@pytest.fixture(scope="session")
def syria_2013_built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[bool], Path]:
    """The scenario's ledger directory, confidential (as `make demo` loads it) or not,
    each built once per test process: modules copy it (`syria_2013_copy`) rather than
    replay 3,000 events each."""
    from cwledger.scenario import syria_2013

    built: dict[bool, Path] = {}

    def get(confidential: bool) -> Path:
        if confidential not in built:
            path = tmp_path_factory.mktemp("syria-built") / "ledger"
            syria_2013.load(path, confidential=confidential).close()
            built[confidential] = path
        return built[confidential]

    return get


@pytest.fixture(scope="session")
def syria_2013_copy(
    syria_2013_built: Callable[[bool], Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Path]:
    """A fresh copy of the scenario's ledger directory (``confidential=False`` for one
    whose bodies are all in the clear: for the views' own tests)."""
    import shutil

    def copy(*, confidential: bool = True) -> Path:
        path = tmp_path_factory.mktemp("syria") / "ledger"
        shutil.copytree(syria_2013_built(confidential), path)
        return path

    return copy
