"""Planning what is due into the outbox: who gets what, reminders, summaries, misfires,
daylight saving, and what the `checkin` command says once check-ins are scheduled."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from typer.testing import CliRunner

from adapters.memory import MemoryChat
from adapters.platforms import PLATFORMS
from bot.cli import app
from bot.content import Content
from bot.engine import Engine
from bot.messages import Invitation, Scale, Text
from bot.outbox import load_replies
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, PartnershipPlan, ScheduleError, configure
from bot.store import db
from bot.store.models import ChannelBinding, CheckInRound, Member, Partnership
from bot.store.nudges import NudgeSettings
from bot.store.schedule import OutboxMessage, Schedule
from bot.store.summary import SummaryMonth
from scheduler.planner import plan_due
from tests.conftest import Clock, onboard
from tests.scheduler_fakes import add_members, utc

HOLIDAYS = load_holidays()
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Sessions = async_sessionmaker[Any]


async def schedule(sessions: Sessions, partnership: Partnership, now: datetime,
                   **changes: Any) -> PartnershipPlan:
    async with sessions() as session, session.begin():
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        return await configure(session, HOLIDAYS, found, Changes(**changes), now)


async def outbox_rows(sessions: Sessions, kind: str | None = None) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list(await session.scalars(query))


async def the_schedule(sessions: Sessions, kind: str) -> Schedule:
    async with sessions() as session:
        found = await session.scalar(select(Schedule).where(Schedule.kind == kind))
        assert found is not None
        return found


def local(instant: datetime | None) -> str:
    assert instant is not None
    return instant.astimezone(AMSTERDAM).strftime("%a %Y-%m-%d %H:%M")


async def test_a_checkin_goes_privately_to_everyone_who_may_get_it(
    sessions: Sessions, content: Content, clock: Clock, partnership: Partnership
) -> None:
    today = date(2026, 11, 24)
    async with sessions() as session, session.begin():
        add_members(session, partnership.id, 2, "test")
        add_members(session, partnership.id, 1, "test", start=3, language="en")
        add_members(session, partnership.id, 1, "test", start=4,
                    paused_until=today + timedelta(days=7))
        add_members(session, partnership.id, 1, "test", start=5, paused_until=today)  # ends
        add_members(session, partnership.id, 1, "test", start=6,
                    unreachable_at=utc(2026, 10, 1))
        session.add(Member(partnership_id=partnership.id, platform="test", user_ref="new",
                           created_at=clock.now))  # never finished onboarding
        session.add(ChannelBinding(partnership_id=partnership.id, platform="telegram",
                                   channel_ref="-100123", created_at=clock.now))
    await schedule(sessions, partnership, clock.now - timedelta(hours=1), first=today)

    invites = [p.name for p in PLATFORMS if p.invites_in_channel]  # as the runner reads them
    assert await plan_due(sessions, content, HOLIDAYS, clock.now,
                          invite_in_channel=invites) == 5
    rows = await outbox_rows(sessions)
    assert [(r.target, r.direct) for r in rows] == [
        ("user-1", True), ("user-2", True), ("user-3", True), ("user-5", True),
        ("-100123", False),
    ]
    async with sessions() as session:
        round_ = await session.scalar(select(CheckInRound))
    assert round_ is not None and round_.opens_at == clock.now
    intro, first = load_replies(rows[0].payload)
    assert isinstance(intro, Invitation) and intro.text == content.text(
        "sched_checkin_invite", "nl", count=6)
    assert (intro.button, intro.action) == ("Later", f"later:{round_.id}")  # snooze
    assert isinstance(first, Scale) and first.prompt.startswith("1/6")
    assert first.options[0].value == f"s:{round_.id}:{round_.statement_ids[0]}:1"
    english = load_replies(rows[2].payload)[0]
    assert isinstance(english, Invitation) and english.text.startswith("Hi!")
    invitation = load_replies(rows[4].payload)[0]
    assert isinstance(invitation, Invitation) and invitation.action == "cmd:checkin"
    assert all(r.due_at == clock.now and r.local_date == today for r in rows)
    assert local(rows[0].expires_at) == "Tue 2026-11-24 18:00"

    checkin, reminder = (await the_schedule(sessions, "checkin"),
                         await the_schedule(sessions, "reminder"))
    assert local(checkin.next_run_at) == "Tue 2026-12-08 15:30"
    assert local(reminder.next_run_at) == "Wed 2026-11-25 15:30"
    assert reminder.round_id == round_.id
    # Ticking again at the same moment plans nothing twice.
    assert await plan_due(sessions, content, HOLIDAYS, clock.now) == 0
    assert len(await outbox_rows(sessions)) == 5


async def test_the_reminder_goes_only_to_members_who_did_not_answer(
    sessions: Sessions, content: Content, clock: Clock, partnership: Partnership,
    engine: Engine,
) -> None:
    async with sessions() as session, session.begin():
        add_members(session, partnership.id, 3, "test")
    await schedule(sessions, partnership, clock.now - timedelta(hours=1),
                   first=date(2026, 11, 24))
    await plan_due(sessions, content, HOLIDAYS, clock.now)

    done = MemoryChat(engine, user="user-1", chat="dm-user-1")
    done.sent.extend(load_replies((await outbox_rows(sessions))[0].payload))
    for _ in range(6):
        await done.press("mee eens")  # a 4 for every statement
    assert done.last_text() == content.text("checkin_done", "nl")
    halfway = MemoryChat(engine, user="user-2", chat="dm-user-2")
    await halfway.say("4")  # typed: the scheduled statement set up the conversation
    assert halfway.last_text().startswith("2/6")

    clock.advance(hours=24)
    assert await plan_due(sessions, content, HOLIDAYS, clock.now) == 2
    reminders = await outbox_rows(sessions, "reminder")
    assert [r.target for r in reminders] == ["user-2", "user-3"]
    text, statement = load_replies(reminders[0].payload)
    assert isinstance(text, Text) and "1 december 15:30" in text.text
    assert isinstance(statement, Scale) and statement.prompt.startswith("2/6")
    assert isinstance(load_replies(reminders[1].payload)[1], Scale)
    clock.advance(hours=24)
    assert await plan_due(sessions, content, HOLIDAYS, clock.now) == 0  # one per round
    assert (await the_schedule(sessions, "reminder")).next_run_at is None


@pytest.mark.parametrize(("late", "planned"), [
    (timedelta(hours=2), True),  # back at 17:30, within 6 hours and school hours
    (timedelta(hours=3), False),  # back at 18:30: after school hours
    (timedelta(hours=18), False),  # back the next morning at 09:30: beyond the grace window
])
async def test_after_downtime_a_send_goes_once_only_if_recent_and_in_school_hours(
    sessions: Sessions, content: Content, clock: Clock, partnership: Partnership,
    caplog: pytest.LogCaptureFixture, late: timedelta, planned: bool,
) -> None:
    async with sessions() as session, session.begin():
        add_members(session, partnership.id, 2, "test")
    await schedule(sessions, partnership, clock.now - timedelta(hours=1),
                   first=date(2026, 11, 24))
    with caplog.at_level(logging.INFO, logger="scheduler.planner"):
        queued = await plan_due(sessions, content, HOLIDAYS, clock.now + late)
        queued += await plan_due(sessions, content, HOLIDAYS, clock.now + late)
    assert queued == (2 if planned else 0)
    async with sessions() as session:
        rounds = list(await session.scalars(select(CheckInRound)))
    assert len(rounds) == (1 if planned else 0)
    if not planned:
        assert "skipped checkin of partnership" in caplog.text
    assert local((await the_schedule(sessions, "checkin")).next_run_at) == "Tue 2026-12-08 15:30"


@pytest.mark.parametrize(("first", "region", "expected"), [
    # Summer time ends on Sunday 2026-10-25: 15:30 is 13:30 UTC before, 14:30 UTC after.
    (date(2026, 10, 20), "noord", ["2026-10-20 13:30", "2026-10-27 14:30"]),
    # Summer time starts on Sunday 2026-03-29: 14:30 UTC before, 13:30 UTC after.
    (date(2026, 3, 24), "midden", ["2026-03-24 14:30", "2026-03-31 13:30"]),
])
async def test_a_weekly_checkin_keeps_its_local_time_across_daylight_saving(
    sessions: Sessions, content: Content, partnership: Partnership, first: date, region: str,
    expected: list[str],
) -> None:
    async with sessions() as session, session.begin():
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        found.region = region
        add_members(session, partnership.id, 1, "test")
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    await schedule(sessions, partnership, start, first=first, cadence_weeks=1,
                   reminder_hours=0, nudges=False, summaries=False)
    tick = start + timedelta(minutes=30)
    while tick < start + timedelta(days=9):  # hourly ticks at half past, over the weekend
        await plan_due(sessions, content, HOLIDAYS, tick)
        tick += timedelta(hours=1)
    async with sessions() as session:
        opened = list(await session.scalars(select(CheckInRound.opens_at)
                                            .order_by(CheckInRound.id)))
    assert [o.strftime("%Y-%m-%d %H:%M") for o in opened] == expected
    assert [local(o)[-5:] for o in opened] == ["15:30", "15:30"]


async def test_the_summary_goes_to_project_leaders_with_last_months_overview(
    sessions: Sessions, content: Content, partnership: Partnership
) -> None:
    async with sessions() as session, session.begin():
        add_members(session, partnership.id, 2, "test")
        add_members(session, partnership.id, 1, "test", start=3, role="leader")
        add_members(session, partnership.id, 1, "test", start=4, role="leader", language="en")
        add_members(session, partnership.id, 1, "test", start=5, role="leader",
                    paused_until=date(2026, 12, 10))
        # A check-in closed in November, so November has figures (without one: nothing).
        session.add(CheckInRound(partnership_id=partnership.id, number=1,
                                 opens_at=utc(2026, 11, 3), closes_at=utc(2026, 11, 10),
                                 statement_ids=["ambition_1"]))
    await schedule(sessions, partnership, utc(2026, 11, 30), checkins=False, nudges=False)
    summary = await the_schedule(sessions, "summary")
    assert local(summary.next_run_at) == "Tue 2026-12-01 08:30"

    assert await plan_due(sessions, content, HOLIDAYS, utc(2026, 12, 1, 7, 30)) == 3
    rows = await outbox_rows(sessions)
    # The leaders privately, the short version in the bound group (test_summary_delivery.py).
    assert [(r.target, r.direct) for r in rows] == [
        ("user-3", True), ("user-4", True), ("group-1", False)]
    rows = rows[:2]
    dutch, english = (load_replies(r.payload)[0] for r in rows)
    assert isinstance(dutch, Text) and isinstance(english, Text)
    assert "november 2026" in dutch.text and dutch.text != english.text
    # The whole monthly summary, not only the scores: it ends with the next meeting's agenda.
    texts = [r.text for r in load_replies(rows[0].payload) if isinstance(r, Text)]
    assert content.text("summary_agenda_title", "nl") in texts[-1]
    # January: the first school day after the Christmas holiday.
    assert local((await the_schedule(sessions, "summary")).next_run_at) == "Mon 2027-01-04 08:30"


async def test_the_scheduler_freezes_closed_months_and_sends_no_summary_without_figures(
    sessions: Sessions, content: Content, partnership: Partnership
) -> None:
    """A partnership whose first check-in closes in December has no figures for November:
    the summary schedule sends nothing (and moves on), and nothing is stored. January's
    summary freezes December and sends it (docs/summary.md)."""
    async with sessions() as session, session.begin():
        add_members(session, partnership.id, 1, "test", start=3, role="leader")
        session.add(CheckInRound(partnership_id=partnership.id, number=1,
                                 opens_at=utc(2026, 12, 1), closes_at=utc(2026, 12, 8),
                                 statement_ids=["ambition_1"]))
    await schedule(sessions, partnership, utc(2026, 11, 30), checkins=False, nudges=False)
    assert await plan_due(sessions, content, HOLIDAYS, utc(2026, 12, 1, 7, 30)) == 0
    assert await outbox_rows(sessions) == []
    assert local((await the_schedule(sessions, "summary")).next_run_at) == "Mon 2027-01-04 08:30"
    async with sessions() as session:
        assert list(await session.scalars(select(SummaryMonth.month))) == []

    assert await plan_due(sessions, content, HOLIDAYS, utc(2027, 1, 4, 7, 30)) == 2
    async with sessions() as session:
        assert list(await session.scalars(select(SummaryMonth.month))) == [date(2026, 12, 1)]


async def test_a_nudge_slot_pairs_people_across_schools_and_asks_later_if_they_met(
    sessions: Sessions, content: Content, clock: Clock, partnership: Partnership
) -> None:
    vmbo, mbo = (school.id for school in partnership.schools)
    async with sessions() as session, session.begin():
        add_members(session, partnership.id, 2, "test", school_id=vmbo)
        add_members(session, partnership.id, 2, "test", start=3, school_id=mbo)
    await schedule(sessions, partnership, clock.now - timedelta(hours=1),
                   first=date(2026, 11, 17), checkins=False, summaries=False)
    nudge = await the_schedule(sessions, "nudge")
    assert local(nudge.next_run_at) == "Tue 2026-11-24 15:30"

    await plan_due(sessions, content, HOLIDAYS, clock.now)
    rows = await outbox_rows(sessions, "nudge")
    assert sorted(r.target for r in rows if r.direct) == ["user-1", "user-2", "user-3", "user-4"]
    assert [(r.target, r.direct) for r in rows if not r.direct] == [("group-1", False)]
    # The next slot is two weeks on and also asks whether the pairs met.
    assert local((await the_schedule(sessions, "nudge")).next_run_at) == "Tue 2026-12-08 15:30"
    await plan_due(sessions, content, HOLIDAYS, utc(2026, 12, 8, 14, 30))
    asked = await outbox_rows(sessions, "nudge_followup")
    assert sorted(r.target for r in asked) == ["user-1", "user-2", "user-3", "user-4"]
    # The slot after that falls in the Christmas holiday: skipped.
    assert local((await the_schedule(sessions, "nudge")).next_run_at) == "Tue 2027-01-05 15:30"


async def test_checkin_says_when_the_next_round_is_once_check_ins_are_scheduled(
    sessions: Sessions, content: Content, clock: Clock, partnership: Partnership,
    chat: MemoryChat,
) -> None:
    await onboard(chat)
    await schedule(sessions, partnership, clock.now, first=date(2026, 12, 8))
    replies = await chat.say("checkin")
    assert replies == [Text(text=content.text(
        "sched_next_round", "nl", weekday="dinsdag", date="8 december 2026", time="15:30"))]
    async with sessions() as session:
        assert await session.scalar(select(CheckInRound.id)) is None

    clock.now = utc(2026, 12, 8, 14, 30)
    await plan_due(sessions, content, HOLIDAYS, clock.now)
    replies = await chat.say("checkin")
    assert isinstance(replies[-1], Scale) and replies[-1].prompt.startswith("1/6")


async def test_impossible_settings_are_refused_with_a_reason(
    sessions: Sessions, clock: Clock, partnership: Partnership
) -> None:
    with pytest.raises(ScheduleError, match="outside school hours"):
        await schedule(sessions, partnership, clock.now, checkin_time="19:00")
    with pytest.raises(ScheduleError, match="monday to friday"):
        await schedule(sessions, partnership, clock.now, checkin_weekday=5)
    with pytest.raises(ScheduleError, match="move or skip"):
        await schedule(sessions, partnership, clock.now, holiday_policy="later")
    async with sessions() as session:
        assert await session.scalar(select(Schedule.id)) is None


async def test_a_nudge_schedule_switched_off_before_one_switch_stays_off(
    database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Upgrading to one nudge switch: what `schedule set --no-nudges` switched off (the nudge
    schedule row) is then off in the partnership's nudge setting, which alone counts; once
    switched on again (`achtje nudge settings --on`) the next nudge is planned."""
    engine = db.create_engine(database_url)
    partnership = sa.table("partnership", *(sa.column(c) for c in (
        "id", "name", "sector", "region", "timezone", "language", "created_at")))
    schedule_table = sa.table("schedule", *(sa.column(c) for c in (
        "partnership_id", "kind", "enabled", "local_time", "updated_at")))
    settings = sa.table("nudge_settings", *(sa.column(c) for c in (
        "partnership_id", "enabled", "same_building", "max_minutes", "mix_levels",
        "names_in_channel", "updated_at")))
    then = utc(2026, 9, 1)
    try:
        await db.upgrade(engine, "0007_privacy")
        async with engine.begin() as connection:
            await connection.execute(partnership.insert(), [
                {"id": n, "name": f"P{n}", "sector": "", "region": "midden",
                 "timezone": "Europe/Amsterdam", "language": "nl", "created_at": then}
                for n in (1, 2, 3)])
            await connection.execute(schedule_table.insert(), [
                {"partnership_id": n, "kind": kind, "enabled": on, "local_time": "15:30",
                 "updated_at": then}
                for n, kind, on in ((1, "nudge", False), (2, "nudge", False), (3, "nudge", True),
                                    (1, "checkin", False))])
            await connection.execute(settings.insert(), [
                {"partnership_id": 2, "enabled": True, "same_building": True, "max_minutes": 30,
                 "mix_levels": False, "names_in_channel": False, "updated_at": then}])
        await db.upgrade(engine)
        async with db.sessionmaker(engine)() as session:
            rows = (await session.execute(select(Schedule.partnership_id, Schedule.kind,
                                                 Schedule.enabled))).all()
            assert sorted(rows) == [(1, "checkin", False), (1, "nudge", True), (2, "nudge", True),
                                    (3, "nudge", True)]
            found = {s.partnership_id: s for s in await session.scalars(select(NudgeSettings))}
            assert sorted(found) == [1, 2]
            assert not found[1].enabled and not found[2].enabled
            assert (found[1].max_minutes, found[2].max_minutes) == (60, 30)
            assert found[2].same_building
        monkeypatch.setenv("ACHTJE_DATABASE_URL", database_url)
        switched = await asyncio.to_thread(CliRunner().invoke, app, [
            "nudge", "settings", "--partnership", "1", "--on"], catch_exceptions=False)
        assert switched.output.startswith("nudges on"), switched.output
        async with db.sessionmaker(engine)() as session:
            nudge = await session.scalar(select(Schedule).where(
                Schedule.partnership_id == 1, Schedule.kind == "nudge"))
            assert nudge is not None and nudge.next_run_at is not None
            assert nudge.next_run_at > datetime.now(UTC)
            setting = await session.get(NudgeSettings, 1)
            assert setting is not None and setting.enabled
    finally:
        await engine.dispose()


@pytest.mark.parametrize(("change", "expected"), [
    # Only the reminder's delay changes: the check-in keeps its time.
    ({"reminder_hours": 4}, "Tue 2026-11-24 15:30"),
    # The check-in moves a little later today: today's check-in goes at the new time.
    ({"checkin_time": "16:00"}, "Tue 2026-11-24 16:00"),
    # A day off later on changes the calendar, not today's check-in.
    ({"closed_days": {date(2026, 12, 22): "study day"}}, "Tue 2026-11-24 15:30"),
])
async def test_a_change_between_the_due_time_and_the_next_tick_keeps_that_check_in(
    sessions: Sessions, content: Content, clock: Clock, partnership: Partnership,
    change: dict[str, Any], expected: str,
) -> None:
    async with sessions() as session, session.begin():
        add_members(session, partnership.id, 2, "test")
    await schedule(sessions, partnership, clock.now - timedelta(days=1),
                   first=date(2026, 11, 24))
    assert local((await the_schedule(sessions, "checkin")).next_run_at) == "Tue 2026-11-24 15:30"
    await schedule(sessions, partnership, clock.now + timedelta(seconds=10), **change)
    assert local((await the_schedule(sessions, "checkin")).next_run_at) == expected
    await plan_due(sessions, content, HOLIDAYS, clock.now + timedelta(minutes=31))
    assert len(await outbox_rows(sessions, "checkin")) == 2
    next_run = local((await the_schedule(sessions, "checkin")).next_run_at)
    assert next_run == "Tue 2026-12-08 " + expected[-5:]
