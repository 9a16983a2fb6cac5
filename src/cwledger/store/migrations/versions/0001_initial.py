"""The log, its tiles, its checkpoints.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _string(length: int) -> sa.types.TypeEngine[str]:
    # Sorted by code point on PostgreSQL too, whatever the database's locale.
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


_Index = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "log_entry",
        sa.Column("idx", _Index, primary_key=True, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("event_id", _string(128), nullable=False, unique=True),
        sa.Column("event_type", _string(64), nullable=False),
        sa.Column("author", _string(64), nullable=False),
        sa.Column("event_time", _string(40), nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_log_entry_event_type", "log_entry", ["event_type"])
    op.create_index("ix_log_entry_author", "log_entry", ["author"])
    op.create_table(
        "tree_tile",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", _Index, primary_key=True, autoincrement=False),
        sa.Column("hashes", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "checkpoint",
        sa.Column("size", _Index, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed_at", _string(40), nullable=False),
    )
    op.create_table(
        "ledger_meta",
        sa.Column("name", _string(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("ledger_meta", "checkpoint", "tree_tile", "log_entry"):
        op.drop_table(name)
