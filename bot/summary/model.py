"""What a monthly summary holds, in neutral terms: numbers and ids, no words, no people.

A summary carries no user ids, names or answer times. Every mean comes with the number of
respondents behind it; both are None where the group was too small to show, so nothing
about a small group is kept, not even its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.nudges.stats import NudgeStats

MIN_GROUP_SIZE = 3  # the smallest group whose numbers are shown; never lower
OPEN_TEXT_MIN = 5  # the smallest group whose open answers are shown

Direction = Literal["rising", "falling", "stable"]


def shown(value: float) -> float:
    """A number as the summary shows it, to one decimal; rules compare what people read."""
    return round(value, 1)


@dataclass(frozen=True)
class GroupScore:
    """One side (vmbo, mbo, other), one level (board, management, teachers) or one school
    (its id as text, `Summary.schools`) on a topic; in a reflection's comparison, one
    school by its name."""

    group: str
    respondents: int
    mean: float


@dataclass(frozen=True)
class Gap:
    """The largest difference between shown groups of one kind, highest group first."""

    high: GroupScore
    low: GroupScore

    @property
    def size(self) -> float:
        return self.high.mean - self.low.mean


@dataclass(frozen=True)
class StatementResult:
    """One statement asked on a topic in the month, for depth and for its open answers.

    The anchor's numbers are the topic's own. `respondents` and `mean` are None when fewer
    than the minimum scored it; `open_answers` ("what would help?" after a low score on it)
    are shown only when at least max(5, minimum) people scored it.
    """

    statement: str
    anchor: bool
    respondents: int | None
    mean: float | None
    open_answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicSummary:
    """A condition or board in one month.

    Its score (`mean`, `distribution`, `dont_know`, groups) is on the statements in `basis`:
    the anchor statement whenever it was asked (docs/summary.md, "Measurement model"), so
    months compare like with like. `respondents`, `mean`, `distribution` and `dont_know`
    are None when fewer than the minimum scored it: no count of a small group is kept.

    `change` is this month's shown mean minus the shown mean of `compared_month`, the last
    earlier month measured on the same basis; `direction` is the sign of that same change
    against the trend step. `comparable` is False when the last earlier month that measured
    the topic did so on other statements: then there is no change, and the summary says so.
    `trend` is the mean two months ago, last month and this month, each only when shown and
    comparable with this month.
    `sides`/`levels`/`schools` hold only the groups that may be shown, all chosen in one
    check (`privacy.visible_cells`); gaps compare those. Months frozen before schools were
    recorded have no `schools`.
    """

    topic: str
    respondents: int | None
    mean: float | None
    distribution: tuple[int, int, int, int, int] | None
    dont_know: int | None
    trend: tuple[float | None, float | None, float | None]
    direction: Direction | None
    statements: tuple[str, ...]
    sides: tuple[GroupScore, ...] = ()
    levels: tuple[GroupScore, ...] = ()
    basis: tuple[str, ...] = ()
    schools: tuple[GroupScore, ...] = ()
    change: float | None = None
    compared_month: date | None = None
    comparable: bool = True
    results: tuple[StatementResult, ...] = ()

    @property
    def open_answers(self) -> tuple[str, ...]:
        """Every shown open answer on the topic, statement by statement."""
        return tuple(text for result in self.results for text in result.open_answers)

    @property
    def side_gap(self) -> Gap | None:
        return _gap(self.sides)

    @property
    def level_gap(self) -> Gap | None:
        return _gap(self.levels)

    @property
    def school_gap(self) -> Gap | None:
        return _gap(self.schools)


def _gap(groups: tuple[GroupScore, ...]) -> Gap | None:
    if len(groups) < 2:
        return None
    return Gap(max(groups, key=lambda g: g.mean), min(groups, key=lambda g: g.mean))


@dataclass(frozen=True)
class RoundRate:
    """How many of the members at the time (onboarded before it closed) answered one
    check-in round. It counts in the month of `closed_on`."""

    number: int
    opened_on: date
    closed_on: date
    respondents: int
    members: int


@dataclass(frozen=True)
class Reason:
    """A signal that fired: which, on which condition, and the number that made it fire."""

    signal: str
    condition: str | None
    value: float


@dataclass(frozen=True)
class PitfallSignal:
    pitfall: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class AgendaQuestion:
    """A question id: a condition's or a pitfall's question, or general question `ref`."""

    source: Literal["condition", "pitfall", "general"]
    ref: str


@dataclass(frozen=True)
class SchoolName:
    """A school of the partnership as the month knew it: the id its group cells carry, its
    name and its type. Every school is listed, shown or not, so the list tells nothing
    about who answered."""

    id: int
    name: str
    type: str


@dataclass(frozen=True)
class Summary:
    partnership_id: int
    partnership: str
    month: date
    min_group_size: int
    members: int
    respondents: int
    rounds: tuple[RoundRate, ...]
    conditions: tuple[TopicSummary, ...]
    # content, collaboration (the mean of the five condition means), anchoring
    boards: tuple[TopicSummary, ...]
    signals: tuple[PitfallSignal, ...]
    agenda: tuple[AgendaQuestion, ...]
    nudges: NudgeStats | None = None
    # The partnership's schools when the month was frozen; () in months frozen before
    # schools were recorded, which have no school cells at all.
    schools: tuple[SchoolName, ...] = ()

    @property
    def response_rate(self) -> int:
        return round(100 * self.respondents / self.members) if self.members else 0

    def condition(self, condition_id: str) -> TopicSummary:
        return next(t for t in self.conditions if t.topic == condition_id)

    def board(self, board_id: str) -> TopicSummary:
        return next(t for t in self.boards if t.topic == board_id)
