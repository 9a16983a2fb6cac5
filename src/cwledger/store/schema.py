"""The SQL schema (SQLAlchemy Core). The log is the source of truth; nothing here is derived
from anything but the log, except `ledger_meta`, which only names the ledger."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, Text

__all__ = ["metadata", "log_entry", "tree_tile", "checkpoint", "ledger_meta", "SCHEMA_REVISION"]

# The Alembic head this code expects; a test holds it equal to the migrations' head.
SCHEMA_REVISION = "0001"

# INTEGER PRIMARY KEY is SQLite's rowid alias: entries are stored in log order, in place.
_Index = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

log_entry = Table(
    "log_entry",
    metadata,
    Column("idx", _Index, primary_key=True, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False, unique=True),
    Column("event_id", String(128), nullable=False, unique=True),
    Column("event_type", String(64), nullable=False, index=True),
    Column("author", String(64), nullable=False, index=True),
    Column("event_time", String(40), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
)

# C2SP tlog-tiles: tile (level L, index N) holds the hashes of the tree nodes at height 8L,
# N*256 ..< N*256+W, concatenated; a partial tile grows in place until it holds 256.
tree_tile = Table(
    "tree_tile",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", _Index, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
)

checkpoint = Table(
    "checkpoint",
    metadata,
    Column("size", _Index, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", String(40), nullable=False),
)

ledger_meta = Table(
    "ledger_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
