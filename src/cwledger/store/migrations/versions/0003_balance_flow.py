"""Monthly balance flows per site (receipts, shipments, destroyed, produced, other).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _string(length: int) -> sa.types.TypeEngine[str]:
    # Sorted by code point on PostgreSQL too, whatever the database's locale.
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "balance_flow",
        sa.Column("site", _string(128), primary_key=True),
        sa.Column("month", _string(7), primary_key=True),
        sa.Column("flow", _string(16), primary_key=True),
        sa.Column("grams", sa.BigInteger, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
    )
    # Ledgers written before this revision have no rows here: `cwledger rebuild` makes them.


def downgrade() -> None:
    op.drop_table("balance_flow")
