"""The retention job: a month's answers go all at once 24 calendar months after the month
(the month their round closes in, in the partnership's time zone), its open texts after 3;
platform bookkeeping after 30/90 days; per partnership, from the scheduler."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content, load_content
from bot.demo import create_demo_partnership
from bot.privacy import apply_retention
from bot.schedule.holidays import load_holidays
from bot.store.instruments import (
    FigureEightCheck,
    PitfallPoll,
    PitfallVote,
    ReflectionAnswer,
    ReflectionSession,
)
from bot.store.models import Answer, CheckInRound, Partnership, ProcessedEvent
from bot.store.nudges import NudgeRound
from bot.store.privacy import RetentionSettings
from bot.store.schedule import OutboxMessage
from scheduler.runner import ScheduleRunner
from tests.conftest import Clock
from tests.privacy_fakes import add_member

Sessions = async_sessionmaker[Any]
NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_rounds = count(1)


async def round_closing(sessions: Sessions, partnership: Partnership, closes: datetime,
                        *typed: datetime) -> None:
    """A round of `partnership` that closes at `closes`, one member's answer with an open
    text typed at each of `typed` (by default a day before it closes)."""
    async with sessions() as session, session.begin():
        number = next(_rounds)
        member = await add_member(session, partnership, f"m{partnership.id}-{number}", NOW)
        round_ = CheckInRound(partnership_id=partnership.id, number=number,
                              opens_at=closes - timedelta(days=7), closes_at=closes,
                              statement_ids=[])
        session.add(round_)
        await session.flush()
        for n, day in enumerate(typed or [closes - timedelta(days=1)]):
            session.add(Answer(round_id=round_.id, member_id=member.id,
                               statement_id=f"s{n}", status="scored", score=3,
                               comment=f"tekst {closes.date()}", answered_at=day,
                               side="vmbo", level="teachers"))


async def kept(sessions: Sessions, partnership: Partnership) -> dict[str, str | None]:
    """The answers left, by their round's close date (UTC): their open text or None."""
    async with sessions() as session:
        rows = await session.execute(
            select(CheckInRound.closes_at, Answer.comment).join(CheckInRound)
            .where(CheckInRound.partnership_id == partnership.id))
        return {str(day.date()): comment for day, comment in rows}


async def closes(sessions: Sessions, partnership: Partnership) -> list[datetime]:
    """When the round of each answer left closes, in order."""
    async with sessions() as session:
        return sorted(await session.scalars(
            select(CheckInRound.closes_at).join(Answer)
            .where(CheckInRound.partnership_id == partnership.id)))


async def retention(sessions: Sessions, now: datetime) -> dict[str, int]:
    return (await apply_retention(sessions, now, load_content())).counts


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


async def test_old_answers_go_and_old_open_texts_are_blanked(
    sessions: Sessions, partnership: Partnership
) -> None:
    for day in (at(2024, 10, 1), at(2025, 6, 3), at(2026, 7, 31), at(2026, 8, 2),
                at(2026, 11, 20)):
        await round_closing(sessions, partnership, day)
    assert await retention(sessions, NOW) == {"answer": 1, "open_text": 2}
    # July's summary went out early August; three months later, on 1 November, July's texts
    # and older are gone; August's stay until 1 December.
    assert await kept(sessions, partnership) == {
        "2025-06-03": None, "2026-07-31": None, "2026-08-02": "tekst 2026-08-02",
        "2026-11-20": "tekst 2026-11-20"}
    assert await retention(sessions, NOW) == {}
    assert await retention(sessions, datetime(2026, 12, 1, 9, tzinfo=UTC)) == {"open_text": 1}


async def test_a_month_goes_all_at_once_at_local_midnight_not_answer_by_answer(
    sessions: Sessions, partnership: Partnership
) -> None:
    """October 2024's rounds, whenever their answers were typed, are kept through October
    2026 (24 calendar months after, not 744 days) and go together on 1 November 2026 at
    midnight in Amsterdam (23:00 UTC, winter time)."""
    october = {
        "2024-10-02": (datetime(2024, 10, 2, 13, tzinfo=UTC), at(2024, 9, 30)),  # typed in Sep
        "2024-10-16": (at(2024, 10, 16), at(2024, 10, 15)),
        # 23:30 in Amsterdam on 31 October: still October's
        "2024-10-31": (datetime(2024, 10, 31, 22, 30, tzinfo=UTC), at(2024, 10, 30)),
    }
    for closing, typed in october.values():
        await round_closing(sessions, partnership, closing, typed)
    # 00:30 on 1 November in Amsterdam, typed in October: November's.
    await round_closing(sessions, partnership, datetime(2024, 10, 31, 23, 30, tzinfo=UTC),
                        at(2024, 10, 29))
    november = datetime(2024, 10, 31, 23, 30, tzinfo=UTC)
    assert len(await closes(sessions, partnership)) == 4
    # Their texts went long ago (after three months); from here on only answers go.
    assert await retention(sessions, datetime(2026, 9, 1, tzinfo=UTC)) == {"open_text": 4}
    day = datetime(2026, 9, 1, 12, tzinfo=UTC)
    while day < datetime(2026, 11, 1, tzinfo=UTC):  # every day of September and October
        assert await retention(sessions, day) == {}, day
        day += timedelta(days=1)
    last_moment = datetime(2026, 10, 31, 22, 59, 59, tzinfo=UTC)
    assert last_moment.astimezone(AMSTERDAM).date() == date(2026, 10, 31)
    assert await retention(sessions, last_moment) == {}
    assert len(await closes(sessions, partnership)) == 4
    assert await retention(sessions, datetime(2026, 10, 31, 23, tzinfo=UTC)) == {"answer": 3}
    assert await closes(sessions, partnership) == [november]
    assert await retention(sessions, datetime(2026, 11, 30, 22, 59, tzinfo=UTC)) == {}
    assert await retention(sessions, datetime(2026, 11, 30, 23, tzinfo=UTC)) == {"answer": 1}


async def test_calendar_months_in_the_partnerships_time_zone_across_a_leap_day(
    sessions: Sessions, partnership: Partnership
) -> None:
    """A leap day's answers go with their February, on 1 March two years on (there is no
    29 February then); 23:30 UTC on 29 February is already March in Amsterdam but still
    February in a partnership that keeps UTC."""
    async with sessions() as session, session.begin():
        utc = await create_demo_partnership(session, NOW, "test", "group-utc")
        utc.timezone = "UTC"
    late = datetime(2024, 2, 29, 23, 30, tzinfo=UTC)
    await round_closing(sessions, partnership, at(2024, 2, 29))  # February in Amsterdam
    await round_closing(sessions, partnership, late)  # March in Amsterdam
    await round_closing(sessions, utc, late)  # February in UTC

    async def left() -> list[int]:
        return [len(await closes(sessions, partnership)), len(await closes(sessions, utc))]

    assert await retention(sessions, datetime(2026, 2, 1, tzinfo=UTC)) == {"open_text": 3}
    # 1 March 2026, 00:00 in Amsterdam is 23:00 UTC on 28 February.
    assert await retention(sessions, datetime(2026, 2, 28, 22, 59, 59, tzinfo=UTC)) == {}
    assert await retention(sessions, datetime(2026, 2, 28, 23, tzinfo=UTC)) == {"answer": 1}
    assert await left() == [1, 1]
    assert await retention(sessions, datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)) == {}
    assert await retention(sessions, datetime(2026, 3, 1, tzinfo=UTC)) == {"answer": 1}
    assert await left() == [1, 0]
    # Amsterdam's March goes on 1 April, 00:00 summer time: 22:00 UTC on 31 March.
    assert await retention(sessions, datetime(2026, 3, 31, 21, 59, 59, tzinfo=UTC)) == {}
    assert await retention(sessions, datetime(2026, 3, 31, 22, tzinfo=UTC)) == {"answer": 1}
    assert await left() == [0, 0]


async def test_open_texts_go_by_the_month_their_round_closes_in(
    sessions: Sessions, partnership: Partnership
) -> None:
    """Typed in July in a round that closes in August, a text is August's: blanked on
    1 December with the rest of August's, not on 1 November with July's."""
    await round_closing(sessions, partnership, at(2026, 7, 28), at(2026, 7, 27))
    await round_closing(sessions, partnership, at(2026, 8, 4), at(2026, 7, 30), at(2026, 8, 3))
    await round_closing(sessions, partnership, at(2026, 8, 31), at(2026, 8, 30))
    assert await retention(sessions, datetime(2026, 10, 31, 22, 59, tzinfo=UTC)) == {}
    assert await retention(sessions, datetime(2026, 10, 31, 23, tzinfo=UTC)) == {
        "open_text": 1}
    assert await kept(sessions, partnership) == {
        "2026-07-28": None, "2026-08-04": "tekst 2026-08-04", "2026-08-31": "tekst 2026-08-31"}
    assert await retention(sessions, datetime(2026, 11, 30, 22, 59, tzinfo=UTC)) == {}
    assert await retention(sessions, datetime(2026, 11, 30, 23, tzinfo=UTC)) == {
        "open_text": 3}  # two answers in one round, one in the other


async def test_votes_sessions_checks_and_coffee_rounds_go_by_their_month(
    sessions: Sessions, partnership: Partnership
) -> None:
    """Each session's, poll's, check's and coffee round's data goes with the month it began
    in, also what was answered in the month after."""
    opened = datetime(2024, 10, 30, 12, tzinfo=UTC)
    novembers = datetime(2024, 10, 31, 23, 30, tzinfo=UTC)  # 1 November in Amsterdam
    async with sessions() as session, session.begin():
        member = await add_member(session, partnership, "anna", NOW)
        for when in (opened, novembers):
            reflection = ReflectionSession(partnership_id=partnership.id,
                                           number=when.day, statement_ids=["s1"],
                                           opened_at=when)
            poll = PitfallPoll(partnership_id=partnership.id, started_at=when)
            session.add_all([reflection, poll, FigureEightCheck(
                partnership_id=partnership.id, school_a_id=partnership.schools[0].id,
                school_b_id=partnership.schools[1].id, started_at=when),
                NudgeRound(partnership_id=partnership.id, number=when.day, seed=1,
                           planned_at=when)])
            await session.flush()
            later = when + timedelta(days=3)  # answered in November
            session.add_all([
                ReflectionAnswer(session_id=reflection.id, member_id=member.id,
                                 condition="ambition", statement_id="s1", status="scored",
                                 score=4, answered_at=later),
                PitfallVote(poll_id=poll.id, member_id=member.id, pitfall_id="p1",
                            voted_at=later)])
    assert await retention(sessions, datetime(2026, 10, 31, 22, 59, tzinfo=UTC)) == {}
    each = {"reflection_answer": 1, "pitfall_vote": 1, "figure_eight_check": 1,
            "nudge_round": 1}
    assert await retention(sessions, datetime(2026, 10, 31, 23, tzinfo=UTC)) == each
    assert await retention(sessions, datetime(2026, 11, 30, 22, 59, tzinfo=UTC)) == {}
    assert await retention(sessions, datetime(2026, 11, 30, 23, tzinfo=UTC)) == each


async def test_each_partnership_has_its_own_terms(
    sessions: Sessions, partnership: Partnership
) -> None:
    async with sessions() as session, session.begin():
        strict = await create_demo_partnership(session, NOW, "test", "group-2")
        session.add(RetentionSettings(partnership_id=strict.id, answer_months=6,
                                      open_text_months=0, updated_at=NOW))
    for which in (partnership, strict):
        for day in (at(2026, 3, 2), at(2026, 5, 20), at(2026, 10, 5)):
            await round_closing(sessions, which, day)
    await retention(sessions, NOW)
    assert await kept(sessions, partnership) == {"2026-03-02": None, "2026-05-20": None,
                                                  "2026-10-05": "tekst 2026-10-05"}
    # Six months after May ended: kept through November, deleted on 1 December.
    assert await kept(sessions, strict) == {"2026-05-20": None, "2026-10-05": None}


async def test_platform_bookkeeping_is_pruned(
    sessions: Sessions, partnership: Partnership
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
    report = await apply_retention(sessions, NOW, load_content())
    assert report.counts == {"processed_event": 1, "outbox": 2}
    assert report.lines() == ["outbox: 2", "processed_event: 1"]
    async with sessions() as session:
        assert list(await session.scalars(select(ProcessedEvent.event_id))) == ["ev-29"]
        assert sorted(await session.scalars(select(OutboxMessage.status))) == ["pending", "sent"]


async def test_the_scheduler_runs_it_once_an_hour(
    sessions: Sessions, partnership: Partnership, content: Content, clock: Clock
) -> None:
    """Hourly, so a month goes within the hour after midnight in any partnership's zone."""
    runner = ScheduleRunner(sessions, content, load_holidays(), {}, clock=clock)

    async def old_event(name: str) -> None:
        async with sessions() as session, session.begin():
            session.add(ProcessedEvent(platform="test", event_id=name,
                                       processed_at=clock.now - timedelta(days=40)))

    async def events() -> list[str]:
        async with sessions() as session:
            return sorted(await session.scalars(select(ProcessedEvent.event_id)))

    clock.now = datetime(2026, 11, 24, 14, 5, tzinfo=UTC)
    await old_event("a")
    await runner.tick()
    assert await events() == []
    await old_event("b")
    clock.advance(minutes=50)  # 14:55, the same hour: not again
    await runner.tick()
    assert await events() == ["b"]
    clock.advance(minutes=10)  # 15:05
    await runner.tick()
    assert await events() == []
