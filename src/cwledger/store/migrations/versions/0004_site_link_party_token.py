"""The entries that name each site, and the parties' API bearer tokens (stored hashed).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _string(length: int) -> sa.types.TypeEngine[str]:
    # Sorted by code point on PostgreSQL too, whatever the database's locale.
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "site_link",
        sa.Column("site", _string(128), primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    )
    # Ledgers written before this revision have no rows here: `cwledger rebuild` makes them.
    op.create_table(
        "party_token",
        sa.Column("token_id", _string(32), primary_key=True),
        sa.Column("party", _string(64), nullable=False, index=True),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("issued_at", _string(40), nullable=False),
        sa.Column("expires_at", _string(40)),
        sa.Column("revoked_at", _string(40)),
        sa.Column("label", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("party_token")
    op.drop_table("site_link")
