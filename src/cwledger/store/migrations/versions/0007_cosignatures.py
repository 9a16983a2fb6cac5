"""Witness cosignatures: the checkpoint's quorum (how many cosignatures the witness policy
in force for its tree asks for; 0 for every checkpoint before, when there was none), the
cosignatures collected, and what the log knows of each witness.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_WITNESS = sa.String(512).with_variant(sa.String(512, collation="C"), "postgresql")
_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("checkpoint", sa.Column("quorum", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "cosignature",
        sa.Column("checkpoint_size", _INDEX, primary_key=True, autoincrement=False),
        sa.Column("witness", _WITNESS, primary_key=True),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("cosigned_at", sa.BigInteger, nullable=False),
        sa.Column("chain", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "witness_state",
        sa.Column("witness", _WITNESS, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("chain", sa.LargeBinary(32), nullable=False),
        sa.Column("cosignatures", sa.BigInteger, nullable=False),
        sa.Column("attempted_at", sa.BigInteger),
        sa.Column("failure", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("witness_state")
    op.drop_table("cosignature")
    with op.batch_alter_table("checkpoint") as batch:
        batch.drop_column("quorum")
