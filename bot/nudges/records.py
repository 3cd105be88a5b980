"""The queries of the nudge package, each taking the caller's session (transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import ChannelBinding, Member, Partnership
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


async def is_opted_out(session: AsyncSession, member_id: int) -> bool:
    return await session.get(NudgeOptOut, member_id) is not None


async def set_opted_out(session: AsyncSession, member_id: int, out: bool,
                        now: datetime) -> None:
    """Opt the member out of nudges (from now) or back in; nothing when already so."""
    row = await session.get(NudgeOptOut, member_id)
    if out:
        if row is None:
            session.add(NudgeOptOut(member_id=member_id, opted_out_at=now))
    elif row is not None:
        await session.delete(row)


async def group_membership(session: AsyncSession, group_id: int,
                           member_id: int) -> NudgeGroupMember | None:
    return await session.get(NudgeGroupMember, (group_id, member_id))


async def answer_of(session: AsyncSession, group_id: int, member_id: int) -> NudgeAnswer | None:
    return await session.get(NudgeAnswer, (group_id, member_id))


def _enabled(partnership_id: int | None) -> list[ColumnElement[bool]]:
    """Conditions: nudges not switched off (no settings row means on), this partnership."""
    conditions: list[ColumnElement[bool]] = [
        or_(NudgeSettings.enabled.is_(None), NudgeSettings.enabled)
    ]
    if partnership_id is not None:
        conditions.append(NudgeRound.partnership_id == partnership_id)
    return conditions


async def groups_to_ask(session: AsyncSession, planned_before: datetime,
                        planned_after: datetime, partnership_id: int | None,
                        ) -> list[tuple[NudgeGroup, Partnership]]:
    """Groups not asked "did you meet?" yet, of rounds planned in the window, with nudges
    on (of one partnership, or all), by group id."""
    rows = (await session.execute(
        select(NudgeGroup, Partnership)
        .join(NudgeRound, NudgeRound.id == NudgeGroup.round_id)
        .join(Partnership, Partnership.id == NudgeRound.partnership_id)
        .outerjoin(NudgeSettings, NudgeSettings.partnership_id == Partnership.id)
        .where(NudgeGroup.followup_sent_at.is_(None),
               NudgeRound.planned_at <= planned_before,
               NudgeRound.planned_at > planned_after, *_enabled(partnership_id))
        .order_by(NudgeGroup.id)
    )).all()
    return [(group, partnership) for group, partnership in rows]


async def planned_to_remind(session: AsyncSession, answered_before: datetime,
                            answered_after: datetime, partnership_id: int | None,
                            ) -> list[tuple[NudgeAnswer, Partnership]]:
    """"Planned" answers not reminded yet, given in the window, with nudges on."""
    rows = (await session.execute(
        select(NudgeAnswer, Partnership)
        .join(NudgeGroup, NudgeGroup.id == NudgeAnswer.group_id)
        .join(NudgeRound, NudgeRound.id == NudgeGroup.round_id)
        .join(Partnership, Partnership.id == NudgeRound.partnership_id)
        .outerjoin(NudgeSettings, NudgeSettings.partnership_id == Partnership.id)
        .where(NudgeAnswer.answer == "planned", NudgeAnswer.reminder_sent_at.is_(None),
               NudgeAnswer.answered_at <= answered_before,
               NudgeAnswer.answered_at > answered_after, *_enabled(partnership_id))
        .order_by(NudgeAnswer.group_id, NudgeAnswer.member_id)
    )).all()
    return [(answer, partnership) for answer, partnership in rows]
