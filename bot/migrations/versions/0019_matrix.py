"""matrix: the impact matrix holds several goals, each with its own rows per step

The one-line-per-step plan (`plan_step`) becomes the first goal of its partnership: the
text of its "goals" step is the goal's title, every other step is a row of that goal.

Revision ID: 0019_matrix
Revises: 0018_indexes
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0019_matrix"
down_revision = "0018_indexes"
branch_labels = None
depends_on = None

GOAL_STEP = "goals"


def _partnership() -> list[Any]:
    return [sa.Column("partnership_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"], ondelete="CASCADE")]


def _edited() -> list[Any]:
    return [sa.Column("updated_by", sa.Integer(), nullable=True),
            sa.ForeignKeyConstraint(["updated_by"], ["member.id"], ondelete="SET NULL"),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False)]


def _plan_step() -> None:
    op.create_table(
        "plan_step",
        sa.Column("id", sa.Integer(), nullable=False),
        *_partnership(),
        sa.Column("step_id", sa.String(length=30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        *_edited(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "step_id"),
    )
    op.create_index("ix_plan_step_partnership_id", "plan_step", ["partnership_id"])


def upgrade() -> None:
    op.create_table(
        "matrix_goal",
        sa.Column("id", sa.Integer(), nullable=False),
        *_partnership(),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_edited(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_matrix_goal_partnership_id", "matrix_goal", ["partnership_id"])
    op.create_table(
        "matrix_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        *_partnership(),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["goal_id"], ["matrix_goal.id"], ondelete="CASCADE"),
        sa.Column("step_id", sa.String(length=30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        *_edited(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_matrix_entry_partnership_id", "matrix_entry", ["partnership_id"])
    op.create_index("ix_matrix_entry_goal_id", "matrix_entry", ["goal_id"])
    _keep_old_plans()
    op.drop_index("ix_plan_step_partnership_id", table_name="plan_step")
    op.drop_table("plan_step")


def _keep_old_plans() -> None:
    """Each partnership's old plan becomes its first goal, in the steps' order."""
    bind = op.get_bind()
    metadata = sa.MetaData()
    plan = sa.Table("plan_step", metadata, autoload_with=bind)
    goal = sa.Table("matrix_goal", metadata, autoload_with=bind)
    entry = sa.Table("matrix_entry", metadata, autoload_with=bind)
    rows = bind.execute(sa.select(plan).order_by(plan.c.partnership_id, plan.c.id)).mappings()
    by_partnership: dict[int, list[Any]] = {}
    for row in rows:
        by_partnership.setdefault(row["partnership_id"], []).append(row)
    for partnership_id, steps in by_partnership.items():
        named = [s for s in steps if s["step_id"] == GOAL_STEP]
        latest = max(steps, key=lambda s: s["updated_at"])
        made = bind.execute(goal.insert().values(
            partnership_id=partnership_id, title=named[0]["text"] if named else "",
            created_at=min(s["updated_at"] for s in steps),
            updated_by=(named[0] if named else latest)["updated_by"],
            updated_at=(named[0] if named else latest)["updated_at"]))
        goal_id = made.inserted_primary_key[0]  # type: ignore[index]
        for step in steps:
            if step["step_id"] != GOAL_STEP:
                bind.execute(entry.insert().values(
                    partnership_id=partnership_id, goal_id=goal_id, step_id=step["step_id"],
                    text=step["text"], updated_by=step["updated_by"],
                    updated_at=step["updated_at"]))


def downgrade() -> None:
    """Back to one line per step: the first goal's title and rows (joined with "; ")."""
    _plan_step()
    bind = op.get_bind()
    metadata = sa.MetaData()
    plan = sa.Table("plan_step", metadata, autoload_with=bind)
    goal = sa.Table("matrix_goal", metadata, autoload_with=bind)
    entry = sa.Table("matrix_entry", metadata, autoload_with=bind)
    seen: set[int] = set()
    for first in bind.execute(sa.select(goal).order_by(goal.c.id)).mappings():
        if first["partnership_id"] in seen:
            continue
        seen.add(first["partnership_id"])
        steps: dict[str, list[Any]] = {}
        if first["title"]:
            steps[GOAL_STEP] = [first]
        for row in bind.execute(sa.select(entry).where(entry.c.goal_id == first["id"])
                                .order_by(entry.c.id)).mappings():
            steps.setdefault(row["step_id"], []).append(row)
        for step_id, rows in steps.items():
            bind.execute(plan.insert().values(
                partnership_id=first["partnership_id"], step_id=step_id,
                text="; ".join(r["title"] if step_id == GOAL_STEP else r["text"]
                               for r in rows),
                updated_by=rows[-1]["updated_by"], updated_at=rows[-1]["updated_at"]))
    op.drop_table("matrix_entry")
    op.drop_table("matrix_goal")
