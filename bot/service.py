"""Running achtje on the platforms whose tokens are set, until told to stop.

This is the composition root: the only place that knows every adapter. The engine itself
never imports one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from adapters.web import WebServer
from bot.content import Content
from bot.engine import Engine
from bot.messages import Adapter
from bot.settings import Settings, SettingsError
from bot.store import db
from scheduler.holidays import HolidayError, load_holidays
from scheduler.runner import ScheduleRunner

logger = logging.getLogger(__name__)

Builder = Callable[[Settings, Engine, WebServer], Adapter]


class NotAvailable(Exception):
    """A platform is configured but this build cannot run it."""


def builders() -> dict[str, Builder]:
    """How to build the adapter of each platform; each platform adds itself here."""
    found: dict[str, Builder] = {}
    from adapters.slack import build as build_slack

    found["slack"] = build_slack
    from adapters.telegram import build as build_telegram

    found["telegram"] = build_telegram
    return found


async def serve(settings: Settings, content: Content, stop: asyncio.Event | None = None) -> None:
    """Start every configured adapter (and the HTTP server if one needs it); stop cleanly."""
    stop = stop or asyncio.Event()
    available = builders()
    missing = [p for p in settings.platforms() if p not in available]
    if missing:
        raise NotAvailable(", ".join(missing))
    try:
        holidays = load_holidays(content.folder)
    except HolidayError as exc:
        raise SettingsError(f"the school holiday file is not valid:\n{exc}") from exc
    engine, sessions = await db.connect(settings.database_url)
    web = WebServer(settings.http_host, settings.http_port)
    bot = Engine(sessions, content)
    try:
        adapters = [available[p](settings, bot, web) for p in settings.platforms()]
    except Exception:  # incomplete settings (SettingsError): close the database first
        await engine.dispose()
        raise
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    started: list[Adapter] = []
    runner: ScheduleRunner | None = None
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
            logger.info("%s adapter started", adapter.platform)
        if web.needed:
            await web.start()
        if settings.scheduler:  # after the adapters: it sends through them
            runner = ScheduleRunner(sessions, content, holidays,
                                    {a.platform: a for a in started},
                                    tick_seconds=settings.scheduler_tick)
            await runner.start()
        logger.info("achtje is running on %s", ", ".join(a.platform for a in adapters))
        await stop.wait()
    finally:
        logger.info("stopping")
        if runner is not None:  # first: no new sends while the adapters go down
            await runner.stop()
        await web.stop()
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                logger.exception("%s adapter did not stop cleanly", adapter.platform)
        await engine.dispose()
