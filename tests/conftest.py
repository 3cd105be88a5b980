"""Shared fixtures: a real database (SQLite file, or PostgreSQL when configured), the
shipped content, a clock the test controls, and the engine on top of them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content, load_content
from bot.demo import create_demo_partnership
from bot.engine import Engine
from bot.store import db
from bot.store.models import Partnership


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker empties a PostgreSQL database of its own: the given
    database's name with the worker's id (`test_gw1`), created on first use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url is None or worker is None:
        return url
    given = make_url(url)
    own = given.set(database=f"{given.database}_{worker}")

    async def create() -> None:
        engine = db.create_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                exists = await connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": own.database})
                if not exists:
                    await connection.execute(text(f'CREATE DATABASE "{own.database}"'))
        finally:
            await engine.dispose()

    asyncio.run(create())
    return own.render_as_string(hide_password=False)


POSTGRES_URL = _worker_database(os.environ.get("ACHTJE_TEST_POSTGRES_URL"))
SETTING_PREFIXES = ("SLACK_", "TELEGRAM_", "ACHTJE_", "MICROSOFT_")


def without_settings() -> dict[str, str]:
    """The caller's environment without platform tokens or achtje settings, for running
    `achtje` in a subprocess as a fresh install would (Microsoft's names switch Teams on)."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(SETTING_PREFIXES)}
postgres_only = pytest.mark.skipif(
    not POSTGRES_URL, reason="set ACHTJE_TEST_POSTGRES_URL to run the PostgreSQL tests"
)


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content()


@pytest.fixture(params=["sqlite", pytest.param("postgres",
                                               marks=[pytest.mark.postgres, postgres_only])])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'achtje.db'}"
        return
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    yield POSTGRES_URL


async def reset_postgres(url: str) -> None:
    engine = db.create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[Any]]:
    engine, factory = await db.connect(database_url)
    yield factory
    await engine.dispose()


@dataclass
class Clock:
    """The engine's idea of now; tests move it forward."""

    now: datetime = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # a Tuesday, 15:30 local

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(sessions: async_sessionmaker[Any], content: Content, clock: Clock) -> Engine:
    return Engine(sessions, content, clock, enrol_strangers=True)


@pytest.fixture
async def partnership(sessions: async_sessionmaker[Any], clock: Clock) -> Partnership:
    """The demo partnership (two schools), its group chat bound on the test platform."""
    async with sessions() as session, session.begin():
        return await create_demo_partnership(session, clock.now, "test", "group-1")


@pytest.fixture
def chat(engine: Engine, partnership: Partnership) -> MemoryChat:
    return MemoryChat(engine)


async def onboard(chat: MemoryChat, school: str = "Vmbo De Brug", level: str = "Docenten",
                  language: str = "Nederlands") -> None:
    await chat.say("hoi")
    for label in (school, level, language):
        await chat.press(label)
