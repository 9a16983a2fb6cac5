"""Plain SQL on the DB-API driver's cursor, inside the caller's SQLAlchemy transaction.

For the hot paths (a record by key, the running totals, the latest checkpoint, a range of
entries): building and compiling a SQLAlchemy statement costs more than SQLite running
it. The SQL is written with ``?`` placeholders and given to the driver in its own style;
a driver of another style goes through SQLAlchemy instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

__all__ = ["mark", "rows", "execute_many"]

_MARK = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_TUPLES_OK = 2
"""libpq's PGRES_TUPLES_OK: a result that carries rows (`psycopg.pq.ExecStatus`)."""


def mark(conn: Connection) -> str | None:
    """The driver's placeholder (``?`` or ``%s``), or None for a style not handled here."""
    return _MARK.get(conn.dialect.paramstyle)


def rows(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Run `sql` (``?`` placeholders) in `conn`'s transaction; its rows (none for a write)."""
    placeholder = mark(conn)
    if placeholder is None:  # another driver: let SQLAlchemy bind the parameters
        names = [f"p{i}" for i in range(len(params))]
        for name in names:
            sql = sql.replace("?", f":{name}", 1)
        result = conn.execute(text(sql), dict(zip(names, params, strict=True)))
        return list(result) if result.returns_rows else []
    if placeholder == "%s":  # psycopg: one cursor kept per connection (`_kept_cursor`)
        cursor = _kept_cursor(conn)
        cursor.execute(sql.replace("?", placeholder), list(params))
        out = list(cursor.fetchall()) if _returns_rows(cursor) else []
        if len(out) > _KEEP_ROWS:  # a large result is not held until the next statement
            conn.connection.info.pop(_CURSOR, None)
            cursor.close()
        return out
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql.replace("?", placeholder), list(params))
        return list(cursor.fetchall()) if _returns_rows(cursor) else []
    finally:
        cursor.close()


def _kept_cursor(conn: Connection) -> Any:
    """The cursor kept for `conn`'s DBAPI connection (made on first use). On psycopg a
    cursor's creation and close are about a tenth of a one-row read's CPU in the app
    (docs/performance.md); it holds its last result until its next statement, so it is
    kept only after small results (`_KEEP_ROWS`). Kept in the pool's record of that DBAPI
    connection, and used only with it."""
    dbapi = conn.connection.driver_connection
    info = conn.connection.info
    cursor = info.get(_CURSOR)
    if cursor is None or cursor.closed or cursor.connection is not dbapi:
        cursor = info[_CURSOR] = dbapi.cursor()  # type: ignore[union-attr]
    return cursor


_CURSOR = "cwledger_cursor"
_KEEP_ROWS = 64
"""A kept cursor is closed after a result of more rows (its last result would stay in
memory until the connection's next statement): the next statement makes a new one."""


def _returns_rows(cursor: Any) -> bool:
    """Whether the statement just run returned rows. psycopg's `description` builds a column
    object per column (a quarter of a one-row read's cost): its result's status says it."""
    result = getattr(cursor, "pgresult", None)
    if result is None:
        return cursor.description is not None
    return bool(result.status == _TUPLES_OK)


def execute_many(conn: Connection, sql: str, params: Sequence[Sequence[Any]]) -> None:
    """Run `sql` (``?`` placeholders) once per parameter row, in `conn`'s transaction."""
    placeholder = mark(conn)
    if placeholder is None:
        for row in params:
            rows(conn, sql, row)
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql.replace("?", placeholder), [list(r) for r in params])
    finally:
        cursor.close()
