"""School days as a partnership lives them: public holidays closed, the south's real 2026-27
holidays, the true reason for every move in the preview, and a clear error for a wrong
--lang."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.schedule.calendar import Closure, Recurrence, SchoolCalendar, resolve
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store.models import Partnership
from bot.store.schedule import OutboxMessage, Schedule
from scheduler.planner import plan_due
from tests.conftest import Clock
from tests.scheduler_fakes import add_members, utc
from tests.test_schedule_chat import coming, lead, scheduled
from tests.test_schedule_preview import achtje, line, preview_text

HOLIDAYS = load_holidays()
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Sessions = async_sessionmaker[Any]


def public(holiday: str) -> Closure:
    return Closure("public_holiday", holiday)


@pytest.mark.parametrize(("nominal", "moved_to", "reasons"), [
    # Hemelvaartsdag (Thursday): the Friday after is a school day.
    (date(2027, 5, 6), date(2027, 5, 7), (public("hemelvaartsdag"),)),
    # 2e Pinksterdag (Monday).
    (date(2027, 5, 17), date(2027, 5, 18), (public("tweede_pinksterdag"),)),
    # Goede Vrijdag: past the Easter weekend and 2e Paasdag, to the Tuesday.
    (date(2027, 3, 26), date(2027, 3, 30), (public("goede_vrijdag"),
                                            public("tweede_paasdag"))),
    # 2e Paasdag (Monday).
    (date(2027, 3, 29), date(2027, 3, 30), (public("tweede_paasdag"),)),
])
@pytest.mark.parametrize("region", ["noord", "midden", "zuid"])
def test_a_checkin_on_a_public_holiday_moves_or_is_skipped_per_the_policy(
    nominal: date, moved_to: date, reasons: tuple[Closure, ...], region: str
) -> None:
    rule = Recurrence("checkin", time(15, 30), weekday=nominal.weekday(), cadence_weeks=2,
                      anchor=nominal)
    school = SchoolCalendar(HOLIDAYS, region, AMSTERDAM)
    moved = resolve(rule, school, "move", nominal)
    assert moved.send_at == datetime.combine(moved_to, time(15, 30), tzinfo=AMSTERDAM)
    assert moved.reasons == reasons
    skipped = resolve(rule, school, "skip", nominal)
    assert skipped.send_at is None and skipped.reasons == reasons[:1]


def test_an_operators_closed_day_still_counts_next_to_the_public_holidays() -> None:
    rule = Recurrence("checkin", time(15, 30), weekday=3, cadence_weeks=2,
                      anchor=date(2027, 5, 6))
    bridge = SchoolCalendar(HOLIDAYS, "midden", AMSTERDAM,
                            closed_days={date(2027, 5, 7): "vrijdag na Hemelvaart"})
    slot = resolve(rule, bridge, "move", date(2027, 5, 6))
    assert slot.send_at == datetime(2027, 5, 10, 15, 30, tzinfo=AMSTERDAM)
    assert slot.reasons == (public("hemelvaartsdag"),
                            Closure("closed_day", "vrijdag na Hemelvaart"))


async def next_due(sessions: Sessions) -> datetime | None:
    async with sessions() as session:
        found = await session.scalar(select(func.min(Schedule.next_run_at)).where(
            Schedule.enabled.is_(True)))
    return found.replace(tzinfo=UTC) if found and found.tzinfo is None else found


async def test_a_south_partnership_sends_nothing_in_its_real_holidays_of_2026_27(
    sessions: Sessions, content: Content, partnership: Partnership
) -> None:
    """The planner, run from each due moment to the next over January to September 2027,
    with weekly check-ins, reminders, nudges and summaries for a partnership in zuid."""
    async with sessions() as session, session.begin():
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        found.region = "zuid"
        add_members(session, partnership.id, 3, "test")
        add_members(session, partnership.id, 1, "test", start=4, role="leader")
        await configure(session, HOLIDAYS, found,
                        Changes(first=date(2027, 1, 5), cadence_weeks=1, nudge_cadence_weeks=1),
                        utc(2027, 1, 4))
    tick = utc(2027, 1, 4)
    while tick < utc(2027, 9, 30):
        await plan_due(sessions, content, HOLIDAYS, tick)
        due = await next_due(sessions)
        assert due is not None
        tick = max(due, tick + timedelta(minutes=1))
    async with sessions() as session:
        days = sorted(set(await session.scalars(select(OutboxMessage.local_date))))
    in_holiday = [d for d in days if date(2027, 2, 13) <= d <= date(2027, 2, 21)
                  or date(2027, 7, 24) <= d <= date(2027, 9, 5)]
    assert in_holiday == []
    assert [d for d in days if d.weekday() >= 5 or HOLIDAYS.public_holiday_on(d)] == []
    # It is the south's calendar, not a calendar that sends nothing: carnival week (the old,
    # wrong spring holiday) and the weeks after each holiday have their check-ins.
    assert {date(2027, 2, 9), date(2027, 2, 23), date(2027, 7, 20), date(2027, 9, 7)} <= set(days)


async def test_the_preview_names_the_true_reason_for_every_move_and_skip(
    sessions: Sessions, content: Content, partnership: Partnership
) -> None:
    async with sessions() as session, session.begin():
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        found.region = "zuid"
    changes: dict[str, Any] = {"first": date(2027, 5, 6), "checkin_weekday": 3,
                               "cadence_weeks": 2, "nudges": False, "reminder_hours": 0}
    lines = await preview_text(sessions, content, partnership.id, date(2027, 5, 3), 20,
                               **changes)
    ascension = line(lines, "do 6 mei 2027 15:30", "check-in")
    assert "verschoven naar vr 7 mei 2027 15:30" in ascension
    assert ascension.endswith("Hemelvaartsdag (feestdag)")
    assert "zomervakantie (regio zuid)" in line(lines, "do 29 juli 2027 15:30", "check-in")
    # 1 August 2027 is a Sunday in the summer holiday: the holiday is the reason, not the
    # weekend; the next summary follows before school starts again.
    august = line(lines, "zo 1 augustus 2027 08:30", "samenvatting")
    assert "overgeslagen" in august
    assert august.endswith("zomervakantie (regio zuid); de volgende volgt er te snel op")
    september = line(lines, "wo 1 september 2027 08:30", "samenvatting")
    assert "verschoven naar ma 6 september 2027 08:30" in september
    assert september.endswith("zomervakantie (regio zuid)")
    english = await preview_text(sessions, content, partnership.id, date(2027, 5, 3), 1, "en",
                                 **changes)
    assert line(english, "Th 6 May 2027 15:30", "check-in").endswith(
        "Ascension Day (public holiday)")


async def test_the_preview_of_a_move_past_easter_names_both_days(
    sessions: Sessions, content: Content, partnership: Partnership
) -> None:
    lines = await preview_text(sessions, content, partnership.id, date(2027, 3, 22), 1,
                               first=date(2027, 3, 26), checkin_weekday=4, reminder_hours=0,
                               nudges=False)
    easter = line(lines, "vr 26 maart 2027 15:30", "check-in")
    assert "verschoven naar di 30 maart 2027 15:30" in easter
    assert easter.endswith("Goede Vrijdag (feestdag); 2e Paasdag (feestdag)")


async def test_rooster_in_chat_names_the_public_holiday(
    sessions: Sessions, partnership: Partnership, chat: MemoryChat, clock: Clock,
) -> None:
    clock.now = utc(2027, 5, 3, 9)  # Monday before Hemelvaartsdag
    await scheduled(sessions, partnership, clock.now, first=date(2027, 5, 6), checkin_weekday=3)
    await lead(sessions, chat)
    shown = coming(await chat.say("rooster"))
    assert ("- do 6 mei 2027 15:30 check-in: verschoven naar vr 7 mei 2027 15:30 "
            "(Hemelvaartsdag (feestdag))") in shown


@pytest.mark.parametrize("command", [
    ("schedule", "preview", "--partnership", "1", "--lang", "xx"),
    ("demo", "--months", "1", "--lang", "xx"),
    ("summary", "--partnership", "1", "--lang", "xx"),
    ("plan", "--partnership", "1", "--lang", "xx"),
])
def test_an_unknown_language_is_one_clear_error(tmp_path: Path, command: tuple[str, ...]) -> None:
    created = achtje(tmp_path, "partnership", "create", "--name", "Groen Zuid", "--school",
                     "Vmbo Maas:vmbo", "--school", "Roc Dal:mbo", "--region", "zuid")
    assert created.returncode == 0, created.stderr
    wrong = achtje(tmp_path, *command)
    assert wrong.returncode != 0
    assert wrong.stdout == ""
    assert wrong.stderr.strip() == "--lang must be nl or en"
