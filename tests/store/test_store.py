"""The store: migrations from empty match the schema, and a refused write leaves no trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import cwledger.store.store as store_module
from cwledger.errors import ConflictError
from cwledger.store import Store, StoredEntry
from cwledger.store.schema import SCHEMA_REVISION, metadata


def test_schema_revision_is_the_migrations_head() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(store_module.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_REVISION


def test_migrations_from_empty_build_the_schema(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    assert store.revision() == SCHEMA_REVISION
    insp = inspect(store.engine)
    for table in metadata.sorted_tables:
        got = {c["name"] for c in insp.get_columns(table.name)}
        assert got == {c.name for c in table.columns}, table.name
        want_unique = {c.name for c in table.columns if c.unique}
        have_unique = {
            col for u in insp.get_unique_constraints(table.name) for col in u["column_names"]
        }
        assert want_unique <= have_unique, table.name
        want_indexes = {tuple(c.name for c in i.columns) for i in table.indexes}
        have_indexes = {tuple(i["column_names"]) for i in insp.get_indexes(table.name)}
        assert want_indexes <= have_indexes, table.name
    store.close()


def test_sqlite_is_durable_wal_full(tmp_path: Path) -> None:
    store = Store.for_directory(tmp_path)
    with store.read() as r:
        assert r.conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert r.conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.close()


def _entry(i: int) -> StoredEntry:
    return StoredEntry(i, bytes([i]) * 32, f"e{i}", "t.x", "a", "2014-01-01T00:00:00Z", b"{}")


def test_a_failed_write_transaction_writes_nothing(tmp_path: Path) -> None:
    store = Store.for_directory(tmp_path)
    with store.write() as w:
        w.insert_entries([_entry(0)])
    with store.read() as r:
        before = r.row_counts()
    with pytest.raises(RuntimeError), store.write() as w:
        w.insert_entries([_entry(1)])
        raise RuntimeError("refused half way")
    with store.read() as r:
        assert r.row_counts() == before and r.size() == 1
    store.close()


def test_the_store_refuses_a_reused_index(tmp_path: Path) -> None:
    store = Store.for_directory(tmp_path)
    with store.write() as w:
        w.insert_entries([_entry(0)])
    with pytest.raises(ConflictError, match="already stored"), store.write() as w:
        w.insert_entries([StoredEntry(0, b"\x09" * 32, "other", "t.x", "a", "t", b"{}")])
    store.close()
