"""A partnership's summary for one month: scores, trends, gaps, pitfall signals and agenda.

The trust rules: a number only for a group of at least `min_group_size` respondents (never
below 3), with its n, and no n at all below that; groups compared only when both may be
shown, and cells hidden so that no small group follows by subtraction
(`privacy.visible_cells`); open answers only under a statement at least 5 people scored;
nothing that names or dates a person. A topic's score is on its anchor statement, so
months compare like with like (`history`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.domain import CONDITION_IDS, DOMAIN_IDS, LEVEL_IDS
from bot.months import month_bounds
from bot.nudges.stats import NudgeStats, nudge_stats
from bot.store.models import Partnership
from bot.summary import queries
from bot.summary.history import EPSILON, Earlier, compare
from bot.summary.model import (
    MIN_GROUP_SIZE,
    OPEN_TEXT_MIN,
    AgendaQuestion,
    GroupScore,
    PitfallSignal,
    Reason,
    RoundRate,
    SchoolName,
    StatementResult,
    Summary,
    TopicSummary,
    shown,
)
from bot.summary.privacy import Cell, ClassKey, visible_cells
from bot.summary.queries import ClassScores, CountedRound, MonthCounts, RoundFacts
from bot.summary.rules import SummaryRules, Trigger, load_summary_rules

logger = logging.getLogger(__name__)

SIDES = ("vmbo", "mbo", "other")


async def compute_summary(
    session: AsyncSession,
    content: Content,
    partnership: Partnership,
    month: date,
    *,
    earlier: Sequence[Earlier] = (),
    rules: SummaryRules | None = None,
    nudges: NudgeStats | None = None,
    min_group_size: int = MIN_GROUP_SIZE,
) -> Summary:
    """The summary of `month` (any day in it), from the rows of that month only.

    A month holds the rounds that closed in it, so its numbers are final once it is over;
    what people see of it is computed once and frozen (`bot.summary.frozen`).

    `earlier` are the frozen summaries of earlier months (oldest first, missing ones left
    out): changes and trends come only from them, never from earlier raw answers, and only
    between months whose score is on the same statements (`history.compare`).
    `nudges` are the month's informal-contact numbers when a nudge module provides them.
    """
    if min_group_size < MIN_GROUP_SIZE:
        logger.warning("min_group_size %d raised to %d", min_group_size, MIN_GROUP_SIZE)
    month = month.replace(day=1)
    data = await month_data(session, content, partnership.id, partnership.timezone, month)
    return build_summary(content, partnership, month, data, earlier=earlier, rules=rules,
                         nudges=nudges, min_group_size=min_group_size)


@dataclass(frozen=True)
class MonthData:
    """What the database adds up for one partnership's month; a summary is made of this
    and the frozen months before it alone (`build_summary`). One partnership's comes from
    `month_data`; every partnership's at once from `bot.summary.batch`, the same figures."""

    counted: tuple[CountedRound, ...]  # the rounds that closed in the month, by number
    by_statement: tuple[ClassScores, ...]  # per class and statement asked (topic = statement)
    by_topic: tuple[ClassScores, ...]  # per class, topics scored on several statements
    counts: MonthCounts
    texts: Mapping[str, Sequence[str]]  # the open texts per statement, in order


def asked_statements(content: Content, rounds: Sequence[RoundFacts]
                     ) -> dict[str, tuple[str, ...]]:
    """Per topic, the statements the month's rounds asked, in the order first asked."""
    topic_of = _topics(content)
    return {topic: tuple(dict.fromkeys(s for r in rounds for s in r.statement_ids
                                       if topic_of.get(s) == topic))
            for topic in (*CONDITION_IDS, *DOMAIN_IDS)}


def several_statements(content: Content, asked: Mapping[str, tuple[str, ...]]
                       ) -> dict[str, str]:
    """Statement -> topic for the topics scored on several statements (rounds from before
    the anchor): those need per-person means over the statements together."""
    basis = {topic: score_basis(content, topic, found) for topic, found in asked.items()}
    return {s: topic for topic, found in basis.items() if len(found) > 1 for s in found}


def _topics(content: Content) -> dict[str, str]:
    return {s.id: content.topic_of(s.id) for s in content.all_statements()}


async def month_data(session: AsyncSession, content: Content, partnership_id: int,
                     timezone: str, month: date) -> MonthData:
    """One partnership's month from the database, in a handful of grouped queries."""
    topic_of = _topics(content)
    # A round counts in the month it closes in: once a month is over, its numbers are final.
    start, after = month_bounds(month, timezone)
    counted = await queries.counted_rounds(session, partnership_id, start, after)
    ids = [c.round.id for c in counted]
    asked = asked_statements(content, [c.round for c in counted])
    # Per statement, one query; a topic scored on several statements (rounds from before the
    # anchor) needs its own per-person means over them, in one more query.
    [by_statement] = await queries.class_scores(
        session, [ids], {s: s for found in asked.values() for s in found})
    several = several_statements(content, asked)
    by_topic = (await queries.class_scores(session, [ids], several))[0] if several else []
    condition_statements = [s for s in topic_of if topic_of[s] in CONDITION_IDS]
    counts = await queries.month_counts(session, partnership_id, ids, condition_statements,
                                        after)
    texts = await queries.open_answers(session, ids, topic_of)
    return MonthData(tuple(counted), queries.in_order(by_statement),
                     queries.in_order(by_topic), counts, texts)


def build_summary(
    content: Content,
    partnership: Partnership,
    month: date,
    data: MonthData,
    *,
    earlier: Sequence[Earlier] = (),
    rules: SummaryRules | None = None,
    nudges: NudgeStats | None = None,
    min_group_size: int = MIN_GROUP_SIZE,
) -> Summary:
    """The summary of `month` from its figures (`MonthData`) and the `earlier` frozen
    months: no database, so one partnership's and every partnership's at once agree."""
    minimum = max(MIN_GROUP_SIZE, min_group_size)
    rules = rules or load_summary_rules(content)
    month = month.replace(day=1)
    counted, counts, texts = data.counted, data.counts, data.texts
    asked = asked_statements(content, [c.round for c in counted])
    basis = {topic: score_basis(content, topic, found) for topic, found in asked.items()}
    by_statement, by_topic = data.by_statement, data.by_topic
    open_minimum = max(OPEN_TEXT_MIN, minimum)
    step = rules.thresholds.trend_step

    def topic(name: str, groups: bool) -> TopicSummary:
        on = basis[name]
        rows = ([row for row in by_topic if row.topic == name] if len(on) > 1
                else [row for row in by_statement if row.topic in on])
        results = tuple(_statement_result(content, name, s, by_statement, minimum,
                                          list(texts.get(s, [])), open_minimum,
                                          own_figures=len(on) == 1 or s not in on)
                        for s in asked[name])
        found = _topic(name, rows, minimum, asked[name], on, groups, results)
        return compare(found, month, earlier, step)

    conditions = tuple(topic(c, groups=True) for c in CONDITION_IDS)
    together = compare(_collaboration(conditions, minimum, counts.scorers), month, earlier,
                       step)
    boards = (topic("content", groups=False), together, topic("anchoring", groups=False))
    signals = _signals(content, conditions, rules, nudges, minimum)
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
        schools=tuple(SchoolName(s.id, s.name, s.type) for s in partnership.schools),
    )


async def leader_summary(
    session: AsyncSession,
    content: Content,
    partnership: Partnership,
    month: date,
    *,
    earlier: Sequence[Earlier] = (),
) -> Summary:
    """The summary as project leaders get it, with the month's informal-contact numbers, by
    the rules in the content's folder and the partnership's threshold, compared with the
    `earlier` frozen months. People read it only through `bot.summary.frozen`, which
    computes it once per closed month."""
    return await compute_summary(session, content, partnership, month, earlier=earlier,
                                 nudges=await nudge_stats(session, partnership.id, month),
                                 min_group_size=partnership.min_group_size)


def score_basis(content: Content, topic: str, asked: tuple[str, ...]) -> tuple[str, ...]:
    """The statements a topic's month score is on: its anchor whenever a round asked it
    (every round does since the anchor model), else all statements asked (older rounds)."""
    if not asked:
        return ()
    anchor = content.anchor(topic)
    return (anchor,) if anchor in asked else asked


def _topic(
    name: str,
    rows: Sequence[ClassScores],
    minimum: int,
    statements: tuple[str, ...],
    basis: tuple[str, ...],
    groups: bool,
    results: tuple[StatementResult, ...],
) -> TopicSummary:
    count = sum(row.respondents for row in rows)
    visible = count >= minimum
    sides: tuple[GroupScore, ...] = ()
    levels, schools = sides, sides
    if groups and visible:
        classes = sorted((((row.side, row.level, row.school), row.respondents)
                          for row in rows), key=repr)
        cells = _visible_cells(tuple(classes), minimum)
        sides = _groups(rows, 0, [side for side in SIDES if (0, side) in cells])
        levels = _groups(rows, 1, [level for level in LEVEL_IDS if (1, level) in cells])
        schools = _groups(rows, 2, sorted((v for p, v in cells if p == 2), key=int))
    mean = sum(row.mean_sum for row in rows) / count if visible else None
    return TopicSummary(
        topic=name,
        respondents=count if visible else None,
        mean=mean,
        distribution=tuple(sum(row.distribution[k] for row in rows)  # type: ignore[arg-type]
                           for k in range(5)) if visible else None,
        dont_know=sum(row.dont_know for row in rows) if visible else None,
        trend=(None, None, mean),
        direction=None,
        statements=statements,
        sides=sides,
        levels=levels,
        basis=basis,
        results=results,
        schools=schools,
    )


@lru_cache(maxsize=32)  # 4096 kept ~11 MB after a monthly run for 1 hit in 5 calls
def _visible_cells(classes: tuple[tuple[ClassKey, int], ...], minimum: int) -> frozenset[Cell]:
    """`privacy.visible_cells` (schools refine the school types), worked out once per set of
    group sizes: a month's topics, worked out one after another, mostly share them."""
    return visible_cells(dict(classes), minimum, refined=1)


def _statement_result(
    content: Content, topic: str, statement: str, rows: Sequence[ClassScores], minimum: int,
    texts: list[str], open_minimum: int, own_figures: bool,
) -> StatementResult:
    """One statement's mean and n (only from `minimum` people) and its open answers (only
    when at least `open_minimum` people scored it).

    Without `own_figures`: a topic scored on several statements (rounds from before the
    anchor) averages each person over them first, and that mean beside the statements' own
    would give away the sum of the few who scored only one of them. So those get none.
    """
    mine = [row for row in rows if row.topic == statement]
    count = sum(row.respondents for row in mine)
    shown_ = own_figures and count >= minimum
    return StatementResult(
        statement=statement,
        anchor=statement == content.anchor(topic),
        respondents=count if shown_ else None,
        mean=sum(row.mean_sum for row in mine) / count if shown_ else None,
        open_answers=tuple(texts) if count >= open_minimum else (),
    )


def _collaboration(
    conditions: Sequence[TopicSummary], minimum: int, count: int
) -> TopicSummary:
    """The collaboration board: the mean of the five condition means, when all are shown.

    Being made of shown numbers only, it can reveal nothing the conditions do not. It is
    on the statements of the five conditions' scores, so it compares only when they all do.
    """
    means = [c.mean for c in conditions]
    mean = None if None in means else sum(m or 0.0 for m in means) / len(means)
    basis = () if any(not c.basis for c in conditions) else \
        tuple(s for c in conditions for s in c.basis)
    return TopicSummary(topic="collaboration", respondents=count if count >= minimum else None,
                        mean=mean, distribution=None, dont_know=None, trend=(None, None, mean),
                        direction=None, statements=(), basis=basis)


def _groups(
    rows: Sequence[ClassScores], partition: int, shown: list[str]
) -> tuple[GroupScore, ...]:
    found = []
    for group in shown:
        mine = [row for row in rows if (row.side, row.level, row.school)[partition] == group]
        count = sum(row.respondents for row in mine)
        found.append(GroupScore(group, count, sum(row.mean_sum for row in mine) / count))
    return tuple(found)


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
