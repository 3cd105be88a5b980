"""one switch for nudges: the partnership's nudge setting, no longer the nudge schedule

Before, `achtje schedule set --no-nudges` switched the `nudge` schedule row off while
`achtje nudge settings --off` switched `nudge_settings.enabled` off. Now only the setting
says whether nudges go out; the schedule says when. A partnership whose nudge schedule was
off keeps its nudges off, through the setting. Such a schedule has no next send yet; it
gets one when nudges are switched on again (`achtje nudge settings --on`, `achtje schedule
set`, `rooster`: all through `bot.schedule.rules.configure`).

Revision ID: 0010_schedule_chat
Revises: 0009_instruments
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010_schedule_chat"
down_revision = "0009_instruments"
branch_labels = None
depends_on = None

schedule = sa.table(
    "schedule", sa.column("partnership_id", sa.Integer()), sa.column("kind", sa.String()),
    sa.column("enabled", sa.Boolean()),
)
nudge_settings = sa.table(
    "nudge_settings", sa.column("partnership_id", sa.Integer()),
    sa.column("enabled", sa.Boolean()), sa.column("same_building", sa.Boolean()),
    sa.column("max_minutes", sa.Integer()), sa.column("mix_levels", sa.Boolean()),
    sa.column("names_in_channel", sa.Boolean()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    nudges_off = (schedule.c.kind == "nudge", schedule.c.enabled.is_(False))
    op.execute(nudge_settings.update()
               .where(nudge_settings.c.partnership_id.in_(
                   sa.select(schedule.c.partnership_id).where(*nudges_off)))
               .values(enabled=False))
    now = sa.literal(datetime.now(UTC), sa.DateTime(timezone=True))
    op.execute(nudge_settings.insert().from_select(
        ["partnership_id", "enabled", "same_building", "max_minutes", "mix_levels",
         "names_in_channel", "updated_at"],
        sa.select(schedule.c.partnership_id, sa.false(), sa.false(), sa.literal(60),
                  sa.false(), sa.false(), now)
        .where(*nudges_off, schedule.c.partnership_id.not_in(
            sa.select(nudge_settings.c.partnership_id))),
    ))
    op.execute(schedule.update().where(schedule.c.kind == "nudge").values(enabled=True))


def downgrade() -> None:
    switched_off = sa.select(nudge_settings.c.partnership_id).where(
        nudge_settings.c.enabled.is_(False))
    op.execute(schedule.update()
               .where(schedule.c.kind == "nudge", schedule.c.partnership_id.in_(switched_off))
               .values(enabled=False))
