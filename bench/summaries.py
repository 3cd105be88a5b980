"""Monthly summaries as the scheduler sends them, against a plain-SQL floor.

The data goes in with bulk inserts (not through the chat), shaped like the product's own
rounds: partnerships of a vmbo school and an mbo college, 40 members each across the three
levels (two of them project leaders, one channel bound), a check-in every other week for
two years asking what `bot.rounds` asks (each topic's anchor and one rotating statement,
six statements), and about seven in ten members answering a round, about one answer in
twelve "don't know".

The month summarised is the last full one. As in a running scheduler, the months before
it are frozen already (partnership 1's are frozen for real, the others get copies of
them). The partnerships go in the planner's batches (`scheduler.planner.batches`), and
each batch does what the planner does: freeze the month that just closed for the whole
batch at once (`bot.summary.batch.freeze_all`, with the two frozen months before it for
the trend), then per partnership read it back and render it as sent: the full text for
each project leader, the channel's short version, and the chart PNG (`SummaryMessages`).

The floor asks plain SQL for the same aggregates of that month (per statement, school
type and level: respondents, the 1-5 distribution and "don't know"; respondents per
round) in the same process, one partnership at a time; a second floor asks for a whole
batch in one grouped query. Floors and achtje alternate per batch, after a warm-up whose
work is rolled back. Then the data is doubled (twice the partnerships) to show how the
cost grows.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import (
    Result,
    Stopwatch,
    backends,
    database,
    path_row,
    ratio,
    result,
    rss_mb,
)
from bot.content import Content, load_content
from bot.messages import Image
from bot.months import month_bounds, shift_month
from bot.rounds import statements_for_round
from bot.store.models import Answer, ChannelBinding, CheckInRound, Member, Partnership, School
from bot.store.summary import SummaryMonth
from bot.summary import SummaryMessages, SummaryRules, load_summary_rules
from bot.summary.batch import freeze_all
from bot.summary.frozen import freeze_closed_months, published_summary
from scheduler.planner import batches

SIZES = {"smoke": {"partnerships": 12, "members": 40, "weeks": 16},
         "full": {"partnerships": 500, "members": 40, "weeks": 104}}
FIRST_ROUND = datetime(2024, 12, 3, 13, 0, tzinfo=UTC)  # a Tuesday
LEVELS = ("board", "management", "teachers", "teachers", "teachers")
LEADERS = 2  # members 0 and 1 of each partnership, one per school
ANSWERING = 0.7
WARM_UP = 3
CHUNK = 20_000
ZONE = "Europe/Amsterdam"


async def fill(engine: AsyncEngine, content: Content, partnerships: int, members: int,
               weeks: int, first_id: int = 1) -> int:
    """Insert the partnerships, members, rounds and answers; returns the answer rows."""
    rng = random.Random(2026)  # each half alike, so 2x is twice the answers
    created = datetime(2024, 11, 1, tzinfo=UTC)
    pids = range(first_id, first_id + partnerships)
    rounds_each = weeks // 2
    asked = [statements_for_round(content, number) for number in range(1, rounds_each + 1)]
    rows = 0
    async with engine.begin() as connection:
        await connection.execute(insert(Partnership), [
            {"id": p, "name": f"Partnerschap {p}", "sector": "Techniek", "region": "midden",
             "timezone": ZONE, "language": "nl", "created_at": created} for p in pids])
        await connection.execute(insert(School), [
            {"id": 2 * p + side, "partnership_id": p, "name": f"School {p}-{side}",
             "type": ("vmbo", "mbo")[side]} for p in pids for side in (0, 1)])
        await connection.execute(insert(Member), [
            {"id": p * members + m, "partnership_id": p, "platform": "bench",
             "user_ref": f"u{p}-{m}", "display_name": "", "school_id": 2 * p + m % 2,
             "level": LEVELS[m % len(LEVELS)],
             "role": "leader" if m < LEADERS else "member", "language": "nl",
             "onboarded_at": created, "created_at": created}
            for p in pids for m in range(members)])
        await connection.execute(insert(ChannelBinding), [
            {"partnership_id": p, "platform": "bench", "channel_ref": f"C{p}",
             "created_at": created} for p in pids])
        rounds: list[dict[str, Any]] = []
        for p in pids:
            for number in range(1, rounds_each + 1):
                opens = FIRST_ROUND + timedelta(weeks=2 * (number - 1))
                rounds.append({"id": p * rounds_each + number, "partnership_id": p,
                               "number": number, "opens_at": opens,
                               "closes_at": opens + timedelta(days=7),
                               "statement_ids": asked[number - 1]})
        await connection.execute(insert(CheckInRound), rounds)
        batch: list[dict[str, Any]] = []
        for round_ in rounds:
            p = round_["partnership_id"]
            for m in range(members):
                if rng.random() > ANSWERING:
                    continue
                for statement in round_["statement_ids"]:
                    known = rng.random() > 0.08
                    batch.append({"round_id": round_["id"], "member_id": p * members + m,
                                  "statement_id": statement,
                                  "status": "scored" if known else "dont_know",
                                  "score": rng.randint(1, 5) if known else None,
                                  "comment": None, "answered_at": round_["opens_at"],
                                  "side": ("vmbo", "mbo")[m % 2],
                                  "school_id": 2 * p + m % 2,
                                  "level": LEVELS[m % len(LEVELS)]})
            if len(batch) >= CHUNK:
                await connection.execute(insert(Answer), batch)
                rows += len(batch)
                batch = []
        if batch:
            await connection.execute(insert(Answer), batch)
            rows += len(batch)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    return rows


def summary_month(weeks: int) -> date:
    """The last full month before the last round."""
    last = (FIRST_ROUND + timedelta(weeks=weeks - 1)).date()
    return shift_month(last.replace(day=1), -1)


def send_time(month: date) -> datetime:
    """When the scheduler sends the summary of `month`: the next month's first morning."""
    return datetime.combine(shift_month(month, 1), datetime.min.time().replace(hour=9),
                            ZoneInfo(ZONE)).astimezone(UTC)


async def freeze_earlier(sessions: async_sessionmaker[Any], content: Content,
                         ids: list[int], month: date) -> None:
    """Freeze the months before `month` as a running scheduler would have: for real for the
    first partnership, as copies of those for the others that have none yet."""
    now = send_time(shift_month(month, -1))
    async with sessions() as session, session.begin():
        first = await session.get(Partnership, ids[0])
        assert first is not None
        await freeze_closed_months(session, content, first, now)
        rows = list(await session.scalars(select(SummaryMonth).where(
            SummaryMonth.partnership_id == ids[0])))
        done = set(await session.scalars(select(SummaryMonth.partnership_id).distinct()))
        copies = [{"partnership_id": p, "month": row.month, "frozen_at": row.frozen_at,
                   "min_group_size": row.min_group_size,
                   "content_version": row.content_version,
                   "data": {**row.data, "partnership_id": p, "partnership": f"Partnerschap {p}"}}
                  for p in ids if p not in done for row in rows]
        for start in range(0, len(copies), CHUNK // 4):
            await session.execute(insert(SummaryMonth), copies[start:start + CHUNK // 4])


async def as_sent(session: AsyncSession, content: Content, rules: SummaryRules,
                  ids: Sequence[int], month: date, now: datetime,
                  timing: dict[str, float] | None = None) -> list[int]:
    """What the planner does for a batch of partnerships whose summary is due: freeze the
    closed months of all of them at once, then per partnership read the month back and
    render it for each project leader and the channel. The replies per partnership."""
    with Stopwatch() as freezing:
        partnerships = list(await session.scalars(
            select(Partnership).where(Partnership.id.in_(ids)).order_by(Partnership.id)))
        leaders: dict[int, list[Member]] = {pid: [] for pid in ids}
        for leader in await session.scalars(select(Member).where(
                Member.partnership_id.in_(ids), Member.role == "leader",
                Member.onboarded_at.is_not(None)).order_by(Member.id)):
            leaders[leader.partnership_id].append(leader)
        channels: dict[int, int] = {pid: 0 for pid in ids}
        for pid in await session.scalars(select(ChannelBinding.partnership_id).where(
                ChannelBinding.partnership_id.in_(ids))):
            channels[pid] += 1
        await freeze_all(session, content, partnerships, now)
    counts = []
    with Stopwatch() as rendering:
        for partnership in partnerships:
            summary = await published_summary(session, content, partnership, month, now=now)
            if summary is None:
                counts.append(0)
                continue
            messages = SummaryMessages(summary, content, rules)
            replies = [reply for leader in leaders[partnership.id]
                       for reply in await messages.replies(leader.language)]
            for _ in range(channels[partnership.id]):
                replies += await messages.replies(partnership.language, short=True)
            assert any(isinstance(reply, Image) for reply in replies)
            counts.append(len(replies))
    if timing is not None:
        timing["freeze_s"] = timing.get("freeze_s", 0.0) + freezing.seconds
        timing["read_render_s"] = timing.get("read_render_s", 0.0) + rendering.seconds
    return counts


async def floor(session: AsyncSession, pid: int, month: date) -> int:
    """The same aggregates of the month in plain SQL: per statement, school type and level
    the respondents, the 1-5 distribution and "don't know"; the respondents per round."""
    start, after = month_bounds(month, ZONE)
    in_month = (CheckInRound.partnership_id == pid, CheckInRound.closes_at >= start,
                CheckInRound.closes_at < after)
    groups = await session.execute(
        select(Answer.statement_id, Answer.side, Answer.level,
               func.count(func.distinct(Answer.member_id)),
               *(func.sum(func.cast(Answer.score == k, Integer)) for k in range(1, 6)),
               func.sum(func.cast(Answer.status == "dont_know", Integer)))
        .join(CheckInRound, CheckInRound.id == Answer.round_id).where(*in_month)
        .group_by(Answer.statement_id, Answer.side, Answer.level))
    per_round = await session.execute(
        select(CheckInRound.number, func.count(func.distinct(Answer.member_id)))
        .outerjoin(Answer, Answer.round_id == CheckInRound.id).where(*in_month)
        .group_by(CheckInRound.number))
    return len(groups.all()) + len(per_round.all())


async def grouped_floor(session: AsyncSession, ids: Sequence[int], month: date) -> int:
    """The same aggregates for a batch of partnerships at once: the floor of a set-based
    way, grouped by partnership too."""
    start, after = month_bounds(month, ZONE)
    in_month = (CheckInRound.partnership_id.in_(ids), CheckInRound.closes_at >= start,
                CheckInRound.closes_at < after)
    groups = await session.execute(
        select(CheckInRound.partnership_id, Answer.statement_id, Answer.side, Answer.level,
               func.count(func.distinct(Answer.member_id)),
               *(func.sum(func.cast(Answer.score == k, Integer)) for k in range(1, 6)),
               func.sum(func.cast(Answer.status == "dont_know", Integer)))
        .join(CheckInRound, CheckInRound.id == Answer.round_id).where(*in_month)
        .group_by(CheckInRound.partnership_id, Answer.statement_id, Answer.side, Answer.level))
    per_round = await session.execute(
        select(CheckInRound.partnership_id, CheckInRound.number,
               func.count(func.distinct(Answer.member_id)))
        .outerjoin(Answer, Answer.round_id == CheckInRound.id).where(*in_month)
        .group_by(CheckInRound.partnership_id, CheckInRound.number))
    return len(groups.all()) + len(per_round.all())


async def all_months(sessions: async_sessionmaker[Any], content: Content,
                     month: date) -> dict[str, Any]:
    """Every partnership's summary as sent, in the planner's batches, each batch after the
    floor for the same partnerships (alternating), after a warm-up that is rolled back."""
    rules = load_summary_rules(content)
    now = send_time(month)
    async with sessions() as session:
        ids = list(await session.scalars(
            select(Partnership.id).order_by(Partnership.id)))
    await freeze_earlier(sessions, content, ids, month)
    async with sessions() as session:  # caches, query plans, the chart's template; undone
        for pid in ids[:WARM_UP]:
            await floor(session, pid, month)
        await grouped_floor(session, ids[:WARM_UP], month)
        await as_sent(session, content, rules, ids[:WARM_UP], month, now)
        await session.rollback()
    achtje = sql = grouped = slowest = 0.0
    timing: dict[str, float] = {}
    sent = replies = 0
    for batch in batches(ids):
        with Stopwatch() as watch:
            async with sessions() as session:
                for pid in batch:
                    await floor(session, pid, month)
        sql += watch.seconds
        with Stopwatch() as watch:
            async with sessions() as session:
                await grouped_floor(session, batch, month)
        grouped += watch.seconds
        with Stopwatch() as watch:
            async with sessions() as session, session.begin():
                counts = await as_sent(session, content, rules, batch, month, now, timing)
        achtje += watch.seconds
        slowest = max(slowest, watch.seconds / len(batch))
        sent += sum(count > 0 for count in counts)
        replies += sum(counts)
    return {"all_summaries_s": achtje, "floor_s": sql, "grouped_floor_s": grouped,
            "per_summary_ms": 1000 * achtje / max(1, len(ids)),
            "slowest_batch_per_summary_ms": 1000 * slowest,
            **{key: value for key, value in timing.items()},
            "summaries": sent, "replies": replies}


async def all_summaries(sessions: async_sessionmaker[Any], content: Content,
                        month: date) -> tuple[float, int]:
    """Every partnership's summary of `month` as sent, without the floor (bench/footprint.py
    measures the memory after it): (seconds, summaries)."""
    rules = load_summary_rules(content)
    now = send_time(month)
    async with sessions() as session:
        ids = list(await session.scalars(select(Partnership.id).order_by(Partnership.id)))
    await freeze_earlier(sessions, content, ids, month)
    done = 0
    with Stopwatch() as watch:
        for batch in batches(ids):
            async with sessions() as session, session.begin():
                counts = await as_sent(session, content, rules, batch, month, now)
            done += sum(count > 0 for count in counts)
    return watch.seconds, done


async def measure(backend: str, content: Content, scale: dict[str, int]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    month = summary_month(scale["weeks"])
    async with database(backend) as (engine, sessions):
        for label, first in (("1x", 1), ("2x", 1 + scale["partnerships"])):
            with Stopwatch() as loading:
                rows = await fill(engine, content, scale["partnerships"], scale["members"],
                                  scale["weeks"], first_id=first)
            if label == "2x":  # the first half's month is sent already: send it again
                async with engine.begin() as connection:
                    await connection.execute(delete(SummaryMonth).where(
                        SummaryMonth.month == month))
            timed = await all_months(sessions, content, month)
            async with sessions() as session:
                total = int(await session.scalar(select(func.count()).select_from(Answer)) or 0)
            found[label] = {"answers": total, "inserted": rows, "load_s": loading.seconds,
                            **timed, "rss_mb_after": rss_mb()}
            print(f"  summaries {backend} {label}: {found[label]}", file=sys.stderr, flush=True)
    return found


async def run(size: str) -> Result:
    content = load_content()
    scale = SIZES[size]
    figures: dict[str, Any] = {}
    floors: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    paths: list[dict[str, Any]] = []
    lost = 0
    for backend in backends():
        measured = await measure(backend, content, scale)
        for label, found in measured.items():
            key = f"{backend}_{label}"
            floors[key] = {"floor_s": found.pop("floor_s"),
                           "grouped_floor_s": found.pop("grouped_floor_s")}
            figures[key] = found
            ratios[f"{key}_as_sent_vs_floor"] = ratio(found["all_summaries_s"],
                                                     floors[key]["floor_s"])
            ratios[f"{key}_as_sent_vs_grouped_floor"] = ratio(
                found["all_summaries_s"], floors[key]["grouped_floor_s"])
            partnerships = scale["partnerships"] * (2 if label == "2x" else 1)
            lost += partnerships - found["summaries"]
        growth = ratio(measured["2x"]["all_summaries_s"], measured["1x"]["all_summaries_s"])
        ratios[f"{backend}_growth_as_sent"] = growth
        one, sql = measured["1x"]["all_summaries_s"], floors[f"{backend}_1x"]["floor_s"]
        paths += [
            path_row(f"all monthly summaries as sent, {scale['partnerships']} partnerships "
                     f"({backend})", "< 20 s, <= 3x floor", one, sql, "s",
                     one < 20 and one <= 3 * sql),
            path_row(f"summary growth at 2x data ({backend})", "<= 2.2x", growth, None, "x",
                     growth <= 2.2)]
    return result("summaries", size, scale, figures, floors, ratios, lost,
                  "as sent = freeze the closed month of a planner batch at once, read each back, "
                  "render the leaders' and the channel's replies with the chart; floor = "
                  "plain SQL per partnership, grouped floor = one grouped query per batch; 2x "
                  "doubles the partnerships (same two years each); lost = partnerships "
                  "without a summary", paths)
