"""one-time bind codes and long Telegram button values

Revision ID: 0004_telegram
Revises: 0003_slack
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_telegram"
down_revision = "0003_slack"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bind_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_platform", sa.String(length=20), nullable=True),
        sa.Column("used_chat", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("bind_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bind_code_partnership_id"), ["partnership_id"], unique=False
        )
    op.create_table(
        "telegram_callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )


def downgrade() -> None:
    op.drop_table("telegram_callback")
    with op.batch_alter_table("bind_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bind_code_partnership_id"))
    op.drop_table("bind_code")
