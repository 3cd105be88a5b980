"""The queries of the nudge package, each taking the caller's session (transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import BigInteger, ColumnElement, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.nudges.pairing import Pair
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


class Someone(Protocol):
    """What a nudge message needs to know of a person: a `Member` or a `Person`."""

    @property
    def id(self) -> int: ...
    @property
    def platform(self) -> str: ...
    @property
    def user_ref(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def school_id(self) -> int | None: ...
    @property
    def language(self) -> str: ...
    @property
    def paused_until(self) -> date | None: ...


@dataclass(frozen=True, slots=True)
class Person:
    """A member as a round reads them: plain columns, not an ORM entity (a round of 10,000
    members loads them in a fraction of the time, and nothing is tracked for a flush)."""

    id: int
    platform: str
    user_ref: str
    display_name: str
    school_id: int | None
    level: str | None
    language: str
    paused_until: date | None
    # The platform said this person cannot be reached privately.
    unreachable: bool


async def onboarded_members(session: AsyncSession, partnership_id: int) -> list[Person]:
    """Members who told us their school: the people a round could pair."""
    connection = await session.connection()
    rows = await connection.execute(
        select(Member.id, Member.platform, Member.user_ref, Member.display_name,
               Member.school_id, Member.level, Member.language, Member.paused_until,
               Member.unreachable_at.is_not(None))
        .where(Member.partnership_id == partnership_id, Member.onboarded_at.is_not(None),
               Member.school_id.is_not(None))
        .order_by(Member.id)
    )
    return [Person(*row[:8], unreachable=bool(row[8])) for row in rows]


def is_paused(member: Someone, today: date) -> bool:
    return member.paused_until is not None and member.paused_until > today


async def channels(session: AsyncSession, partnership_id: int) -> list[ChannelBinding]:
    rows = await session.scalars(
        select(ChannelBinding)
        .where(ChannelBinding.partnership_id == partnership_id)
        .order_by(ChannelBinding.id)
    )
    return list(rows)


async def pair_history(session: AsyncSession, partnership_id: int) -> dict[Pair, int]:
    """Every pair that shared a group in an earlier round of the partnership, with when it
    last did: the database pairs up each group's members, and the latest meeting is kept
    here (a pair rarely meets twice, so grouping in the database costs more than it saves).

    "When" is a number that grows with the round number, then the group id: it orders the
    pairs exactly as `pairing.last_seen` of the groups oldest first does, which is all the
    pairing reads of it."""
    one, other = aliased(NudgeGroupMember), aliased(NudgeGroupMember)
    when = cast(NudgeRound.number, BigInteger) * _ROUND_WEIGHT + NudgeGroup.id
    connection = await session.connection()
    rows = await connection.execute(
        select(one.member_id, other.member_id, when)
        .select_from(NudgeRound)
        .join(NudgeGroup, NudgeGroup.round_id == NudgeRound.id)
        .join(one, one.group_id == NudgeGroup.id)
        .join(other, (other.group_id == NudgeGroup.id) & (one.member_id < other.member_id))
        .where(NudgeRound.partnership_id == partnership_id)
    )
    seen: dict[Pair, int] = {}
    earlier = seen.get
    for a, b, last in rows:
        if last > earlier((a, b), -1):
            seen[(a, b)] = last
    return seen


# Above any group id (a 32-bit column), so the round number weighs first.
_ROUND_WEIGHT = 2**31


async def recent_ideas(session: AsyncSession, partnership_id: int,
                       members: Iterable[int]) -> dict[int, list[str]]:
    """Per member of `members` (and maybe others), the ideas of their last `RECENT_IDEAS`
    groups, newest first.

    Someone is in one group a round at most, so the last `RECENT_IDEAS` rounds hold all of
    them for whoever was paired in each; only people with fewer there (paused, opted out a
    while, new) are looked up further back, by person (`_earlier_ideas`)."""
    latest = await session.scalar(select(func.max(NudgeRound.number)).where(
        NudgeRound.partnership_id == partnership_id))
    if latest is None:
        return {}
    cutoff = latest - RECENT_IDEAS
    recent = await _ideas_newest_first(session, partnership_id, NudgeRound.number > cutoff)
    short = [member for member in members if len(recent.get(member, ())) < RECENT_IDEAS]
    if cutoff > 0 and short:
        earlier = await _earlier_ideas(session, partnership_id, cutoff, short)
        for member, ideas in earlier.items():
            found = recent.setdefault(member, [])
            found += ideas[:RECENT_IDEAS - len(found)]
    return recent


async def _ideas_newest_first(session: AsyncSession, partnership_id: int,
                              which: ColumnElement[bool]) -> dict[int, list[str]]:
    connection = await session.connection()
    rows = await connection.execute(
        select(NudgeGroupMember.member_id, NudgeGroup.idea_id)
        .select_from(NudgeRound)
        .join(NudgeGroup, NudgeGroup.round_id == NudgeRound.id)
        .join(NudgeGroupMember, NudgeGroupMember.group_id == NudgeGroup.id)
        .where(NudgeRound.partnership_id == partnership_id, which)
        # Newest first for everyone at once: each person's list fills in that order, and
        # SQLite reads it straight from its indexes (by person first, it sorted 95,000 rows).
        .order_by(NudgeRound.number.desc(), NudgeGroup.id.desc())
    )
    found: dict[int, list[str]] = {}
    for member_id, idea_id in rows:
        found.setdefault(member_id, []).append(idea_id)
    return found


# Members looked up per query further back (well below every backend's parameter limit).
_CHUNK = 500


async def _earlier_ideas(session: AsyncSession, partnership_id: int, cutoff: int,
                         members: list[int]) -> dict[int, list[str]]:
    """The ideas of `members` in rounds up to `cutoff`, newest first.

    Read from each person's group rows (their index) and matched to the partnership's rounds
    here: joined in the database, SQLite starts from the rounds and tries every person on
    every group (seconds with a few hundred people who paused a while)."""
    connection = await session.connection()
    rounds = dict((await connection.execute(
        select(NudgeRound.id, NudgeRound.number).where(
            NudgeRound.partnership_id == partnership_id, NudgeRound.number <= cutoff))).all())
    rows: list[tuple[int, int, int, str]] = []
    for start in range(0, len(members), _CHUNK):
        found = await connection.execute(
            select(NudgeGroupMember.member_id, NudgeGroup.round_id, NudgeGroup.id,
                   NudgeGroup.idea_id)
            .join(NudgeGroup, NudgeGroup.id == NudgeGroupMember.group_id)
            .where(NudgeGroupMember.member_id.in_(members[start:start + _CHUNK])))
        rows += [(member, rounds[round_id], group, idea) for member, round_id, group, idea
                 in found if round_id in rounds]
    rows.sort(key=lambda row: (row[0], -row[1], -row[2]))
    ideas: dict[int, list[str]] = {}
    for member, _number, _group, idea in rows:
        ideas.setdefault(member, []).append(idea)
    return ideas


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
