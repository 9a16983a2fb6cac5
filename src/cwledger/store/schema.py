"""The SQL schema (SQLAlchemy Core). The log is the source of truth; nothing here is derived
from anything but the log, except `ledger_meta`, which only names the ledger, and
`party_token`, the server's access list.

The book's tables (`book_record`, `holding_change`, `holding_group`, `item_position`,
`custody_link`, `balance_flow`, `site_link`) are projections of the log: `cwledger rebuild`
drops and makes them again.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeEngine

__all__ = [
    "metadata",
    "log_entry",
    "tree_tile",
    "checkpoint",
    "cosignature",
    "witness_state",
    "ledger_meta",
    "book_record",
    "holding_change",
    "holding_group",
    "item_position",
    "custody_link",
    "balance_flow",
    "site_link",
    "party_token",
    "BOOK_TABLES",
    "SCHEMA_REVISION",
]

# The Alembic head this code expects; a test holds it equal to the migrations' head.
SCHEMA_REVISION = "0008"

# INTEGER PRIMARY KEY is SQLite's rowid alias: entries are stored in log order, in place.
_Index = BigInteger().with_variant(Integer(), "sqlite")


def _string(length: int) -> TypeEngine[str]:
    """A string that sorts by code point on every backend, as Python sorts it: SQLite's
    BINARY collation, and PostgreSQL's "C" whatever the database's locale (the book picks
    running totals by ``ORDER BY ... item DESC`` and lists records by key)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


metadata = MetaData()

log_entry = Table(
    "log_entry",
    metadata,
    Column("idx", _Index, primary_key=True, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False, unique=True),
    Column("event_id", _string(128), nullable=False, unique=True),
    Column("event_type", _string(64), nullable=False, index=True),
    Column("author", _string(64), nullable=False, index=True),
    Column("event_time", _string(40), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
    # The event's time as a moment (microseconds since the epoch, UTC): what time filters
    # compare, on every backend alike.
    Column("event_at", BigInteger, nullable=False),
    # When the log took the entry, by the log's own clock (microseconds, UTC), written in
    # the append transaction; NULL for entries appended before revision 0005 (unknown).
    # Not part of the signed event: the operator's clock, vouched for by the checkpoints.
    Column("logged_at", BigInteger),
    # The size of the checkpoint signed in the entry's batch (the first that covers it):
    # the batch boundaries, which the audit holds the stored checkpoints to. NULL only for
    # an entry no stored checkpoint covered when revision 0006 filled the column.
    Column("checkpoint_size", BigInteger),
    Index("log_entry_event_at", "event_at"),
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
    Column("signed_at", _string(40), nullable=False),
    # How many witness cosignatures the policy in force for this tree asks for (0: none):
    # the log publishes a checkpoint once it holds that many (see `cosignature`).
    Column("quorum", Integer, nullable=False, server_default="0"),
)

# Witness cosignatures of stored checkpoints (c2sp.org/tlog-cosignature), one per witness
# and checkpoint: the signature line as the witness sent it, its timestamp (POSIX seconds,
# the witness's clock) and `chain`, SHA-256 over the witness's previous chain value, the
# size and the line, so that the audit notices any cosignature deleted or changed.
cosignature = Table(
    "cosignature",
    metadata,
    Column("checkpoint_size", _Index, primary_key=True, autoincrement=False),
    Column("witness", _string(512), primary_key=True),  # its verifier key
    Column("line", Text, nullable=False),
    Column("cosigned_at", BigInteger, nullable=False),
    Column("chain", LargeBinary(32), nullable=False),
)

# What the log knows of each witness it asks: the size it last cosigned (the old size of
# the next request), the head of its cosignatures' chain, and the last failure, if any.
witness_state = Table(
    "witness_state",
    metadata,
    Column("witness", _string(512), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("chain", LargeBinary(32), nullable=False),
    Column("cosignatures", BigInteger, nullable=False),
    Column("attempted_at", BigInteger),  # µs, the log's clock
    Column("failure", Text),
)

ledger_meta = Table(
    "ledger_meta",
    metadata,
    Column("name", _string(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# The book's record of each object (site, item, seal, transfer, finding, ...) as JSON, with
# the status, place and deadline that the rules look records up by.
book_record = Table(
    "book_record",
    metadata,
    Column("kind", _string(16), primary_key=True),
    Column("key", _string(128), primary_key=True),
    Column("status", _string(32)),
    Column("place", _string(128)),
    Column("due_at", BigInteger),
    Column("doc", Text, nullable=False),
    Index("book_record_status", "kind", "status", "due_at"),
    Index("book_record_place", "kind", "place"),
)

# Every change of holdings (grams and items of a chemical at a site; site "" is in transit)
# with the running totals of its (site, chemical) group in (at, idx, item) order: the
# holdings at any moment are one index seek per group. By `at` alone: the book's last
# change up to a moment in one seek (the holdings at a moment are those at that change).
holding_change = Table(
    "holding_change",
    metadata,
    Column("site", _string(128), primary_key=True),
    Column("chemical", _string(64), primary_key=True),
    Column("at", BigInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("item", _string(128), primary_key=True),
    Column("grams", BigInteger, nullable=False),
    Column("items", Integer, nullable=False),
    Column("grams_total", BigInteger, nullable=False),
    Column("items_total", Integer, nullable=False),
    Index("holding_change_at", "at"),
)

# The (site, chemical) groups that holding_change has rows for.
holding_group = Table(
    "holding_group",
    metadata,
    Column("site", _string(128), primary_key=True),
    Column("chemical", _string(64), primary_key=True),
)

# Where each item is after each entry that changed it.
item_position = Table(
    "item_position",
    metadata,
    Column("item", _string(128), primary_key=True),
    Column("at", BigInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("site", _string(128)),
    Column("state", _string(16), nullable=False),
    Column("held_g", BigInteger, nullable=False),
    Index("item_position_site", "site", "item"),
)

# The entries of each item's chain of custody.
custody_link = Table(
    "custody_link",
    metadata,
    Column("item", _string(128), primary_key=True),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
)

# Each site's holdings changes summed per calendar month (UTC) and flow (receipts,
# shipments, destroyed, produced, other): monthly material balances in one small read.
balance_flow = Table(
    "balance_flow",
    metadata,
    Column("site", _string(128), primary_key=True),
    Column("month", _string(7), primary_key=True),
    Column("flow", _string(16), primary_key=True),
    Column("grams", BigInteger, nullable=False),
    Column("items", Integer, nullable=False),
)

# The entries that name each site (declared there, shipped from or to it, inspected...).
site_link = Table(
    "site_link",
    metadata,
    Column("site", _string(128), primary_key=True),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
)

BOOK_TABLES = (
    book_record,
    holding_change,
    holding_group,
    item_position,
    custody_link,
    balance_flow,
    site_link,
)

# The parties' bearer tokens for the HTTP API: a token is ``cwl_<token_id>_<secret>``; only
# the SHA-256 of the secret is stored. Not part of the log: the server's own access list.
party_token = Table(
    "party_token",
    metadata,
    Column("token_id", _string(32), primary_key=True),
    Column("party", _string(64), nullable=False, index=True),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("issued_at", _string(40), nullable=False),
    Column("expires_at", _string(40)),
    Column("revoked_at", _string(40)),
    Column("label", Text, nullable=False, server_default=""),
)
