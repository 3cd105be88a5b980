"""informal-contact nudges: settings, opt-outs, rounds, groups, answers

Revision ID: 0006_nudges
Revises: 0005_instruments
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_nudges"
down_revision = "0005_instruments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nudge_settings",
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("same_building", sa.Boolean(), nullable=False),
        sa.Column("max_minutes", sa.Integer(), nullable=False),
        sa.Column("mix_levels", sa.Boolean(), nullable=False),
        sa.Column("names_in_channel", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("partnership_id"),
    )
    op.create_table(
        "nudge_opt_out",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "nudge_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("mixed_levels", sa.Boolean(), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "number"),
    )
    op.create_index("ix_nudge_round_partnership_id", "nudge_round", ["partnership_id"])
    op.create_table(
        "nudge_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.String(length=50), nullable=False),
        sa.Column("cross_school", sa.Boolean(), nullable=False),
        sa.Column("repeat_pairs", sa.Integer(), nullable=False),
        sa.Column("followup_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["nudge_round.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_nudge_group_round_id", "nudge_group", ["round_id"])
    op.create_table(
        "nudge_group_member",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["nudge_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "member_id"),
    )
    op.create_index("ix_nudge_group_member_member_id", "nudge_group_member", ["member_id"])
    op.create_table(
        "nudge_answer",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=10), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminder_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["nudge_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "member_id"),
    )


def downgrade() -> None:
    op.drop_table("nudge_answer")
    op.drop_index("ix_nudge_group_member_member_id", table_name="nudge_group_member")
    op.drop_table("nudge_group_member")
    op.drop_index("ix_nudge_group_round_id", table_name="nudge_group")
    op.drop_table("nudge_group")
    op.drop_index("ix_nudge_round_partnership_id", table_name="nudge_round")
    op.drop_table("nudge_round")
    op.drop_table("nudge_opt_out")
    op.drop_table("nudge_settings")
