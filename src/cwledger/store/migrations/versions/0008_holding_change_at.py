"""The book's holdings changes by moment: the last change up to a moment in one index seek
(the holdings at any moment are the holdings at the last change before it, so the API keeps
one answer for every moment between two changes).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("holding_change_at", "holding_change", ["at"])


def downgrade() -> None:
    op.drop_index("holding_change_at", "holding_change")
