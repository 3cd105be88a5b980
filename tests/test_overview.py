"""The month overview shows numbers a project leader can trust, and hides small groups."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.overview import month_overview, render_overview
from bot.store.models import Partnership
from tests.conftest import Clock, onboard

NOVEMBER = date(2026, 11, 1)


async def answer_round(engine: Engine, user: str, scores: list[str]) -> None:
    """A new member onboards and answers; scores of 3 and up ask no follow-up."""
    chat = MemoryChat(engine, user=user, chat=f"dm-{user}")
    await onboard(chat)
    await chat.say("checkin")
    for score in scores:
        await chat.say(score)


async def overview_for(sessions: async_sessionmaker[Any], content: Content,
                       partnership: Partnership) -> Any:
    async with sessions() as session:
        known = await session.get(Partnership, partnership.id)
        assert known is not None
        return await month_overview(session, content, known, NOVEMBER)


async def test_fewer_than_three_respondents_show_no_number(
    engine: Engine, sessions: async_sessionmaker[Any], content: Content, partnership: Partnership
) -> None:
    for user in ("a", "b"):
        await answer_round(engine, user, ["5", "5", "5"])
    overview = await overview_for(sessions, content, partnership)
    assert [t.mean for t in overview.topics] == [None, None, None]
    text = render_overview(overview, content, partnership, "nl")
    assert "te weinig antwoorden" in text and "gemiddeld" not in text


async def test_each_respondent_weighs_once_and_dont_know_is_not_a_score(
    engine: Engine, sessions: async_sessionmaker[Any], content: Content,
    partnership: Partnership, clock: Clock,
) -> None:
    await answer_round(engine, "a", ["3", "4", "?"])
    await answer_round(engine, "b", ["4", "4", "4"])
    await answer_round(engine, "c", ["5", "4", "4"])
    clock.advance(days=14)  # round 2 asks other topics; round 3 would ask ambition again
    overview = await overview_for(sessions, content, partnership)
    ambition = next(t for t in overview.topics if t.topic == "ambition")
    relations = next(t for t in overview.topics if t.topic == "relations")
    assert (ambition.respondents, ambition.mean) == (3, 4.0)
    assert ambition.distribution == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert (relations.respondents, relations.mean, relations.dont_know) == (2, None, 1)
    assert (overview.members, overview.respondents, overview.response_rate) == (3, 3, 100)
