"""The Dutch school holidays per region, read from `content/holidays.yaml` and checked on load,
and the Dutch public holidays (dates from `bot.schedule.public_holidays`, names from the file).

A mistake in the file (a reversed period, an unknown region, two holidays that overlap, a
public holiday without a name) is reported with the file and the place, so the scheduler
never starts on wrong dates.
"""

from __future__ import annotations

from datetime import date
from functools import cache, cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.content import Text, default_dir
from bot.domain import REGIONS
from bot.schedule.public_holidays import IDS as PUBLIC_HOLIDAY_IDS
from bot.schedule.public_holidays import OTHER as OTHER_PUBLIC_HOLIDAY
from bot.schedule.public_holidays import public_holiday_on

HOLIDAY_NAMES = ("herfstvakantie", "kerstvakantie", "voorjaarsvakantie", "meivakantie",
                 "zomervakantie")
FILENAME = "holidays.yaml"


class HolidayError(Exception):
    """The holiday file is missing or wrong; the message says where."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Period(_Model):
    """One holiday in one region: first and last day, both inclusive."""

    first: date
    last: date

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, value: object) -> object:
        if isinstance(value, list | tuple) and len(value) == 2:
            return {"first": value[0], "last": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.last < self.first:
            raise ValueError(f"ends ({self.last}) before it starts ({self.first})")
        if (self.last - self.first).days > 70:
            raise ValueError(f"{self.first} to {self.last} is longer than any school holiday")
        return self


class Holiday(_Model):
    name: Literal["herfstvakantie", "kerstvakantie", "voorjaarsvakantie", "meivakantie",
                  "zomervakantie"]
    status: Literal["definitive", "advisory", "unverified"]
    noord: Period
    midden: Period
    zuid: Period

    @property
    def provisional(self) -> bool:
        """Dates that may still differ from what the schools do."""
        return self.status != "definitive"

    def period(self, region: str) -> Period:
        return {"noord": self.noord, "midden": self.midden, "zuid": self.zuid}[region]


class SchoolYear(_Model):
    year: str = Field(pattern=r"^\d{4}-\d{4}$")
    holidays: list[Holiday] = Field(min_length=5, max_length=5)

    @model_validator(mode="after")
    def _complete(self) -> SchoolYear:
        if sorted(h.name for h in self.holidays) != sorted(HOLIDAY_NAMES):
            raise ValueError(f"{self.year}: needs each of {', '.join(HOLIDAY_NAMES)} once")
        start = int(self.year[:4])
        if int(self.year[5:]) != start + 1:
            raise ValueError(f"{self.year}: a school year spans two consecutive years")
        for holiday in self.holidays:
            for region in REGIONS:
                period = holiday.period(region)
                if not date(start, 8, 1) <= period.first <= date(start + 1, 9, 30):
                    raise ValueError(f"{self.year} {holiday.name} {region}: {period.first} "
                                     "is outside that school year")
        return self


class HolidayCalendar(_Model):
    """Every known school holiday; `holiday_on(day, region)` says which one a day falls in,
    `public_holiday_on(day)` which public holiday a day is."""

    source: str = Field(min_length=8)
    checked: date
    names: dict[str, Text]
    public_holidays: dict[str, Text]
    school_years: list[SchoolYear] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> HolidayCalendar:
        missing = [name for name in HOLIDAY_NAMES if name not in self.names]
        if missing:
            raise ValueError(f"names: missing {', '.join(missing)}")
        known = {*PUBLIC_HOLIDAY_IDS.values(), OTHER_PUBLIC_HOLIDAY}
        missing = sorted(known - self.public_holidays.keys())
        if missing:
            raise ValueError(f"public_holidays: missing {', '.join(missing)}")
        for region in REGIONS:
            periods = sorted(
                (h.period(region).first, h.period(region).last, f"{y.year} {h.name}")
                for y in self.school_years for h in y.holidays
            )
            for (_, last, name), (first, _, other) in pairwise(periods):
                if first <= last:
                    raise ValueError(f"{region}: {name} overlaps {other}")
        return self

    @cached_property
    def _by_region(self) -> dict[str, list[tuple[date, date, Holiday]]]:
        return {
            region: sorted(
                ((h.period(region).first, h.period(region).last, h)
                 for y in self.school_years for h in y.holidays),
                key=lambda item: item[0],
            )
            for region in REGIONS
        }

    def holiday_on(self, day: date, region: str) -> Holiday | None:
        """The school holiday `day` falls in for `region`, if any."""
        for first, last, holiday in self._by_region.get(region, []):
            if first <= day <= last:
                return holiday
        return None

    def covers(self, day: date) -> bool:
        """Whether the file knows the holidays around `day` (from September of its first
        school year to the end of the last summer holiday)."""
        first = date(min(int(y.year[:4]) for y in self.school_years), 9, 1)
        last = max(h.period(r).last for y in self.school_years for h in y.holidays
                   for r in REGIONS)
        return first <= day <= last

    def name(self, holiday: Holiday, lang: str) -> str:
        return self.names[holiday.name].get(lang)

    @staticmethod
    def public_holiday_on(day: date) -> str | None:
        """The id of the Dutch public holiday on `day` (a closed day everywhere), if any."""
        return public_holiday_on(day)

    def public_name(self, holiday_id: str, lang: str) -> str:
        return self.public_holidays[holiday_id].get(lang)


def load_holidays(directory: Path | None = None) -> HolidayCalendar:
    """Read and check `holidays.yaml` from `directory` (falling back to the shipped one)."""
    shipped = default_dir() / FILENAME
    path = (directory or default_dir()) / FILENAME
    if directory is not None and not path.exists():
        path = shipped
    raw = _read(path)
    if isinstance(raw, dict) and "public_holidays" not in raw and path != shipped:
        # A deployment's own file from before public holidays were closed: the shipped
        # names of the public holidays, its own school holidays.
        raw["public_holidays"] = (_read(shipped) or {}).get("public_holidays")
    try:
        return HolidayCalendar.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}"
                 for e in exc.errors()]
        raise HolidayError("\n".join(lines)) from exc


# libyaml's safe loader when installed: the pure-Python one took a seventh of a second.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except FileNotFoundError as exc:
        raise HolidayError(f"{path}: file is missing") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise HolidayError(f"{path}: cannot be read: {exc}") from exc


@cache
def loaded_holidays(directory: Path | None) -> HolidayCalendar:
    """`load_holidays`, read once per directory (for the chat, which has no service to
    hand the calendar in)."""
    return load_holidays(directory)
