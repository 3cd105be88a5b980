"""The grouped queries behind a summary: the database adds up, Python only combines groups.

Scores come back per class (side x level x topic), never per person: each respondent's
scores on a topic are averaged first (so everyone weighs once), then summed per class.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Float, Select, bindparam, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Answer, CheckInRound, Member, School


@dataclass(frozen=True)
class ClassScores:
    """What the respondents of one side and level gave on one topic in a month."""

    topic: str
    side: str | None  # the school type: vmbo, mbo, other; None when not known
    level: str | None
    respondents: int  # people with at least one score (not only "don't know")
    mean_sum: float  # the sum of those people's own means
    distribution: tuple[int, int, int, int, int]  # answers scored 1..5
    dont_know: int  # "don't know" answers


async def month_rounds(
    session: AsyncSession, partnership_id: int, start: datetime, after: datetime
) -> list[CheckInRound]:
    return list(await session.scalars(
        select(CheckInRound)
        .where(CheckInRound.partnership_id == partnership_id,
               CheckInRound.opens_at >= start, CheckInRound.opens_at < after)
        .order_by(CheckInRound.number)
    ))


async def class_scores(
    session: AsyncSession, round_ids: Sequence[int], topic_of: Mapping[str, str]
) -> list[ClassScores]:
    """Scores per class for the statements in `topic_of` (statement id -> topic)."""
    if not round_ids or not topic_of:
        return []
    statement = _class_scores_query(tuple(sorted(topic_of.items())))
    rows = await session.execute(statement, {"round_ids": list(round_ids)})
    return [
        ClassScores(topic=topic, side=side, level=level, respondents=int(count),
                    mean_sum=float(total), distribution=(int(s1), int(s2), int(s3), int(s4),
                                                         int(s5)),
                    dont_know=int(dont_know))
        for topic, side, level, count, total, s1, s2, s3, s4, s5, dont_know in rows
    ]


@lru_cache(maxsize=4)
def _class_scores_query(topic_of: tuple[tuple[str, str], ...]) -> Select[Any]:
    """Built once per content: with a few dozen statements this takes milliseconds."""
    answers = (
        select(Answer.member_id, School.type.label("side"), Member.level.label("level"),
               case(dict(topic_of), value=Answer.statement_id).label("topic"),
               Answer.score, Answer.status)
        .join(Member, Member.id == Answer.member_id)
        .outerjoin(School, School.id == Member.school_id)
        .where(Answer.round_id.in_(bindparam("round_ids", expanding=True)),
               Answer.statement_id.in_([statement for statement, _ in topic_of]))
        .subquery()
    )
    a = answers.c
    per_member = (
        select(a.side, a.level, a.topic,
               (cast(func.sum(a.score), Float) / func.nullif(func.count(a.score), 0))
               .label("own_mean"),
               *(func.sum(case((a.score == k, 1), else_=0)).label(f"s{k}") for k in range(1, 6)),
               func.sum(case((a.status == "dont_know", 1), else_=0)).label("dont_know"))
        .group_by(a.member_id, a.side, a.level, a.topic)
        .subquery()
    )
    m = per_member.c
    return (
        select(m.topic, m.side, m.level, func.count(m.own_mean),
               func.coalesce(func.sum(m.own_mean), 0.0),
               *(func.sum(m[f"s{k}"]) for k in range(1, 6)), func.sum(m.dont_know))
        .group_by(m.topic, m.side, m.level)
    )


async def respondents_per_round(session: AsyncSession, round_ids: Sequence[int]) -> dict[int, int]:
    if not round_ids:
        return {}
    rows = await session.execute(
        select(Answer.round_id, func.count(func.distinct(Answer.member_id)))
        .where(Answer.round_id.in_(round_ids))
        .group_by(Answer.round_id)
    )
    return {round_id: int(count) for round_id, count in rows}


async def respondents(session: AsyncSession, round_ids: Sequence[int]) -> int:
    """People who answered anything (a score, don't know or skip) in these rounds."""
    if not round_ids:
        return 0
    count = await session.scalar(
        select(func.count(func.distinct(Answer.member_id))).where(Answer.round_id.in_(round_ids))
    )
    return int(count or 0)


async def scorers(
    session: AsyncSession, round_ids: Sequence[int], statement_ids: Sequence[str]
) -> int:
    """People who gave at least one score (1-5) on these statements in these rounds."""
    if not round_ids:
        return 0
    count = await session.scalar(
        select(func.count(func.distinct(Answer.member_id))).where(
            Answer.round_id.in_(round_ids), Answer.statement_id.in_(statement_ids),
            Answer.score.is_not(None))
    )
    return int(count or 0)


async def members_before(session: AsyncSession, partnership_id: int, moment: datetime) -> int:
    """Members of the partnership who had finished onboarding before `moment`."""
    count = await session.scalar(
        select(func.count()).select_from(Member).where(
            Member.partnership_id == partnership_id,
            Member.onboarded_at.is_not(None),
            Member.onboarded_at < moment,
        )
    )
    return int(count or 0)


async def open_answers(
    session: AsyncSession, round_ids: Sequence[int], topic_of: Mapping[str, str]
) -> dict[str, list[str]]:
    """The "what would help?" texts per topic, without who wrote them or when."""
    if not round_ids:
        return {}
    rows = await session.execute(
        select(case(dict(topic_of), value=Answer.statement_id), Answer.comment)
        .where(Answer.round_id.in_(round_ids), Answer.statement_id.in_(list(topic_of)),
               Answer.comment.is_not(None), Answer.comment != "")
    )
    texts: dict[str, list[str]] = defaultdict(list)
    for topic, comment in rows:
        texts[topic].append(comment)
    return {topic: sorted(found, key=str.casefold) for topic, found in texts.items()}
