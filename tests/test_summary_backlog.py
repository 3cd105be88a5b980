"""A backlog of closed months (after downtime, a restore, or the first start of a version
that freezes months) is frozen by the scheduler in small transactions, so a member who
answers a check-in meanwhile is not kept waiting on SQLite's one write lock until the
answer fails ("database is locked") and is lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from adapters.memory import MemoryChat
from bench.summaries import fill
from bot.content import Content
from bot.messages import Scale
from bot.schedule.holidays import load_holidays
from bot.store.models import Answer, Member
from bot.store.schedule import Schedule
from bot.store.summary import SummaryMonth
from bot.summary.backlog import MONTHS_PER_TRANSACTION
from scheduler.runner import ScheduleRunner
from tests.conftest import Clock, onboard

BACKLOG = range(10, 12)  # two partnerships, each with 23 closed months never frozen
MONTHS = 2 * 23


class MonthsPerTransaction:
    """How many partnership-months each committed transaction froze, and a signal at the
    first one stored (while that transaction is still open)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.committed: list[int] = []
        self.first_stored = asyncio.Event()
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._execute)
        event.listen(sync, "commit", self._commit)
        event.listen(sync, "rollback", lambda connection: connection.info.pop("months", 0))

    def _execute(self, connection: Any, _cursor: Any, statement: str, _parameters: Any,
                 context: Any, _many: bool) -> None:
        if statement.lstrip().startswith("INSERT INTO summary_month"):
            rows = sum(1 for parameters in context.compiled_parameters
                       for key in parameters if key.startswith("partnership_id"))
            connection.info["months"] = connection.info.get("months", 0) + rows
            self.first_stored.set()

    def _commit(self, connection: Any) -> None:
        months = connection.info.pop("months", 0)
        if months:
            self.committed.append(months)


@pytest.mark.parametrize("frozen_by", ["planner", "retention"])
async def test_a_checkin_answer_during_a_backlog_of_months_is_stored_and_answered(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    frozen_by: str,
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    engine = sessions.kw["bind"]
    await fill(engine, content, len(BACKLOG), 6, 26, first_id=BACKLOG[0])
    if frozen_by == "planner":  # their check-ins are due: the planner freezes first
        async with sessions() as session, session.begin():
            session.add_all([Schedule(
                partnership_id=pid, kind="checkin", enabled=True, weekday=1,
                local_time="15:29", cadence_weeks=2, anchor=clock.now.date(),
                updated_at=clock.now, next_run_at=clock.now - timedelta(minutes=1),
                occurrence=clock.now.date()) for pid in BACKLOG])
    # else nothing is due: the hourly retention job freezes before it deletes anything
    months = MonthsPerTransaction(engine)
    runner = ScheduleRunner(sessions, content, load_holidays(), {}, clock=clock)

    async def answer() -> list[Any]:
        await months.first_stored.wait()  # the scheduler is freezing the backlog now
        return await chat.press("neutraal")

    _, replies = await asyncio.gather(runner.tick(), answer())

    assert any(isinstance(reply, Scale) and reply.prompt.startswith("2/6")
               for reply in replies)
    async with sessions() as session:
        assert await session.scalar(select(func.count(Answer.id)).join(
            Member, Member.id == Answer.member_id).where(Member.user_ref == chat.user)) == 1
        assert await session.scalar(select(func.count(SummaryMonth.id)).where(
            SummaryMonth.partnership_id.in_(BACKLOG))) == MONTHS
    # However long the backlog, no transaction freezes more than a few months at a time.
    assert sum(months.committed) == MONTHS
    assert max(months.committed) <= MONTHS_PER_TRANSACTION < MONTHS
