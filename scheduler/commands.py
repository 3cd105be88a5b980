"""`achtje schedule preview` and `achtje schedule set`: what goes out when, and changing it.

The preview is what project leaders ask for: every send in a period in local time, with
the reason for each one that is moved or skipped, in the partnership's language. It uses
the same calendar code as the planner, so it shows what will really happen.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, TypeVar

import typer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commandline import fail
from bot.content import Content, ContentError, load_content
from bot.rounds import ROUND_DURATION
from bot.settings import Settings
from bot.store import db
from bot.store.models import Member, Partnership
from scheduler.calendar import Closure, slots_from
from scheduler.holidays import HolidayCalendar, HolidayError, load_holidays
from scheduler.planner import eligible_members
from scheduler.rules import REGULAR_KINDS, Changes, PartnershipPlan, ScheduleError, configure
from scheduler.rules import load_plan as load_partnership_plan

T = TypeVar("T")
WEEKDAYS = {name: n for n, names in enumerate((
    ("monday", "mon", "maandag", "ma"), ("tuesday", "tue", "dinsdag", "di"),
    ("wednesday", "wed", "woensdag", "wo"), ("thursday", "thu", "donderdag", "do"),
    ("friday", "fri", "vrijdag", "vr"),
)) for name in names}


@dataclass(frozen=True)
class PreviewLine:
    """One send in the preview: when it was due, what happens, to how many, and why."""

    planned: datetime  # local
    kind: str
    status: str  # send / moved / skipped
    send_at: datetime | None  # local
    reasons: tuple[Closure, ...]
    recipients: int | None = None
    paused: int = 0


async def preview(
    session: AsyncSession, holidays: HolidayCalendar, partnership: Partnership,
    first: date, weeks: int, now: datetime,
) -> tuple[PartnershipPlan, list[PreviewLine]]:
    """Every regular send from `first` for `weeks` weeks, with reminders after check-ins."""
    plan = await load_partnership_plan(session, holidays, partnership, now)
    calendar, last = plan.calendar, first + timedelta(weeks=weeks) - timedelta(days=1)
    lines: list[PreviewLine] = []
    for kind in REGULAR_KINDS:
        rule = plan.rule(kind)
        if rule is None:
            continue
        for slot in slots_from(rule, calendar, plan.policy(kind), first):
            if slot.nominal > last:
                break
            reasons = tuple(r for r in (slot.reason, slot.also) if r is not None)
            if not holidays.covers(slot.nominal):
                reasons += (Closure("no_data"),)
            status = "skipped" if slot.send_at is None else "moved" if slot.moved else "send"
            send_at = calendar.local(slot.send_at) if slot.send_at else None
            count, paused = await _recipients(session, partnership.id, kind,
                                              (send_at or calendar.local(slot.planned)).date())
            lines.append(PreviewLine(calendar.local(slot.planned), kind, status, send_at,
                                     reasons, count, paused))
            if kind == "checkin" and slot.send_at is not None:
                lines.append(_reminder_line(plan, slot.send_at))
    return plan, sorted(lines, key=lambda line: (line.planned, line.kind))


def _reminder_line(plan: PartnershipPlan, opened: datetime) -> PreviewLine:
    calendar = plan.calendar
    hours = plan.schedules["checkin"].reminder_hours or 0
    planned = opened + timedelta(hours=hours)
    send_at, reason = calendar.next_open(planned)
    reasons = (reason,) if reason else ()
    if send_at is None or send_at >= opened + ROUND_DURATION:
        return PreviewLine(calendar.local(planned), "reminder", "skipped", None,
                           (*reasons, Closure("round_closed")))
    status = "send" if send_at == planned else "moved"
    return PreviewLine(calendar.local(planned), "reminder", status, calendar.local(send_at),
                       reasons)


async def _recipients(
    session: AsyncSession, partnership_id: int, kind: str, day: date
) -> tuple[int | None, int]:
    if kind not in ("checkin", "summary"):
        return None, 0
    role = "leader" if kind == "summary" else None
    count = len(await eligible_members(session, partnership_id, day, role))
    query = select(func.count()).select_from(Member).where(
        Member.partnership_id == partnership_id, Member.onboarded_at.is_not(None),
        Member.unreachable_at.is_(None), Member.paused_until > day)
    if role:
        query = query.where(Member.role == role)
    return count, int(await session.scalar(query) or 0)


def render_preview(
    content: Content, plan: PartnershipPlan, lines: list[PreviewLine], first: date,
    weeks: int, lang: str,
) -> str:
    settings, calendar = plan.settings, plan.calendar

    def t(key: str, **values: object) -> str:
        return content.text(key, lang, **values)

    def moment(when: datetime) -> str:
        return f"{t(f'sched_weekday_{when.weekday()}')[:2]} {when:%d-%m-%Y %H:%M}"

    def reason(closure: Closure) -> str:
        if closure.code == "holiday":
            return t("sched_reason_holiday", region=plan.partnership.region,
                     holiday=content_holiday(closure.detail))
        if closure.code == "closed_day":
            return t("sched_reason_closed_day", note=closure.detail or "-")
        if closure.code == "quiet_hours":
            return t("sched_reason_quiet_hours", start=settings.day_start, end=settings.day_end)
        return t(f"sched_reason_{closure.code}")

    def content_holiday(name: str) -> str:
        return plan.calendar.holidays.names[name].get(lang)

    last = first + timedelta(weeks=weeks) - timedelta(days=1)
    out = [t("sched_preview_title", partnership=plan.partnership.name,
             first=first.strftime("%d-%m-%Y"), last=last.strftime("%d-%m-%Y"),
             region=plan.partnership.region, zone=calendar.zone.key, start=settings.day_start,
             end=settings.day_end, policy=t(f"sched_policy_{settings.holiday_policy}")), ""]
    if not lines:
        return "\n".join([*out, t("sched_preview_empty")])
    table = [("when", "kind", "status", "to", "reason")]
    for line in lines:
        if line.status == "moved" and line.send_at is not None:
            status = t("sched_status_moved", when=moment(line.send_at))
        else:
            status = t(f"sched_status_{line.status}")
        if line.status == "skipped":
            to = "-"
        elif line.recipients is None:
            to = t("sched_recipients_unanswered") if line.kind == "reminder" else "-"
        elif line.paused:
            to = t("sched_recipients_paused", count=line.recipients, paused=line.paused)
        else:
            to = t("sched_recipients", count=line.recipients)
        table.append((moment(line.planned), t(f"sched_kind_{line.kind}"), status, to,
                      "; ".join(reason(r) for r in line.reasons)))
    widths = [max(len(row[n]) for row in table) for n in range(4)]
    for row in table:
        out.append("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)),
                              row[4]]).rstrip())
    return "\n".join(out)


# The command line.

schedule_app = typer.Typer(help="When check-ins, reminders, nudges and summaries go out.")


def _run(work: Callable[[AsyncSession, Content, HolidayCalendar], Awaitable[T]]) -> T:
    settings = Settings()
    logging.basicConfig(level=(settings.log_level or "WARNING").upper(), stream=sys.stderr)
    try:
        content = load_content(settings.content_dir)
        holidays = load_holidays(settings.content_dir)
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
    now = datetime.now(UTC)

    async def work(session: AsyncSession, content: Content, holidays: HolidayCalendar) -> str:
        found = await _partnership(session, partnership)
        first = _day(from_, "--from") if from_ else now.date()
        plan, lines = await preview(session, holidays, found, first, weeks, now)
        return render_preview(content, plan, lines, first, weeks,
                              lang if lang in ("nl", "en") else found.language)

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
    nudges: Annotated[bool | None, typer.Option(help="Nudges on or off.")] = None,
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
            lines.append(f"  {kind:<8} {when}" + ("" if row.enabled else " (off)"))
        return "\n".join(lines)

    typer.echo(_run(work))
