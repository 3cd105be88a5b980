"""Every partnership's closed months frozen at once, from a few grouped queries.

The scheduler freezes the months that closed for all the partnerships it plans in one go
(`freeze_all`): the database adds up the figures of every (partnership, month) in one
query per kind, grouped by partnership, month, statement, school type, level, school
(`month_data_many`), and the months are stored in one statement. Each month is made by the
same code from the same figures as one partnership's (`compute.build_summary`), so both
ways freeze the very same months (tests/test_summary_batch.py). In SQL a month is the
instants it runs between in the partnerships' time zone, so they go per time zone. A
backlog of months goes in small transactions of its own (`freeze_backlog`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content
from bot.domain import CONDITION_IDS
from bot.months import month_bounds, shift_month
from bot.nudges.stats import NudgeStats, month_numbers
from bot.store.models import Answer, CheckInRound, Member, Partnership
from bot.store.nudges import NudgeAnswer, NudgeGroup, NudgeGroupMember, NudgeRound
from bot.store.summary import SummaryMonth
from bot.summary import frozen, queries
from bot.summary.backlog import backlog, missing_months, transactions
from bot.summary.codec import decode
from bot.summary.compute import (
    MonthData,
    asked_statements,
    build_summary,
    several_statements,
)
from bot.summary.history import Earlier, PastMonth
from bot.summary.model import Summary
from bot.summary.queries import (
    ClassScores,
    CountedRound,
    MonthCounts,
    RoundFacts,
    in_order,
    text_order,
)
from bot.summary.rules import load_summary_rules

T = TypeVar("T")
Key = tuple[int, date]  # (partnership id, first day of the month)
# Partnerships per query: with two years of fortnightly rounds, their round ids stay well
# inside every driver's limit on parameters.
CHUNK = 200


async def freeze_all(session: AsyncSession, content: Content,
                     partnerships: Iterable[Partnership], now: datetime,
                     through: Mapping[int, date] | None = None) -> int:
    """Freeze every closed month not stored yet of all `partnerships` (with `through`,
    only up to each one's month in it), as `frozen.freeze_closed_months` does for one; how
    many months were frozen. Afterwards reading any of them back in this transaction
    needs no query."""
    known, partnerships = frozen.known_months(session), list(partnerships)
    last = {p.id: frozen.last_closed_month(p, now) for p in partnerships}
    if through is not None:
        last = {pid: min(month, through[pid]) for pid, month in last.items() if pid in through}
    todo = {p.id: p for p in partnerships if p.id in last
            and not (p.id in known.through and last[p.id] <= known.through[p.id][1])}
    if not todo:
        return 0
    # Per partnership with figures: its first month (earlier months have none).
    first, missing = await missing_months(session, todo.values(), last)
    wanted = {(pid, month) for pid, months in missing.items() for month in months}
    # The months before them that were frozen earlier, for their trends.
    before = {(pid, shift_month(month, -n)) for pid, month in wanted for n in (1, 2)}
    before = {(pid, month) for pid, month in before
              if month >= first[pid] and (pid, month) not in wanted}
    earlier_months = await stored_summaries(session, before)
    data = await month_data_many(session, content, {todo[pid]: months
                                                    for pid, months in missing.items()})
    nudges = await nudge_stats_many(session, {todo[pid]: months
                                              for pid, months in missing.items()})
    rules = load_summary_rules(content)
    made: list[Summary] = []
    for pid in sorted(missing):
        partnership, mine = todo[pid], dict[date, Summary]()
        for month in missing[pid]:
            earlier = [found for n in (2, 1) if (prior := shift_month(month, -n)) >= first[pid]
                       and (found := mine.get(prior) or earlier_months.get((pid, prior)))
                       is not None]
            mine[month] = build_summary(content, partnership, month, data[(pid, month)],
                                        earlier=earlier, rules=rules, nudges=nudges[(pid, month)],
                                        min_group_size=partnership.min_group_size)
            made.append(mine[month])
    await frozen.store_many(session, content, made, now)
    for pid in first:
        known.through[pid] = (first[pid], last[pid])
    return len(made)


async def freeze_backlog(sessions: async_sessionmaker[AsyncSession], content: Content,
                         now: datetime, partnership_ids: Collection[int] | None = None,
                         *, older_only: bool = False) -> int:
    """Freeze the closed months not stored yet of the partnerships (all without ids) in
    transactions of their own of at most `backlog.MONTHS_PER_TRANSACTION`
    partnership-months each (`bot.summary.backlog`); how many were frozen. With
    `older_only`, the month that closed last is left to the caller."""
    query = select(Partnership).order_by(Partnership.id)
    if partnership_ids is not None:
        query = query.where(Partnership.id.in_(sorted(partnership_ids)))
    async with sessions() as session:
        partnerships = list(await session.scalars(query))
        parts = transactions(await backlog(session, partnerships, now, older_only=older_only))
    by_id = {p.id: p for p in partnerships}
    done = 0
    for through in parts:
        async with sessions() as session, session.begin():
            done += await freeze_all(session, content, [by_id[pid] for pid in through], now,
                                     through)
    return done


async def stored_summaries(session: AsyncSession, keys: Iterable[Key]) -> dict[Key, Earlier]:
    """The frozen months asked for that are stored, decoded as far as trends need them."""
    known = frozen.known_months(session)
    found: dict[Key, Earlier] = {k: known.summaries[k] for k in keys if k in known.summaries}
    by_partnership: dict[int, set[date]] = defaultdict(set)
    for pid, month in set(keys) - set(found):
        by_partnership[pid].add(month)
    months = {month for wanted in by_partnership.values() for month in wanted}
    for chunk in _chunks(list(by_partnership)):
        for pid, month, data in await session.execute(
                select(SummaryMonth.partnership_id, SummaryMonth.month, SummaryMonth.data)
                .where(SummaryMonth.partnership_id.in_(chunk),
                       SummaryMonth.month.in_(sorted(months)))):
            if month in by_partnership[pid]:
                found[(pid, month)] = decode(PastMonth, data)
    return found


async def month_data_many(session: AsyncSession, content: Content,
                          months: Mapping[Partnership, Sequence[date]]) -> dict[Key, MonthData]:
    """The figures of each partnership's months, as `compute.month_data` gives them for
    one: a few queries for all, per time zone."""
    found: dict[Key, MonthData] = {}
    for zone, ids, wanted in _by_zone(months):
        found.update(await _zone_data(session, content, zone, ids, wanted))
    return found


async def _zone_data(session: AsyncSession, content: Content, zone: str,
                     partnerships: list[int], wanted: set[Key]) -> dict[Key, MonthData]:
    spans = _Spans(zone, sorted({month for _, month in wanted}))
    topic_of = {s.id: content.topic_of(s.id) for s in content.all_statements()}
    # The rounds, with who could answer each and how many did.
    rounds: dict[Key, list[CountedRound]] = {key: [] for key in wanted}
    for pid, *facts, answered, members in await session.execute(
            _rounds_query(), {"partnerships": partnerships, "start": spans.start,
                              "after": spans.after}):
        key = (pid, spans.month_of(facts[3]))
        if key in rounds:
            rounds[key].append(CountedRound(RoundFacts(*facts), int(answered), int(members)))
    asked = {key: asked_statements(content, [c.round for c in counted])
             for key, counted in rounds.items()}
    # The answers are read by the ids of these rounds, through the answers' round index.
    ids = [c.round.id for counted in rounds.values() for c in counted]
    # Per class and statement; then the topics scored on several statements, per mapping.
    by_statement = await _class_scores(session, spans, ids, {s: s for s in topic_of})
    several = {key: several_statements(content, found) for key, found in asked.items()}
    by_topic: dict[Key, list[ClassScores]] = defaultdict(list)
    for mapping in {tuple(sorted(m.items())) for m in several.values() if m}:
        keys = {key for key, m in several.items() if tuple(sorted(m.items())) == mapping}
        scores = await _class_scores(session, spans, [c.round.id for key in keys
                                                      for c in rounds[key]], dict(mapping))
        for key in keys:
            by_topic[key] = scores.get(key, [])
    counts = await _counts(session, spans, partnerships, ids,
                           [s for s in topic_of if topic_of[s] in CONDITION_IDS])
    texts = await _texts(session, spans, ids, list(topic_of))
    found = {}
    for key in wanted:
        statements = {s for found_ in asked[key].values() for s in found_}
        found[key] = MonthData(
            counted=tuple(sorted(rounds[key], key=lambda c: c.round.number)),
            by_statement=in_order(r for r in by_statement.get(key, [])
                                  if r.topic in statements),
            by_topic=in_order(by_topic.get(key, [])),
            counts=counts[key],
            texts={s: text_order(found_) for s, found_ in texts.get(key, {}).items()})
    return found


class _Spans:
    """The months asked for in one time zone: the instants each runs between, and a SQL
    expression that numbers a moment by the month it falls in (NULL outside them)."""

    def __init__(self, zone: str, months: Sequence[date]) -> None:
        self.zone, self.months = ZoneInfo(zone), list(months)
        self.bounds = [month_bounds(month, zone) for month in self.months]
        self.start = min(start for start, _ in self.bounds)
        self.after = max(after for _, after in self.bounds)
        self.params = {name: value for n, (start, after) in enumerate(self.bounds)
                       for name, value in ((f"start_{n}", start), (f"after_{n}", after))}

    def month_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date().replace(day=1)

    def key(self, pid: int, number: int) -> Key:
        return pid, self.months[number]


def _month_case(column: Any, months: int) -> Any:
    return case(*((and_(column >= bindparam(f"start_{n}"), column < bindparam(f"after_{n}")), n)
                  for n in range(months)))


def _in_months(column: Any, months: int) -> ColumnElement[bool]:
    return or_(*(and_(column >= bindparam(f"start_{n}"), column < bindparam(f"after_{n}"))
                 for n in range(months)))


_IDS: Any = bindparam("partnerships", expanding=True)
_ROUNDS: Any = bindparam("rounds", expanding=True)


@lru_cache(maxsize=1)
def _rounds_query() -> Select[Any]:
    return (select(CheckInRound.partnership_id, *queries.ROUND_COLUMNS,
                   *queries.round_counts())
            .where(CheckInRound.partnership_id.in_(_IDS),
                   CheckInRound.closes_at >= bindparam("start"),
                   CheckInRound.closes_at < bindparam("after"))
            .order_by(CheckInRound.partnership_id, CheckInRound.number))


async def _class_scores(session: AsyncSession, spans: _Spans, ids: Sequence[int],
                        topic_of: Mapping[str, str]) -> dict[Key, list[ClassScores]]:
    found: dict[Key, list[ClassScores]] = defaultdict(list)
    if not ids:
        return found
    rows = await session.execute(_class_scores_query(tuple(sorted(topic_of.items())),
                                                     len(spans.months)),
                                 {"rounds": list(ids), **spans.params})
    for pid, number, *row in rows:
        found[spans.key(pid, number)].append(queries.class_row(*row))
    return found


@lru_cache(maxsize=8)
def _class_scores_query(topic_of: tuple[tuple[str, str], ...], months: int) -> Select[Any]:
    closes = CheckInRound.closes_at
    return queries.class_scores_select(
        _month_case(closes, months),
        [Answer.round_id.in_(_ROUNDS)], topic_of, per_partnership=True)


async def _counts(session: AsyncSession, spans: _Spans, ids: Sequence[int],
                  rounds: Sequence[int], condition_statements: Sequence[str]
                  ) -> dict[Key, MonthCounts]:
    """Per (partnership, month): members onboarded before it ended, how many of them
    answered in its rounds, and who scored a condition in them (`queries.month_counts`)."""
    months = len(spans.months)
    members = {pid: counts for pid, *counts in await session.execute(
        _members_query(months), {"partnerships": list(ids), **spans.params})}
    answered = {spans.key(pid, number): (int(respondents or 0), int(scorers or 0))
                for pid, number, respondents, scorers in (await session.execute(
                    _answered_query(tuple(condition_statements), months),
                    {"rounds": list(rounds), **spans.params}) if rounds else ())}
    return {spans.key(pid, number): MonthCounts(
                int(members.get(pid, [0] * months)[number] or 0),
                *answered.get(spans.key(pid, number), (0, 0)))
            for pid in ids for number in range(months)}


@lru_cache(maxsize=4)
def _members_query(months: int) -> Select[Any]:
    columns: list[Any] = [Member.partnership_id]
    columns += [func.sum(case((Member.onboarded_at < bindparam(f"after_{n}"), 1), else_=0))
                for n in range(months)]
    return (select(*columns)
            .where(Member.partnership_id.in_(_IDS), Member.onboarded_at.is_not(None))
            .group_by(Member.partnership_id))


@lru_cache(maxsize=4)
def _answered_query(condition_statements: tuple[str, ...], months: int) -> Select[Any]:
    closes = CheckInRound.closes_at
    month = _month_case(closes, months)
    after = case(*((and_(closes >= bindparam(f"start_{n}"), closes < bindparam(f"after_{n}")),
                    bindparam(f"after_{n}")) for n in range(months)))
    member = and_(Member.partnership_id == CheckInRound.partnership_id,
                  Member.onboarded_at.is_not(None), Member.onboarded_at < after)
    scorer = and_(Answer.statement_id.in_(condition_statements), Answer.score.is_not(None))
    return (select(CheckInRound.partnership_id, month,
                   func.count(func.distinct(case((member, Answer.member_id)))),
                   func.count(func.distinct(case((scorer, Answer.member_id)))))
            .select_from(Answer).join(CheckInRound, CheckInRound.id == Answer.round_id)
            .outerjoin(Member, Member.id == Answer.member_id)
            .where(Answer.round_id.in_(_ROUNDS))
            .group_by(CheckInRound.partnership_id, month))


async def _texts(session: AsyncSession, spans: _Spans, ids: Sequence[int],
                 statements: Sequence[str]) -> dict[Key, dict[str, list[str]]]:
    """The open texts per (partnership, month) and statement (`queries.open_answers`)."""
    found: dict[Key, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    if not ids:
        return found
    closes = CheckInRound.closes_at
    rows = await session.execute(
        select(CheckInRound.partnership_id, _month_case(closes, len(spans.months)),
               Answer.statement_id, Answer.comment)
        .join(CheckInRound, CheckInRound.id == Answer.round_id)
        .where(Answer.round_id.in_(list(ids)),
               Answer.statement_id.in_(list(statements)), Answer.comment.is_not(None),
               Answer.comment != ""),
        spans.params)
    for pid, number, statement, comment in rows:
        if comment:
            found[spans.key(pid, number)][statement].append(comment)
    return found


async def nudge_stats_many(session: AsyncSession, months: Mapping[Partnership, Sequence[date]]
                           ) -> dict[Key, NudgeStats]:
    """Each partnership's informal-contact numbers of its months, as `nudge_stats` counts
    them for one: four queries per time zone."""
    found: dict[Key, NudgeStats] = {}
    for zone, ids, wanted in _by_zone(months):
        spans = _Spans(zone, sorted({month for _, month in wanted}))
        params = {"partnerships": ids, **spans.params}
        planned = NudgeRound.planned_at
        in_months = (NudgeRound.partnership_id.in_(_IDS),
                     _in_months(planned, len(spans.months)))
        month = _month_case(planned, len(spans.months))
        rounds = {spans.key(pid, number): int(count) for pid, number, count in
                  await session.execute(
                      select(NudgeRound.partnership_id, month, func.count(NudgeRound.id))
                      .where(*in_months).group_by(NudgeRound.partnership_id, month),
                      params)}
        groups: dict[Key, dict[int, tuple[bool, int]]] = defaultdict(dict)
        for pid, number, group_id, cross, repeats in await session.execute(
                select(NudgeRound.partnership_id, month, NudgeGroup.id,
                       NudgeGroup.cross_school, NudgeGroup.repeat_pairs)
                .join(NudgeRound, NudgeRound.id == NudgeGroup.round_id)
                .where(*in_months), params):
            groups[spans.key(pid, number)][group_id] = (cross, repeats)
        people: dict[int, set[Any]] = {}
        said: dict[int, set[Any]] = {}
        if groups:  # no groups in these months: nothing more to ask
            people = await _per_group(session, params, NudgeGroupMember.group_id,
                                      NudgeGroupMember.member_id, *in_months)
            said = await _per_group(session, params, NudgeAnswer.group_id, NudgeAnswer.answer,
                                    *in_months)
        for pid, month_ in wanted:
            key = (pid, month_)
            mine = groups.get(key, {})
            found[key] = month_numbers(
                pid, month_, rounds.get(key, 0), mine,
                {g: set(people.get(g, ())) for g in mine},
                {g: set(said[g]) for g in mine if g in said})
    return found


async def _per_group(session: AsyncSession, params: dict[str, Any], group: Any, value: Any,
                     *where: ColumnElement[bool]) -> dict[int, set[Any]]:
    """`value` (who was in it, what they answered) per nudge group of the rounds selected."""
    found: dict[int, set[Any]] = defaultdict(set)
    for group_id, item in await session.execute(
            select(group, value).join(NudgeGroup, NudgeGroup.id == group)
            .join(NudgeRound, NudgeRound.id == NudgeGroup.round_id).where(*where), params):
        found[group_id].add(item)
    return found


def _by_zone(months: Mapping[Partnership, Sequence[date]]
             ) -> Iterator[tuple[str, list[int], set[Key]]]:
    """The partnerships per time zone in chunks: the zone, their ids and the (id, month)
    pairs wanted of them."""
    by_zone: dict[str, list[Partnership]] = defaultdict(list)
    for partnership in months:
        by_zone[partnership.timezone].append(partnership)
    for zone, members in sorted(by_zone.items()):
        for chunk in _chunks(sorted(members, key=lambda p: p.id)):
            yield zone, [p.id for p in chunk], {
                (p.id, month.replace(day=1)) for p in chunk for month in months[p]}


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[at:at + CHUNK] for at in range(0, len(items), CHUNK)]
