"""What a platform may show a member about themselves, and whether we can reach them.

Adapters render a member's own settings (a Slack Home tab, for instance) and need their
language for their own button labels; these read-only queries give them a neutral picture
without letting SQL leak into an adapter. Times are in the partnership's own time zone,
ready to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store import repo
from bot.store.models import Member, Partnership, School
from bot.store.schedule import scheduled_checkin


@dataclass(frozen=True)
class RoundProgress:
    """The open check-in round of the member's partnership and how far they got.

    `closes_at` is in the partnership's own time zone, ready to show.
    """

    number: int
    closes_at: datetime
    answered: int
    total: int


@dataclass(frozen=True)
class MemberProfile:
    """`paused_until` is the first day of messages again, set only while a pause lasts;
    `next_checkin` is when the partnership's next scheduled round starts (None: none planned).
    """

    partnership: str
    school: str | None
    level: str | None
    language: str
    paused_until: date | None
    onboarded: bool
    open_round: RoundProgress | None
    next_checkin: datetime | None


async def member_profile(
    sessions: async_sessionmaker[AsyncSession], platform: str, user: str, now: datetime
) -> MemberProfile | None:
    """The member behind a platform identity (their first partnership), or None if unknown."""
    async with sessions() as session:
        member = await _first_identity(session, platform, user)
        if member is None:
            return None
        partnership = await session.get(Partnership, member.partnership_id)
        school = await session.get(School, member.school_id) if member.school_id else None
        zone = ZoneInfo(partnership.timezone if partnership else "Europe/Amsterdam")
        round_ = await repo.open_round_at(session, member.partnership_id, now)
        progress = None
        if round_ is not None:
            answered = await repo.answers(session, round_.id, member.id)
            progress = RoundProgress(round_.number, round_.closes_at.astimezone(zone),
                                     len(answered), len(round_.statement_ids))
        schedule = await scheduled_checkin(session, member.partnership_id)
        next_run = schedule.next_run_at if schedule is not None else None
        pause = member.paused_until
        if pause is not None and pause <= now.astimezone(zone).date():
            pause = None  # over: the member gets messages again
        return MemberProfile(
            partnership=partnership.name if partnership else "",
            school=school.name if school else None,
            level=member.level,
            language=member.language,
            paused_until=pause,
            onboarded=member.onboarded_at is not None,
            open_round=progress,
            next_checkin=next_run.astimezone(zone) if next_run is not None else None,
        )


async def language_of(
    sessions: async_sessionmaker[AsyncSession], platform: str, user: str
) -> str | None:
    """The language a known identity chose; None for someone we have not met."""
    async with sessions() as session:
        member = await _first_identity(session, platform, user)
        return member.language if member is not None else None


async def set_reachable(
    sessions: async_sessionmaker[AsyncSession], platform: str, user: str, reachable: bool,
    now: datetime,
) -> int:
    """`repo.set_reachable` in a transaction of its own; how many memberships changed."""
    async with sessions() as session, session.begin():
        return await repo.set_reachable(session, platform, user, reachable, now)


async def _first_identity(session: AsyncSession, platform: str, user: str) -> Member | None:
    return await session.scalar(
        select(Member)
        .where(Member.platform == platform, Member.user_ref == user)
        .order_by(Member.id)
        .limit(1)
    )
