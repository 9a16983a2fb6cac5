"""Storage of the log behind one interface (SQLite embedded, or PostgreSQL through psycopg 3)."""

from cwledger.store.store import (
    LogReader,
    LogWriter,
    Store,
    StoredCheckpoint,
    StoredEntry,
    disk_full,
)

__all__ = ["Store", "LogReader", "LogWriter", "StoredEntry", "StoredCheckpoint", "disk_full"]
