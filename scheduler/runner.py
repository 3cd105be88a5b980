"""The scheduler as part of the running service: a tick that plans, a sender that sends.

APScheduler 3 (`AsyncIOScheduler`, memory job store) only drives the tick, every 30
seconds by default; what is due always comes from the database, so nothing is lost when
the process restarts and several processes agree. Stopping ends the tick first, waits for
a tick that is planning, then lets the sender finish the message in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content
from bot.messages import Adapter
from bot.privacy.retention import apply_retention
from bot.schedule.holidays import HolidayCalendar
from bot.summary.chart import forget_idle_templates
from scheduler.fallback import channel_fallback
from scheduler.planner import plan_due
from scheduler.sender import Clock, Sender, utc_now

logger = logging.getLogger(__name__)

TICK_SECONDS = 30.0


class ScheduleRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        holidays: HolidayCalendar,
        adapters: Mapping[str, Adapter],
        *,
        tick_seconds: float = TICK_SECONDS,
        clock: Clock = utc_now,
        sender: Sender | None = None,
    ) -> None:
        self.sessions = sessions
        self.content = content
        self.holidays = holidays
        self.clock = clock
        self.tick_seconds = tick_seconds
        # Read off the adapters, as the sender reads their rate limits (`limits`).
        self.invite_in_channel = frozenset(
            platform for platform, adapter in adapters.items()
            if getattr(adapter, "invites_in_channel", False))
        self.sender = sender or Sender(sessions, adapters, clock=clock,
                                       when_unreachable=channel_fallback(content))
        self._apscheduler: AsyncIOScheduler | None = None
        self._ticking: asyncio.Task[object] | None = None
        self._tick_task: asyncio.Task[int] | None = None
        self._retention_hour: datetime | None = None

    async def tick(self) -> int:
        """Plan whatever is due now, wake the sender, and once an hour apply retention; never
        raises. `stop` waits for a running tick, retention included, before the database
        goes away."""
        self._ticking = asyncio.current_task()
        try:
            queued = await plan_due(self.sessions, self.content, self.holidays, self.clock(),
                                    on_planned=self.sender.wake,
                                    invite_in_channel=self.invite_in_channel)
            self.sender.wake()
            await self._hourly_retention()
            forget_idle_templates()  # a monthly run's chart templates, once it is over
            return queued
        except Exception:
            logger.exception("scheduler tick failed; the next tick tries again")
            return 0
        finally:
            self._ticking = None

    async def _hourly_retention(self) -> None:
        """The retention job, once an hour per process (it is idempotent anyway): a month's
        data goes at midnight in its partnership's time zone, whichever zone that is, so the
        job runs within the hour after it."""
        now = self.clock()
        hour = now.replace(minute=0, second=0, microsecond=0)
        if self._retention_hour == hour:
            return
        self._retention_hour = hour
        try:
            # In small transactions: a backlog of closed months to freeze first, then one
            # partnership at a time, so a member's answer never waits for all of them.
            await apply_retention(self.sessions, now, self.content)
        except Exception:
            logger.exception("retention job failed; it runs again within the hour")

    async def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(self._begin_tick, "interval", seconds=self.tick_seconds, id="tick",
                          next_run_time=datetime.now(UTC), max_instances=1, coalesce=True,
                          misfire_grace_time=None)
        scheduler.start()
        self._apscheduler = scheduler
        self.sender.start()
        logger.info("scheduler started: tick every %ss, sending on %s", self.tick_seconds,
                    ", ".join(self.sender.adapters) or "no platform")

    async def _begin_tick(self) -> None:
        """APScheduler's job: start a tick as a task of our own and return at once. Its
        shutdown cancels the jobs it runs; a tick it cancelled half-way would stop
        planning at any await and leave a CancelledError traceback in the log. A tick
        still running when the next is due is not doubled."""
        if self._tick_task is None or self._tick_task.done():
            self._tick_task = asyncio.get_running_loop().create_task(self.tick())

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop ticking, let a running tick finish, then let the sender finish its message."""
        if self._apscheduler is not None and self._apscheduler.running:
            self._apscheduler.shutdown(wait=False)
        self._apscheduler = None
        running = {task for task in (self._ticking, self._tick_task)
                   if task is not None and not task.done()}
        if running:
            await asyncio.wait(running, timeout=timeout)
        await self.sender.stop(timeout)
        logger.info("scheduler stopped")
