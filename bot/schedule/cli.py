"""`achtje schedule preview` and `achtje schedule set`: what goes out when, and changing it.

The preview itself (`bot/schedule/preview.py`) is shared with the `rooster` command in chat;
changing goes through `bot.schedule.rules.configure`, as in chat.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commandline import fail
from bot.content import Content, ContentError, load_content
from bot.domain import LANGS
from bot.schedule.holidays import HolidayCalendar, HolidayError, load_holidays
from bot.schedule.preview import preview, render_preview
from bot.schedule.rules import REGULAR_KINDS, Changes, ScheduleError, configure
from bot.settings import Settings
from bot.store import db
from bot.store.models import Partnership

T = TypeVar("T")
WEEKDAYS = {name: n for n, names in enumerate((
    ("monday", "mon", "maandag", "ma"), ("tuesday", "tue", "dinsdag", "di"),
    ("wednesday", "wed", "woensdag", "wo"), ("thursday", "thu", "donderdag", "do"),
    ("friday", "fri", "vrijdag", "vr"),
)) for name in names}


# The command line.

schedule_app = typer.Typer(help="When check-ins, reminders, nudges and summaries go out.")


def _run(work: Callable[[AsyncSession, Content, HolidayCalendar], Awaitable[T]]) -> T:
    settings = Settings()
    logging.basicConfig(level=(settings.log_level or "WARNING").upper(), stream=sys.stderr)
    try:
        content = load_content(settings.content_dir)
        holidays = load_holidays(content.folder)
    except (ContentError, HolidayError) as exc:
        raise fail(f"content is not valid:\n{exc}") from exc

    async def go() -> T:
        engine, sessions = await db.connect(settings.database_url)
        try:
            async with sessions() as session, session.begin():
                return await work(session, content, holidays)
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def _partnership(session: AsyncSession, partnership_id: int) -> Partnership:
    found = await session.get(Partnership, partnership_id)
    if found is None:
        raise fail(f"no partnership with id {partnership_id}")
    return found


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise fail(f"{option} must look like 2026-09-01, not {text!r}") from exc


def _weekday(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    if text.strip().lower() not in WEEKDAYS:
        raise fail(f"{option} must be a school day: monday to friday (or maandag to vrijdag)")
    return WEEKDAYS[text.strip().lower()]


@schedule_app.command("preview")
def preview_command(
    partnership: Annotated[int, typer.Option(help="Partnership id.")],
    from_: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD; "
                                              "default today.")] = None,
    weeks: Annotated[int, typer.Option(min=1, max=60, help="How many weeks to show.")] = 8,
    lang: Annotated[str | None, typer.Option(help="nl or en; default the partnership's.")]
    = None,
) -> None:
    """Print what goes out when, in local time, with the reason for each skip or move."""
    if lang is not None and lang not in LANGS:
        raise fail(f"--lang must be {' or '.join(LANGS)}")
    now = datetime.now(UTC)

    async def work(session: AsyncSession, content: Content, holidays: HolidayCalendar) -> str:
        found = await _partnership(session, partnership)
        first = _day(from_, "--from") if from_ else now.date()
        plan, lines = await preview(session, holidays, found, first, weeks, now)
        return render_preview(content, plan, lines, first, weeks, lang or found.language)

    typer.echo(_run(work))


@schedule_app.command("set")
def set_command(
    partnership: Annotated[int, typer.Option(help="Partnership id.")],
    checkin_weekday: Annotated[str | None, typer.Option(help="monday .. friday.")] = None,
    checkin_time: Annotated[str | None, typer.Option(help="Local time, HH:MM.")] = None,
    cadence_weeks: Annotated[int | None, typer.Option(help="Check-in every N weeks.")] = None,
    first: Annotated[str | None, typer.Option(help="Date of a check-in, YYYY-MM-DD: the "
                                              "cadence counts from its week.")] = None,
    reminder_hours: Annotated[int | None, typer.Option(help="Reminder after N hours; 0: none.")]
    = None,
    checkins: Annotated[bool | None, typer.Option(help="Scheduled check-ins on or off.")]
    = None,
    nudge_weekday: Annotated[str | None, typer.Option(help="monday .. friday.")] = None,
    nudge_time: Annotated[str | None, typer.Option(help="Local time, HH:MM.")] = None,
    nudge_cadence_weeks: Annotated[int | None, typer.Option(help="Every N weeks.")] = None,
    nudges: Annotated[bool | None, typer.Option(help="Nudges on or off for the partnership: "
                                                "the same switch as `achtje nudge settings "
                                                "--on/--off`.")] = None,
    summary_time: Annotated[str | None, typer.Option(help="Local time, HH:MM.")] = None,
    summaries: Annotated[bool | None, typer.Option(help="Monthly summaries on or off.")]
    = None,
    day_start: Annotated[str | None, typer.Option(help="No messages before, HH:MM.")] = None,
    day_end: Annotated[str | None, typer.Option(help="No messages from, HH:MM.")] = None,
    holiday_policy: Annotated[str | None, typer.Option(help="A check-in on a closed day: "
                                                       "move or skip.")] = None,
    grace_minutes: Annotated[int | None, typer.Option(help="After downtime, still send "
                                                      "what is at most this late.")] = None,
    closed_day: Annotated[list[str] | None, typer.Option(help="YYYY-MM-DD[:note], a day the "
                                                         "schools are closed; repeat.")] = None,
    open_day: Annotated[list[str] | None, typer.Option(help="YYYY-MM-DD: remove a closed "
                                                       "day; repeat.")] = None,
) -> None:
    """Create or change a partnership's schedule (defaults apply to what is not given)."""
    now = datetime.now(UTC)
    closed = {}
    for given in closed_day or []:
        day, _, note = given.partition(":")
        closed[_day(day, "--closed-day")] = note.strip()
    changes = Changes(
        checkin_weekday=_weekday(checkin_weekday, "--checkin-weekday"),
        checkin_time=checkin_time, cadence_weeks=cadence_weeks,
        first=_day(first, "--first") if first else None, reminder_hours=reminder_hours,
        checkins=checkins, nudge_weekday=_weekday(nudge_weekday, "--nudge-weekday"),
        nudge_time=nudge_time, nudge_cadence_weeks=nudge_cadence_weeks, nudges=nudges,
        summary_time=summary_time, summaries=summaries, day_start=day_start, day_end=day_end,
        holiday_policy=holiday_policy, grace_minutes=grace_minutes, closed_days=closed,
        open_days=[_day(d, "--open-day") for d in open_day or []],
    )

    async def work(session: AsyncSession, content: Content, holidays: HolidayCalendar) -> str:
        found = await _partnership(session, partnership)
        try:
            plan = await configure(session, holidays, found, changes, now)
        except ScheduleError as exc:
            raise fail(str(exc)) from exc
        lines = [f"schedule of partnership {found.id} saved; next sends (local time):"]
        for kind in REGULAR_KINDS:
            row = plan.schedules[kind]
            when = (plan.calendar.local(row.next_run_at).strftime("%a %d-%m-%Y %H:%M")
                    if row.next_run_at else "-")
            lines.append(f"  {kind:<8} {when}" + ("" if plan.sends(kind) else " (off)"))
        return "\n".join(lines)

    typer.echo(_run(work))
