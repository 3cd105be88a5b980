"""shared rate limits: the token buckets of every sending process in one table

On PostgreSQL the table is UNLOGGED: a bucket is moved on for every message sent, and
none of it needs to survive a database crash (an emptied table is a set of full buckets),
so its writes skip the write-ahead log and its commits wait for no disk.

Revision ID: 0014_shared_limits
Revises: 0013_outbox_parts
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_shared_limits"
down_revision = "0013_outbox_parts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "rate_bucket",
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.Column("held_until", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "scope", "target"),
        prefixes=unlogged,
    )
    op.create_index("ix_rate_bucket_blocked_until", "rate_bucket", ["blocked_until"])


def downgrade() -> None:
    op.drop_index("ix_rate_bucket_blocked_until", table_name="rate_bucket")
    op.drop_table("rate_bucket")
