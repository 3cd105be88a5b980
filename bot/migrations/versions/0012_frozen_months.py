"""frozen months (`summary_month`) and one summary threshold per partnership

A closed month's summary is computed once and stored with the threshold and content
version it used; every later reader takes the stored result. Months that closed before
this revision are frozen on their first use afterwards (the scheduler's next tick, a
`samenvatting`, `achtje summary`, or an erasure, removal, import or retention run), from
the rows that are left then: the code, not this migration, computes them, since it needs
the content folder. `partnership.min_group_size` starts at 3, the fixed minimum before.

Revision ID: 0012_frozen_months
Revises: 0011_answer_groups
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_frozen_months"
down_revision = "0011_answer_groups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_group_size", sa.Integer(), server_default="3",
                                      nullable=False))
    op.create_table(
        "summary_month",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column("content_version", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "month"),
    )
    with op.batch_alter_table("summary_month", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_summary_month_partnership_id"), ["partnership_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("summary_month", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_summary_month_partnership_id"))
    op.drop_table("summary_month")
    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.drop_column("min_group_size")
