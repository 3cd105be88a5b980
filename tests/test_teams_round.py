"""A scheduled check-in round to fifty Teams members through the outbox: the planner
writes it, the real sender drains it through the real adapter against the fake Bot
Connector over real HTTP, under Teams' rate limits, with a throttled chat and a person
who removed the app on the way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.platforms import limits
from bot.content import Content
from bot.engine import Engine
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store import teams as teams_store
from bot.store.models import Member, Partnership
from bot.store.schedule import OutboxMessage
from scheduler.planner import plan_due
from scheduler.ratelimit import RateLimiter
from scheduler.sender import Sender
from tests.conftest import Clock
from tests.teams_fakes import BOT, TENANT, Teams, running

PEOPLE = 50
DUE = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # Tuesday 1 December, 15:30 local
THROTTLED, REMOVED = 7, 12  # who gets a 429 first, and who removed the app


def chat_of(n: int) -> str:
    return f"a:personal-29:m{n}"


@pytest.fixture
async def teams(engine: Engine, partnership: Partnership) -> AsyncIterator[Teams]:
    async for started in running(engine):
        yield started


class Time:
    """The sender's clock and sleep: sleeping moves time on at once."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def seconds(self) -> float:
        return self.current.timestamp()

    async def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
        await asyncio.sleep(0)


async def test_a_round_to_fifty_members_goes_out_once_each(
        teams: Teams, sessions: async_sessionmaker[Any], partnership: Partnership,
        content: Content, clock: Clock) -> None:
    async with sessions() as session, session.begin():
        for n in range(PEOPLE):
            ref = f"{TENANT}:aad-{n}"
            session.add(Member(
                partnership_id=partnership.id, platform="teams", user_ref=ref,
                display_name=f"Docent {n}", school_id=partnership.schools[n % 2].id,
                level="teachers", role="member", language="nl", onboarded_at=clock.now,
                created_at=clock.now))
            # Half of them spoke to the bot in its personal chat; the others were only
            # met in a team, so the bot opens their personal chat itself.
            await teams_store.remember(session, ref, teams_store.Reference(
                teams.service_url, TENANT, chat_of(n) if n % 2 else None, f"29:m{n}",
                BOT["id"]), clock.now)
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        await configure(session, load_holidays(), found, Changes(first=date(2026, 12, 1)),
                        clock.now)
    teams.fake.fail[chat_of(THROTTLED)] = [(429, {"Retry-After": "4"}, {})]
    teams.fake.fail[chat_of(REMOVED)] = [
        (403, {}, {"error": {"code": "BotNotInConversationRoster"}})]

    queued = await plan_due(sessions, content, load_holidays(), DUE)
    assert queued >= PEOPLE
    time = Time(DUE)
    sender = Sender(sessions, {"teams": teams.adapter}, clock=time,
                    limiter=RateLimiter(time.seconds, limits()))
    await sender.drain(time.sleep)

    reached = [n for n in range(PEOPLE) if n != REMOVED]
    posts = {n: teams.fake.posts(chat_of(n)) for n in range(PEOPLE)}
    assert posts[REMOVED] == []
    first = {n: [p.text for p in posts[n]] for n in reached}
    assert len({tuple(texts) for texts in first.values()}) == 1  # the same round, for all
    [asked] = {texts[-1] for texts in first.values()}
    assert asked.startswith("1/6")  # the first statement, as a card, once each
    assert sum(len(p) for p in posts.values()) == len(reached) * len(first[reached[0]])
    assert len(teams.fake.created) == PEOPLE // 2  # each unknown chat opened once
    assert teams.fake.token_calls == 1

    async with sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "checkin")))
        removed = await session.scalar(select(Member).where(
            Member.user_ref == f"{TENANT}:aad-{REMOVED}"))
    assert len(rows) == PEOPLE
    assert sorted(row.status for row in rows) == ["failed"] + ["sent"] * (PEOPLE - 1)
    assert removed is not None and removed.unreachable_at is not None
    throttled = next(row for row in rows if row.target == f"{TENANT}:aad-{THROTTLED}")
    assert throttled.sent_at is not None and throttled.sent_at >= DUE + timedelta(seconds=4)
