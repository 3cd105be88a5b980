"""email: a member's optional e-mail address, and whether they stopped the summary mail

Revision ID: 0016_email
Revises: 0015_teams
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_email"
down_revision = "0015_teams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))
        batch.add_column(sa.Column("mail_off_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.drop_column("mail_off_at")
        batch.drop_column("email")
