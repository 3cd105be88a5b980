"""The school calendar: holidays per region, moved and skipped sends, daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.schedule.calendar import (
    Closure,
    Recurrence,
    SchoolCalendar,
    local_instant,
    next_send,
    resolve,
)
from bot.schedule.holidays import HolidayError, load_holidays

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOLIDAYS = load_holidays()


def calendar(region: str = "midden", **closed: str) -> SchoolCalendar:
    return SchoolCalendar(HOLIDAYS, region, AMSTERDAM,
                          closed_days={date.fromisoformat(d): n for d, n in closed.items()})


def local(instant: datetime | None) -> str:
    assert instant is not None
    return instant.astimezone(AMSTERDAM).strftime("%a %Y-%m-%d %H:%M %z")


def test_holiday_file_covers_every_published_school_year_and_says_where_dates_come_from() -> None:
    assert [y.year for y in HOLIDAYS.school_years] == [
        "2025-2026", "2026-2027", "2027-2028", "2028-2029", "2029-2030"]
    assert "rijksoverheid.nl" in HOLIDAYS.source
    summer_2026 = HOLIDAYS.holiday_on(date(2026, 8, 1), "midden")
    assert summer_2026 is not None and not summer_2026.provisional
    autumn_2027 = HOLIDAYS.holiday_on(date(2027, 10, 20), "noord")
    assert autumn_2027 is not None and autumn_2027.status == "advisory"
    assert HOLIDAYS.covers(date(2030, 8, 31)) and not HOLIDAYS.covers(date(2030, 9, 30))


def test_each_region_has_its_own_holidays() -> None:
    # Autumn 2025: the south a week earlier than the north and the middle.
    assert HOLIDAYS.holiday_on(date(2025, 10, 14), "zuid") is not None
    assert HOLIDAYS.holiday_on(date(2025, 10, 14), "noord") is None
    assert HOLIDAYS.holiday_on(date(2025, 10, 21), "noord") is not None
    assert HOLIDAYS.holiday_on(date(2025, 10, 21), "zuid") is None
    # Summer 2026: the north first, the middle last.
    assert HOLIDAYS.holiday_on(date(2026, 7, 6), "noord") is not None
    assert HOLIDAYS.holiday_on(date(2026, 7, 6), "midden") is None
    assert HOLIDAYS.holiday_on(date(2026, 8, 27), "midden") is not None


@pytest.mark.parametrize(("change", "problem"), [
    ("[2025-12-20, 2026-01-04]", "[2026-01-04, 2025-12-20]"),  # reversed
    ("{name: kerstvakantie, status: definitive, noord: [2025-12-20, 2026-01-04]",
     "{name: kerstvakantie, status: definitive, noord: [2025-10-20, 2026-01-04]"),  # overlap
])
def test_a_wrong_holiday_file_is_refused_saying_where(
    tmp_path: Path, change: str, problem: str
) -> None:
    shipped = (Path(__file__).parent.parent / "content" / "holidays.yaml").read_text()
    assert change in shipped
    (tmp_path / "holidays.yaml").write_text(shipped.replace(change, problem, 1))
    with pytest.raises(HolidayError, match=r"holidays\.yaml"):
        load_holidays(tmp_path)


def test_local_times_around_daylight_saving_changes() -> None:
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    # 02:30 does not exist on the spring day: it falls an hour later, at 03:30 summer time.
    assert local(local_instant(spring, time(2, 30), AMSTERDAM)) == "Sun 2026-03-29 03:30 +0200"
    # 02:30 happens twice on the autumn day: the first one, still in summer time.
    assert local(local_instant(autumn, time(2, 30), AMSTERDAM)) == "Sun 2026-10-25 02:30 +0200"
    assert local_instant(spring, time(15, 30), AMSTERDAM) == datetime(2026, 3, 29, 13, 30,
                                                                      tzinfo=UTC)
    assert local_instant(autumn, time(15, 30), AMSTERDAM) == datetime(2026, 10, 25, 14, 30,
                                                                      tzinfo=UTC)


@pytest.mark.parametrize(("day", "at", "expected"), [
    (date(2026, 3, 29), time(2, 30), "Sun 2026-03-29 03:30 +0200"),
    (date(2026, 3, 29), time(15, 30), "Sun 2026-03-29 15:30 +0200"),
    (date(2026, 10, 25), time(2, 30), "Sun 2026-10-25 02:30 +0200"),
    (date(2026, 10, 25), time(15, 30), "Sun 2026-10-25 15:30 +0100"),
])
def test_a_schedule_fires_exactly_once_on_a_daylight_saving_day(
    day: date, at: time, expected: str
) -> None:
    """Tick every 30 seconds for two days around the change, the way the runner does:
    fire when next_run_at has passed, then plan the next regular date in local time."""
    rule = Recurrence("checkin", at, weekday=6, cadence_weeks=1, anchor=day)
    nominal = rule.on_or_after(day - timedelta(days=1))
    next_run = local_instant(nominal, at, AMSTERDAM)
    tick = datetime.combine(day - timedelta(days=1), time(12), tzinfo=UTC)
    fired = []
    while tick < datetime.combine(day + timedelta(days=1), time(12), tzinfo=UTC):
        if next_run <= tick:
            fired.append((next_run, tick))
            nominal = rule.after(nominal)
            next_run = local_instant(nominal, at, AMSTERDAM)
        tick += timedelta(seconds=30)
    assert [local(planned) for planned, _ in fired] == [expected]
    assert fired[0][1] - fired[0][0] < timedelta(seconds=30)


def test_a_checkin_in_a_holiday_moves_to_the_next_school_day_or_is_skipped() -> None:
    rule = Recurrence("checkin", time(15, 30), weekday=1, cadence_weeks=2,
                      anchor=date(2025, 10, 20))
    noord = calendar("noord")  # autumn holiday 18-26 October 2025
    moved = resolve(rule, noord, "move", date(2025, 10, 21))
    assert local(moved.send_at) == "Mon 2025-10-27 15:30 +0100"
    assert moved.moved and moved.reasons == (Closure("holiday", "herfstvakantie"),)
    skipped = resolve(rule, noord, "skip", date(2025, 10, 21))
    assert skipped.send_at is None and skipped.reasons == (Closure("holiday", "herfstvakantie"),)
    # In the south that Tuesday is a school day.
    assert not resolve(rule, calendar("zuid"), "move", date(2025, 10, 21)).moved


def test_a_moved_checkin_is_dropped_when_the_next_round_follows_within_a_week() -> None:
    rule = Recurrence("checkin", time(15, 30), weekday=1, cadence_weeks=2,
                      anchor=date(2026, 12, 21))
    slot = resolve(rule, calendar(), "move", date(2026, 12, 22))  # Christmas holiday
    assert slot.send_at is None
    assert slot.reasons == (Closure("holiday", "kerstvakantie"), Closure("next_close"))
    following = next_send(rule, calendar(), "move", after=date(2026, 12, 22))
    assert following is not None and local(following.send_at) == "Tue 2027-01-05 15:30 +0100"


def test_closed_days_and_school_hours() -> None:
    rule = Recurrence("checkin", time(15, 30), weekday=1, cadence_weeks=1,
                      anchor=date(2026, 11, 23))
    studiedag = calendar(**{"2026-11-24": "studiedag"})
    slot = resolve(rule, studiedag, "move", date(2026, 11, 24))
    assert slot.reasons == (Closure("closed_day", "studiedag"), Closure("next_close"))
    assert slot.send_at is None  # weekly: no room
    evening = Recurrence("checkin", time(19, 0), weekday=1, anchor=date(2026, 11, 23))
    assert resolve(evening, calendar(), "move", date(2026, 11, 24)).reasons == (Closure(
        "quiet_hours"),)


def test_a_reminder_waits_for_school_hours_on_a_school_day() -> None:
    school = calendar()
    friday_after = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)  # Saturday 15:30
    at, why = school.next_open(friday_after)
    assert (local(at), why) == ("Mon 2026-11-30 15:30 +0100", (Closure("weekend"),))
    at, why = school.next_open(datetime(2026, 11, 24, 18, 0, tzinfo=UTC))  # 19:00
    assert (local(at), why) == ("Wed 2026-11-25 08:00 +0100", (Closure("quiet_hours"),))
    at, why = school.next_open(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))  # 07:00
    assert (local(at), why) == ("Tue 2026-11-24 08:00 +0100", (Closure("quiet_hours"),))
    at, why = school.next_open(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    assert (local(at), why) == ("Tue 2026-11-24 10:00 +0100", ())


def test_the_monthly_summary_goes_on_the_first_school_day() -> None:
    rule = Recurrence("summary", time(8, 30), monthly=True)
    january = resolve(rule, calendar(), "move", date(2027, 1, 1))
    assert local(january.send_at) == "Mon 2027-01-04 08:30 +0100"
    # August 2028 in the south is all summer holiday, up to the next month's summary.
    august = resolve(rule, calendar("zuid"), "move", date(2028, 8, 1))
    assert august.send_at is None
    assert august.reasons == (Closure("holiday", "zomervakantie"), Closure("next_close"))
    assert rule.on_or_after(date(2026, 12, 2)) == date(2027, 1, 1)


def test_the_cadence_counts_from_the_anchor_week() -> None:
    rule = Recurrence("checkin", time(15, 30), weekday=1, cadence_weeks=2,
                      anchor=date(2026, 11, 25))
    assert rule.on_or_after(date(2026, 11, 1)) == date(2026, 11, 24)
    assert rule.on_or_after(date(2026, 11, 25)) == date(2026, 12, 8)
    assert rule.after(date(2026, 12, 8)) == date(2026, 12, 22)
