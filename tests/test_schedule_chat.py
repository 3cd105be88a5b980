"""`rooster` / `schedule` in chat: a project leader sees the schedule and changes it with
buttons and short typed answers; the next sends move as with `achtje schedule set`."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content, default_dir, load_content
from bot.demo import create_demo_partnership
from bot.engine import Engine
from bot.messages import Choice, FreeText, Reply, Text
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store.models import Member, Partnership
from bot.store.nudges import NudgeRound, NudgeSettings
from bot.store.schedule import Schedule
from scheduler.planner import plan_due
from tests.conftest import Clock, onboard
from tests.nudge_helpers import MBO, VMBO, add_member, chat_for
from tests.scheduler_fakes import utc

HOLIDAYS = load_holidays()
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Sessions = async_sessionmaker[Any]


async def lead(sessions: Sessions, chat: MemoryChat, language: str = "Nederlands") -> None:
    """The chat's person, onboarded and made project leader."""
    await onboard(chat, language=language)
    async with sessions() as session, session.begin():
        me = await session.scalar(select(Member).where(Member.user_ref == chat.user))
        assert me is not None
        me.role = "leader"


async def scheduled(sessions: Sessions, partnership: Partnership, now: datetime,
                    **changes: Any) -> None:
    """What an operator's `achtje schedule set` does."""
    async with sessions() as session, session.begin():
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        await configure(session, HOLIDAYS, found, Changes(**changes), now)


async def next_send(sessions: Sessions, kind: str) -> str:
    async with sessions() as session:
        row = await session.scalar(select(Schedule).where(Schedule.kind == kind))
        assert row is not None and row.next_run_at is not None
        return row.next_run_at.astimezone(AMSTERDAM).strftime("%a %Y-%m-%d %H:%M")


def texts(replies: list[Reply]) -> list[str]:
    return [reply.text for reply in replies if isinstance(reply, Text)]


def coming(replies: list[Reply]) -> list[str]:
    """The lines of the "what goes out" message."""
    found = [text for text in texts(replies) if text.startswith(("De komende", "The next"))]
    assert len(found) == 1, texts(replies)
    return found[0].splitlines()[1:]


def labels(reply: Reply) -> list[str]:
    assert isinstance(reply, Choice)
    return [option.label for option in reply.options]


async def test_only_project_leaders_see_or_change_the_schedule(
    sessions: Sessions, content: Content, partnership: Partnership, chat: MemoryChat,
) -> None:
    await onboard(chat)
    refused = [Text(text=content.text("leaders_only", "nl"))]
    assert await chat.say("rooster") == refused
    assert await chat.say("schedule") == refused
    assert await chat.press_value(f"sch:{partnership.id}:set:cadence_weeks:1") == refused
    assert await chat.press_value(f"sch:{partnership.id}:start") == refused
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Schedule)) == 0


async def test_a_leader_starts_the_default_schedule_and_sees_what_goes_out(
    sessions: Sessions, content: Content, partnership: Partnership, chat: MemoryChat,
) -> None:
    await lead(sessions, chat)
    shown = await chat.say("rooster")
    overview = texts(shown)[0].splitlines()
    assert overview == [
        "Het rooster van Demo Zorg & Welzijn:",
        content.text("sched_chat_not_started", "nl"),
        "- Check-in: om de 2 weken op dinsdag om 15:30",
        "- Herinnering: 24 uur na de check-in, voor wie nog niet alles heeft ingevuld",
        "- Check-in in een vakantie of op een vrije dag: naar de eerste schooldag erna",
        "- Koffiekoppels: om de 2 weken op dinsdag om 15:30",
        "- Samenvatting voor projectleiders: eerste schooldag van de maand om 08:30",
        "Berichten gaan alleen op schooldagen tussen 08:00 en 18:00, buiten de vakanties van "
        "regio midden en de feestdagen.",
    ]
    assert labels(shown[-1])[0] == "Rooster starten" and labels(shown[-1])[-1] == "Klaar"

    started = await chat.say("1")  # typed: the first option
    assert texts(started)[0] == content.text("sched_chat_saved", "nl")
    assert content.text("sched_chat_not_started", "nl") not in texts(started)[1]
    # It is Tuesday 24 November, 15:30: this week's check-in time has just passed.
    assert await next_send(sessions, "checkin") == "Tue 2026-12-08 15:30"
    assert coming(started) == [
        "- di 1 december 2026 08:30 samenvatting: gaat uit",
        "- di 1 december 2026 15:30 koffiekoppels: gaat uit",
        "- di 8 december 2026 15:30 check-in: gaat uit",
        "- wo 9 december 2026 15:30 herinnering: gaat uit",
        "- di 15 december 2026 15:30 koffiekoppels: gaat uit",
    ]
    assert "Rooster starten" not in labels(started[-1])

    assert await chat.press("Klaar") == [Text(text=content.text("sched_chat_done", "nl"))]
    assert await chat.say("2") == [Text(text=content.text("unknown", "nl"))]


async def test_a_new_day_and_a_typed_time_move_the_next_check_in(
    sessions: Sessions, content: Content, partnership: Partnership, chat: MemoryChat,
    clock: Clock,
) -> None:
    await scheduled(sessions, partnership, clock.now, first=date(2026, 12, 8))
    await lead(sessions, chat)
    await chat.say("rooster")
    days = await chat.press("Dag check-in")
    assert labels(days[0]) == ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag",
                               "Terug"]
    moved = await chat.say("donderdag")
    assert "- Check-in: om de 2 weken op donderdag om 15:30" in texts(moved)[1]
    assert await next_send(sessions, "checkin") == "Thu 2026-12-10 15:30"
    assert "- do 10 december 2026 15:30 check-in: gaat uit" in coming(moved)

    asked = await chat.press("Tijd check-in")
    assert asked == [FreeText(prompt=content.text("sched_chat_ask_checkin_time", "nl",
                                                  start="08:00", end="18:00"),
                              skip=chat.find_option("Terug"))]
    assert await chat.say("na de lunch") == [FreeText(
        prompt=content.text("sched_chat_bad_time", "nl", start="08:00", end="18:00"),
        skip=chat.find_option("Terug"))]
    late = await chat.say("19:00")
    assert isinstance(late[0], FreeText) and late[0].prompt.startswith(
        "19:00 valt buiten schooltijd")
    assert await next_send(sessions, "checkin") == "Thu 2026-12-10 15:30"

    saved = await chat.say("16.15")
    assert texts(saved)[0] == content.text("sched_chat_saved", "nl")
    assert await next_send(sessions, "checkin") == "Thu 2026-12-10 16:15"
    assert coming(saved)[:3] == [
        "- di 1 december 2026 08:30 samenvatting: gaat uit",
        "- do 10 december 2026 16:15 check-in: gaat uit",
        "- vr 11 december 2026 16:15 herinnering: gaat uit",
    ]
    # Back from a question leaves everything as it was.
    await chat.press("Tijd samenvatting")
    back = await chat.press("Terug")
    assert texts(back)[0].startswith("Het rooster van") and labels(back[-1])[-1] == "Klaar"
    assert await next_send(sessions, "summary") == "Tue 2026-12-01 08:30"


async def test_how_often_reminders_and_holidays_by_buttons_in_english(
    sessions: Sessions, content: Content, partnership: Partnership, chat: MemoryChat,
    clock: Clock,
) -> None:
    clock.now = utc(2026, 12, 7, 9)  # Monday morning
    await scheduled(sessions, partnership, clock.now, first=date(2026, 12, 1),
                    closed_days={date(2026, 12, 15): "study day"})
    await lead(sessions, chat, language="Engels (English)")
    shown = await chat.say("schedule")
    assert ("- Tu 15 December 2026 15:30 check-in: moved to We 16 December 2026 15:30 (the "
            "schools are closed: study day)") in coming(shown)

    await chat.press("Check-in in a holiday")
    skipped = await chat.press("Skip it")
    assert ("- Check-in in a holiday or on a day off: skipped" in texts(skipped)[1])
    assert ("- Tu 15 December 2026 15:30 check-in: skipped (the schools are closed: study day)"
            in coming(skipped))

    asked = await chat.press("How often check-in")
    assert labels(asked[0]) == ["Every week", "Every 2 weeks", "Every 3 weeks",
                                "Every 4 weeks", "Back"]
    weekly = await chat.say("every week")  # the label, typed
    assert "- Check-in: every week on Tuesday at 15:30" in texts(weekly)[1]
    assert "- Tu 8 December 2026 15:30 check-in: goes out" in coming(weekly)
    assert "- We 9 December 2026 15:30 reminder: goes out" in coming(weekly)

    await chat.press("Reminder")
    quiet = await chat.press("No reminder")
    assert "- Reminder: none" in texts(quiet)[1]
    assert not [line for line in coming(quiet) if "reminder" in line]
    async with sessions() as session:
        checkin = await session.scalar(select(Schedule).where(Schedule.kind == "checkin"))
        assert checkin is not None and (checkin.cadence_weeks, checkin.reminder_hours) == (1, 0)


async def test_nudges_switched_off_in_chat_are_off_for_the_whole_partnership(
    sessions: Sessions, content: Content, partnership: Partnership, chat: MemoryChat,
    clock: Clock,
) -> None:
    await scheduled(sessions, partnership, clock.now, first=date(2026, 11, 17))
    for user, school in (("bram", MBO), ("cas", VMBO), ("dirk", MBO)):
        await add_member(sessions, partnership, user, school, clock.now)
    await lead(sessions, chat)
    await chat.say("rooster")
    asked = await chat.press("Koffiekoppels")
    assert labels(asked[0])[-2:] == ["Koffiekoppels uitzetten", "Terug"]
    off = await chat.press("Koffiekoppels uitzetten")
    assert "- Koffiekoppels: staan uit" in texts(off)[1]
    assert ("- di 8 december 2026 15:30 koffiekoppels: overgeslagen (de koffiekoppels staan uit)"
            in coming(off))
    async with sessions() as session:
        setting = await session.get(NudgeSettings, partnership.id)
        assert setting is not None and setting.enabled is False
    # The same switch as `achtje nudge settings --off`: koffie says so, no round is planned.
    assert (await chat_for(chat.engine, "bram").say("koffie aan"))[-1] == Text(
        text=content.text("coffee_partnership_off", "nl"))
    await plan_due(sessions, content, HOLIDAYS, utc(2026, 12, 8, 14, 30))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(NudgeRound)) == 0

    await chat.say("rooster")
    await chat.press("Koffiekoppels")
    every_week = await chat.press("Elke week")
    assert "- Koffiekoppels: staan uit" in texts(every_week)[1]
    await chat.press("Koffiekoppels")
    on = await chat.press("Koffiekoppels aanzetten")
    assert "- Koffiekoppels: elke week op dinsdag om 15:30" in texts(on)[1]
    assert "- di 15 december 2026 15:30 koffiekoppels: gaat uit" in coming(on)


async def test_button_values_typed_by_hand_change_nothing(
    sessions: Sessions, content: Content, partnership: Partnership, chat: MemoryChat,
    clock: Clock,
) -> None:
    await scheduled(sessions, partnership, clock.now, first=date(2026, 12, 8))
    await lead(sessions, chat)
    stale = [Text(text=content.text("stale_button", "nl"))]
    for value in ("set:cadence_weeks:9", "set:day_start:07", "set:checkin_time:19",
                  "ask:grace_minutes", "set:holiday_policy:later", "later"):
        assert await chat.press_value(f"sch:{partnership.id}:{value}") == stale, value
    assert await chat.press_value("sch:set:cadence_weeks:1") == stale  # no partnership
    assert await next_send(sessions, "checkin") == "Tue 2026-12-08 15:30"


async def test_a_leader_of_two_partnerships_changes_the_one_they_asked_about(
    sessions: Sessions, content: Content, partnership: Partnership, engine: Any,
    chat: MemoryChat, clock: Clock,
) -> None:
    """Asked in the second partnership's group, the schedule is answered privately; the
    presses and the typed time arrive in the private chat, which is about the person's
    first membership, and still change the second partnership only."""
    await lead(sessions, chat)
    carl = chat_for(engine, "carl")
    await onboard(carl)  # first: with two partnerships a stranger is not enrolled
    async with sessions() as session, session.begin():
        second = await create_demo_partnership(session, clock.now, "test", "group-2")
        session.add(Member(partnership_id=second.id, platform="test", user_ref=chat.user,
                           display_name="Anna", school_id=second.schools[0].id,
                           level="teachers", role="leader", created_at=clock.now,
                           onboarded_at=clock.now))
        bea = Member(partnership_id=second.id, platform="test", user_ref="bea",
                     display_name="Bea", school_id=second.schools[0].id, level="teachers",
                     created_at=clock.now, onboarded_at=clock.now)
        session.add(bea)
    group = MemoryChat(engine, user=chat.user, chat="group-2", direct=False)
    shown = await group.say("rooster")
    assert all(reply.private for reply in shown)
    await chat.press_value(group.find_option("Rooster starten").value)
    await chat.press("Tijd check-in")
    await chat.say("16:15")
    async with sessions() as session:
        rows = {(row.partnership_id, row.kind): row.local_time
                for row in await session.scalars(select(Schedule))}
    assert rows == {(second.id, "checkin"): "16:15", (second.id, "nudge"): "15:30",
                    (second.id, "summary"): "08:30"}

    # A member of the second partnership may not; someone outside it gets a stale button.
    stale = [Text(text=content.text("stale_button", "nl"))]
    for other, expected in ((chat_for(engine, "bea"),
                             [Text(text=content.text("leaders_only", "nl"))]),
                            (carl, stale)):
        assert await other.press_value(f"sch:{second.id}:set:cadence_weeks:1") == expected
    async with sessions() as session:
        checkin = await session.scalar(select(Schedule).where(
            Schedule.partnership_id == second.id, Schedule.kind == "checkin"))
        assert checkin is not None and checkin.cadence_weeks == 2


async def test_the_chat_reads_the_holidays_next_to_its_content(
    sessions: Sessions, partnership: Partnership, clock: Clock, tmp_path: Path,
) -> None:
    """A deployment's own content folder (`ACHTJE_CONTENT_DIR`) brings its own holidays;
    `rooster` shows the schedule by those, as the planner plans it."""
    folder = tmp_path / "content"
    shutil.copytree(default_dir(), folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    holidays = folder / "holidays.yaml"
    holidays.write_text(holidays.read_text(encoding="utf-8").replace(
        "midden: [2026-12-19, 2027-01-03]", "midden: [2026-12-05, 2027-01-03]"),
        encoding="utf-8")
    await scheduled(sessions, partnership, clock.now, first=date(2026, 12, 8))
    chat = MemoryChat(Engine(sessions, load_content(folder), clock, enrol_strangers=True))
    await lead(sessions, chat)
    shown = await chat.say("rooster")
    assert coming(shown)[1].startswith(
        "- di 8 december 2026 15:30 check-in: overgeslagen (kerstvakantie (regio midden)")
