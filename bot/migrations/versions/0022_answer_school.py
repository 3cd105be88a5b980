"""answer school: the school of the member when they answered

The summary now also groups answers per school of the partnership (cells checked together
with the school types and levels, `bot/summary/privacy.py`), so an answer keeps the school
its member was at, as it keeps the school type and level (0011). Answers given before this
revision get the member's school as it is now, but only where that school still has the
type the answer was given under: for old rows that is the best that can be known, and an
answer of someone who changed school type since stays without a school (it still counts
in its school type and level).

The answer index gets the column, so a month's grouped queries still read the index alone.

Revision ID: 0022_answer_school
Revises: 0021_reflection_school
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_answer_school"
down_revision = "0021_reflection_school"
branch_labels = None
depends_on = None

answer = sa.table("answer", sa.column("member_id", sa.Integer()),
                  sa.column("side", sa.String()), sa.column("school_id", sa.Integer()))
member = sa.table("member", sa.column("id", sa.Integer()), sa.column("school_id", sa.Integer()))
school = sa.table("school", sa.column("id", sa.Integer()), sa.column("type", sa.String()))

_OLD = ["round_id", "statement_id", "member_id", "side", "level", "status", "score",
        "answered_at", "id"]
_NEW = ["round_id", "statement_id", "member_id", "side", "level", "school_id", "status",
        "score", "answered_at", "id"]


def upgrade() -> None:
    op.add_column("answer", sa.Column("school_id", sa.Integer(), nullable=True))
    op.execute(answer.update().values(
        school_id=sa.select(school.c.id).select_from(
            member.join(school, school.c.id == member.c.school_id))
        .where(member.c.id == answer.c.member_id, school.c.type == answer.c.side)
        .scalar_subquery()))
    op.drop_index("ix_answer_round_statement", table_name="answer")
    op.create_index("ix_answer_round_statement", "answer", _NEW)


def downgrade() -> None:
    op.drop_index("ix_answer_round_statement", table_name="answer")
    op.create_index("ix_answer_round_statement", "answer", _OLD)
    with op.batch_alter_table("answer") as batch:
        batch.drop_column("school_id")
