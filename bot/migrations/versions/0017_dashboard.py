"""dashboard: one-time links and browser sessions, stored as hashes of their tokens

Revision ID: 0017_dashboard
Revises: 0016_email
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_dashboard"
down_revision = "0016_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("dashboard_link", "dashboard_session"):
        columns: list[sa.schema.SchemaItem] = [
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("member_id", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        ]
        if table == "dashboard_link":
            columns.append(sa.Column("used_at", sa.DateTime(timezone=True), nullable=True))
        op.create_table(
            table, *columns,
            sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("token_hash"),
        )
        op.create_index(f"ix_{table}_member_id", table, ["member_id"])


def downgrade() -> None:
    for table in ("dashboard_session", "dashboard_link"):
        op.drop_index(f"ix_{table}_member_id", table_name=table)
        op.drop_table(table)
