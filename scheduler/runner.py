"""The scheduler as part of the running service: a tick that plans, a sender that sends.

A task of the runner's own drives the tick: at start, then every 30 seconds by default
on the same grid (a tick that comes late starts at once and the ticks it missed are not
made up; one still running is not doubled). What is due always comes from the database,
so nothing is lost when the process restarts and several processes agree. Stopping ends
the tick first, waits for a tick that is planning, then lets the sender finish the
message in flight. (This was APScheduler's interval job, with a memory job store: the
same schedule, without its import at start-up.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content
from bot.messages import Adapter
from bot.privacy.retention import apply_retention
from bot.schedule.holidays import HolidayCalendar
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
        self._clock_task: asyncio.Task[None] | None = None
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
            async with self.sessions() as session, session.begin():
                await apply_retention(session, now, self.content)
        except Exception:
            logger.exception("retention job failed; it runs again within the hour")

    async def start(self) -> None:
        self._clock_task = asyncio.get_running_loop().create_task(self._tick_every())
        self.sender.start()
        logger.info("scheduler started: tick every %ss, sending on %s", self.tick_seconds,
                    ", ".join(self.sender.adapters) or "no platform")

    async def _tick_every(self) -> None:
        """Begin a tick now and at every multiple of `tick_seconds` after now, on the event
        loop's monotonic clock (a change of the wall clock moves nothing)."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            self._begin_tick()
            now = loop.time()
            missed = max(0, int((now - due) // self.tick_seconds))  # woken late: skip them
            due += self.tick_seconds * (missed + 1)
            await asyncio.sleep(due - now)

    def _begin_tick(self) -> None:
        """Start a tick as a task of its own: stopping cancels the clock, never a tick
        half-way (that would stop planning at any await). A tick still running when the
        next is due is not doubled."""
        if self._tick_task is None or self._tick_task.done():
            self._tick_task = asyncio.get_running_loop().create_task(self.tick())

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop ticking, let a running tick finish, then let the sender finish its message."""
        if self._clock_task is not None:
            self._clock_task.cancel()
            await asyncio.wait({self._clock_task})  # its end, not its CancelledError
            self._clock_task = None
        running = {task for task in (self._ticking, self._tick_task)
                   if task is not None and not task.done()}
        if running:
            await asyncio.wait(running, timeout=timeout)
        await self.sender.stop(timeout)
        logger.info("scheduler stopped")
