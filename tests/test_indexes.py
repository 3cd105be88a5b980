"""The indexes of migration 0018 serve the queries they were made for, on each backend.

A few rows are enough: the plan is asked of the real statements (captured as the code
runs them). PostgreSQL prefers a table scan on tiny tables, so there sequential scans are
switched off for the question: what is checked is that the index can serve the query.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import db, repo
from bot.store.models import Answer, CheckInRound, Member, Partnership, School
from bot.summary import queries
from tests.sql_log import recorded

NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)


async def fill(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(Partnership), [
            {"id": p, "name": f"P{p}", "created_at": NOW} for p in (1, 2)])
        await connection.execute(insert(School), [
            {"id": p, "partnership_id": p, "name": f"S{p}", "type": "vmbo"} for p in (1, 2)])
        await connection.execute(insert(Member), [
            {"id": 10 * p + m, "partnership_id": p, "platform": "slack", "user_ref": f"U{m}",
             "school_id": p, "level": "teachers", "onboarded_at": NOW, "created_at": NOW}
            for p in (1, 2) for m in range(4)])
        await connection.execute(insert(CheckInRound), [
            {"id": p, "partnership_id": p, "number": 1, "opens_at": NOW,
             "closes_at": NOW + timedelta(days=7), "statement_ids": ["ambition_1"]}
            for p in (1, 2)])
        await connection.execute(insert(Answer), [
            {"round_id": p, "member_id": 10 * p + m, "statement_id": "ambition_1",
             "status": "scored", "score": 3, "answered_at": NOW, "side": "vmbo",
             "level": "teachers", "school_id": p} for p in (1, 2) for m in range(4)])


async def plan(engine: AsyncEngine, statement: str, params: Any) -> str:
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET enable_seqscan = off")
            rows = await connection.exec_driver_sql(f"EXPLAIN {statement}", tuple(params))
            return "\n".join(row[0] for row in rows)
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        return "\n".join(row[3] for row in rows)


async def test_members_are_found_by_platform_and_user_through_an_index(
    database_url: str,
) -> None:
    engine, sessions = await db.connect(database_url)
    await fill(engine)
    with recorded(engine) as statements:
        async with sessions() as session:
            assert [m.id for m in await repo.identities(session, "slack", "U1")] == [11, 21]
    [(statement, params)] = statements
    assert "ix_member_platform_user_ref" in await plan(engine, statement, params)
    await engine.dispose()


async def test_a_months_scores_read_the_answer_index_alone(database_url: str) -> None:
    engine, sessions = await db.connect(database_url)
    await fill(engine)
    with recorded(engine) as statements:
        async with sessions() as session:
            [scores] = await queries.class_scores(session, [[1]], {"ambition_1": "ambition"})
    assert [(s.respondents, s.distribution) for s in scores] == [(4, (0, 0, 4, 0, 0))]
    [(statement, params)] = statements
    found = await plan(engine, statement, params)
    assert "ix_answer_round_statement" in found
    if engine.dialect.name == "sqlite":
        assert "COVERING INDEX ix_answer_round_statement" in found
    await engine.dispose()
