"""the instruments: reflection sessions, pitfall polls, figure-eight checks, plan, talk-plate

Revision ID: 0005_instruments
Revises: 0004_telegram
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision = "0005_instruments"
down_revision = "0004_telegram"
branch_labels = None
depends_on = None


def _id() -> "sa.Column[Any]":
    return sa.Column("id", sa.Integer(), nullable=False)


def _when(name: str, nullable: bool = False) -> "sa.Column[Any]":
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _partnership() -> list[SchemaItem]:
    return [
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"], ondelete="CASCADE"),
    ]


def _by_member(name: str) -> list[SchemaItem]:
    """A member who started or edited something; the work stays when they are erased."""
    return [
        sa.Column(name, sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint([name], ["member.id"], ondelete="SET NULL"),
    ]


def _member() -> list[SchemaItem]:
    """A member whose own answer the row is; erased with them."""
    return [
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
    ]


def _parent(column: str, table: str) -> list[SchemaItem]:
    return [
        sa.Column(column, sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint([column], [f"{table}.id"], ondelete="CASCADE"),
    ]


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "reflection_session",
        _id(),
        *_partnership(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("statement_ids", sa.JSON(), nullable=False),
        *_by_member("opened_by"),
        _when("opened_at"),
        sa.Column("chat_ref", sa.String(length=100), nullable=False),
        _when("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "number"),
    )
    _index("reflection_session", "partnership_id")
    op.create_table(
        "reflection_answer",
        _id(),
        *_parent("session_id", "reflection_session"),
        *_member(),
        sa.Column("condition", sa.String(length=20), nullable=False),
        sa.Column("statement_id", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        _when("answered_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "member_id", "condition"),
    )
    _index("reflection_answer", "session_id", "member_id")
    op.create_table(
        "pitfall_poll",
        _id(),
        *_partnership(),
        *_by_member("started_by"),
        _when("started_at"),
        sa.Column("chat_ref", sa.String(length=100), nullable=False),
        _when("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("pitfall_poll", "partnership_id")
    op.create_table(
        "pitfall_vote",
        _id(),
        *_parent("poll_id", "pitfall_poll"),
        *_member(),
        sa.Column("pitfall_id", sa.String(length=50), nullable=False),
        _when("voted_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "member_id"),
    )
    _index("pitfall_vote", "poll_id", "member_id")
    op.create_table(
        "figure_eight_check",
        _id(),
        *_partnership(),
        *_parent("school_a_id", "school"),
        *_parent("school_b_id", "school"),
        *_by_member("started_by"),
        _when("started_at"),
        sa.Column("next_step", sa.Integer(), nullable=False),
        _when("completed_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("figure_eight_check", "partnership_id")
    op.create_table(
        "figure_eight_level",
        _id(),
        *_parent("check_id", "figure_eight_check"),
        *_parent("school_id", "school"),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("inside", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("check_id", "school_id", "level"),
    )
    _index("figure_eight_level", "check_id")
    op.create_table(
        "figure_eight_link",
        _id(),
        *_parent("check_id", "figure_eight_check"),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("check_id", "level"),
    )
    _index("figure_eight_link", "check_id")
    op.create_table(
        "plan_step",
        _id(),
        *_partnership(),
        sa.Column("step_id", sa.String(length=30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        *_by_member("updated_by"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "step_id"),
    )
    _index("plan_step", "partnership_id")
    op.create_table(
        "talk_plate",
        _id(),
        *_partnership(),
        *_by_member("started_by"),
        _when("started_at"),
        sa.Column("chat_ref", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _when("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("talk_plate", "partnership_id")
    op.create_table(
        "talk_plate_outcome",
        _id(),
        *_parent("talk_plate_id", "talk_plate"),
        sa.Column("topic_id", sa.String(length=30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        *_by_member("recorded_by"),
        _when("recorded_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("talk_plate_outcome", "talk_plate_id")


def downgrade() -> None:
    for table in ("talk_plate_outcome", "talk_plate", "plan_step", "figure_eight_link",
                  "figure_eight_level", "figure_eight_check", "pitfall_vote", "pitfall_poll",
                  "reflection_answer", "reflection_session"):
        op.drop_table(table)
