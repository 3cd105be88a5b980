"""Upgrades from earlier releases: a database made at an earlier schema, with a partnership's
rows in it, is brought to the newest schema the way `achtje run` and `achtje db upgrade` do,
and the bot then works on it: a member checks in, the project leader reads last month's
summary of the answers given before the upgrade. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, MetaData, func, select
from typer.testing import CliRunner

from adapters.memory import MemoryChat
from bot.cli import app
from bot.content import Content
from bot.engine import Engine
from bot.messages import Text
from bot.store import db
from bot.store.models import Answer, Member
from tests.conftest import Clock

# 0010: the schema of the first schedules in chat, before answers carried their group;
# 0014: the last schema of release 0.1.0 (CHANGELOG.md).
EARLIER = ["0010_schedule_chat", "0014_shared_limits"]
OCTOBER = datetime(2026, 10, 13, 9, 0, tzinfo=UTC)
SCORES = [3, 3, 3, 2, 2]


def seed(connection: Connection, created: datetime) -> None:
    """A partnership as the earlier schema held it: two schools, five vmbo teachers who
    scored shared ambition in October, a project leader and Anna, who has not answered."""
    metadata = MetaData()
    metadata.reflect(connection)
    tables = metadata.tables

    def add(table: str, id: int, **row: Any) -> None:
        # The database gives the id, as it did for the earlier release (its counters move).
        made = connection.execute(tables[table].insert(), row).inserted_primary_key
        assert made is not None and made[0] == id

    add("partnership", id=1, name="Leerlab Oud", sector="Techniek", region="zuid",
        timezone="Europe/Amsterdam", language="nl", created_at=created)
    add("school", id=1, partnership_id=1, name="Vmbo De Brug", type="vmbo")
    add("school", id=2, partnership_id=1, name="Mbo College Kompas", type="mbo")
    people = [(f"p{n}", 1, "teachers", "member") for n in range(1, 6)]
    people += [("lea", 2, "management", "leader"), ("anna", 1, "teachers", "member")]
    for number, (user, school, level, role) in enumerate(people, start=1):
        add("member", id=number, partnership_id=1, platform="test", user_ref=user,
            display_name=user, school_id=school, level=level, role=role, language="nl",
            onboarded_at=created, created_at=created)
    add("channel_binding", id=1, partnership_id=1, platform="test", channel_ref="group-1",
        created_at=created)
    add("checkin_round", id=1, partnership_id=1, number=1, opens_at=OCTOBER,
        closes_at=OCTOBER + timedelta(days=7), statement_ids=["ambition_1"])
    # From 0011 on, the release stored each answer's group with it; before, 0011 fills it.
    group = {"side": "vmbo", "level": "teachers"} if "side" in tables["answer"].c else {}
    for member, score in enumerate(SCORES, start=1):
        add("answer", id=member, round_id=1, member_id=member, statement_id="ambition_1",
            status="scored", score=score, comment=None, answered_at=OCTOBER, **group)


@pytest.mark.parametrize("revision", EARLIER)
async def test_a_database_of_an_earlier_release_upgrades_and_works(
        database_url: str, revision: str, content: Content, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine = db.create_engine(database_url)
    await db.upgrade(engine, revision)
    async with engine.begin() as connection:
        await connection.run_sync(seed, OCTOBER - timedelta(days=60))
    assert not await db.schema_is_current(engine)
    if revision == EARLIER[-1]:  # by hand, as docs/operating.md's upgrade does it
        monkeypatch.setenv("ACHTJE_DATABASE_URL", database_url)
        monkeypatch.delenv("ACHTJE_LOG_LEVEL", raising=False)
        done = await asyncio.to_thread(CliRunner().invoke, app, ["db", "upgrade"])
        assert done.exit_code == 0 and "database is up to date" in done.output, done.output
        assert await db.schema_is_current(engine)
    await engine.dispose()

    engine, sessions = await db.connect(database_url)  # as every process does at start
    try:
        assert await db.schema_is_current(engine)
        bot = Engine(sessions, content, clock)
        anna = MemoryChat(bot, user="anna", chat="dm-anna")
        replies = await anna.say("checkin")
        assert "6 korte stellingen" in replies[0].text  # type: ignore[attr-defined]
        for _ in range(6):
            replies = await anna.press("helemaal mee eens")
        assert replies == [Text(text=content.text("checkin_done", "nl"))]

        lea = MemoryChat(bot, user="lea", chat="dm-lea")
        said = [reply.text for reply in await lea.say("samenvatting 2026-10")
                if isinstance(reply, Text)]
        assert said[0].startswith("Leerlab Oud, oktober 2026: 5 van 7 leden deden mee")
        assert "Gedeelde ambitie: 2,6 (n=5)" in said[0]

        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Answer)) == 5 + 6
            # New rows continue after the ids the earlier release gave out.
            newest = await session.scalar(select(func.max(Answer.id)))
            assert newest is not None and newest > len(SCORES)
            # The answers given before the upgrade carry their group now (0011 on), and
            # their member's school, which still has that type (0022 on).
            groups = set(await session.execute(
                select(Answer.side, Answer.level, Answer.school_id)
                .where(Answer.id <= len(SCORES))))
            assert groups == {("vmbo", "teachers", 1)}
            assert await session.scalar(select(func.count()).select_from(Member)) == 7
    finally:
        await engine.dispose()
