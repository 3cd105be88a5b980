"""eight: the figure-eight from everyone's ratings; reflection notes

A figure-eight round now holds one rating per member and link, for any number of
schools; the round keeps the figures it last showed. The old rounds' two school columns
become optional. A reflection answer can carry a note on what goes well and why.

Revision ID: 0020_eight
Revises: 0019_matrix
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_eight"
down_revision = "0019_matrix"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reflection_answer", sa.Column("note", sa.Text(), nullable=True))
    with op.batch_alter_table("figure_eight_check") as batch:
        batch.alter_column("school_a_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("school_b_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("shown", sa.JSON(), nullable=True))
    op.create_table(
        "figure_eight_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("link", sa.String(length=60), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["figure_eight_check.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("check_id", "member_id", "link"),
    )
    op.create_index("ix_figure_eight_rating_check_id", "figure_eight_rating", ["check_id"])
    op.create_index("ix_figure_eight_rating_member_id", "figure_eight_rating", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_figure_eight_rating_member_id", table_name="figure_eight_rating")
    op.drop_index("ix_figure_eight_rating_check_id", table_name="figure_eight_rating")
    op.drop_table("figure_eight_rating")
    op.execute("DELETE FROM figure_eight_check WHERE school_a_id IS NULL OR school_b_id IS NULL")
    with op.batch_alter_table("figure_eight_check") as batch:
        batch.drop_column("shown")
        batch.alter_column("school_a_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("school_b_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("reflection_answer") as batch:
        batch.drop_column("note")
