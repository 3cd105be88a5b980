"""The grouped queries behind a summary: the database adds up, Python only combines groups.

Scores come back per class (side x level x school x topic), never per person: each respondent's
scores on a topic are averaged first (so everyone weighs once), then summed per class.

The class is who the respondent was when they answered (`Answer.side`, `Answer.level`,
`Answer.school_id`), never their member row now: a later move to another school or level
leaves a month's groups as they were. Should someone move in the middle of a month, all
their answers of that month count in the group of their last answer in it, so each person
stays in one class per month (the privacy check in `privacy.py` relies on that).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Float, Select, bindparam, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Answer, CheckInRound, Member


@dataclass(frozen=True)
class ClassScores:
    """What the respondents of one side, level and school gave on one topic in a month."""

    topic: str
    side: str | None  # the school type: vmbo, mbo, other; None when not known
    level: str | None
    school: str | None  # the school's id (as text, like every group); None when not known
    respondents: int  # people with at least one score (not only "don't know")
    mean_sum: float  # the sum of those people's own means
    distribution: tuple[int, int, int, int, int]  # answers scored 1..5
    dont_know: int  # "don't know" answers


class RoundFacts(NamedTuple):
    """What a summary reads of a check-in round."""

    id: int
    number: int
    opens_at: datetime
    closes_at: datetime
    statement_ids: list[str]


class CountedRound(NamedTuple):
    """A check-in round with who could answer it (onboarded before it closed) and how many
    of them did; so a round's respondents never outnumber its members."""

    round: RoundFacts
    respondents: int
    members: int


@dataclass(frozen=True)
class MonthCounts:
    members: int  # onboarded before the month ended
    # of those, who answered anything (a score, don't know or skip) in the month's rounds
    respondents: int
    scorers: int  # gave at least one score (1-5) on a condition in the month's rounds


ROUND_COLUMNS = (CheckInRound.id, CheckInRound.number, CheckInRound.opens_at,
                 CheckInRound.closes_at, CheckInRound.statement_ids)


def in_order(rows: Iterable[ClassScores]) -> tuple[ClassScores, ...]:
    """Class rows in one order whatever order the database gave them in, so sums over them
    come out the same to the last bit however the rows were asked for."""
    return tuple(sorted(rows, key=lambda r: (r.topic, r.side or "", r.side is None,
                                             r.level or "", r.level is None,
                                             r.school or "", r.school is None)))


def sum_of_means(total: float) -> float:
    """A class's sum of personal means, rounded far below anything shown, so that the order
    the database adds in (one partnership's query or everyone's) leaves no trace."""
    return round(float(total), 9)


def text_order(texts: Iterable[str]) -> list[str]:
    """Open texts alphabetically, ties in one fixed order."""
    return sorted(texts, key=lambda text: (text.casefold(), text))


async def counted_rounds(
    session: AsyncSession, partnership_id: int, start: datetime, after: datetime
) -> list[CountedRound]:
    """The rounds that close in [start, after), each with its respondents and members: one
    query. A round belongs to the month it closes in, so a month that is over has all its
    rounds closed and its answers final."""
    rows = await session.execute(_counted_rounds_query(),
                                 {"partnership_id": partnership_id, "start": start,
                                  "after": after})
    return [CountedRound(RoundFacts(*round_), int(answered), int(members))
            for *round_, answered, members in rows]


@lru_cache(maxsize=1)
def _counted_rounds_query() -> Select[Any]:
    return (
        select(*ROUND_COLUMNS, *round_counts())
        .where(CheckInRound.partnership_id == bindparam("partnership_id"),
               CheckInRound.closes_at >= bindparam("start"),
               CheckInRound.closes_at < bindparam("after"))
        .order_by(CheckInRound.number)
    )


def round_counts() -> tuple[Any, Any]:
    """A round's respondents and members (onboarded before it closed), as columns."""
    eligible = (Member.partnership_id == CheckInRound.partnership_id,
                Member.onboarded_at.is_not(None), Member.onboarded_at < CheckInRound.closes_at)
    answered = (select(func.count(func.distinct(Answer.member_id))).select_from(Answer)
                .join(Member, Member.id == Answer.member_id)
                .where(Answer.round_id == CheckInRound.id, *eligible)
                .scalar_subquery())
    members = select(func.count(Member.id)).where(*eligible).scalar_subquery()
    return answered, members


async def class_scores(
    session: AsyncSession, months: Sequence[Sequence[int]], topic_of: Mapping[str, str]
) -> list[list[ClassScores]]:
    """Scores per class for the statements in `topic_of` (statement id -> topic), for each
    month given by its round ids, in the order given: one query for all of them."""
    found: list[list[ClassScores]] = [[] for _ in months]
    if not any(months) or not topic_of:
        return found
    statement = _class_scores_query(tuple(sorted(topic_of.items())), len(months))
    rows = await session.execute(statement, {f"month_{n}": list(ids)
                                             for n, ids in enumerate(months)})
    for month, *row in rows:
        found[month].append(class_row(*row))
    return found


@lru_cache(maxsize=4)
def _class_scores_query(topic_of: tuple[tuple[str, str], ...], months: int) -> Select[Any]:
    """Built once per content: with a few dozen statements this takes milliseconds."""
    in_month = [Answer.round_id.in_(bindparam(f"month_{n}", expanding=True))
                for n in range(months)]
    month = case(*((where, n) for n, where in enumerate(in_month)))
    return class_scores_select(month, [or_(*in_month)], topic_of)


def class_scores_select(month: Any, where: Sequence[Any],
                        topic_of: tuple[tuple[str, str], ...],
                        per_partnership: bool = False) -> Select[Any]:
    """Scores per month (`month`: a number per answer), topic and class of the answers
    `where` selects; `per_partnership` joins the rounds and puts their partnership first."""
    # The group of the person's last answer in the month, for all of that month's answers.
    by, latest = (Answer.member_id, month), (Answer.answered_at.desc(), Answer.id.desc())
    keys = [CheckInRound.partnership_id.label("partnership")] if per_partnership else []
    answers = (
        select(*keys, Answer.member_id,
               func.first_value(Answer.side).over(partition_by=by, order_by=latest)
               .label("side"),
               func.first_value(Answer.level).over(partition_by=by, order_by=latest)
               .label("level"),
               func.first_value(Answer.school_id).over(partition_by=by, order_by=latest)
               .label("school"),
               month.label("month"),
               case(dict(topic_of), value=Answer.statement_id).label("topic"),
               Answer.score, Answer.status)
        .where(*where, Answer.statement_id.in_([statement for statement, _ in topic_of]))
    )
    if per_partnership:
        answers = answers.join(CheckInRound, CheckInRound.id == Answer.round_id)
    a = answers.subquery().c
    outer = [a.partnership] if per_partnership else []
    per_member = (
        select(*outer, a.month, a.side, a.level, a.school, a.topic,
               (cast(func.sum(a.score), Float) / func.nullif(func.count(a.score), 0))
               .label("own_mean"),
               *(func.sum(case((a.score == k, 1), else_=0)).label(f"s{k}") for k in range(1, 6)),
               func.sum(case((a.status == "dont_know", 1), else_=0)).label("dont_know"))
        .group_by(*outer, a.member_id, a.month, a.side, a.level, a.school, a.topic)
        .subquery()
    )
    m = per_member.c
    grouped = [m.partnership] if per_partnership else []
    return (
        select(*grouped, m.month, m.topic, m.side, m.level, m.school, func.count(m.own_mean),
               func.coalesce(func.sum(m.own_mean), 0.0),
               *(func.sum(m[f"s{k}"]) for k in range(1, 6)), func.sum(m.dont_know))
        .group_by(*grouped, m.month, m.topic, m.side, m.level, m.school)
    )


def class_row(topic: str, side: str | None, level: str | None, school: int | None,
              count: int, total: float, s1: int, s2: int, s3: int, s4: int, s5: int,
              dont_know: int) -> ClassScores:
    """One row of `class_scores_select` (after its month) as `ClassScores`."""
    return ClassScores(topic=topic, side=side, level=level,
                       school=None if school is None else str(school), respondents=int(count),
                       mean_sum=sum_of_means(total),
                       distribution=(int(s1), int(s2), int(s3), int(s4), int(s5)),
                       dont_know=int(dont_know))


async def month_counts(
    session: AsyncSession, partnership_id: int, round_ids: Sequence[int],
    condition_statements: Sequence[str], after: datetime,
) -> MonthCounts:
    """Members (onboarded before `after`), how many of them answered, and condition scorers
    of a month: one query."""
    row = (await session.execute(_month_counts_query(tuple(condition_statements)), {
        "partnership_id": partnership_id, "round_ids": list(round_ids), "after": after,
    })).one()
    return MonthCounts(*(int(value or 0) for value in row))


@lru_cache(maxsize=4)
def _month_counts_query(condition_statements: tuple[str, ...]) -> Select[Any]:
    in_month = Answer.round_id.in_(bindparam("round_ids", expanding=True))
    people = func.count(func.distinct(Answer.member_id))
    member = (Member.partnership_id == bindparam("partnership_id"),
              Member.onboarded_at.is_not(None), Member.onboarded_at < bindparam("after"))
    return select(
        select(func.count(Member.id)).where(*member).scalar_subquery(),
        select(people).select_from(Answer).join(Member, Member.id == Answer.member_id)
        .where(in_month, *member).scalar_subquery(),
        select(people).where(in_month, Answer.statement_id.in_(condition_statements),
                             Answer.score.is_not(None)).scalar_subquery(),
    )


async def open_answers(
    session: AsyncSession, round_ids: Sequence[int], statements: Iterable[str]
) -> dict[str, list[str]]:
    """The "what would help?" texts per statement they answer, alphabetically, without who
    wrote them or when."""
    if not round_ids:
        return {}
    rows = await session.execute(
        select(Answer.statement_id, Answer.comment)
        .where(Answer.round_id.in_(round_ids), Answer.statement_id.in_(list(statements)),
               Answer.comment.is_not(None), Answer.comment != "")
    )
    texts: dict[str, list[str]] = defaultdict(list)
    for statement, comment in rows:
        if comment:
            texts[statement].append(comment)
    return {statement: text_order(found) for statement, found in texts.items()}
