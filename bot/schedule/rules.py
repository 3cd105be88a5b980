"""A partnership's schedule: the defaults, reading it as a calendar plus rules, changing it.

Defaults (from the issue): a check-in every other Tuesday at 15:30 with one reminder 24
hours later, a contact nudge every other Tuesday in the weeks between, the monthly summary
on the first school day of the month at 08:30, messages only on school days between 08:00
and 18:00, a check-in in a holiday moved to the next school day.

Nudges have one switch: the partnership's nudge setting (`NudgeSettings.enabled`) says
whether they go out, the `nudge` schedule only when. `achtje schedule set --no-nudges`,
`achtje nudge settings --off` and the `rooster` command in chat all change that setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.nudges import records as nudge_records
from bot.schedule.calendar import Recurrence, SchoolCalendar, Slot, next_send, parse_hhmm
from bot.schedule.holidays import HolidayCalendar
from bot.store.models import Partnership
from bot.store.nudges import NudgeSettings
from bot.store.schedule import ClosedDay, Schedule, ScheduleSettings

REGULAR_KINDS = ("checkin", "nudge", "summary")
DEFAULT_WEEKDAY = 1  # Tuesday
DEFAULT_TIME = "15:30"
DEFAULT_CADENCE_WEEKS = 2
DEFAULT_REMINDER_HOURS = 24
SUMMARY_TIME = "08:30"
HOLIDAY_POLICIES = ("move", "skip")


class ScheduleError(ValueError):
    """A setting that cannot work; the message tells the operator what to change."""


@dataclass(frozen=True)
class PartnershipPlan:
    """Everything needed to say when a partnership's messages go out."""

    partnership: Partnership
    settings: ScheduleSettings
    calendar: SchoolCalendar
    schedules: dict[str, Schedule]
    nudges: bool = True  # the partnership's nudge setting: nudges go out at all

    def sends(self, kind: str) -> bool:
        """Whether sends of this kind are switched on."""
        schedule = self.schedules.get(kind)
        on = schedule is not None and schedule.enabled
        return on and (self.nudges or kind != "nudge")

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.settings.grace_minutes)

    def policy(self, kind: str) -> str:
        """Check-ins follow the partnership's choice; nudges skip; summaries move."""
        if kind == "checkin":
            return self.settings.holiday_policy
        return "skip" if kind == "nudge" else "move"

    def rule(self, kind: str) -> Recurrence | None:
        schedule = self.schedules.get(kind)
        if schedule is None or not schedule.enabled or kind not in REGULAR_KINDS:
            return None
        return rule_for(schedule)

    def next_slot(self, kind: str, *, after: date | None = None,
                  later_than: datetime | None = None) -> Slot | None:
        rule = self.rule(kind)
        if rule is None:
            return None
        return next_send(rule, self.calendar, self.policy(kind), after=after,
                         later_than=later_than)


def rule_for(schedule: Schedule) -> Recurrence:
    at = parse_hhmm(schedule.local_time)
    if schedule.kind == "summary":
        return Recurrence("summary", at, monthly=True)
    return Recurrence(
        schedule.kind, at,
        weekday=schedule.weekday if schedule.weekday is not None else DEFAULT_WEEKDAY,
        cadence_weeks=schedule.cadence_weeks or DEFAULT_CADENCE_WEEKS,
        anchor=schedule.anchor or date(2025, 8, 4),
    )


def default_settings(partnership_id: int, now: datetime) -> ScheduleSettings:
    return ScheduleSettings(partnership_id=partnership_id, day_start="08:00", day_end="18:00",
                            holiday_policy="move", grace_minutes=360, updated_at=now)


async def load_plan(
    session: AsyncSession, holidays: HolidayCalendar, partnership: Partnership,
    now: datetime,
) -> PartnershipPlan:
    return (await load_plans(session, holidays, [partnership], now))[partnership.id]


async def load_plans(
    session: AsyncSession, holidays: HolidayCalendar, partnerships: Sequence[Partnership],
    now: datetime,
) -> dict[int, PartnershipPlan]:
    """The plans of several partnerships, by id, in four queries whatever their number."""
    ids = [partnership.id for partnership in partnerships]
    settings = {row.partnership_id: row for row in await session.scalars(
        select(ScheduleSettings).where(ScheduleSettings.partnership_id.in_(ids)))}
    closed: dict[int, dict[date, str]] = {pid: {} for pid in ids}
    for row in await session.scalars(select(ClosedDay).where(ClosedDay.partnership_id.in_(ids))):
        closed[row.partnership_id][row.day] = row.note
    schedules: dict[int, dict[str, Schedule]] = {pid: {} for pid in ids}
    for found in await session.scalars(select(Schedule).where(Schedule.partnership_id.in_(ids))):
        schedules[found.partnership_id][found.kind] = found
    nudges = {row.partnership_id: row.enabled for row in await session.scalars(
        select(NudgeSettings).where(NudgeSettings.partnership_id.in_(ids)))}
    plans = {}
    for partnership in partnerships:
        own = settings.get(partnership.id) or default_settings(partnership.id, now)
        calendar = SchoolCalendar(
            holidays=holidays, region=partnership.region, zone=ZoneInfo(partnership.timezone),
            day_start=parse_hhmm(own.day_start), day_end=parse_hhmm(own.day_end),
            closed_days=closed[partnership.id],
        )
        plans[partnership.id] = PartnershipPlan(partnership, own, calendar,
                                                schedules[partnership.id],
                                                nudges.get(partnership.id, True))
    return plans


@dataclass
class Changes:
    """What `achtje schedule set` or a project leader in chat (`rooster`) changes; None
    keeps. `nudges` is the partnership's nudge setting, not the nudge schedule."""

    checkin_weekday: int | None = None
    checkin_time: str | None = None
    cadence_weeks: int | None = None
    first: date | None = None
    reminder_hours: int | None = None
    checkins: bool | None = None
    nudge_weekday: int | None = None
    nudge_time: str | None = None
    nudge_cadence_weeks: int | None = None
    nudges: bool | None = None
    summary_time: str | None = None
    summaries: bool | None = None
    day_start: str | None = None
    day_end: str | None = None
    holiday_policy: str | None = None
    grace_minutes: int | None = None
    closed_days: dict[date, str] = field(default_factory=dict)
    open_days: list[date] = field(default_factory=list)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ScheduleError(message)


def _time(text: str, name: str) -> str:
    try:
        return parse_hhmm(text).strftime("%H:%M")
    except ValueError as exc:
        raise ScheduleError(f"{name}: {exc}") from exc


async def configure(
    session: AsyncSession, holidays: HolidayCalendar, partnership: Partnership,
    changes: Changes, now: datetime,
) -> PartnershipPlan:
    """Create or change the partnership's schedules and plan the next sends of those whose
    timing changed (or that had none) from `now`; the others keep theirs."""
    settings = await session.get(ScheduleSettings, partnership.id)
    if settings is None:
        settings = default_settings(partnership.id, now)
        session.add(settings)
    existing = {row.kind: row for row in await session.scalars(
        select(Schedule).where(Schedule.partnership_id == partnership.id))}
    before = {kind: _timing(row, settings) for kind, row in existing.items()}
    if changes.day_start is not None:
        settings.day_start = _time(changes.day_start, "--day-start")
    if changes.day_end is not None:
        settings.day_end = _time(changes.day_end, "--day-end")
    _check(settings.day_start < settings.day_end, "school hours must start before they end")
    if changes.holiday_policy is not None:
        _check(changes.holiday_policy in HOLIDAY_POLICIES, "--holiday-policy: move or skip")
        settings.holiday_policy = changes.holiday_policy
    if changes.grace_minutes is not None:
        _check(0 <= changes.grace_minutes <= 24 * 60, "--grace-minutes: 0 to 1440")
        settings.grace_minutes = changes.grace_minutes
    settings.updated_at = now

    local_today = now.astimezone(ZoneInfo(partnership.timezone)).date()
    anchor = local_today - timedelta(days=local_today.weekday())
    if changes.first is not None:
        anchor = changes.first - timedelta(days=changes.first.weekday())
    defaults = default_schedules(partnership.id, anchor, now)
    checkin = existing.get("checkin") or defaults["checkin"]
    nudge = existing.get("nudge") or defaults["nudge"]
    summary = existing.get("summary") or defaults["summary"]
    _apply(checkin, changes.checkin_weekday, changes.checkin_time, changes.cadence_weeks,
           changes.checkins)
    _apply(nudge, changes.nudge_weekday, changes.nudge_time, changes.nudge_cadence_weeks, None)
    if changes.nudges is not None:
        await nudge_records.change_settings(session, partnership.id, now, enabled=changes.nudges)
    _apply(summary, None, changes.summary_time, None, changes.summaries)
    if changes.first is not None:
        _check(changes.first.weekday() < 5 or changes.checkin_weekday is not None,
               "--first: the first check-in must be on a school day, monday to friday")
        checkin.anchor, nudge.anchor = anchor, anchor + timedelta(weeks=1)
        if changes.checkin_weekday is None:
            checkin.weekday = changes.first.weekday()
    if changes.reminder_hours is not None:
        _check(0 <= changes.reminder_hours <= 24 * 6, "--reminder-hours: 0 (none) to 144")
        checkin.reminder_hours = changes.reminder_hours
    for row in (checkin, nudge, summary):
        _check(settings.day_start <= row.local_time < settings.day_end,
               f"the {row.kind} time {row.local_time} is outside school hours "
               f"{settings.day_start}-{settings.day_end}")
        row.updated_at = now
        session.add(row)
    for day, note in changes.closed_days.items():
        if await session.scalar(select(ClosedDay).where(
                ClosedDay.partnership_id == partnership.id, ClosedDay.day == day)) is None:
            session.add(ClosedDay(partnership_id=partnership.id, day=day, note=note[:100]))
    if changes.open_days:
        await session.execute(delete(ClosedDay).where(
            ClosedDay.partnership_id == partnership.id, ClosedDay.day.in_(changes.open_days)))
    await session.flush()
    plan = await load_plan(session, holidays, partnership, now)
    closed_changed = bool(changes.closed_days or changes.open_days)
    for kind in REGULAR_KINDS:
        row = plan.schedules[kind]
        if (row.next_run_at is not None and not closed_changed
                and before.get(kind) == _timing(row, settings)):
            continue  # a due send not planned yet stays due for the next tick
        # A send already due, not planned yet and still inside the grace window is not
        # dropped: the new rule plans from there (the same send, if it still has it).
        since = now
        if row.next_run_at is not None and now - plan.grace <= row.next_run_at <= now:
            since = row.next_run_at - timedelta(microseconds=1)
        slot = plan.next_slot(kind, later_than=since)
        row.next_run_at = slot.send_at if slot else None
        row.occurrence = slot.nominal if slot else None
    return plan


def _timing(row: Schedule, settings: ScheduleSettings) -> tuple[object, ...]:
    """What decides when a schedule sends (a reminder's delay does not)."""
    policy = settings.holiday_policy if row.kind == "checkin" else None
    return (row.enabled, row.weekday, row.local_time, row.cadence_weeks, row.anchor,
            settings.day_start, settings.day_end, policy)


async def switch_nudges(
    session: AsyncSession, holidays: HolidayCalendar, partnership: Partnership, on: bool,
    now: datetime,
) -> None:
    """`achtje nudge settings --on/--off`: the partnership's nudge setting. Once the
    partnership has a schedule this goes through `configure`, which plans the next nudge of
    a schedule that has none (one switched off before nudges had one switch)."""
    started = await session.scalar(
        select(Schedule.id).where(Schedule.partnership_id == partnership.id).limit(1))
    if started is None:
        await nudge_records.change_settings(session, partnership.id, now, enabled=on)
    else:
        await configure(session, holidays, partnership, Changes(nudges=on), now)


def default_schedules(partnership_id: int, anchor: date, now: datetime) -> dict[str, Schedule]:
    """The regular schedules of a partnership that has none yet, counting from the week of
    `anchor` (not added to the session)."""
    monday = anchor - timedelta(days=anchor.weekday())
    return {"checkin": _new(partnership_id, "checkin", monday, now),
            "nudge": _new(partnership_id, "nudge", monday + timedelta(weeks=1), now),
            "summary": _new(partnership_id, "summary", None, now)}


def _new(partnership_id: int, kind: str, anchor: date | None, now: datetime) -> Schedule:
    weekly = kind != "summary"
    return Schedule(
        partnership_id=partnership_id, kind=kind, enabled=True,
        weekday=DEFAULT_WEEKDAY if weekly else None,
        local_time=DEFAULT_TIME if weekly else SUMMARY_TIME,
        cadence_weeks=DEFAULT_CADENCE_WEEKS if weekly else None, anchor=anchor,
        reminder_hours=DEFAULT_REMINDER_HOURS if kind == "checkin" else None,
        updated_at=now,
    )


def _apply(row: Schedule, weekday: int | None, at: str | None, cadence: int | None,
           enabled: bool | None) -> None:
    if weekday is not None:
        _check(0 <= weekday <= 4, f"{row.kind} weekday: a school day, monday to friday")
        row.weekday = weekday
    if at is not None:
        row.local_time = _time(at, f"{row.kind} time")
    if cadence is not None:
        _check(1 <= cadence <= 8, f"{row.kind} cadence: 1 to 8 weeks")
        row.cadence_weeks = cadence
    if enabled is not None:
        row.enabled = enabled
