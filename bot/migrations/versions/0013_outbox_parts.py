"""outbox rows remember which of their posts went out, when they may be tried again, and
whether the last attempt ended in doubt

A send of several posts (a Slack check-in: intro, then the first statement) records each
post that went out in `parts` (part number -> the platform's reference), so a part that
certainly did not go out is sent later without repeating the ones that did. `not_before`
holds a row back after a 429 or a short outage without moving `due_at`, and `doubt` says
the last attempt lost the platform's answer: the next one looks first (Slack) before
posting anything.

Revision ID: 0013_outbox_parts
Revises: 0012_frozen_months
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_outbox_parts"
down_revision = "0012_frozen_months"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("parts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("doubt", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("doubt")
        batch_op.drop_column("not_before")
        batch_op.drop_column("parts")
