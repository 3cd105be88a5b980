"""reflection_school: a reflection answer keeps the school its member was at

The comparison per school counts an answer at the school of the member when they gave it,
not where the member is now. Answers given before this keep the member's school of now,
the best there is.

Revision ID: 0021_reflection_school
Revises: 0020_eight
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_reflection_school"
down_revision = "0020_eight"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reflection_answer") as batch:
        batch.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_reflection_answer_school_id_school", "school",
                                 ["school_id"], ["id"], ondelete="SET NULL")
    op.execute("UPDATE reflection_answer SET school_id = (SELECT member.school_id FROM member "
               "WHERE member.id = reflection_answer.member_id)")


def downgrade() -> None:
    with op.batch_alter_table("reflection_answer") as batch:
        batch.drop_constraint("fk_reflection_answer_school_id_school", type_="foreignkey")
        batch.drop_column("school_id")
