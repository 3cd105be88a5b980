"""`achtje schedule preview`: what goes out when, with the reason for every move or skip."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.schedule.holidays import load_holidays
from bot.schedule.preview import preview, render_preview
from bot.schedule.rules import Changes, configure
from bot.store.models import Partnership
from scheduler.planner import plan_due
from tests.conftest import without_settings
from tests.scheduler_fakes import add_members, utc

HOLIDAYS = load_holidays()
ACHTJE = Path(sys.executable).with_name("achtje")


async def preview_text(
    sessions: async_sessionmaker[Any], content: Content, partnership_id: int, start: date,
    weeks: int, lang: str = "nl", **changes: Any,
) -> list[str]:
    now = utc(2026, 12, 1, 10)
    async with sessions() as session, session.begin():
        partnership = await session.get(Partnership, partnership_id)
        assert partnership is not None
        await configure(session, HOLIDAYS, partnership, Changes(**changes), now)
        plan, lines = await preview(session, HOLIDAYS, partnership, start, weeks, now)
    return render_preview(content, plan, lines, start, weeks, lang).splitlines()


def line(lines: list[str], start: str, kind: str) -> str:
    found = [text for text in lines if text.startswith(start) and kind in text]
    assert len(found) == 1, f"{start} {kind} in:\n" + "\n".join(lines)
    return found[0]


async def test_the_preview_shows_moves_skips_pauses_and_their_reasons(
    sessions: async_sessionmaker[Any], content: Content, partnership: Partnership
) -> None:
    async with sessions() as session, session.begin():
        add_members(session, partnership.id, 3, "test")
        add_members(session, partnership.id, 1, "test", start=4, paused_until=date(2027, 1, 1))
        add_members(session, partnership.id, 1, "test", start=5, role="leader")
    lines = await preview_text(sessions, content, partnership.id, date(2026, 12, 7), 7,
                               first=date(2026, 12, 8),
                               closed_days={date(2027, 1, 19): "studiedag"})

    assert lines[0].startswith("Demo Zorg & Welzijn: wat er uitgaat van 7 december 2026 tot en met "
                               "24 januari 2027. Regio midden")
    assert "gaat uit" in line(lines, "di 8 december 2026 15:30", "check-in")
    assert "4 ontvangers (1 met pauze)" in line(lines, "di 8 december 2026 15:30", "check-in")
    assert "gaat uit" in line(lines, "wo 9 december 2026 15:30", "herinnering")
    assert "gaat uit" in line(lines, "di 15 december 2026 15:30", "koffiekoppels")
    christmas = line(lines, "di 22 december 2026 15:30", "check-in")
    assert "overgeslagen" in christmas
    assert christmas.endswith("kerstvakantie (regio midden); de volgende volgt er te snel op")
    nudge = line(lines, "di 29 december 2026 15:30", "koffiekoppels")
    assert "overgeslagen" in nudge and nudge.endswith("kerstvakantie (regio midden)")
    summary = line(lines, "vr 1 januari 2027 08:30", "samenvatting")
    assert "verschoven naar ma 4 januari 2027 08:30" in summary and "1 ontvanger" in summary \
        and "1 ontvangers" not in summary
    assert "5 ontvangers" in line(lines, "di 5 januari 2027 15:30", "check-in")  # pause over
    studiedag = line(lines, "di 19 januari 2027 15:30", "check-in")
    assert "verschoven naar wo 20 januari 2027 15:30" in studiedag
    assert studiedag.endswith("vrije dag van de scholen: studiedag")
    assert "gaat uit" in line(lines, "do 21 januari 2027 15:30", "herinnering")


async def test_the_preview_in_english_with_a_reminder_outside_school_hours(
    sessions: async_sessionmaker[Any], content: Content, partnership: Partnership
) -> None:
    lines = await preview_text(sessions, content, partnership.id, date(2026, 12, 7), 1, "en",
                               first=date(2026, 12, 11), reminder_hours=4,
                               holiday_policy="skip")
    assert lines[0].endswith("school hours 08:00-18:00, check-in in a holiday: skip.")
    assert "goes out" in line(lines, "Fr 11 December 2026 15:30", "check-in")
    reminder = line(lines, "Fr 11 December 2026 19:30", "reminder")
    assert "moved to Mo 14 December 2026 08:00" in reminder
    assert reminder.endswith("outside school hours (08:00-18:00); weekend")


async def test_the_preview_follows_the_partnerships_holiday_region(
    sessions: async_sessionmaker[Any], content: Content, partnership: Partnership
) -> None:
    async with sessions() as session, session.begin():
        south = Partnership(name="Zuid", region="zuid", created_at=utc(2025, 9, 1))
        session.add(south)
        await session.flush()
        south_id = south.id
    kwargs = {"first": date(2025, 10, 14), "cadence_weeks": 1, "holiday_policy": "skip"}
    middle = await preview_text(sessions, content, partnership.id, date(2025, 10, 13), 2,
                                **kwargs)
    zuid = await preview_text(sessions, content, south_id, date(2025, 10, 13), 2, **kwargs)
    assert "gaat uit" in line(middle, "di 14 oktober 2025", "check-in")
    assert "herfstvakantie (regio midden)" in line(middle, "di 21 oktober 2025", "check-in")
    assert "herfstvakantie (regio zuid)" in line(zuid, "di 14 oktober 2025", "check-in")
    assert "gaat uit" in line(zuid, "di 21 oktober 2025", "check-in")


def achtje(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = without_settings()
    env["ACHTJE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    return subprocess.run([str(ACHTJE), *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False)


def test_an_operator_sets_and_previews_a_schedule(tmp_path: Path) -> None:
    created = achtje(tmp_path, "partnership", "create", "--name", "Groen Noord", "--school",
                     "Vmbo Wad:vmbo", "--school", "AOC Terra:mbo", "--region", "noord")
    assert created.returncode == 0, created.stderr
    wrong = achtje(tmp_path, "schedule", "set", "--partnership", "1", "--checkin-time", "19:00")
    assert wrong.returncode == 1 and "outside school hours 08:00-18:00" in wrong.stderr
    missing = achtje(tmp_path, "schedule", "preview", "--partnership", "7")
    assert missing.returncode == 1 and "no partnership with id 7" in missing.stderr

    saved = achtje(tmp_path, "schedule", "set", "--partnership", "1", "--first", "2030-09-03",
                   "--checkin-weekday", "donderdag", "--checkin-time", "10:15",
                   "--closed-day", "2030-09-19:studiedag", "--cadence-weeks", "1")
    assert saved.returncode == 0, saved.stderr
    assert "checkin  Thu 05-09-2030 10:15" in saved.stdout
    shown = achtje(tmp_path, "schedule", "preview", "--partnership", "1", "--from",
                   "2030-09-02", "--weeks", "3")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "gaat uit" in line(lines, "do 5 september 2030 10:15", "check-in")
    # No holiday dates for 2030 yet: the preview says so, and still keeps closed days.
    assert "geen vakantiedata" in line(lines, "do 12 september 2030 10:15", "check-in")
    assert "vrije dag van de scholen: studiedag" in line(lines, "do 19 september 2030 10:15",
                                                         "check-in")
    assert date(2030, 9, 5) + timedelta(weeks=2) == date(2030, 9, 19)



async def test_the_preview_keeps_the_open_rounds_reminder_after_its_check_in(
    sessions: async_sessionmaker[Any], content: Content, partnership: Partnership
) -> None:
    """At 16:00 on check-in day (what `rooster` shows) and from the next day on (a preview
    of a period that starts after the check-in): its reminder is still to come."""
    check_in = utc(2026, 11, 24, 14, 30)  # Tuesday 15:30 local
    async with sessions() as session, session.begin():
        add_members(session, partnership.id, 2, "test")
    async with sessions() as session, session.begin():
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        await configure(session, HOLIDAYS, found, Changes(first=date(2026, 11, 24)),
                        check_in - timedelta(days=1))
    assert await plan_due(sessions, content, HOLIDAYS, check_in) == 2
    async with sessions() as session:
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        for first, now, later_than in (
                (date(2026, 11, 24), check_in + timedelta(minutes=30), True),
                (date(2026, 11, 25), check_in + timedelta(minutes=30), False)):
            plan, lines = await preview(session, HOLIDAYS, found, first, 3, now,
                                        later_than=now if later_than else None)
            shown = render_preview(content, plan, lines, first, 3, "nl").splitlines()
            assert "gaat uit" in line(shown, "wo 25 november 2026 15:30", "herinnering")
            assert not [text for text in shown if text.startswith("di 24 november 2026")]
            assert "gaat uit" in line(shown, "di 8 december 2026 15:30", "check-in")
    # Once sent, it is gone from the preview.
    await plan_due(sessions, content, HOLIDAYS, check_in + timedelta(days=1))
    async with sessions() as session:
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        now = check_in + timedelta(days=1, minutes=1)
        _, lines = await preview(session, HOLIDAYS, found, date(2026, 11, 25), 2, now,
                                 later_than=now)
        assert [(shown.kind, shown.planned.day) for shown in lines][:1] == [("summary", 1)]
