"""The book: records, holdings changes (running totals) and groups, positions, custody.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _string(length: int) -> sa.types.TypeEngine[str]:
    # Sorted by code point on PostgreSQL too, whatever the database's locale.
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "book_record",
        sa.Column("kind", _string(16), primary_key=True),
        sa.Column("key", _string(128), primary_key=True),
        sa.Column("status", _string(32)),
        sa.Column("place", _string(128)),
        sa.Column("due_at", sa.BigInteger),
        sa.Column("doc", sa.Text, nullable=False),
    )
    op.create_index("book_record_status", "book_record", ["kind", "status", "due_at"])
    op.create_index("book_record_place", "book_record", ["kind", "place"])
    op.create_table(
        "holding_change",
        sa.Column("site", _string(128), primary_key=True),
        sa.Column("chemical", _string(64), primary_key=True),
        sa.Column("at", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("item", _string(128), primary_key=True),
        sa.Column("grams", sa.BigInteger, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("grams_total", sa.BigInteger, nullable=False),
        sa.Column("items_total", sa.Integer, nullable=False),
    )
    op.create_table(
        "holding_group",
        sa.Column("site", _string(128), primary_key=True),
        sa.Column("chemical", _string(64), primary_key=True),
    )
    op.create_table(
        "item_position",
        sa.Column("item", _string(128), primary_key=True),
        sa.Column("at", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("site", _string(128)),
        sa.Column("state", _string(16), nullable=False),
        sa.Column("held_g", sa.BigInteger, nullable=False),
    )
    op.create_index("item_position_site", "item_position", ["site", "item"])
    op.create_table(
        "custody_link",
        sa.Column("item", _string(128), primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    )


def downgrade() -> None:
    for table in (
        "custody_link",
        "item_position",
        "holding_group",
        "holding_change",
        "book_record",
    ):
        op.drop_table(table)
