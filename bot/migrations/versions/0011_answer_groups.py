"""answer groups: the school type and level of the member when they answered

The summary groups an answer by who gave it at the time, so a member who later moves to
another school or level does not take their earlier answers along. Answers given before
this revision get the member's school type and level as they are now: for old rows that is
the best that can be known, since nothing recorded who they were when they answered.

Revision ID: 0011_answer_groups
Revises: 0010_schedule_chat
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_answer_groups"
down_revision = "0010_schedule_chat"
branch_labels = None
depends_on = None

answer = sa.table("answer", sa.column("member_id", sa.Integer()),
                  sa.column("side", sa.String()), sa.column("level", sa.String()))
member = sa.table("member", sa.column("id", sa.Integer()), sa.column("school_id", sa.Integer()),
                  sa.column("level", sa.String()))
school = sa.table("school", sa.column("id", sa.Integer()), sa.column("type", sa.String()))


def upgrade() -> None:
    op.add_column("answer", sa.Column("side", sa.String(length=10), nullable=True))
    op.add_column("answer", sa.Column("level", sa.String(length=20), nullable=True))
    op.execute(answer.update().values(
        side=sa.select(school.c.type).select_from(member.join(school,
                                                              school.c.id == member.c.school_id))
        .where(member.c.id == answer.c.member_id).scalar_subquery(),
        level=sa.select(member.c.level).where(member.c.id == answer.c.member_id)
        .scalar_subquery(),
    ))


def downgrade() -> None:
    with op.batch_alter_table("answer") as batch:
        batch.drop_column("level")
        batch.drop_column("side")
