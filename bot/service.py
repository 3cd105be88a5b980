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
from bot.settings import Settings
from bot.store import db

logger = logging.getLogger(__name__)

Builder = Callable[[Settings, Engine, WebServer], Adapter]


class NotAvailable(Exception):
    """A platform is configured but this build cannot run it."""


def builders() -> dict[str, Builder]:
    """How to build the adapter of each platform; each platform adds itself here."""
    found: dict[str, Builder] = {}
    return found


async def serve(settings: Settings, content: Content, stop: asyncio.Event | None = None) -> None:
    """Start every configured adapter (and the HTTP server if one needs it); stop cleanly."""
    stop = stop or asyncio.Event()
    available = builders()
    missing = [p for p in settings.platforms() if p not in available]
    if missing:
        raise NotAvailable(", ".join(missing))
    engine, sessions = await db.connect(settings.database_url)
    web = WebServer(settings.http_host, settings.http_port)
    bot = Engine(sessions, content)
    adapters = [available[p](settings, bot, web) for p in settings.platforms()]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    started: list[Adapter] = []
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
            logger.info("%s adapter started", adapter.platform)
        if web.needed:
            await web.start()
        logger.info("achtje is running on %s", ", ".join(a.platform for a in adapters))
        await stop.wait()
    finally:
        logger.info("stopping")
        await web.stop()
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                logger.exception("%s adapter did not stop cleanly", adapter.platform)
        await engine.dispose()
