"""Helpers for the nudge tests: members straight into the store, and a round as sent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.nudges import PlannedMessage, plan_followups, plan_nudge_round
from bot.nudges.records import change_settings
from bot.store.models import Member, Partnership

VMBO, MBO = 0, 1  # index into the demo partnership's schools


async def add_member(
    sessions: async_sessionmaker[Any], partnership: Partnership, user: str, school: int,
    now: datetime, *, level: str = "teachers", language: str = "nl",
    paused_until: date | None = None, unreachable: bool = False, platform: str = "test",
) -> int:
    """An onboarded member; the display name is the user name, capitalised."""
    async with sessions() as session, session.begin():
        member = Member(partnership_id=partnership.id, platform=platform, user_ref=user,
                        display_name=user.capitalize(),
                        school_id=partnership.schools[school].id, level=level,
                        language=language, paused_until=paused_until, onboarded_at=now,
                        unreachable_at=now if unreachable else None, created_at=now)
        session.add(member)
        await session.flush()
        return member.id


async def plan_round(sessions: async_sessionmaker[Any], content: Content,
                     partnership_id: int, now: datetime) -> list[PlannedMessage]:
    async with sessions() as session, session.begin():
        partnership = await session.get(Partnership, partnership_id)
        assert partnership is not None
        return await plan_nudge_round(session, content, partnership, now)


async def followups(sessions: async_sessionmaker[Any], content: Content,
                    now: datetime) -> list[PlannedMessage]:
    async with sessions() as session, session.begin():
        return await plan_followups(session, content, now)


async def configure(sessions: async_sessionmaker[Any], partnership_id: int, now: datetime,
                    **changes: bool | int) -> None:
    async with sessions() as session, session.begin():
        await change_settings(session, partnership_id, now, **changes)


async def member_id(sessions: async_sessionmaker[Any], user: str) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Member.id).where(Member.user_ref == user))
        assert found is not None
        return int(found)


def chat_for(engine: Engine, user: str) -> MemoryChat:
    return MemoryChat(engine, user=user, chat=f"dm-{user}")


def deliver(chats: dict[str, MemoryChat], messages: list[PlannedMessage]) -> None:
    """What the sender would do: each direct message lands in its person's chat."""
    for message in messages:
        if message.direct:
            chats[message.target].sent.extend(message.replies)
