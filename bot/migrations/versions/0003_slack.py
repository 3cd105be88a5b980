"""slack installations and oauth state

Revision ID: 0003_slack
Revises: 0002_schedule
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_slack"
down_revision = "0002_schedule"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("team_name", sa.String(length=200), nullable=False),
        sa.Column("bot_id", sa.String(length=32), nullable=False),
        sa.Column("bot_user_id", sa.String(length=32), nullable=False),
        sa.Column("bot_scopes", sa.Text(), nullable=False),
        sa.Column("bot_token_encrypted", sa.Text(), nullable=False),
        sa.Column("installer_user_id", sa.String(length=32), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enterprise_id", "team_id"),
    )
    op.create_table(
        "slack_oauth_state",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state"),
    )


def downgrade() -> None:
    op.drop_table("slack_oauth_state")
    op.drop_table("slack_installation")
