"""indexes: members by platform and user; a month's answers by round and statement

The answer index holds what a month's summary groups and orders by, so its grouped
queries read the index alone; it replaces the index on answer.round_id alone, which the
unique (round_id, member_id, statement_id) index serves as well.

Revision ID: 0018_indexes
Revises: 0017_dashboard
"""

from alembic import op

revision = "0018_indexes"
down_revision = "0017_dashboard"
branch_labels = None
depends_on = None

_ANSWER_COLUMNS = ["round_id", "statement_id", "member_id", "side", "level", "status",
                   "score", "answered_at", "id"]


def upgrade() -> None:
    op.create_index("ix_member_platform_user_ref", "member", ["platform", "user_ref"])
    op.create_index("ix_answer_round_statement", "answer", _ANSWER_COLUMNS)
    op.drop_index("ix_answer_round_id", table_name="answer")


def downgrade() -> None:
    op.create_index("ix_answer_round_id", "answer", ["round_id"])
    op.drop_index("ix_answer_round_statement", table_name="answer")
    op.drop_index("ix_member_platform_user_ref", table_name="member")
