"""A month's condition overview: how many took part and the score per condition.

A number is only shown for a group of at least `MIN_GROUP_SIZE` respondents, so nobody's
answer can be read back from it. Each respondent weighs once per topic: their scores in
the month are averaged first, then the mean is taken over people.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from statistics import fmean
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import CONDITION_IDS, Content
from bot.store.models import Answer, CheckInRound, Member, Partnership

MIN_GROUP_SIZE = 3
TOPICS = (*CONDITION_IDS, "content", "anchoring")


@dataclass(frozen=True)
class TopicScore:
    topic: str
    respondents: int
    mean: float | None  # None when the group is too small to show
    distribution: dict[int, int]
    dont_know: int


@dataclass(frozen=True)
class MonthOverview:
    month: date
    members: int
    respondents: int
    rounds: list[CheckInRound]
    topics: list[TopicScore]

    @property
    def response_rate(self) -> int:
        return round(100 * self.respondents / self.members) if self.members else 0


def month_bounds(month: date, timezone: str) -> tuple[datetime, datetime]:
    """The first and the first-after instants of a local calendar month, in UTC."""
    zone = ZoneInfo(timezone)
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    after = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), after.astimezone(UTC)


async def month_overview(
    session: AsyncSession, content: Content, partnership: Partnership, month: date
) -> MonthOverview:
    start, after = month_bounds(month, partnership.timezone)
    rounds = list(await session.scalars(
        select(CheckInRound)
        .where(CheckInRound.partnership_id == partnership.id,
               CheckInRound.opens_at >= start, CheckInRound.opens_at < after)
        .order_by(CheckInRound.number)
    ))
    rows = (await session.execute(
        select(Answer.member_id, Answer.statement_id, Answer.status, Answer.score)
        .where(Answer.round_id.in_([r.id for r in rounds]))
    )).all()
    members = await session.scalar(
        select(func.count()).select_from(Member).where(
            Member.partnership_id == partnership.id,
            Member.onboarded_at.is_not(None),
            Member.onboarded_at < after,
        )
    )
    scores: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    dont_know: dict[str, int] = defaultdict(int)
    for member_id, statement_id, status, score in rows:
        topic = content.topic_of(statement_id)
        if status == "scored" and score is not None:
            scores[topic][member_id].append(score)
        elif status == "dont_know":
            dont_know[topic] += 1
    topics = []
    asked = {content.topic_of(sid) for r in rounds for sid in r.statement_ids}
    for topic in (t for t in TOPICS if t in asked):
        per_member = scores[topic]
        distribution = {n: 0 for n in range(1, 6)}
        for given in per_member.values():
            for score in given:
                distribution[score] += 1
        shown = len(per_member) >= MIN_GROUP_SIZE
        mean = fmean(fmean(given) for given in per_member.values()) if shown else None
        topics.append(TopicScore(topic, len(per_member), mean, distribution, dont_know[topic]))
    return MonthOverview(
        month=month,
        members=members or 0,
        respondents=len({row.member_id for row in rows}),
        rounds=rounds,
        topics=topics,
    )


def render_overview(
    overview: MonthOverview, content: Content, partnership: Partnership, lang: str
) -> str:
    lines = [content.text(
        "overview_title", lang, partnership=partnership.name,
        month=overview.month.strftime("%Y-%m"), respondents=overview.respondents,
        members=overview.members, rate=overview.response_rate,
    )]
    for score in overview.topics:
        topic = content.topic_name(score.topic, lang)
        if score.mean is None:
            lines.append("  " + content.text("overview_hidden", lang, topic=topic,
                                             count=score.respondents, minimum=MIN_GROUP_SIZE))
            continue
        filled = round(score.mean)
        lines.append("  " + content.text(
            "overview_row", lang, topic=topic, mean=f"{score.mean:.1f}",
            count=score.respondents, bar="█" * filled + "░" * (5 - filled),
        ))
    return "\n".join(lines)
