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


def upgrade() -> None:
    op.create_table(
        "site_link",
        sa.Column("site", sa.String(128), primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    )
    # Ledgers written before this revision have no rows here: `cwledger rebuild` makes them.
    op.create_table(
        "party_token",
        sa.Column("token_id", sa.String(32), primary_key=True),
        sa.Column("party", sa.String(64), nullable=False, index=True),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("issued_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40)),
        sa.Column("revoked_at", sa.String(40)),
        sa.Column("label", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("party_token")
    op.drop_table("site_link")
