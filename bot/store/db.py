"""Connecting to the database (SQLite file by default, PostgreSQL by URL) and upgrading it."""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.privacy.redact import protect

logger = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Accept the plain URLs operators paste and pick the async driver for them."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(normalise_url(url))
    protect(parsed.password if isinstance(parsed.password, str) else None)
    engine = create_async_engine(parsed, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("bot.migrations")))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run on every start."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)
    logger.info("database schema at %s", revision)


async def connect(url: str) -> tuple[AsyncEngine, async_sessionmaker[Any]]:
    """An engine on an up-to-date schema, and its session factory."""
    engine = create_engine(url)
    await upgrade(engine)
    return engine, sessionmaker(engine)
