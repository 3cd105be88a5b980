"""The retention job: answers after 24 months, open texts after the summary plus 3 months,
platform bookkeeping after 30/90 days; per partnership, daily from the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.demo import create_demo_partnership
from bot.privacy import apply_retention
from bot.store.models import Answer, CheckInRound, Partnership, ProcessedEvent
from bot.store.privacy import RetentionSettings
from bot.store.schedule import OutboxMessage
from scheduler.holidays import load_holidays
from scheduler.runner import ScheduleRunner
from tests.conftest import Clock
from tests.privacy_fakes import add_member

Sessions = async_sessionmaker[Any]
NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


async def answers_at(sessions: Sessions, partnership: Partnership, *days: datetime) -> None:
    async with sessions() as session, session.begin():
        member = await add_member(session, partnership, f"m{partnership.id}", NOW)
        round_ = CheckInRound(partnership_id=partnership.id, number=1, opens_at=NOW,
                              closes_at=NOW, statement_ids=[])
        session.add(round_)
        await session.flush()
        for number, day in enumerate(days):
            session.add(Answer(round_id=round_.id, member_id=member.id,
                               statement_id=f"s{number}", status="scored", score=3,
                               comment=f"tekst {day.date()}", answered_at=day))


async def kept(sessions: Sessions, partnership: Partnership) -> dict[str, str | None]:
    async with sessions() as session:
        rows = await session.execute(
            select(Answer.answered_at, Answer.comment).join(CheckInRound)
            .where(CheckInRound.partnership_id == partnership.id))
        return {str(day.date()): comment for day, comment in rows}


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


async def test_old_answers_go_and_old_open_texts_are_blanked(
    sessions: Sessions, partnership: Partnership, content: Content
) -> None:
    await answers_at(sessions, partnership, at(2024, 10, 1), at(2025, 6, 3), at(2026, 7, 31),
                     at(2026, 8, 2), at(2026, 11, 20))
    async with sessions() as session, session.begin():
        report = await apply_retention(session, NOW, content)
    assert report.counts == {"answer": 1, "open_text": 2}
    # July's summary went out early August; three months later, on 1 November, July's texts
    # and older are gone; August's stay until 1 December.
    assert await kept(sessions, partnership) == {
        "2025-06-03": None, "2026-07-31": None, "2026-08-02": "tekst 2026-08-02",
        "2026-11-20": "tekst 2026-11-20"}
    async with sessions() as session, session.begin():
        assert (await apply_retention(session, NOW, content)).counts == {}
        december = datetime(2026, 12, 1, 9, tzinfo=UTC)
        assert (await apply_retention(session, december, content)).counts == {
            "open_text": 1}


async def test_each_partnership_has_its_own_terms(
    sessions: Sessions, partnership: Partnership, content: Content
) -> None:
    async with sessions() as session, session.begin():
        strict = await create_demo_partnership(session, NOW, "test", "group-2")
        session.add(RetentionSettings(partnership_id=strict.id, answer_months=6,
                                      open_text_months=0, updated_at=NOW))
    for which in (partnership, strict):
        await answers_at(sessions, which, at(2026, 3, 2), at(2026, 10, 5))
    async with sessions() as session, session.begin():
        await apply_retention(session, NOW, content)
    assert await kept(sessions, partnership) == {"2026-03-02": None,
                                                  "2026-10-05": "tekst 2026-10-05"}
    assert await kept(sessions, strict) == {"2026-10-05": None}  # October's summary is out


async def test_platform_bookkeeping_is_pruned(
    sessions: Sessions, partnership: Partnership, content: Content
) -> None:
    async with sessions() as session, session.begin():
        for days in (29, 31):
            session.add(ProcessedEvent(platform="test", event_id=f"ev-{days}",
                                       processed_at=NOW - timedelta(days=days)))
        for number, (status, days) in enumerate(
                (("sent", 91), ("failed", 91), ("sent", 89), ("pending", 91))):
            session.add(OutboxMessage(
                kind="checkin", partnership_id=partnership.id, recipient=f"member:{number}",
                local_date=NOW.date(), platform="test", target="u", direct=True, payload=[],
                due_at=NOW, status=status, created_at=NOW - timedelta(days=days)))
    async with sessions() as session, session.begin():
        report = await apply_retention(session, NOW, content)
    assert report.counts == {"processed_event": 1, "outbox": 2}
    assert report.lines() == ["outbox: 2", "processed_event: 1"]
    async with sessions() as session:
        assert list(await session.scalars(select(ProcessedEvent.event_id))) == ["ev-29"]
        assert sorted(await session.scalars(select(OutboxMessage.status))) == ["pending", "sent"]


async def test_the_scheduler_runs_it_once_a_day(
    sessions: Sessions, partnership: Partnership, content: Content, clock: Clock
) -> None:
    runner = ScheduleRunner(sessions, content, load_holidays(), {}, clock=clock)

    async def old_event(name: str) -> None:
        async with sessions() as session, session.begin():
            session.add(ProcessedEvent(platform="test", event_id=name,
                                       processed_at=clock.now - timedelta(days=40)))

    async def events() -> list[str]:
        async with sessions() as session:
            return sorted(await session.scalars(select(ProcessedEvent.event_id)))

    await old_event("a")
    await runner.tick()
    assert await events() == []
    await old_event("b")
    clock.advance(hours=2)
    await runner.tick()
    assert await events() == ["b"]  # the same day: not again
    clock.advance(days=1)
    await runner.tick()
    assert await events() == []
