"""Every entry records the checkpoint signed in its batch (`checkpoint_size`: the size of
the first checkpoint that covers it), so that the audit can hold the stored checkpoints
to the batch boundaries and name one that is missing. Filled for existing entries from
the checkpoints stored now (entries beyond the last one stay NULL: the audit names them).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("log_entry", sa.Column("checkpoint_size", sa.BigInteger, nullable=True))
    conn = op.get_bind()
    entry = sa.table(
        "log_entry", sa.column("idx", sa.BigInteger), sa.column("checkpoint_size", sa.BigInteger)
    )
    checkpoint = sa.table("checkpoint", sa.column("size", sa.BigInteger))
    sizes = conn.execute(sa.select(checkpoint.c.size).order_by(checkpoint.c.size)).scalars()
    previous = 0
    for size in sizes:
        conn.execute(
            entry.update()
            .where(entry.c.idx >= previous, entry.c.idx < size)
            .values(checkpoint_size=size)
        )
        previous = size


def downgrade() -> None:
    with op.batch_alter_table("log_entry") as batch:
        batch.drop_column("checkpoint_size")
