"""One partnership on three platforms: the vmbo school's teachers on Teams, the mbo
college's on Telegram and Slack, each through its real adapter against its fake over real
HTTP. Everyone answers a check-in where they are; the project leader's monthly summary
counts all seven and reaches the leader on Teams, through the scheduler's outbox."""

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
from tests.slack_fakes import SlackRig, buttons_of, slack_rig
from tests.teams_fakes import TENANT, Person, Teams, running
from tests.telegram_fakes import Bot, User

PLANNED = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # 1 December, 08:30 local
ON_TEAMS = (Person("29:lea", "aad-lea", "Lea"), Person("29:ids", "aad-ids", "Ids"),
            Person("29:kim", "aad-kim", "Kim"))
ON_TELEGRAM = (User(701, "Mo", "nl"), User(702, "Noor", "nl"))
ON_SLACK = ("U5", "U6")
SCALE = {"3": "neutraal", "4": "mee eens", "5": "helemaal mee eens"}  # Slack shows words
LEADER = ON_TEAMS[0]


@dataclass
class Chats:
    teams: Teams
    telegram: Bot
    slack: SlackRig


@pytest.fixture
async def chats(engine: Engine, partnership: Partnership) -> AsyncIterator[Chats]:
    async for teams in running(engine):
        async for telegram in telegram_fakes.running(engine, "polling"):
            async with slack_rig(engine) as slack:
                yield Chats(teams, telegram, slack)


async def slack_says(slack: SlackRig, user: str, *labels: str) -> None:
    """`user` presses each of `labels` on the bot's latest message in their DM."""
    for label in labels:
        await slack.press(buttons_of(slack.fake.posted()[-1])[label], user=user,
                          channel="D" + user)


async def test_a_summary_counts_teams_telegram_and_slack_and_reaches_the_leader_on_teams(
        chats: Chats, sessions: async_sessionmaker[Any], partnership: Partnership,
        content: Content, clock: Clock) -> None:
    teams, telegram, slack = chats.teams, chats.telegram, chats.slack
    clock.now = datetime(2026, 11, 10, 13, 30, tzinfo=UTC)  # the round closes in November
    for person, scores in zip(ON_TEAMS, ("4 4 3 5 3 4", "3 4 4 5 3 3", "5 4 3 4 4 4"),
                              strict=True):
        await teams.say(person, "hoi")
        for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
            await teams.press(person, label)
        await teams.say(person, "checkin")
        for score in scores.split():
            await teams.press(person, score)
    for user, scores in zip(ON_TELEGRAM, ("3 3 4 4 3 3", "3 3 3 3 3 3"), strict=True):
        await telegram.say(user, "hoi")
        for label in ("Mbo College Kompas", "Docenten", "Nederlands"):
            await telegram.press(user, label)
        await telegram.say(user, "checkin")
        for score in scores.split():
            await telegram.press(user, score)
    for slack_user, scores in zip(ON_SLACK, ("4 3 3 5 4 4", "5 5 4 4 3 3"), strict=True):
        await slack.dm("hoi", user=slack_user)
        await slack_says(slack, slack_user, "Mbo College Kompas", "Docenten", "Nederlands")
        await slack.dm("checkin", user=slack_user)
        await slack_says(slack, slack_user, *(SCALE[score] for score in scores.split()))

    async with sessions() as session, session.begin():
        platforms = {ref: platform for ref, platform in await session.execute(
            select(Member.user_ref, Member.platform))}
        assert sorted(platforms.values()) == ["slack"] * 2 + ["teams"] * 3 + ["telegram"] * 2
        assert len(list(await session.scalars(select(Answer)))) == 42
        await session.execute(update(Member).where(
            Member.user_ref == f"{TENANT}:{LEADER.aad}").values(role="leader"))
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        await configure(session, load_holidays(), found,
                        Changes(checkins=False, nudges=False), datetime(2026, 11, 30, tzinfo=UTC))

    assert await plan_due(sessions, content, load_holidays(), PLANNED) >= 1
    adapters: dict[str, Any] = {"teams": teams.adapter, "telegram": telegram.adapter,
                                "slack": slack.adapter}
    slack_posts = len(slack.fake.posted())
    before = {user.id: len(telegram.fake.sent(user.id)) for user in ON_TELEGRAM}
    await Sender(sessions, adapters, clock=lambda: PLANNED).send_due()

    summary = teams.fake.posts(f"a:personal-{LEADER.member}")
    title = [post.text for post in summary if "leden deden mee" in post.text]
    assert len(title) == 1 and ": 7 van 7 leden deden mee (100%)" in title[0]
    assert "(n=7)" in "\n".join(post.text for post in summary)
    for person in ON_TEAMS[1:]:  # members get no summary of their own
        assert not any("deden mee" in p.text for p in teams.fake.posts(
            f"a:personal-{person.member}"))
    assert {user.id: len(telegram.fake.sent(user.id)) for user in ON_TELEGRAM} == before
    assert len(slack.fake.posted()) == slack_posts
