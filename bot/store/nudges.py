"""The tables of informal-contact nudges: settings, opt-outs, rounds, groups, answers.

A round is stored with its groups when it is planned, together with what the pairing knew
at that moment (cross-school or not, how many of the group's pairs had met before), so the
monthly numbers do not change when someone later moves school.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base


class NudgeSettings(Base):
    """How a partnership wants its nudges; no row means the defaults."""

    __tablename__ = "nudge_settings"

    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    # The schools share a building: ideas for the same building instead of a short trip.
    same_building: Mapped[bool] = mapped_column(default=False)
    # The longest idea to suggest, in minutes.
    max_minutes: Mapped[int] = mapped_column(Integer, default=60)
    # Now and then (every third round) pair different levels instead of counterparts.
    mix_levels: Mapped[bool] = mapped_column(default=False)
    # The channel message lists who is paired with whom.
    names_in_channel: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]


class NudgeOptOut(Base):
    """A member who said `koffie uit`: no nudges, check-ins go on."""

    __tablename__ = "nudge_opt_out"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    opted_out_at: Mapped[datetime]


class NudgeRound(Base):
    __tablename__ = "nudge_round"
    __table_args__ = (UniqueConstraint("partnership_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnership.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    mixed_levels: Mapped[bool] = mapped_column(default=False)
    planned_at: Mapped[datetime]


class NudgeGroup(Base):
    """Two (or three) people asked to meet, and the idea they got."""

    __tablename__ = "nudge_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("nudge_round.id", ondelete="CASCADE"), index=True
    )
    idea_id: Mapped[str] = mapped_column(String(50))
    cross_school: Mapped[bool]
    # How many of the group's pairs had been paired in an earlier round.
    repeat_pairs: Mapped[int] = mapped_column(Integer, default=0)
    followup_sent_at: Mapped[datetime | None]


class NudgeGroupMember(Base):
    __tablename__ = "nudge_group_member"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("nudge_group.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class NudgeAnswer(Base):
    """A member's answer to "did you meet?"; answering again replaces it."""

    __tablename__ = "nudge_answer"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("nudge_group.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    answer: Mapped[str] = mapped_column(String(10))  # met / planned / not_yet
    answered_at: Mapped[datetime]
    # The one extra reminder after "planned" went out.
    reminder_sent_at: Mapped[datetime | None]
