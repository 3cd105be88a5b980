"""slack token rotation: the encrypted refresh token and the expiry of the bot token

Revision ID: 0008_slack_rotation
Revises: 0007_privacy
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_slack_rotation"
down_revision = "0007_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("slack_installation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot_refresh_token_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("bot_token_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slack_installation", schema=None) as batch_op:
        batch_op.drop_column("bot_token_expires_at")
        batch_op.drop_column("bot_refresh_token_encrypted")
