"""What every `achtje` admin command shares: logging, a clean failure, the content, and one
transaction on an up-to-date database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import logs
from bot.content import Content, ContentError, load_content
from bot.settings import Settings
from bot.store import db
from bot.store.models import MAX_ID as MAX_ID  # the CLIs' options are bounded by it
from bot.store.models import Partnership

T = TypeVar("T")


def setup_logging(settings: Settings, default: str = "INFO") -> None:
    """Standard error, as ACHTJE_LOG_LEVEL and ACHTJE_LOG_FORMAT say (bot/logs.py)."""
    try:
        logs.configure(settings.log_level or default, settings.log_format)
    except ValueError as exc:
        raise fail(str(exc)) from exc


def fail(message: str) -> typer.Exit:
    """Say what is wrong on standard error and exit 1: no traceback for an operator."""
    typer.echo(message, err=True)
    return typer.Exit(code=1)


def content_or_fail(settings: Settings) -> Content:
    try:
        return load_content(settings.content_dir)
    except ContentError as exc:
        raise fail(f"content is not valid:\n{exc}") from exc


def with_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on an up-to-date database."""

    async def in_one(sessions: async_sessionmaker[AsyncSession]) -> T:
        async with sessions() as session, session.begin():
            return await work(session)

    return with_sessions(in_one)


def with_sessions(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run `work` on an up-to-date database; it opens its own transactions."""
    settings = Settings()
    setup_logging(settings, "WARNING")

    async def run() -> T:
        engine, sessions = await db.connect(settings.database_url)
        try:
            return await work(sessions)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def partnership_or_fail(session: AsyncSession, partnership_id: int) -> Partnership:
    found = await session.get(Partnership, partnership_id)
    if found is None:
        raise fail(f"no partnership with id {partnership_id}")
    return found
