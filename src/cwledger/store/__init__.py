"""Storage of the log behind one interface (SQLite embedded, or PostgreSQL through psycopg 3)."""

from cwledger.store.store import (
    LogReader,
    LogWriter,
    Store,
    StoredCheckpoint,
    StoredCosignature,
    StoredEntry,
    WitnessState,
    cosignature_chain,
    disk_full,
)

__all__ = [
    "Store",
    "LogReader",
    "LogWriter",
    "StoredEntry",
    "StoredCheckpoint",
    "StoredCosignature",
    "WitnessState",
    "cosignature_chain",
    "disk_full",
]
