"""The dates behind the school calendar: every school holiday in content/holidays.yaml against
the government's published data (a copy in tests/data), and the Dutch public holidays."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import holidays as holiday_data
import pytest
import yaml

from bot.domain import REGIONS
from bot.schedule.holidays import load_holidays
from bot.schedule.public_holidays import IDS, public_holiday_on, public_holidays

HOLIDAYS = load_holidays()
OFFICIAL: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "data" / "schoolvakanties_rijksoverheid.yaml").read_text())


def official_periods() -> dict[tuple[str, str, str], tuple[date, date, bool]]:
    """(school year, holiday, region) -> (first day, last day, binding), as published."""
    periods = {}
    for year in OFFICIAL["content"]:
        for vacation in year["vacations"]:
            for part in vacation["regions"]:
                regions = REGIONS if part["region"] == "heel Nederland" else (part["region"],)
                for region in regions:
                    key = (year["schoolyear"], vacation["type"].strip().lower(), region)
                    assert key not in periods, f"{key} twice in the official copy"
                    periods[key] = (part["startdate"], part["enddate"],
                                    vacation["compulsorydates"])
    return periods


def test_every_school_holiday_date_is_the_published_one() -> None:
    official = official_periods()
    ours = {(y.year, h.name, region): (h.period(region).first, h.period(region).last,
                                       h.status == "definitive")
            for y in HOLIDAYS.school_years for h in y.holidays for region in REGIONS}
    wrong = {key: (ours.get(key), official.get(key)) for key in ours.keys() | official.keys()
             if ours.get(key) != official.get(key)}
    assert wrong == {}, "content/holidays.yaml differs from the published dates: " + "; ".join(
        f"{year} {name} {region}: ours {mine}, published {theirs}"
        for (year, name, region), (mine, theirs) in sorted(wrong.items()))
    # The dates the issue found wrong, as the south really has them.
    assert official[("2026-2027", "voorjaarsvakantie", "zuid")][:2] == (date(2027, 2, 13),
                                                                       date(2027, 2, 21))
    assert official[("2026-2027", "zomervakantie", "zuid")][:2] == (date(2027, 7, 24),
                                                                    date(2027, 9, 5))
    assert len(ours) == 5 * 5 * 3  # five school years, five holidays, three regions


@pytest.mark.parametrize("region", REGIONS)
def test_the_holiday_days_agree_with_the_regulation_in_the_holidays_package(
    region: str
) -> None:
    """A second, independent reading of the same regulation: the `holidays` package knows its
    week numbers per region. Day by day over every school year we have, they must agree."""
    if "school" not in holiday_data.country_holidays("NL").supported_categories:
        pytest.skip("the installed holidays package has no NL school holidays (before 0.109)")
    school = holiday_data.country_holidays("NL", subdiv=region.capitalize(),
                                           categories=("school",), years=range(2025, 2031))
    day, last = date(2025, 9, 1), date(2030, 8, 31)
    differ = []
    while day <= last:
        if (HOLIDAYS.holiday_on(day, region) is not None) != (day in school):
            differ.append(day.isoformat())
        day += timedelta(days=1)
    assert differ == []


@pytest.mark.parametrize(("day", "holiday"), [
    (date(2027, 1, 1), "nieuwjaarsdag"),
    (date(2027, 3, 26), "goede_vrijdag"),
    (date(2027, 3, 28), "eerste_paasdag"),
    (date(2027, 3, 29), "tweede_paasdag"),
    (date(2027, 4, 27), "koningsdag"),
    (date(2027, 5, 6), "hemelvaartsdag"),
    (date(2027, 5, 16), "eerste_pinksterdag"),
    (date(2027, 5, 17), "tweede_pinksterdag"),
    (date(2027, 12, 25), "eerste_kerstdag"),
    (date(2027, 12, 26), "tweede_kerstdag"),
    (date(2030, 5, 5), "bevrijdingsdag"),  # a lustrum year
    (date(2025, 4, 26), "koningsdag"),  # 27 April 2025 was a Sunday: the Saturday before
])
def test_the_dutch_public_holidays_come_from_the_library(day: date, holiday: str) -> None:
    assert public_holiday_on(day) == holiday
    assert HOLIDAYS.public_name(holiday, "nl") and HOLIDAYS.public_name(holiday, "en")


def test_liberation_day_is_closed_only_in_lustrum_years_and_no_holiday_is_unknown() -> None:
    assert [year for year in range(2026, 2036) if date(year, 5, 5) in public_holidays(year)] \
        == [2030, 2035]
    for year in range(2025, 2036):
        assert "feestdag" not in public_holidays(year).values(), year  # each one has a name
    assert set(IDS.values()) <= HOLIDAYS.public_holidays.keys()
    assert public_holiday_on(date(2027, 5, 5)) is None and public_holiday_on(
        date(2027, 3, 30)) is None


def test_a_deployments_own_holiday_file_without_public_holidays_still_loads(
    tmp_path: Path
) -> None:
    """An ACHTJE_CONTENT_DIR with a holidays.yaml written before public holidays were closed
    keeps its own school holidays and gets the shipped names of the public holidays."""
    shipped = (Path(__file__).parent.parent / "content" / "holidays.yaml").read_text()
    start, end = shipped.index("public_holidays:"), shipped.index("school_years:")
    (tmp_path / "holidays.yaml").write_text(
        shipped[:start] + shipped[end:].replace("zuid: [2027-07-24, 2027-09-05]",
                                                "zuid: [2027-07-17, 2027-08-29]"))
    own = load_holidays(tmp_path)
    assert own.public_name("hemelvaartsdag", "en") == "Ascension Day"
    assert own.holiday_on(date(2027, 7, 19), "zuid") is not None  # its own dates
