"""One partnership on two platforms: the vmbo school's teachers on Teams, the mbo college's
on Telegram, each through its real adapter against its fake over real HTTP. Everyone
answers a check-in where they are; the project leader's monthly summary counts all six
and reaches the leader on Teams, through the scheduler's outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.engine import Engine
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store.models import Answer, Member, Partnership
from scheduler.planner import plan_due
from scheduler.sender import Sender
from tests import telegram_fakes
from tests.conftest import Clock
from tests.teams_fakes import TENANT, Person, Teams, running
from tests.telegram_fakes import Bot, User

PLANNED = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # 1 December, 08:30 local
ON_TEAMS = (Person("29:lea", "aad-lea", "Lea"), Person("29:ids", "aad-ids", "Ids"),
            Person("29:kim", "aad-kim", "Kim"))
ON_TELEGRAM = (User(701, "Mo", "nl"), User(702, "Noor", "nl"), User(703, "Sem", "nl"))
LEADER = ON_TEAMS[0]


@dataclass
class Both:
    teams: Teams
    telegram: Bot


@pytest.fixture
async def both(engine: Engine, partnership: Partnership) -> AsyncIterator[Both]:
    async for teams in running(engine):
        async for telegram in telegram_fakes.running(engine, "polling"):
            yield Both(teams, telegram)


async def test_a_summary_counts_teams_and_telegram_and_reaches_the_leader_on_teams(
        both: Both, sessions: async_sessionmaker[Any], partnership: Partnership,
        content: Content, clock: Clock) -> None:
    teams, telegram = both.teams, both.telegram
    clock.now = datetime(2026, 11, 10, 13, 30, tzinfo=UTC)  # the round closes in November
    for person, scores in zip(ON_TEAMS, ("4 4 3 5 3 4", "3 4 4 5 3 3", "5 4 3 4 4 4"),
                              strict=True):
        await teams.say(person, "hoi")
        for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
            await teams.press(person, label)
        await teams.say(person, "checkin")
        for score in scores.split():
            await teams.press(person, score)
    for user, scores in zip(ON_TELEGRAM, ("3 3 4 4 3 3", "3 3 3 3 3 3", "4 3 3 5 4 4"),
                            strict=True):
        await telegram.say(user, "hoi")
        for label in ("Mbo College Kompas", "Docenten", "Nederlands"):
            await telegram.press(user, label)
        await telegram.say(user, "checkin")
        for score in scores.split():
            await telegram.press(user, score)

    async with sessions() as session, session.begin():
        platforms = {ref: platform for ref, platform in await session.execute(
            select(Member.user_ref, Member.platform))}
        assert sorted(platforms.values()) == ["teams"] * 3 + ["telegram"] * 3
        assert len(list(await session.scalars(select(Answer)))) == 36
        await session.execute(update(Member).where(
            Member.user_ref == f"{TENANT}:{LEADER.aad}").values(role="leader"))
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        await configure(session, load_holidays(), found,
                        Changes(checkins=False, nudges=False), datetime(2026, 11, 30, tzinfo=UTC))

    assert await plan_due(sessions, content, load_holidays(), PLANNED) >= 1
    adapters: dict[str, Any] = {"teams": teams.adapter, "telegram": telegram.adapter}
    before = {user.id: len(telegram.fake.sent(user.id)) for user in ON_TELEGRAM}
    await Sender(sessions, adapters, clock=lambda: PLANNED).send_due()

    summary = teams.fake.posts(f"a:personal-{LEADER.member}")
    title = [post.text for post in summary if "leden deden mee" in post.text]
    assert len(title) == 1 and ": 6 van 6 leden deden mee (100%)" in title[0]
    assert "(n=6)" in "\n".join(post.text for post in summary)
    for person in ON_TEAMS[1:]:  # members get no summary of their own
        assert not any("deden mee" in p.text for p in teams.fake.posts(
            f"a:personal-{person.member}"))
    assert {user.id: len(telegram.fake.sent(user.id)) for user in ON_TELEGRAM} == before
