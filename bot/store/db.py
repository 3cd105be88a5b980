"""Connecting to the database (SQLite file by default, PostgreSQL by URL) and upgrading it."""

from __future__ import annotations

import logging
import re
import socket
from importlib import resources
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event, inspect, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.privacy.redact import protect
from bot.store.sqlite import one_trip

if TYPE_CHECKING:
    from alembic.config import Config

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


class DatabaseUnavailable(Exception):
    """The database cannot be reached or will not let us in. The message is one line for
    an operator: where (never the password) and what to check."""


def describe(url: str) -> str:
    """Where a database URL points, without its password: for messages to operators."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database or ':memory:'}"
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return f"PostgreSQL at {where}, database {parsed.database or '(none)'}"


def reason(exc: BaseException) -> str:
    """The short cause of a failed connection, from the driver's exception."""
    cause: BaseException = exc
    while True:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host not found"
        if isinstance(cause, TimeoutError):
            return "no answer in time"
        inner = cause.orig if isinstance(cause, DBAPIError) else cause.__cause__
        if not isinstance(inner, BaseException):
            break
        cause = inner
    lines = str(cause).strip().splitlines()
    return (lines[0] if lines else type(cause).__name__)[:160]


def unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"cannot connect to the database ({describe(url)}): {reason(exc)}. Check "
        "ACHTJE_DATABASE_URL and that the database server is running and lets this user in.")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    one_trip(dbapi_connection)  # each statement one trip to the driver's thread
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    try:
        parsed = make_url(normalise_url(url))
        protect(parsed.password if isinstance(parsed.password, str) else None)
        # A server may drop idle connections: check each before use. A SQLite file cannot,
        # and the check was a round trip to the driver's thread on every checkout.
        engine = create_async_engine(parsed,
                                     pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except (ArgumentError, ImportError) as exc:  # never echo the URL: it may hold a password
        raise DatabaseUnavailable(
            "ACHTJE_DATABASE_URL is not a database achtje can use: write "
            "sqlite:///path/to/achtje.db or postgresql://user:password@host:5432/name"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    from alembic.config import Config  # Alembic loads only when the schema is migrated

    config = Config()
    config.set_main_option("script_location", str(resources.files("bot.migrations")))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run on every start."""
    from alembic import command

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)
    logger.info("database schema at %s", revision)


_REVISION = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*=\s*(.*)$", re.MULTILINE)


def schema_heads() -> set[str]:
    """The newest migrations (those no other migration builds on), read off the migration
    files without loading Alembic."""
    revisions: set[str] = set()
    below: set[str] = set()
    for path in resources.files("bot.migrations").joinpath("versions").iterdir():
        if path.name.endswith(".py") and not path.name.startswith("__"):
            source = path.read_text(encoding="utf-8")
            revisions.update(_REVISION.findall(source))
            for line in _DOWN.findall(source):
                below.update(re.findall(r"[\"']([^\"']+)[\"']", line))
    return revisions - below


def revisions(connection: Connection) -> list[str]:
    """The database's migration revisions, sorted (empty when it has no schema yet)."""
    if not inspect(connection).has_table("alembic_version"):
        return []
    return sorted(connection.scalars(text("SELECT version_num FROM alembic_version")))


async def schema_is_current(engine: AsyncEngine) -> bool:
    """Whether the database is at every migration head already (then Alembic is not needed)."""
    async with engine.connect() as connection:
        found = await connection.run_sync(revisions)
    return set(found) == schema_heads()


async def connect(url: str) -> tuple[AsyncEngine, async_sessionmaker[Any]]:
    """An engine on an up-to-date schema, and its session factory."""
    engine = create_engine(url)
    try:
        if not await schema_is_current(engine):
            await upgrade(engine)
    except (OSError, DBAPIError) as exc:
        await engine.dispose()
        raise unavailable(url, exc) from exc
    return engine, sessionmaker(engine)
