"""What the dashboard shows of a school year, in neutral terms: numbers from the frozen
months and ids, no words (the templates add those).

Everything here is read from frozen summaries (bot/summary/year.py), which keep no number
of a group below the partnership's threshold: a group the month did not show is simply not
there, so a filter on it shows empty cells, never a number. A school is one school of the
partnership (its cells were checked together with the school types' and levels' when the
month was frozen); months frozen before schools were recorded have none. A filter on a
school (or school type) and a level at once has no data at all: months are not split that
way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.domain import CONDITION_IDS, LEVEL_IDS, SCHOOL_TYPES
from bot.summary.model import Gap, SchoolName, Summary, TopicSummary


@dataclass(frozen=True)
class Figure:
    """A mean with its n, both None where the month shows nothing."""

    mean: float | None = None
    respondents: int | None = None

    @property
    def shown(self) -> bool:
        return self.mean is not None and self.respondents is not None


@dataclass(frozen=True)
class Filters:
    year: int
    side: str | None = None  # a school type
    level: str | None = None
    school: int | None = None  # a school's id; never together with `side`

    @property
    def split(self) -> bool:
        return self.side is not None or self.level is not None or self.school is not None

    @property
    def both(self) -> bool:
        """A school (or type) and a level at once: months are not split that way."""
        return self.level is not None and (self.side is not None or self.school is not None)


@dataclass(frozen=True)
class MonthFigures:
    month: date
    figures: tuple[Figure, ...]  # one per topic, in the order of the view's topics


@dataclass(frozen=True)
class MonthGaps:
    month: date
    sides: tuple[Gap | None, ...]  # one per condition
    levels: tuple[Gap | None, ...]
    schools: tuple[Gap | None, ...]  # groups: school ids as text (`YearView.schools`)


@dataclass(frozen=True)
class MonthRate:
    month: date
    respondents: int
    members: int
    rate: int
    rounds: int


@dataclass(frozen=True)
class MonthInformal:
    """Informal contact in a month; the people counts None below the threshold."""

    month: date
    rounds: int
    invited: int | None
    met: int | None
    cross_school: int | None


@dataclass(frozen=True)
class MonthAgenda:
    month: date
    questions: tuple[tuple[str, str], ...]  # (source, ref) as in the summary's agenda


@dataclass(frozen=True)
class YearView:
    filters: Filters
    minimum: int
    months: tuple[date, ...]  # the months with figures, oldest first
    conditions: tuple[MonthFigures, ...]
    boards: tuple[MonthFigures, ...]
    gaps: tuple[MonthGaps, ...]
    rates: tuple[MonthRate, ...]
    informal: tuple[MonthInformal, ...]
    agenda: tuple[MonthAgenda, ...]
    sides: tuple[str, ...]  # the school types some month of the year shows
    levels: tuple[str, ...]
    schools: tuple[SchoolName, ...] = ()  # the schools some month shows, by their last name

    @property
    def filtered(self) -> bool:
        return self.filters.split

    @property
    def school(self) -> SchoolName | None:
        """The school the filter chose, when some month shows it."""
        return next((s for s in self.schools if s.id == self.filters.school), None)


BOARD_IDS = ("content", "collaboration", "anchoring")


def figure(topic: TopicSummary, filters: Filters) -> Figure:
    """The topic's shown number for everyone, or for the filtered group when that group was
    shown that month; boards are not split by group."""
    if filters.both:
        return Figure()
    if not filters.split:
        return Figure(topic.mean, topic.respondents)
    wanted, groups = ((str(filters.school), topic.schools) if filters.school is not None
                      else (filters.side, topic.sides) if filters.side is not None
                      else (filters.level, topic.levels))
    found = next((g for g in groups if g.group == wanted), None)
    return Figure() if found is None else Figure(found.mean, found.respondents)


def year_view(summaries: Sequence[Summary], filters: Filters, minimum: int) -> YearView:
    """The dashboard's data for the school year's frozen months."""
    sides = {g.group for s in summaries for t in s.conditions for g in t.sides}
    levels = {g.group for s in summaries for t in s.conditions for g in t.levels}
    shown_schools = {g.group for s in summaries for t in s.conditions for g in t.schools}
    names = {school.id: school for s in summaries for school in s.schools}
    return YearView(
        filters=filters,
        minimum=max((s.min_group_size for s in summaries), default=minimum),
        months=tuple(s.month for s in summaries),
        conditions=tuple(MonthFigures(s.month, tuple(
            figure(s.condition(c), filters) for c in CONDITION_IDS)) for s in summaries),
        boards=tuple(MonthFigures(s.month, tuple(
            figure(s.board(b), filters) if not filters.split else Figure()
            for b in BOARD_IDS)) for s in summaries),
        gaps=tuple(MonthGaps(s.month, tuple(s.condition(c).side_gap for c in CONDITION_IDS),
                             tuple(s.condition(c).level_gap for c in CONDITION_IDS),
                             tuple(s.condition(c).school_gap for c in CONDITION_IDS))
                   for s in summaries),
        rates=tuple(MonthRate(s.month, s.respondents, s.members, s.response_rate,
                              len(s.rounds)) for s in summaries),
        informal=tuple(_informal(s) for s in summaries if s.nudges is not None),
        agenda=tuple(MonthAgenda(s.month, tuple((q.source, q.ref) for q in s.agenda))
                     for s in summaries),
        sides=tuple(t for t in SCHOOL_TYPES if t in sides),
        levels=tuple(level for level in LEVEL_IDS if level in levels),
        schools=tuple(school for _, school in sorted(names.items())
                      if str(school.id) in shown_schools),
    )


def _informal(summary: Summary) -> MonthInformal:
    nudges = summary.nudges
    assert nudges is not None
    shown = nudges.people_paired >= summary.min_group_size
    return MonthInformal(summary.month, nudges.rounds,
                         nudges.people_paired if shown else None,
                         nudges.people_met if shown else None,
                         nudges.people_met_cross_school if shown else None)
