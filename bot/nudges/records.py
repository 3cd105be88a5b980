"""The queries of the nudge package, each taking the caller's session (transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import ChannelBinding, Member
from bot.store.nudges import (
    NudgeAnswer,
    NudgeGroup,
    NudgeGroupMember,
    NudgeOptOut,
    NudgeRound,
    NudgeSettings,
)
from bot.store.repo import insert_for

# How many earlier ideas per member count as "recent" when choosing a new one.
RECENT_IDEAS = 10


def default_settings(partnership_id: int, now: datetime) -> NudgeSettings:
    """The settings of a partnership that never changed them (not added to the session)."""
    return NudgeSettings(partnership_id=partnership_id, enabled=True, same_building=False,
                         max_minutes=60, mix_levels=False, names_in_channel=False,
                         updated_at=now)


async def settings_for(session: AsyncSession, partnership_id: int, now: datetime) -> NudgeSettings:
    found = await session.get(NudgeSettings, partnership_id)
    return found if found is not None else default_settings(partnership_id, now)


async def opted_out(session: AsyncSession, member_ids: Iterable[int]) -> set[int]:
    ids = list(member_ids)
    if not ids:
        return set()
    rows = await session.scalars(
        select(NudgeOptOut.member_id).where(NudgeOptOut.member_id.in_(ids))
    )
    return set(rows)


async def onboarded_members(session: AsyncSession, partnership_id: int) -> list[Member]:
    """Members who told us their school: the people a round could pair."""
    rows = await session.scalars(
        select(Member)
        .where(Member.partnership_id == partnership_id, Member.onboarded_at.is_not(None),
               Member.school_id.is_not(None))
        .order_by(Member.id)
    )
    return list(rows)


def is_paused(member: Member, today: date) -> bool:
    return member.paused_until is not None and member.paused_until > today


async def channels(session: AsyncSession, partnership_id: int) -> list[ChannelBinding]:
    rows = await session.scalars(
        select(ChannelBinding)
        .where(ChannelBinding.partnership_id == partnership_id)
        .order_by(ChannelBinding.id)
    )
    return list(rows)


@dataclass(frozen=True)
class PastGroup:
    round_number: int
    planned_at: datetime
    group_id: int
    idea_id: str
    members: tuple[int, ...]


async def past_groups(session: AsyncSession, partnership_id: int) -> list[PastGroup]:
    """Every earlier group of the partnership, oldest first."""
    rows = await session.execute(
        select(NudgeRound.number, NudgeRound.planned_at, NudgeGroup.id, NudgeGroup.idea_id,
               NudgeGroupMember.member_id)
        .join(NudgeGroup, NudgeGroup.round_id == NudgeRound.id)
        .join(NudgeGroupMember, NudgeGroupMember.group_id == NudgeGroup.id)
        .where(NudgeRound.partnership_id == partnership_id)
        .order_by(NudgeRound.number, NudgeGroup.id, NudgeGroupMember.member_id)
    )
    groups: dict[int, tuple[int, datetime, str, list[int]]] = {}
    for number, planned_at, group_id, idea_id, member_id in rows:
        groups.setdefault(group_id, (number, planned_at, idea_id, []))[3].append(member_id)
    return [PastGroup(number, planned_at, group_id, idea_id, tuple(members))
            for group_id, (number, planned_at, idea_id, members) in groups.items()]


def recent_ideas(history: list[PastGroup]) -> dict[int, list[str]]:
    """Per member, the ideas of their last groups, newest first."""
    recent: dict[int, list[str]] = {}
    for group in reversed(history):
        for member_id in group.members:
            ideas = recent.setdefault(member_id, [])
            if len(ideas) < RECENT_IDEAS:
                ideas.append(group.idea_id)
    return recent


async def latest_round(session: AsyncSession, partnership_id: int) -> NudgeRound | None:
    return await session.scalar(
        select(NudgeRound)
        .where(NudgeRound.partnership_id == partnership_id)
        .order_by(NudgeRound.number.desc())
        .limit(1)
    )


async def latest_group(session: AsyncSession, member_id: int) -> NudgeGroup | None:
    """The member's group in the latest round they were paired in."""
    return await session.scalar(
        select(NudgeGroup)
        .join(NudgeRound, NudgeRound.id == NudgeGroup.round_id)
        .join(NudgeGroupMember, NudgeGroupMember.group_id == NudgeGroup.id)
        .where(NudgeGroupMember.member_id == member_id)
        .order_by(NudgeRound.planned_at.desc(), NudgeRound.id.desc())
        .limit(1)
    )


async def group_members(session: AsyncSession, group_ids: Iterable[int]) -> dict[int, list[Member]]:
    """The members of each group, by group id."""
    ids = list(group_ids)
    found: dict[int, list[Member]] = {group_id: [] for group_id in ids}
    if not ids:
        return found
    rows = await session.execute(
        select(NudgeGroupMember.group_id, Member)
        .join(Member, Member.id == NudgeGroupMember.member_id)
        .where(NudgeGroupMember.group_id.in_(ids))
        .order_by(NudgeGroupMember.group_id, Member.id)
    )
    for group_id, member in rows:
        found[group_id].append(member)
    return found


async def save_answer(session: AsyncSession, group_id: int, member_id: int, answer: str,
                      now: datetime) -> None:
    """Store or replace a member's answer; a double click stays one row."""
    statement = (
        insert_for(session, NudgeAnswer)
        .values(group_id=group_id, member_id=member_id, answer=answer, answered_at=now,
                reminder_sent_at=None)
        .on_conflict_do_update(index_elements=["group_id", "member_id"],
                               set_={"answer": answer, "answered_at": now})
    )
    await session.execute(statement)


async def change_settings(session: AsyncSession, partnership_id: int, now: datetime,
                          **changes: bool | int | None) -> NudgeSettings:
    """Apply the given changes (None leaves a setting as it is); returns the settings."""
    settings = await session.get(NudgeSettings, partnership_id)
    if settings is None:
        settings = default_settings(partnership_id, now)
        session.add(settings)
    for name, value in changes.items():
        if name not in NudgeSettings.__table__.columns or name == "partnership_id":
            raise ValueError(f"no nudge setting {name!r}")
        if value is not None:
            setattr(settings, name, value)
    settings.updated_at = now
    return settings
