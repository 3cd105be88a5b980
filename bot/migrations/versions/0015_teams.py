"""teams: conversation references, to reach Teams chats and people later

Revision ID: 0015_teams
Revises: 0014_shared_limits
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_teams"
down_revision = "0014_shared_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_reference",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("service_url", sa.String(300), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=True),
        sa.Column("conversation_id", sa.String(300), nullable=True),
        sa.Column("member_id", sa.String(200), nullable=True),
        sa.Column("bot_id", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("teams_reference")
