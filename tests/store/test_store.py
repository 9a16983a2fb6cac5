"""The store: migrations from empty match the schema, and a refused write leaves no trace,
on SQLite and on PostgreSQL; each backend's transactions are what the store promises."""

from __future__ import annotations

import threading
import time
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


def test_migrations_from_empty_build_the_schema(backend_url: str) -> None:
    store = Store.open(backend_url)
    assert store.revision() == SCHEMA_REVISION
    insp = inspect(store.engine)
    assert set(insp.get_table_names()) == {*metadata.tables, "alembic_version"}
    for table in metadata.sorted_tables:
        columns = {c["name"]: c for c in insp.get_columns(table.name)}
        assert set(columns) == {c.name for c in table.columns}, table.name
        for c in table.columns:
            assert columns[c.name]["nullable"] == c.nullable, (table.name, c.name)
        want_pk = [c.name for c in table.primary_key.columns]
        assert insp.get_pk_constraint(table.name)["constrained_columns"] == want_pk, table.name
        want_unique = {c.name for c in table.columns if c.unique}
        have_unique = {
            col for u in insp.get_unique_constraints(table.name) for col in u["column_names"]
        }
        assert want_unique <= have_unique, table.name
        want_indexes = {tuple(c.name for c in i.columns) for i in table.indexes}
        have_indexes = {tuple(i["column_names"]) for i in insp.get_indexes(table.name)}
        assert want_indexes <= have_indexes, table.name
    store.close()


def test_migrations_then_open_again_change_nothing(backend_url: str) -> None:
    Store.open(backend_url).close()
    store = Store.open(backend_url)
    assert store.revision() == SCHEMA_REVISION
    with store.read() as r:
        assert set(r.row_counts().values()) == {0}
    store.close()


def test_sqlite_is_durable_wal_full(tmp_path: Path) -> None:
    store = Store.for_directory(tmp_path)
    with store.read() as r:
        assert r.conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert r.conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.close()


def _entry(i: int) -> StoredEntry:
    return StoredEntry(i, bytes([i]) * 32, f"e{i}", "t.x", "a", "2014-01-01T00:00:00Z", b"{}")


def test_a_failed_write_transaction_writes_nothing(backend_url: str) -> None:
    store = Store.open(backend_url)
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


def test_the_store_refuses_a_reused_index(backend_url: str) -> None:
    store = Store.open(backend_url)
    with store.write() as w:
        w.insert_entries([_entry(0)])
    with pytest.raises(ConflictError, match="already stored"), store.write() as w:
        w.insert_entries(
            [StoredEntry(0, b"\x09" * 32, "other", "t.x", "a", "2014-01-01T00:00:00Z", b"{}")]
        )
    with store.read() as r:
        assert r.size() == 1
    store.close()


def test_entries_and_tiles_come_back_as_stored(backend_url: str) -> None:
    """The driver-level paths (executemany, tiles by key) and the Core ones agree."""
    store = Store.open(backend_url)
    entries = [_entry(i) for i in range(5)]
    with store.write() as w:
        w.insert_entries(entries)
        w.put_tiles({(0, 0): b"\x01" * 64, (1, 0): b"\x02" * 32}, [])
        w.put_tiles({(0, 0): b"\x03" * 96}, [(0, 0)])
    with store.read() as r:
        assert r.entries(0, 5) == entries
        assert [e for chunk in r.iter_entries(chunk=2) for e in chunk] == entries
        assert r.entries_by_leaf_hash([b"\x03" * 32]) == {b"\x03" * 32: entries[3]}
        assert r.entries_by_event_id(["e4", "nope"]) == {"e4": entries[4]}
        assert r.entries_of_types(["t.none", "t.x"]) == entries  # in log order
        assert r.entries_of_types(["t.none"]) == r.entries_of_types([]) == []
        got = r.tiles([(0, 0), (1, 0), (2, 0)])
        assert got == {(0, 0): b"\x03" * 96, (1, 0): b"\x02" * 32}
        assert all(type(v) is bytes for v in got.values())
        assert all(type(e.envelope) is bytes and type(e.leaf_hash) is bytes for e in entries)
        assert list(r.all_tiles()) == [(0, 0, b"\x03" * 96), (1, 0, b"\x02" * 32)]
        assert r.size() == 5
    assert store.size() == 5  # outside any transaction
    with store.write() as w:
        w.insert_entries([_entry(5)])
    assert store.size() == 6
    store.close()


# -- PostgreSQL: the transactions --------------------------------------------------------


def _pg_store(pg_url: str) -> Store:
    store = Store.open(pg_url)
    assert store.engine.dialect.name == "postgresql"
    return store


def test_postgresql_reads_are_one_read_only_snapshot(pg_url: str) -> None:
    store = _pg_store(pg_url)
    with store.read() as r:
        assert r.conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "repeatable read"
        assert r.conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
        assert r.size() == 0
        with store.write() as w:  # another connection commits meanwhile
            w.insert_entries([_entry(0), _entry(1)])
        assert r.size() == 0 and r.entries(0, 2) == []  # the same snapshot throughout
    with store.read() as r:
        assert r.size() == 2
    with store.write() as w:  # the pooled connection is back to a read-write writer
        assert w.conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
        w.insert_entries([_entry(2)])
    store.close()


def test_postgresql_writers_take_the_advisory_lock_and_commit_durably(pg_url: str) -> None:
    store = _pg_store(pg_url)
    key = store_module.WRITE_LOCK_KEY
    with store.write() as w:
        held = w.conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND classid::bigint = %s AND objid::bigint = %s",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
        ).scalar()
        assert held == 1
        assert w.conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    with store.read() as r:  # a transaction-level lock: gone with the transaction
        held = r.conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE l.locktype = 'advisory' AND d.datname = current_database()"
        ).scalar()
        assert held == 0
    store.close()


def test_postgresql_writers_queue_and_see_each_others_commits(pg_url: str) -> None:
    """A second writer waits on the lock, then reads the size the first one committed."""
    store = _pg_store(pg_url)
    first_in = threading.Event()
    seen: list[int] = []

    def second() -> None:
        first_in.wait()
        with store.write() as w:
            size = w.size()  # read after the lock: the first writer's commit is visible
            seen.append(size)
            w.insert_entries([_entry(size)])

    t = threading.Thread(target=second)
    t.start()
    with store.write() as w:
        size = w.size()
        first_in.set()
        time.sleep(0.3)  # the second writer is blocked on the lock meanwhile
        assert not seen
        w.insert_entries([_entry(size)])
    t.join()
    assert seen == [1]
    with store.read() as r:
        assert r.size() == 2
    store.close()


def test_postgresql_concurrent_first_opens_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def open_() -> None:
        try:
            Store.open(pg_url).close()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=open_) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    store = _pg_store(pg_url)
    assert store.revision() == SCHEMA_REVISION
    store.close()


def test_postgresql_strings_sort_by_code_point_whatever_the_locale(pg_url: str) -> None:
    """In a database whose default collation is ICU en-US ("a" < "B"), keys still sort as
    Python sorts them (and as SQLite does)."""
    from sqlalchemy import text

    from tests.conftest import pg_connect, pg_database_url, pg_drop_database

    name = pg_url.rsplit("/", 1)[1] + "_icu"
    with pg_connect() as admin:
        pg_drop_database(admin, name)
        admin.execute(
            f'CREATE DATABASE "{name}" TEMPLATE template0 LOCALE_PROVIDER icu'
            " ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        )
        try:
            store = Store.open(pg_database_url(name))
            keys = ["a-2", "B-1", "I-10", "I-1a", "I1", "b-0"]
            with store.write() as w:
                for k in keys:
                    w.conn.execute(
                        text("INSERT INTO book_record (kind, key, doc) VALUES ('site', :k, '{}')"),
                        {"k": k},
                    )
            with store.read() as r:
                assert r.book.keys("site") == sorted(keys)
            store.close()
        finally:
            pg_drop_database(admin, name)


def test_postgresql_keeps_one_cursor_per_connection_and_survives_a_failed_statement(
    pg_url: str,
) -> None:
    """The driver's plain SQL reuses one psycopg cursor per DBAPI connection (its creation
    cost more than a one-row read's client work), gives each statement its own rows, after
    a failed statement and its rollback the same cursor serves the next one, after a large
    result it is closed rather than kept holding it, and a new DBAPI connection gets a
    cursor of its own."""
    import psycopg

    from cwledger.store import driver

    store = _pg_store(pg_url)
    with store.write() as w:
        w.insert_entries([_entry(i) for i in range(3)])
    with store.engine.connect() as conn:
        with conn.begin():
            first = driver.rows(conn, "SELECT idx FROM log_entry WHERE idx >= ? ORDER BY idx", (1,))
            cursor = conn.connection.info[driver._CURSOR]
            assert [tuple(r) for r in first] == [(1,), (2,)]
            assert [tuple(r) for r in driver.rows(conn, "SELECT count(*) FROM log_entry")] == [(3,)]
            assert conn.connection.info[driver._CURSOR] is cursor
        with pytest.raises(psycopg.errors.UndefinedColumn), conn.begin():
            driver.rows(conn, "SELECT no_such_column FROM log_entry")
        with conn.begin():
            assert [tuple(r) for r in driver.rows(conn, "SELECT max(idx) FROM log_entry")] == [(2,)]
            assert conn.connection.info[driver._CURSOR] is cursor
            # A large result is not held: its cursor is closed, the next statement makes one.
            many = driver.rows(conn, "SELECT generate_series(1, ?)", (driver._KEEP_ROWS + 1,))
            assert len(many) == driver._KEEP_ROWS + 1 and cursor.closed
            assert driver._CURSOR not in conn.connection.info
            driver.rows(conn, "SELECT 1")
            assert conn.connection.info[driver._CURSOR] is not cursor
        old = conn.connection.driver_connection
        conn.invalidate()  # the pool makes a new DBAPI connection for the next checkout
    with store.engine.connect() as fresh, fresh.begin():
        assert [tuple(r) for r in driver.rows(fresh, "SELECT 1")] == [(1,)]
        dbapi = fresh.connection.driver_connection
        assert dbapi is not old
        assert fresh.connection.info[driver._CURSOR].connection is dbapi  # never another's
    store.close()
