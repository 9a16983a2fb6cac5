"""Times as numbers: each entry's event time as a moment (`event_at`, filled from the
stored text) and the moment the log took it (`logged_at`, unknown for the entries before).

Revision ID: 0005
Revises: 0004
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(text: str) -> int:
    """The moment of a stored event time. Entries admitted before the one strict form may
    hold other ISO 8601 forms that Python parsed then; they are read the way they were
    accepted (UTC, ending in Z)."""
    parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    delta = parsed - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def upgrade() -> None:
    op.add_column("log_entry", sa.Column("event_at", sa.BigInteger, nullable=True))
    op.add_column("log_entry", sa.Column("logged_at", sa.BigInteger, nullable=True))
    conn = op.get_bind()
    entry = sa.table(
        "log_entry",
        sa.column("idx", sa.BigInteger),
        sa.column("event_time", sa.String),
        sa.column("event_at", sa.BigInteger),
    )
    after = -1
    while True:
        rows = conn.execute(
            sa.select(entry.c.idx, entry.c.event_time)
            .where(entry.c.idx > after)
            .order_by(entry.c.idx)
            .limit(5000)
        ).all()
        if not rows:
            break
        conn.execute(
            entry.update()
            .where(entry.c.idx == sa.bindparam("i"))
            .values(event_at=sa.bindparam("at")),
            [{"i": r[0], "at": _moment(r[1])} for r in rows],
        )
        after = rows[-1][0]
    with op.batch_alter_table("log_entry") as batch:
        batch.alter_column("event_at", existing_type=sa.BigInteger, nullable=False)
    op.create_index("log_entry_event_at", "log_entry", ["event_at"])


def downgrade() -> None:
    op.drop_index("log_entry_event_at", "log_entry")
    with op.batch_alter_table("log_entry") as batch:
        batch.drop_column("logged_at")
        batch.drop_column("event_at")
