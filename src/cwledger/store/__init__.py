"""Storage of the log behind one interface (SQLite embedded; other SQL backends alike)."""

from cwledger.store.store import LogReader, LogWriter, Store, StoredCheckpoint, StoredEntry

__all__ = ["Store", "LogReader", "LogWriter", "StoredEntry", "StoredCheckpoint"]
