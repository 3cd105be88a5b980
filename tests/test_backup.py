"""`achtje backup` and `achtje restore`: a database of either kind, full of a partnership's
life, goes through a backup file into an empty database of the other kind, and every table
holds the same rows after; the file refuses what it should refuse."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, MetaData, select
from typer.testing import CliRunner

from adapters.slack.install import token_cipher
from bot.backup import BackupError, backup_to, restore_from
from bot.cli import app
from bot.content import Content
from bot.demo import create_demo_partnership, simulate
from bot.store import db
from bot.store.slack import SlackInstallation
from tests.conftest import POSTGRES_URL, postgres_only, reset_postgres
from tests.privacy_fakes import add_member, fill
from tests.test_upgrade import seed

KEY = "a-secret-key-of-the-operator-0123456789"
TOKEN = "xoxb-1-backup-test-token"
NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


async def populate(url: str, content: Content, months: int = 2) -> None:
    """Three months of a simulated partnership, a second one with data in every table that
    holds a person's, and a Slack workspace's encrypted token."""
    engine, sessions = await db.connect(url)
    try:
        if months:
            await simulate(sessions, content, months=months, members=6, start=date(2026, 9, 1),
                           seed=3, lang="nl", write=lambda _: None)
        async with sessions() as session, session.begin():
            other = await create_demo_partnership(session, NOW, "test", "g-2")
            zeynep = await add_member(session, other, "zeynep-7731", NOW)
            bert = await add_member(session, other, "bert-4410", NOW)
            await fill(session, other, zeynep, bert, NOW)
            session.add(SlackInstallation(
                team_id="T0123", bot_id="B1", bot_user_id="U0BOT", team_name="Één school",
                bot_token_encrypted=token_cipher(KEY).encrypt(TOKEN.encode()).decode(),
                installed_at=NOW))
    finally:
        await engine.dispose()


def _same(value: Any) -> Any:
    """A value as both backends can agree on: moments in UTC."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


async def contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, ordered by key, as the database holds them."""

    def read(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
        metadata = MetaData()
        metadata.reflect(connection)
        found = {}
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(select(table).order_by(*order))
            found[table.name] = sorted(tuple(_same(v) for v in row) for row in rows
                                       ) if table.name == "alembic_version" else [
                tuple(_same(v) for v in row) for row in rows]
        return found

    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def round_trip(source: str, target: str, tmp_path: Path, content: Content) -> None:
    await populate(source, content)
    file = tmp_path / "achtje-backup.jsonl.gz"
    engine = db.create_engine(source)
    counts = await backup_to(engine, file)
    await engine.dispose()
    assert counts["answer"] > 0 and counts["slack_installation"] == 1
    engine = db.create_engine(target)
    restored = await restore_from(engine, file)
    await engine.dispose()
    assert restored == counts
    before, after = await contents(source), await contents(target)
    assert before.keys() == after.keys()
    for table in before:
        assert after[table] == before[table], table
    # The restored database is one the bot works on: the token opens with the same key,
    # and new rows get new ids.
    engine, sessions = await db.connect(target)
    try:
        async with sessions() as session, session.begin():
            installation = await session.scalar(select(SlackInstallation))
            assert installation is not None
            token = installation.bot_token_encrypted
            assert token_cipher(KEY).decrypt(token.encode()).decode() == TOKEN
            newcomer = await create_demo_partnership(session, NOW, "test", "g-3")
            assert newcomer.id > max(row[0] for row in before["partnership"])
    finally:
        await engine.dispose()


@pytest.mark.postgres
@postgres_only
async def test_sqlite_to_postgresql_keeps_every_row(tmp_path: Path, content: Content) -> None:
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    await round_trip(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", POSTGRES_URL, tmp_path,
                     content)


@pytest.mark.postgres
@postgres_only
async def test_postgresql_to_sqlite_keeps_every_row(tmp_path: Path, content: Content) -> None:
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    await round_trip(POSTGRES_URL, f"sqlite+aiosqlite:///{tmp_path / 'new.db'}", tmp_path,
                     content)


async def test_sqlite_to_sqlite_through_the_commands(
        tmp_path: Path, content: Content, monkeypatch: pytest.MonkeyPatch) -> None:
    source = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    target = f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"
    await populate(source, content)
    file = tmp_path / "backup.jsonl"
    monkeypatch.delenv("ACHTJE_LOG_LEVEL", raising=False)
    runner = CliRunner()

    def invoke(url: str, *args: str) -> Any:
        monkeypatch.setenv("ACHTJE_DATABASE_URL", url)
        return runner.invoke(app, list(args))

    made = await asyncio.to_thread(invoke, source, "backup", str(file))
    assert made.exit_code == 0, made.output
    assert "backed up" in made.output and file.exists()
    header = json.loads(file.read_text(encoding="utf-8").splitlines()[0])
    assert header["format"] == "achtje-backup" and header["schema"] == sorted(db.schema_heads())
    loaded = await asyncio.to_thread(invoke, target, "restore", str(file))
    assert loaded.exit_code == 0, loaded.output
    assert await contents(target) == await contents(source)
    # A database with rows in it is not overwritten without --force.
    again = await asyncio.to_thread(invoke, target, "restore", str(file))
    assert again.exit_code == 1 and "not empty" in again.output
    forced = await asyncio.to_thread(invoke, target, "restore", "--force", str(file))
    assert forced.exit_code == 0, forced.output
    assert await contents(target) == await contents(source)


async def test_a_backup_from_a_newer_schema_or_cut_off_is_refused(
        tmp_path: Path, content: Content) -> None:
    source = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    await populate(source, content, months=0)
    file = tmp_path / "backup.jsonl.gz"
    engine = db.create_engine(source)
    await backup_to(engine, file)
    await engine.dispose()
    lines = gzip.decompress(file.read_bytes()).decode().splitlines()

    async def restore(text: str) -> str:
        broken = tmp_path / "broken.jsonl"
        broken.write_text(text, encoding="utf-8")
        target = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'target.db'}")
        try:
            with pytest.raises(BackupError) as refused:
                await restore_from(target, broken)
            async with target.connect() as connection:
                assert (await connection.exec_driver_sql(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'member'")).scalar() == 0
        finally:
            await target.dispose()
        return str(refused.value)

    header = json.loads(lines[0])
    header["schema"] = ["0099_from_the_future"]
    newer = await restore("\n".join([json.dumps(header), *lines[1:]]))
    assert "newer" in newer and "0099_from_the_future" in newer
    assert "cut off" in await restore("\n".join(lines[:-1]))
    assert "not an achtje backup" in await restore('{"hello": 1}\n')



async def test_a_backup_of_an_earlier_release_restores_into_this_one(
        database_url: str, tmp_path: Path) -> None:
    """Made at 0014 (release 0.1.0), restored into a database this version already set up
    (empty, at the newest schema): it lands at the newest schema with its rows."""
    source = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    await db.upgrade(source, "0014_shared_limits")
    async with source.begin() as connection:
        await connection.run_sync(seed, NOW)
    file = tmp_path / "old.jsonl"
    counts = await backup_to(source, file)
    await source.dispose()
    assert json.loads(file.read_text(encoding="utf-8").splitlines()[0])["schema"] == [
        "0014_shared_limits"]

    engine, _ = await db.connect(database_url)  # a new install, started once
    assert await restore_from(engine, file) == counts
    assert await db.schema_is_current(engine)
    await engine.dispose()
    after = await contents(database_url)
    assert [row[3] for row in after["member"]] == ["p1", "p2", "p3", "p4", "p5", "lea",
                                                   "anna"]
    assert len(after["answer"]) == 5


def test_the_commands_fail_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACHTJE_LOG_LEVEL", raising=False)
    monkeypatch.setenv("ACHTJE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'none.db'}")
    runner = CliRunner()
    for args, says in ((["backup", str(tmp_path / "b.jsonl")], "no achtje schema"),
                       (["restore", str(tmp_path / "missing.jsonl")], "cannot use the file"),
                       (["backup", str(tmp_path / "no" / "dir.jsonl")], "cannot use the file")):
        done = runner.invoke(app, args)
        assert done.exit_code == 1 and says in done.output, (args, done.output)
        assert done.exception is None or isinstance(done.exception, SystemExit)
    assert not (tmp_path / "b.jsonl").exists()
    not_gzip = tmp_path / "plain.gz"
    not_gzip.write_text("{}", encoding="utf-8")
    done = runner.invoke(app, ["restore", str(not_gzip)])
    assert done.exit_code == 1 and "cannot use the file" in done.output
