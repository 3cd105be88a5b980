"""`Later` on a check-in: asked again two hours on, or at the start of the next school day,
never after the round closes; the planned message continues the check-in where it was."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Invitation, Scale, Text
from bot.outbox import load_replies
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store.models import CheckInRound, Partnership
from bot.store.schedule import OutboxMessage
from scheduler.planner import plan_due
from scheduler.sender import Sender
from tests.conftest import Clock
from tests.scheduler_fakes import add_members

HOLIDAYS = load_holidays()
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Sessions = async_sessionmaker[Any]


async def checkin_sent(sessions: Sessions, content: Content, clock: Clock,
                       partnership: Partnership, language: str = "nl") -> CheckInRound:
    """A check-in planned now (Tuesday 24 November 2026, 15:30) for one member, user-1."""
    async with sessions() as session, session.begin():
        add_members(session, partnership.id, 1, "test", language=language)
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        await configure(session, HOLIDAYS, found, Changes(first=date(2026, 11, 24)),
                        clock.now - timedelta(hours=1))
    assert await plan_due(sessions, content, HOLIDAYS, clock.now) == 1
    async with sessions() as session:
        round_ = await session.scalar(select(CheckInRound))
        row = await session.scalar(select(OutboxMessage))
    assert round_ is not None and row is not None
    intro, first = load_replies(row.payload)
    assert isinstance(intro, Invitation) and intro.action == f"later:{round_.id}"
    assert intro.button == content.text("snooze_button", language)
    assert isinstance(first, Scale) and first.prompt.startswith("1/6")
    return round_


async def snoozed(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "snooze")))


def local(row: OutboxMessage) -> tuple[str, str]:
    assert row.expires_at is not None
    return (f"{row.due_at.astimezone(AMSTERDAM):%a %d %H:%M}",
            f"{row.expires_at.astimezone(AMSTERDAM):%a %d %H:%M}")


async def test_later_asks_again_in_two_hours_and_continues_where_it_was(
    sessions: Sessions, content: Content, clock: Clock, partnership: Partnership,
    engine: Engine,
) -> None:
    round_ = await checkin_sent(sessions, content, clock, partnership)
    chat = MemoryChat(engine, user="user-1", chat="dm-1")
    [answered] = await chat.press_value(f"s:{round_.id}:{round_.statement_ids[0]}:4")
    assert isinstance(answered, Scale) and answered.prompt.startswith("2/6")
    [set_] = await chat.press_value(f"later:{round_.id}")
    assert isinstance(set_, Text)
    assert set_.text.startswith("Goed, ik vraag het je vandaag om 17:30 nog eens.")
    [row] = await snoozed(sessions)
    assert local(row) == ("Tue 24 17:30", "Tue 24 18:00")
    [twice] = await chat.say("later")  # typed, or pressed again: planned once
    assert isinstance(twice, Text) and twice.text.startswith("Staat al genoteerd")
    assert len(await snoozed(sessions)) == 1

    sender = Sender(sessions, {chat.platform: chat}, clock=clock)
    await sender.send_due()
    assert [r.action for r in chat.sent if isinstance(r, Invitation)] == [  # only the first
        f"later:{round_.id}"]
    clock.advance(hours=2)
    await sender.send_due()
    [again] = [r for r in chat.sent if isinstance(r, Invitation) and r.action == "cmd:checkin"]
    assert again.text == content.text("snooze_again", "nl")
    *_, next_ = await chat.press_value(again.action)
    assert isinstance(next_, Scale) and next_.prompt.startswith("2/6")


async def test_late_in_the_day_it_waits_for_the_next_school_morning_in_english(
    sessions: Sessions, content: Content, clock: Clock, partnership: Partnership,
    engine: Engine,
) -> None:
    round_ = await checkin_sent(sessions, content, clock, partnership, language="en")
    chat = MemoryChat(engine, user="user-1", chat="dm-1")
    clock.advance(hours=1, minutes=15)  # 16:45: two hours on is after school hours
    [set_] = await chat.press_value(f"later:{round_.id}")
    assert isinstance(set_, Text)
    assert set_.text.startswith("Fine, I'll ask you again Wednesday 25 November at 08:00.")
    [row] = await snoozed(sessions)
    assert local(row) == ("Wed 25 08:00", "Wed 25 18:00")


async def test_no_later_after_the_round_closes_or_without_a_round(
    sessions: Sessions, content: Content, clock: Clock, partnership: Partnership,
    engine: Engine,
) -> None:
    chat = MemoryChat(engine, user="user-1", chat="dm-1")
    round_ = await checkin_sent(sessions, content, clock, partnership)
    async with sessions() as session, session.begin():
        found = await session.get(CheckInRound, round_.id)
        assert found is not None
        found.closes_at = clock.now + timedelta(hours=1)
    [too_late] = await chat.press_value(f"later:{round_.id}")
    assert isinstance(too_late, Text)
    assert too_late.text == content.text("snooze_too_late", "nl")
    clock.advance(hours=2)
    [closed] = await chat.say("later")
    assert isinstance(closed, Text) and closed.text == content.text("snooze_no_round", "nl")
    assert await snoozed(sessions) == []
