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
from typing import TYPE_CHECKING

from adapters.web import WebServer
from bot.content import Content
from bot.engine import Engine
from bot.health import Health
from bot.messages import Adapter
from bot.schedule.holidays import HolidayError, load_holidays
from bot.settings import Settings, SettingsError
from bot.store import db
from bot.tenants import SetupPolicy, SetupPolicyError
from scheduler.runner import ScheduleRunner

if TYPE_CHECKING:
    from adapters.dashboard.app import Dashboard

logger = logging.getLogger(__name__)

Builder = Callable[[Settings, Engine, WebServer], Adapter]


class NotAvailable(Exception):
    """A platform is configured but this build cannot run it."""


def builders() -> dict[str, Builder]:
    """How to build the adapter of each platform (adapters/platforms.py lists them)."""
    from adapters.platforms import PLATFORMS

    return {platform.name: platform.build for platform in PLATFORMS}


def configured(settings: Settings) -> list[str]:
    """The platforms whose settings are set (tokens, mostly)."""
    from adapters.platforms import configured as configured_platforms

    return [platform.name for platform in configured_platforms(settings)]


async def serve(settings: Settings, content: Content, stop: asyncio.Event | None = None) -> None:
    """Start the HTTP server (if a platform needs it or ACHTJE_HTTP_PORT is set), then every
    configured adapter and the scheduler; stop cleanly in reverse order."""
    stop = stop or asyncio.Event()
    available, platforms = builders(), configured(settings)
    missing = [p for p in platforms if p not in available]
    if missing:
        raise NotAvailable(", ".join(missing))
    try:
        policy = SetupPolicy.parse(settings.setup, settings.setup_allow)
    except SetupPolicyError as exc:
        raise SettingsError(str(exc)) from exc
    try:
        holidays = load_holidays(content.folder)
    except HolidayError as exc:
        raise SettingsError(f"the school holiday file is not valid:\n{exc}") from exc
    engine, sessions = await db.connect(settings.database_url)
    if not settings.smtp_url:  # said once, so nobody wonders where the summary mails are
        logger.info("mail is off (ACHTJE_SMTP_URL is not set): no summary mail is queued")
    health = Health(sessions, platforms)
    web = WebServer(settings.http_host, settings.http_port, health=health.check)
    bot = Engine(sessions, content, setup_policy=policy, public_url=settings.public_url)
    try:
        adapters = [available[p](settings, bot, web) for p in platforms]
    except Exception:  # incomplete settings (SettingsError): close the database first
        await engine.dispose()
        raise
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    started: list[Adapter] = []
    runner: ScheduleRunner | None = None
    # The HTTP server runs when a platform needs it or ACHTJE_HTTP_PORT is set (so /healthz
    # is there in Socket Mode and polling too), from before the platforms start. While it
    # runs, a platform that refuses its credentials leaves the process up but not ready
    # (503, and nothing is sent through it); without it such a refusal stops the start.
    http = web.needed or "http_port" in settings.model_fields_set
    if http:  # the dashboard, on the server's routes, only when the server runs
        from adapters.dashboard import mount_on_first_use

        def dashboard() -> Dashboard:  # at its first request, not before ready
            from adapters.dashboard.app import Dashboard, login_mail

            return Dashboard(sessions, content, public_url=settings.public_url,
                             mail=login_mail(adapters))

        mount_on_first_use(web, dashboard)
    try:
        if http:
            await web.start()
        for adapter in adapters:
            try:
                await adapter.start()
            except SettingsError as exc:
                if not http:
                    raise
                logger.error("%s did not start: %s", adapter.platform, exc)
                health.refused(adapter.platform, str(exc))
                continue
            health.accepted(adapter.platform)
            started.append(adapter)
            logger.info("%s adapter started", adapter.platform)
        if settings.scheduler:  # after the adapters: it sends through them
            runner = ScheduleRunner(sessions, content, holidays,
                                    {a.platform: a for a in started},
                                    tick_seconds=settings.scheduler_tick)
            await runner.start()
        logger.info("achtje is running on %s", ", ".join(a.platform for a in started))
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
