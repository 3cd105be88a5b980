"""Summaries over years of answers: one partnership's month, and every partnership's month.

The data goes in with bulk inserts (not through the chat): partnerships of a vmbo school
and an mbo college, 40 members each across the three levels, a round every week for two
years, and every member answering each week (one statement, round-robin, about one in
twelve "don't know"). The month summarised is the last full one, so a summary reads that
month and the two before it (for the trend). The floor is one plain GROUP BY over the
same three months of answers of every partnership. Then the data is doubled (twice the
partnerships) to show how the cost grows.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench.common import Result, Stopwatch, backends, database, ratio, result, rss_mb
from bot.content import Content, load_content
from bot.months import month_bounds, shift_month
from bot.store.models import Answer, CheckInRound, Member, Partnership, School
from bot.summary import compute_summary, load_summary_rules, summary_replies

SIZES = {"smoke": {"partnerships": 4, "members": 40, "weeks": 16},
         "full": {"partnerships": 500, "members": 40, "weeks": 104}}
FIRST_ROUND = datetime(2024, 12, 3, 13, 0, tzinfo=UTC)  # a Tuesday
LEVELS = ("board", "management", "teachers", "teachers", "teachers")
CHUNK = 20_000


async def fill(engine: AsyncEngine, content: Content, partnerships: int, members: int,
               weeks: int, first_id: int = 1) -> int:
    """Insert the partnerships, members, rounds and answers; returns the answer rows."""
    rng = random.Random(first_id)
    statements = [s.id for s in content.all_statements()]
    created = datetime(2024, 11, 1, tzinfo=UTC)
    pids = range(first_id, first_id + partnerships)
    rows = 0
    async with engine.begin() as connection:
        await connection.execute(insert(Partnership), [
            {"id": p, "name": f"Partnerschap {p}", "sector": "Techniek", "region": "midden",
             "timezone": "Europe/Amsterdam", "language": "nl", "created_at": created}
            for p in pids])
        await connection.execute(insert(School), [
            {"id": 2 * p + side, "partnership_id": p, "name": f"School {p}-{side}",
             "type": ("vmbo", "mbo")[side]} for p in pids for side in (0, 1)])
        await connection.execute(insert(Member), [
            {"id": p * members + m, "partnership_id": p, "platform": "bench",
             "user_ref": f"u{p}-{m}", "display_name": "", "school_id": 2 * p + m % 2,
             "level": LEVELS[m % len(LEVELS)], "role": "member", "language": "nl",
             "onboarded_at": created, "created_at": created}
            for p in pids for m in range(members)])
        rounds: list[dict[str, Any]] = []
        for p in pids:
            for week in range(weeks):
                opens = FIRST_ROUND + timedelta(weeks=week)
                picked = [statements[(week * 3 + k) % len(statements)] for k in range(3)]
                rounds.append({"id": p * weeks + week, "partnership_id": p, "number": week + 1,
                               "opens_at": opens, "closes_at": opens + timedelta(days=6),
                               "statement_ids": picked})
        await connection.execute(insert(CheckInRound), rounds)
        batch: list[dict[str, Any]] = []
        for round_ in rounds:
            p = round_["partnership_id"]
            for m in range(members):
                known = rng.random() > 0.08
                batch.append({"round_id": round_["id"], "member_id": p * members + m,
                              "statement_id": round_["statement_ids"][m % 3],
                              "status": "scored" if known else "dont_know",
                              "score": rng.randint(1, 5) if known else None,
                              "comment": None, "answered_at": round_["opens_at"],
                              "side": ("vmbo", "mbo")[m % 2],
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


async def plain_group_by(sessions: async_sessionmaker[Any], month: date) -> tuple[float, int]:
    """The floor: one GROUP BY over the three months every summary reads, the best of
    three runs; (seconds, groups)."""
    start, _ = month_bounds(shift_month(month, -2), "Europe/Amsterdam")
    _, after = month_bounds(month, "Europe/Amsterdam")
    statement = (
        select(CheckInRound.partnership_id, Answer.statement_id, func.count(),
               func.avg(Answer.score))
        .join(CheckInRound, CheckInRound.id == Answer.round_id)
        .where(CheckInRound.closes_at >= start, CheckInRound.closes_at < after)
        .group_by(CheckInRound.partnership_id, Answer.statement_id)
    )
    times = []
    async with sessions() as session:
        for _ in range(3):  # the best of three: the first also warms the caches
            with Stopwatch() as watch:
                groups = len((await session.execute(statement)).all())
            times.append(watch.seconds)
    return min(times), groups


async def all_summaries(sessions: async_sessionmaker[Any], content: Content,
                        month: date) -> tuple[float, int]:
    """Every partnership's summary of `month`, one session each (as the planner does)."""
    rules = load_summary_rules(content)
    async with sessions() as session:
        ids = list(await session.scalars(select(Partnership.id).order_by(Partnership.id)))
    done = 0
    with Stopwatch() as watch:
        for pid in ids:
            async with sessions() as session:
                partnership = await session.get(Partnership, pid)
                assert partnership is not None
                summary = await compute_summary(session, content, partnership, month,
                                                rules=rules)
                done += summary.respondents > 0
    return watch.seconds, done


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements the engine sends while the block runs."""
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])  # (connection, cursor, statement, ...)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def one_summary(engine: AsyncEngine, sessions: async_sessionmaker[Any], content: Content,
                      month: date) -> tuple[float, float, int]:
    """The median of three computations of partnership 1, one with its replies rendered
    (text and chart), in seconds, and the queries one computation sends."""
    rules = load_summary_rules(content)
    times = []
    async with sessions() as session:
        partnership = await session.get(Partnership, 1)
        assert partnership is not None
        for _ in range(3):
            with Stopwatch() as watch, counted(engine) as sent:
                await compute_summary(session, content, partnership, month, rules=rules)
            times.append(watch.seconds)
        with Stopwatch() as rendered:
            await summary_replies(session, content, partnership, month, "nl", rules=rules)
    return sorted(times)[1], rendered.seconds, len(sent)


async def measure(backend: str, content: Content, scale: dict[str, int]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    month = summary_month(scale["weeks"])
    async with database(backend) as (engine, sessions):
        for label, first in (("1x", 1), ("2x", 1 + scale["partnerships"])):
            with Stopwatch() as loading:
                rows = await fill(engine, content, scale["partnerships"], scale["members"],
                                  scale["weeks"], first_id=first)
            floor, _groups = await plain_group_by(sessions, month)
            one, rendered, queries = await one_summary(engine, sessions, content, month)
            every, done = await all_summaries(sessions, content, month)
            async with sessions() as session:
                total = int(await session.scalar(select(func.count()).select_from(Answer)) or 0)
            found[label] = {"answers": total, "inserted": rows, "load_s": loading.seconds,
                            "group_by_s": floor, "one_summary_s": one,
                            "one_summary_rendered_s": rendered, "queries_per_summary": queries,
                            "all_summaries_s": every,
                            "summaries": done, "rss_mb_after": rss_mb()}
            print(f"  summaries {backend} {label}: {found[label]}", file=sys.stderr, flush=True)
    return found


async def run(size: str) -> Result:
    content = load_content()
    scale = SIZES[size]
    figures: dict[str, Any] = {}
    floor: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    lost = 0
    for backend in backends():
        measured = await measure(backend, content, scale)
        for label, found in measured.items():
            key = f"{backend}_{label}"
            figures[key] = {k: v for k, v in found.items() if k != "group_by_s"}
            floor[key] = {"group_by_s": found["group_by_s"]}
            ratios[f"{key}_all_vs_group_by"] = ratio(found["all_summaries_s"],
                                                    found["group_by_s"])
            partnerships = scale["partnerships"] * (2 if label == "2x" else 1)
            lost += partnerships - found["summaries"]
        ratios[f"{backend}_growth_all"] = ratio(measured["2x"]["all_summaries_s"],
                                                measured["1x"]["all_summaries_s"])
        ratios[f"{backend}_growth_group_by"] = ratio(measured["2x"]["group_by_s"],
                                                     measured["1x"]["group_by_s"])
    return result("summaries", size, scale, figures, floor, ratios, lost,
                  "2x doubles the partnerships (same two years each); lost = summaries "
                  "that found no respondents")
