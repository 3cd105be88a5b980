"""When sends fall: regular occurrences, moved or skipped around closed days and hours.

Pure functions of dates, no database and no clock, so the planner, the preview and the
tests all see the same answer. Times are planned in the partnership's local time and only
then turned into UTC, so a Tuesday 15:30 stays 15:30 across daylight saving changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.schedule.holidays import HolidayCalendar

# How far ahead to look for the next school day or the next occurrence that is sent.
SEARCH_DAYS = 140
SEARCH_OCCURRENCES = 60
# A moved check-in is dropped when the next regular one follows within this many days
# (a round stays open a week): two rounds in a few days would only confuse people.
MIN_GAP = {"checkin": timedelta(days=7), "summary": timedelta(days=0)}


@dataclass(frozen=True)
class Closure:
    """Why a send did not happen at its regular moment.

    code: weekend, holiday (detail: the school holiday's id), public_holiday (detail: the
    public holiday's id), closed_day (detail: the note), quiet_hours, next_close (the next
    regular send follows soon), round_closed, no_data.
    """

    code: str
    detail: str = ""


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local date and time.

    A time that does not exist (the hour skipped when summer time starts) falls that many
    minutes later (02:30 becomes 03:30); a time that happens twice (when summer time ends)
    means the first one.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def parse_hhmm(text: str) -> time:
    """"15:30" -> time(15, 30); ValueError with a plain message otherwise."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a time like 15:30")
    value = int(hours), int(minutes)
    if not (0 <= value[0] < 24 and 0 <= value[1] < 60):
        raise ValueError(f"{text!r} is not a time like 15:30")
    return time(*value)


@dataclass(frozen=True)
class SchoolCalendar:
    """School days and school hours of one partnership."""

    holidays: HolidayCalendar
    region: str
    zone: ZoneInfo
    day_start: time = time(8, 0)
    day_end: time = time(18, 0)
    closed_days: Mapping[date, str] = field(default_factory=dict)

    def closure(self, day: date) -> Closure | None:
        """Why `day` is not a school day, or None when it is one.

        The most telling reason wins: the operator's own closed day, then the school
        holiday (a Sunday in the summer holiday is summer holiday), then the weekend, then
        the public holiday (a Sunday that is also Easter is just a Sunday).
        """
        if day in self.closed_days:
            return Closure("closed_day", self.closed_days[day])
        holiday = self.holidays.holiday_on(day, self.region)
        if holiday is not None:
            return Closure("holiday", holiday.name)
        if day.weekday() >= 5:
            return Closure("weekend")
        public = self.holidays.public_holiday_on(day)
        if public is not None:
            return Closure("public_holiday", public)
        return None

    def closures(self, first: date, last: date) -> tuple[Closure, ...]:
        """Why the days from `first` up to (not including) `last` are closed: each reason
        once, in order. A weekend is only named when nothing else closed a day: a check-in
        moved from Goede Vrijdag past Easter Monday gives "Goede Vrijdag; 2e Paasdag"."""
        found: list[Closure] = []
        day = first
        while day < last:
            closure = self.closure(day)
            if closure is not None and closure not in found:
                found.append(closure)
            day += timedelta(days=1)
        named = [closure for closure in found if closure.code != "weekend"]
        return tuple(named or found)

    def next_school_day(self, day: date) -> date | None:
        """The first school day on or after `day` (None if none within ~20 weeks)."""
        for offset in range(SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self.closure(candidate) is None:
                return candidate
        return None

    def in_hours(self, at: time) -> bool:
        return self.day_start <= at < self.day_end

    def is_open(self, instant: datetime) -> bool:
        """Whether `instant` is on a school day within school hours (local time)."""
        local = instant.astimezone(self.zone)
        return self.closure(local.date()) is None and self.in_hours(local.time())

    def day_end_at(self, day: date) -> datetime:
        return local_instant(day, self.day_end, self.zone)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def next_open(self, instant: datetime) -> tuple[datetime | None, tuple[Closure, ...]]:
        """The first moment at or after `instant` that is open, and why it had to move
        (every reason on the way, empty when it did not move).

        On a closed day the send keeps its time of day on the next school day; outside
        school hours it goes to the start of the (next) school day.
        """
        local = instant.astimezone(self.zone)
        day, at = local.date(), local.time().replace(tzinfo=None)
        reasons: tuple[Closure, ...] = ()
        closure = self.closure(day)
        if closure is None:
            if self.in_hours(at):
                return instant, ()
            if at < self.day_start:
                return local_instant(day, self.day_start, self.zone), (Closure("quiet_hours"),)
            reasons, at = (Closure("quiet_hours"),), self.day_start
            day += timedelta(days=1)
        elif not self.in_hours(at):
            at = self.day_start
        school_day = self.next_school_day(day)
        if school_day is None:
            return None, (*reasons, *((closure,) if closure else ()))
        return local_instant(school_day, at, self.zone), (*reasons,
                                                          *self.closures(day, school_day))


@dataclass(frozen=True)
class Recurrence:
    """The regular dates of one kind of send: every `cadence_weeks` weeks on `weekday`
    from the week of `anchor`, or (monthly) the first of every month."""

    kind: str
    at: time
    weekday: int = 1
    cadence_weeks: int = 2
    anchor: date = date(2025, 8, 4)
    monthly: bool = False

    def on_or_after(self, day: date) -> date:
        if self.monthly:
            if day.day == 1:
                return day
            return date(day.year + day.month // 12, day.month % 12 + 1, 1)
        first = self.anchor - timedelta(days=self.anchor.weekday()) + timedelta(self.weekday)
        if day <= first:
            return first
        period = 7 * self.cadence_weeks
        return first + timedelta(days=period * math.ceil((day - first).days / period))

    def after(self, day: date) -> date:
        return self.on_or_after(day + timedelta(days=1))


@dataclass(frozen=True)
class Slot:
    """One regular occurrence and what happens to it: sent on time, moved, or skipped.

    `reasons` says why it moved or was skipped: every closed day's reason between the
    regular date and the day it went to (see `SchoolCalendar.closures`), then, for a moved
    check-in that was dropped, next_close.
    """

    kind: str
    nominal: date
    planned: datetime  # the regular moment, UTC
    send_at: datetime | None  # UTC; None when skipped
    reasons: tuple[Closure, ...] = ()

    @property
    def moved(self) -> bool:
        return self.send_at is not None and self.send_at != self.planned


def resolve(rule: Recurrence, calendar: SchoolCalendar, policy: str, nominal: date) -> Slot:
    """What happens to the occurrence on `nominal` under `policy` ("move" or "skip")."""
    planned = local_instant(nominal, rule.at, calendar.zone)
    if not calendar.in_hours(rule.at):
        return Slot(rule.kind, nominal, planned, None, (Closure("quiet_hours"),))
    closure = calendar.closure(nominal)
    if closure is None:
        return Slot(rule.kind, nominal, planned, planned)
    if policy != "move":
        return Slot(rule.kind, nominal, planned, None, (closure,))
    day = calendar.next_school_day(nominal)
    if day is None:
        return Slot(rule.kind, nominal, planned, None, (closure,))
    reasons = calendar.closures(nominal, day)
    following = rule.after(nominal)
    if day >= following or day + MIN_GAP.get(rule.kind, timedelta(days=7)) > following:
        return Slot(rule.kind, nominal, planned, None, (*reasons, Closure("next_close")))
    return Slot(rule.kind, nominal, planned, local_instant(day, rule.at, calendar.zone), reasons)


def slots_from(
    rule: Recurrence, calendar: SchoolCalendar, policy: str, first: date
) -> Iterator[Slot]:
    """Every occurrence from `first` on, sent, moved or skipped (endless)."""
    nominal = rule.on_or_after(first)
    while True:
        yield resolve(rule, calendar, policy, nominal)
        nominal = rule.after(nominal)


def next_send(
    rule: Recurrence, calendar: SchoolCalendar, policy: str, *, after: date | None = None,
    later_than: datetime | None = None,
) -> Slot | None:
    """The next occurrence that is actually sent: after the regular date `after`, or the
    first one sent later than the instant `later_than` (looking back a few weeks for a
    check-in that was moved past a holiday)."""
    if after is not None:
        start = rule.after(after)
    else:
        assert later_than is not None
        start = later_than.astimezone(calendar.zone).date() - timedelta(days=SEARCH_DAYS // 2)
    for count, slot in enumerate(slots_from(rule, calendar, policy, start)):
        if count >= SEARCH_OCCURRENCES:
            return None
        if slot.send_at is not None and (later_than is None or slot.send_at > later_than):
            return slot
    return None
