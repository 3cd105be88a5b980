"""The tables of achtje. Schema changes go through Alembic (bot/migrations)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# The largest id an INTEGER column holds (PostgreSQL); ids from outside are checked against it.
MAX_ID = 2**31 - 1


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored; use UTC-aware datetimes")
        # SQLite keeps the wall clock without its zone: a local time must become UTC first,
        # or a comparison with a month's local midnight is off by the zone's offset.
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON
    }


class Partnership(Base):
    __tablename__ = "partnership"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(10), default="midden")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    language: Mapped[str] = mapped_column(String(2), default="nl")
    # The smallest group whose numbers a summary shows (never below 3); an operator sets it
    # with `achtje partnership set`, and each frozen month stores the one it used.
    min_group_size: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    created_at: Mapped[datetime]

    schools: Mapped[list[School]] = relationship(
        back_populates="partnership", order_by="School.id", lazy="selectin"
    )


class School(Base):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(10))  # vmbo / mbo / other

    partnership: Mapped[Partnership] = relationship(back_populates="schools")


class Member(Base):
    """One platform identity in one partnership; a person on Slack and Telegram is two rows."""

    __tablename__ = "member"
    __table_args__ = (
        UniqueConstraint("partnership_id", "platform", "user_ref"),
        # Every incoming event finds its member by platform and user, whatever partnership.
        Index("ix_member_platform_user_ref", "platform", "user_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    user_ref: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="SET NULL"))
    level: Mapped[str | None] = mapped_column(String(20))  # board / management / teachers
    role: Mapped[str] = mapped_column(String(20), default="member")  # member / leader / admin
    language: Mapped[str] = mapped_column(String(2), default="nl")
    paused_until: Mapped[date | None]
    onboarded_at: Mapped[datetime | None]
    # Set when the platform said this person cannot be reached (blocked, left, deactivated).
    unreachable_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # An optional e-mail address (docs/email.md): leaders and board members with one get
    # the monthly summary by mail too, unless they stopped it (`mail uit`, or the link).
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    mail_off_at: Mapped[datetime | None] = mapped_column(default=None)


class ChannelBinding(Base):
    """A platform channel (or chat) that belongs to a partnership."""

    __tablename__ = "channel_binding"
    __table_args__ = (UniqueConstraint("platform", "channel_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    channel_ref: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class CheckInRound(Base):
    """One round of the same few statements for every member of a partnership."""

    __tablename__ = "checkin_round"
    __table_args__ = (UniqueConstraint("partnership_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    statement_ids: Mapped[list[str]]


class Answer(Base):
    """A member's score for one statement in one round; `score` is None for don't know/skip.

    `side` (the school type), `school_id` and `level` are who the member was when they gave
    this answer, so the summary groups it there even after the member changes school or
    level; an answer given again (a changed score) takes them anew with its `answered_at`.
    `school_id` is a recorded fact, not a link: no foreign key (schools are not deleted
    apart from their partnership, which takes the answers with it).
    """

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("round_id", "member_id", "statement_id"),
        # A month's summary reads its rounds' answers to some statements: with everything it
        # groups and orders by in the index, its grouped queries need not visit the table.
        # (It replaces an index on round_id alone: the unique constraint's serves that.)
        Index("ix_answer_round_statement", "round_id", "statement_id", "member_id", "side",
              "level", "school_id", "status", "score", "answered_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("checkin_round.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(10))  # scored / dont_know / skipped
    score: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime]
    side: Mapped[str | None] = mapped_column(String(10))  # vmbo / mbo / other, at answer time
    level: Mapped[str | None] = mapped_column(String(20))  # board / management / teachers
    school_id: Mapped[int | None] = mapped_column(Integer)  # the school, at answer time


class Conversation(Base):
    """Where a member is in a dialogue, so any process can continue it."""

    __tablename__ = "conversation"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str] = mapped_column(String(30))
    step: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Platform event ids already handled, so a redelivered event is not handled twice."""

    __tablename__ = "processed_event"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[datetime]
