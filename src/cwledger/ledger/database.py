"""Where a ledger's database is: the directory's own `ledger.db` (SQLite), or the database
the URL in its `database.url` names (SQLite elsewhere, or PostgreSQL)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import make_url

from cwledger.errors import LedgerNotFound
from cwledger.store import Store
from cwledger.store.schema import SCHEMA_REVISION

__all__ = [
    "DATABASE_URL_FILE",
    "existing_store",
    "read_database_url",
    "shown_url",
    "write_database_url",
]

DATABASE_URL_FILE = "database.url"
"""In a ledger directory whose log is in a database server: that database's URL, one line."""


def shown_url(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def read_database_url(path: Path) -> str:
    """The URL in `path/database.url`. Raises LedgerNotFound when there is none."""
    try:
        url = (path / DATABASE_URL_FILE).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        url = ""
    if not url:
        raise LedgerNotFound(
            f"no ledger in {path} (create one with `cwledger init {path} --origin ...`)"
        )
    return url


def write_database_url(path: Path, url: str) -> None:
    """Record the database's URL in `path/database.url` (0600: it may hold a password)."""
    file = path / DATABASE_URL_FILE
    tmp = file.with_name(file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(url + "\n")
    os.replace(tmp, file)


def existing_store(url: str, path: Path) -> Store:
    """The store at `url`, which must hold a ledger (schema and genesis): LedgerNotFound
    otherwise. Nothing is created in a database (or SQLite file) that holds none."""
    missing = LedgerNotFound(f"no ledger in the database {shown_url(url)} (for {path})")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            raise missing
    store = Store.open(url, migrate=False)
    try:
        revision = store.revision()
        if revision is None:
            raise missing
        if revision != SCHEMA_REVISION:
            store.migrate()
        with store.read() as r:
            if r.size() == 0:
                raise missing
    except BaseException:
        store.close()
        raise
    return store
