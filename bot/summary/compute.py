"""A partnership's summary for one month: scores, trends, gaps, pitfall signals and agenda.

The trust rules: a number only for a group of at least `min_group_size` respondents (never
below 3), with its n; groups compared only when both may be shown, and cells hidden so that
no small group follows by subtraction (`privacy.visible_cells`); open answers only for
groups of at least 5; nothing that names or dates a person.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import CONDITION_IDS, LEVEL_IDS, Content
from bot.months import month_bounds, shift_month
from bot.nudges.stats import NudgeStats, nudge_stats
from bot.store.models import Partnership
from bot.summary import queries
from bot.summary.model import (
    MIN_GROUP_SIZE,
    OPEN_TEXT_MIN,
    AgendaQuestion,
    Direction,
    GroupScore,
    PitfallSignal,
    Reason,
    RoundRate,
    Summary,
    TopicSummary,
    shown,
)
from bot.summary.privacy import visible_cells
from bot.summary.queries import ClassScores, CountedRound
from bot.summary.rules import SummaryRules, Trigger, load_summary_rules

logger = logging.getLogger(__name__)

SIDES = ("vmbo", "mbo", "other")
EPSILON = 1e-9  # so that a rounded 1.0 counts as 1.0 despite floating point


async def compute_summary(
    session: AsyncSession,
    content: Content,
    partnership: Partnership,
    month: date,
    *,
    earlier: Sequence[Summary] = (),
    rules: SummaryRules | None = None,
    nudges: NudgeStats | None = None,
    min_group_size: int = MIN_GROUP_SIZE,
) -> Summary:
    """The summary of `month` (any day in it), from the rows of that month only.

    A month holds the rounds that closed in it, so its numbers are final once it is over;
    what people see of it is computed once and frozen (`bot.summary.frozen`).

    `earlier` are the frozen summaries of the months before (typically two months ago and
    last month): the trend's earlier values come from them, never from raw rows, so an
    erasure or a changed level after a month closed cannot move last month's number.
    `nudges` are the month's informal-contact numbers when a nudge module provides them.
    """
    if min_group_size < MIN_GROUP_SIZE:
        logger.warning("min_group_size %d raised to %d", min_group_size, MIN_GROUP_SIZE)
    minimum = max(MIN_GROUP_SIZE, min_group_size)
    rules = rules or load_summary_rules(content)
    month = month.replace(day=1)
    topic_of = {s.id: content.topic_of(s.id) for s in content.all_statements()}

    # This month's rounds and scores, each in one query. A round counts in the month it
    # closes in: once a month is over, its numbers are final.
    start, after = month_bounds(month, partnership.timezone)
    counted = await queries.counted_rounds(session, partnership.id, start, after)
    [scores] = await queries.class_scores(session, [[c.round.id for c in counted]], topic_of)
    rounds = [c.round for c in counted]
    ids = [r.id for r in rounds]
    condition_statements = [s for s in topic_of if topic_of[s] in CONDITION_IDS]
    counts = await queries.month_counts(session, partnership.id, ids, condition_statements,
                                        after)
    texts = await queries.open_answers(session, ids, topic_of)
    open_minimum = max(OPEN_TEXT_MIN, minimum)

    def topic(name: str, groups: bool) -> TopicSummary:
        asked = tuple(dict.fromkeys(s for r in rounds for s in r.statement_ids
                                    if topic_of.get(s) == name))
        return _topic(name, scores, earlier_means(earlier, month, name), minimum, rules,
                      asked, groups, texts.get(name, []), open_minimum)

    conditions = tuple(topic(c, groups=True) for c in CONDITION_IDS)
    together = _collaboration(scores, earlier_means(earlier, month, "collaboration"),
                              minimum, rules, counts.scorers)
    boards = (topic("content", groups=False), together, topic("anchoring", groups=False))
    signals = _signals(content, conditions, rules, nudges, minimum)
    withheld = any(texts.get(t.topic) and not t.open_answers for t in (*conditions, *boards))
    return Summary(
        partnership_id=partnership.id,
        partnership=partnership.name,
        month=month,
        min_group_size=minimum,
        members=counts.members,
        respondents=counts.respondents,
        rounds=_round_rates(counted, ZoneInfo(partnership.timezone)),
        conditions=conditions,
        boards=boards,
        signals=signals,
        agenda=_agenda(content, conditions, signals, len(rules.agenda.general)),
        nudges=nudges,
        open_answers_withheld=withheld,
    )


async def leader_summary(
    session: AsyncSession,
    content: Content,
    partnership: Partnership,
    month: date,
    *,
    earlier: Sequence[Summary] = (),
) -> Summary:
    """The summary as project leaders get it, with the month's informal-contact numbers, by
    the rules in the content's folder and the partnership's threshold. People read it only
    through `bot.summary.frozen`, which computes it once per closed month."""
    return await compute_summary(session, content, partnership, month, earlier=earlier,
                                 nudges=await nudge_stats(session, partnership.id, month),
                                 min_group_size=partnership.min_group_size)


# Earlier months: their values come from their frozen summaries (helper for the trends).


def earlier_means(earlier: Sequence[Summary], month: date, topic: str
                  ) -> tuple[float | None, float | None]:
    """The topic's mean two months and one month before `month` as published in `earlier`
    (None for a month not given or a topic it did not show)."""
    by_month = {summary.month: summary for summary in earlier}

    def mean(months_back: int) -> float | None:
        found = by_month.get(shift_month(month, -months_back))
        if found is None:
            return None
        return next((t.mean for t in (*found.conditions, *found.boards) if t.topic == topic),
                    None)

    return mean(2), mean(1)


def _topic(
    name: str,
    rows_now: Sequence[ClassScores],
    before: tuple[float | None, float | None],
    minimum: int,
    rules: SummaryRules,
    statements: tuple[str, ...],
    groups: bool,
    texts: list[str],
    open_minimum: int,
) -> TopicSummary:
    trend = (*before, _mean(rows_now, name, minimum))
    rows = [row for row in rows_now if row.topic == name]
    count = sum(row.respondents for row in rows)
    visible = trend[2] is not None
    sides: tuple[GroupScore, ...] = ()
    levels: tuple[GroupScore, ...] = ()
    if groups and visible:
        cells = visible_cells({(row.side, row.level): row.respondents for row in rows},
                              minimum)
        sides = _groups(rows, 0, [side for side in SIDES if (0, side) in cells])
        levels = _groups(rows, 1, [level for level in LEVEL_IDS if (1, level) in cells])
    return TopicSummary(
        topic=name,
        respondents=count,
        mean=trend[2],
        distribution=tuple(sum(row.distribution[k] for row in rows)  # type: ignore[arg-type]
                           for k in range(5)) if visible else None,
        dont_know=sum(row.dont_know for row in rows) if visible else None,
        trend=trend,
        direction=_direction(trend, rules.thresholds.trend_step),
        statements=statements,
        sides=sides,
        levels=levels,
        open_answers=tuple(texts) if count >= open_minimum else (),
    )


def _collaboration(
    rows: Sequence[ClassScores], before: tuple[float | None, float | None], minimum: int,
    rules: SummaryRules, count: int
) -> TopicSummary:
    """The collaboration board: the mean of the five condition means, when all are shown.

    Being made of shown numbers only, it can reveal nothing the conditions do not.
    """
    means = [_mean(rows, condition, minimum) for condition in CONDITION_IDS]
    now = None if None in means else sum(m or 0.0 for m in means) / len(means)
    three = (*before, now)
    return TopicSummary(topic="collaboration", respondents=count, mean=three[2],
                        distribution=None, dont_know=None, trend=three,
                        direction=_direction(three, rules.thresholds.trend_step), statements=())


def _mean(rows: Sequence[ClassScores], topic: str, minimum: int) -> float | None:
    count = sum(row.respondents for row in rows if row.topic == topic)
    total = sum(row.mean_sum for row in rows if row.topic == topic)
    return total / count if count >= minimum else None


def _groups(
    rows: Sequence[ClassScores], partition: int, shown: list[str]
) -> tuple[GroupScore, ...]:
    found = []
    for group in shown:
        mine = [row for row in rows if (row.side, row.level)[partition] == group]
        count = sum(row.respondents for row in mine)
        found.append(GroupScore(group, count, sum(row.mean_sum for row in mine) / count))
    return tuple(found)


def _direction(trend: tuple[float | None, ...], step: float) -> Direction | None:
    known = [shown(value) for value in trend if value is not None]
    if trend[-1] is None or len(known) < 2:
        return None
    difference = shown(known[-1] - known[0])
    if difference >= step - EPSILON:
        return "rising"
    if difference <= -step + EPSILON:
        return "falling"
    return "stable"


def _round_rates(counted: Sequence[CountedRound], zone: ZoneInfo) -> tuple[RoundRate, ...]:
    return tuple(RoundRate(number=c.round.number,
                           opened_on=c.round.opens_at.astimezone(zone).date(),
                           closed_on=c.round.closes_at.astimezone(zone).date(),
                           respondents=c.respondents, members=c.members)
                 for c in counted)


def _signals(
    content: Content,
    conditions: Sequence[TopicSummary],
    rules: SummaryRules,
    nudges: NudgeStats | None,
    minimum: int,
) -> tuple[PitfallSignal, ...]:
    """Pitfalls pointed to by the rules, the one on the weakest condition first."""
    by_id = {c.topic: c for c in conditions}
    reasons: dict[str, list[Reason]] = {}
    for rule in rules.signals.pitfalls:
        for trigger in rule.when:
            reason = _fires(trigger, by_id, rules, nudges, minimum)
            if reason is not None:
                reasons.setdefault(rule.pitfall, []).append(reason)

    def weakest_first(pitfall_id: str) -> tuple[float, int]:
        pitfall = content.pitfall(pitfall_id)
        mean = by_id[pitfall.condition].mean
        return (6.0 if mean is None else mean, pitfall.number)

    return tuple(PitfallSignal(pitfall, tuple(reasons[pitfall]))
                 for pitfall in sorted(reasons, key=weakest_first))


def _fires(
    trigger: Trigger,
    conditions: dict[str, TopicSummary],
    rules: SummaryRules,
    nudges: NudgeStats | None,
    minimum: int,
) -> Reason | None:
    limits = rules.thresholds
    if trigger.signal == "few_informal":
        if nudges is None or nudges.people_paired < minimum:
            return None
        share = nudges.people_met / nudges.people_paired
        return Reason("few_informal", None, share) if share < limits.few_informal else None
    assert trigger.condition is not None  # checked when the rules were loaded
    condition = conditions[trigger.condition]
    value: float | None = None
    if trigger.signal == "low" and condition.mean is not None \
            and shown(condition.mean) < limits.low - EPSILON:
        value = condition.mean
    elif trigger.signal == "falling" and condition.change is not None \
            and shown(condition.change) <= -limits.falling + EPSILON:
        value = condition.change
    elif trigger.signal in ("school_gap", "level_gap"):
        gap = condition.side_gap if trigger.signal == "school_gap" else condition.level_gap
        limit = limits.school_gap if trigger.signal == "school_gap" else limits.level_gap
        if gap is not None and reaches(gap.size, limit):
            value = gap.size
    return None if value is None else Reason(trigger.signal, trigger.condition, value)


def reaches(value: float, limit: float) -> bool:
    """Whether a number, as shown, is at least `limit`."""
    return shown(value) >= limit - EPSILON


def _agenda(
    content: Content,
    conditions: Sequence[TopicSummary],
    signals: Sequence[PitfallSignal],
    general: int,
) -> tuple[AgendaQuestion, ...]:
    """Three questions: up to two signalled pitfalls, then the weakest conditions not yet
    covered, then further pitfalls, then general questions."""
    picked = [AgendaQuestion("pitfall", s.pitfall) for s in signals[:2]]
    covered = {content.pitfall(q.ref).condition for q in picked}
    weakest = sorted((c for c in conditions if c.mean is not None and c.topic not in covered),
                     key=lambda c: c.mean or 0.0)
    picked += [AgendaQuestion("condition", c.topic) for c in weakest]
    picked += [AgendaQuestion("pitfall", s.pitfall) for s in signals[2:]]
    picked += [AgendaQuestion("general", str(n)) for n in range(general)]
    return tuple(picked[:3])
