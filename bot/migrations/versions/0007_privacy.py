"""retention terms per partnership, and setup wizards in progress

Revision ID: 0007_privacy
Revises: 0006_nudges
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_privacy"
down_revision = "0006_nudges"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_settings",
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("answer_months", sa.Integer(), nullable=False),
        sa.Column("open_text_months", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("partnership_id"),
    )
    op.create_table(
        "setup_draft",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_ref", sa.String(length=100), nullable=False),
        sa.Column("user_ref", sa.String(length=100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_ref", "user_ref"),
    )


def downgrade() -> None:
    op.drop_table("setup_draft")
    op.drop_table("retention_settings")
