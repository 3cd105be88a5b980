"""Tables of the scheduler: when each partnership hears from achtje, and the outbox.

What is due is always read from these tables (`Schedule.next_run_at`), never from a timer
in memory, so a restarted process or a second one sees the same plan. Every message to
send is first written to `outbox`, in the same transaction that moves the schedule on; a
unique key per (kind, partnership, recipient, local date) keeps it one message however
often planning runs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base

KINDS = ("checkin", "reminder", "nudge", "summary")


class ScheduleSettings(Base):
    """A partnership's sending rules: school hours, holiday policy and the misfire window."""

    __tablename__ = "schedule_settings"

    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), primary_key=True
    )
    day_start: Mapped[str] = mapped_column(String(5), default="08:00")  # local HH:MM
    day_end: Mapped[str] = mapped_column(String(5), default="18:00")
    # What a check-in that falls on a closed day does: "move" to the next school day, "skip".
    holiday_policy: Mapped[str] = mapped_column(String(10), default="move")
    grace_minutes: Mapped[int] = mapped_column(default=360)
    updated_at: Mapped[datetime]


class Schedule(Base):
    """One kind of send (check-in, reminder, nudge, summary) of one partnership.

    `next_run_at` is the UTC instant of the next send, after holidays moved or skipped it;
    `occurrence` is the regular local date it belongs to, from which the one after follows.
    A reminder row names the round it reminds about.
    """

    __tablename__ = "schedule"
    __table_args__ = (UniqueConstraint("partnership_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    weekday: Mapped[int | None]  # 0 = Monday
    local_time: Mapped[str] = mapped_column(String(5))  # HH:MM in the partnership's zone
    cadence_weeks: Mapped[int | None]
    anchor: Mapped[date | None]  # a Monday: the week of the first regular occurrence
    reminder_hours: Mapped[int | None]
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkin_round.id", ondelete="SET NULL")
    )
    occurrence: Mapped[date | None]
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class ClosedDay(Base):
    """A day the partnership's schools are closed besides weekends and school holidays."""

    __tablename__ = "closed_day"
    __table_args__ = (UniqueConstraint("partnership_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"))
    day: Mapped[date]
    note: Mapped[str] = mapped_column(String(100), default="")


class OutboxMessage(Base):
    """One message to deliver: where to, what (neutral replies as JSON), and how it went.

    status: pending -> sending -> sent | failed | uncertain | expired (or back to pending
    for a retry). `claimed_until` is the lease of the process that is sending it.
    `parts` maps each post of the send that went out (by number, as text) to the
    platform's reference; `not_before` holds a row back after a 429 or an outage without
    moving `due_at`; `doubt` says the last attempt lost the platform's answer, so the next
    one first looks whether the post arrived (where the platform lets us).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "partnership_id", "recipient", "local_date"),
        Index("ix_outbox_status_due_at", "status", "due_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(120))  # member:<id> or channel:<binding id>
    local_date: Mapped[date]
    platform: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(100))  # platform user id or chat id
    direct: Mapped[bool] = mapped_column(Boolean)
    payload: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    parts: Mapped[dict[str, str] | None] = mapped_column(JSON)
    not_before: Mapped[datetime | None]
    doubt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


async def scheduled_checkin(session: AsyncSession, partnership_id: int) -> Schedule | None:
    """The partnership's check-in schedule when its check-ins are scheduled, else None."""
    return await session.scalar(
        select(Schedule).where(
            Schedule.partnership_id == partnership_id,
            Schedule.kind == "checkin",
            Schedule.enabled.is_(True),
        )
    )
