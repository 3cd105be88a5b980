"""The schema comes from the migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.store import db
from bot.store.models import Partnership
from bot.store.tables import Base


def _tables(connection: Any) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrations_create_every_table_and_can_run_again(database_url: str) -> None:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    await db.upgrade(engine)  # every start runs it; the second time is a no-op
    async with engine.connect() as connection:
        tables = await connection.run_sync(_tables)
        versions = set((await connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version")).scalars())
    await engine.dispose()
    assert set(Base.metadata.tables) | {"alembic_version"} == tables
    assert versions == set(ScriptDirectory.from_config(db.alembic_config()).get_heads())


def test_the_heads_read_off_the_migration_files_are_alembics() -> None:
    assert db.schema_heads() == set(ScriptDirectory.from_config(db.alembic_config()).get_heads())


async def test_a_start_on_an_up_to_date_database_does_not_load_alembic(tmp_path: Path) -> None:
    """Alembic (slow to import) runs only when the schema is behind."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'achtje.db'}"
    script = ("import asyncio, sys\nfrom bot.store import db\n"
              "async def go():\n    engine, _ = await db.connect(sys.argv[1])\n"
              "    await engine.dispose()\n"
              "asyncio.run(go())\nprint('alembic' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True,
                           check=True).stdout.strip() for _ in range(2)]
    assert runs == ["True", "False"]  # the first start migrates, the second finds it done
    async_engine = db.create_engine(url)
    assert await db.schema_is_current(async_engine)
    await async_engine.dispose()


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    """No model change without a migration: autogenerate finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert diff == []


async def test_times_come_back_in_utc(sessions: async_sessionmaker[Any]) -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    async with sessions() as session, session.begin():
        session.add(Partnership(name="Tijd", created_at=moment))
    async with sessions() as session:
        stored = await session.scalar(select(Partnership.created_at))
    assert stored == moment and stored.tzinfo is not None


async def test_a_local_time_is_stored_and_compared_as_the_same_instant(
    sessions: async_sessionmaker[Any],
) -> None:
    """Midnight in Amsterdam is 23:00 UTC the day before, on SQLite as on PostgreSQL."""
    midnight = datetime(2026, 3, 1, tzinfo=ZoneInfo("Europe/Amsterdam"))
    async with sessions() as session, session.begin():
        session.add(Partnership(name="Tijd", created_at=midnight))
    async with sessions() as session:
        assert await session.scalar(select(Partnership.created_at)) == datetime(
            2026, 2, 28, 23, tzinfo=UTC)
        before = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
        assert await session.scalar(select(Partnership.name).where(
            Partnership.created_at < before)) == "Tijd"


def test_plain_urls_get_the_async_driver() -> None:
    assert db.normalise_url("postgresql://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert db.normalise_url("postgres://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert db.normalise_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert db.normalise_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Any) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with engine.connect() as connection:
        mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
        timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
    await engine.dispose()
    assert (mode, timeout) == ("wal", 5000)
