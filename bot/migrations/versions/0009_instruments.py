"""instruments: the aggregate shown in the channel, the talk-plate's thread

Revision ID: 0009_instruments
Revises: 0008_slack_rotation
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_instruments"
down_revision = "0008_slack_rotation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reflection_session", sa.Column("shown", sa.JSON(), nullable=True))
    op.add_column("pitfall_poll", sa.Column("shown", sa.JSON(), nullable=True))
    op.add_column("talk_plate", sa.Column("thread_ref", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("talk_plate") as batch:
        batch.drop_column("thread_ref")
    with op.batch_alter_table("pitfall_poll") as batch:
        batch.drop_column("shown")
    with op.batch_alter_table("reflection_session") as batch:
        batch.drop_column("shown")
