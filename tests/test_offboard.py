"""`achtje partnership remove`: a partnership leaves and, after a confirmation, nothing of
it is left in any table; another partnership on the same server is untouched."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from bot.cli import app
from bot.demo import create_demo_partnership
from bot.store import db
from bot.store.models import Answer, Member, Partnership, School
from bot.store.tables import Base
from tests.privacy_fakes import add_member, fill, traces

NOW = datetime.now(UTC)


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """SQLite and PostgreSQL (which enforces every foreign key) for the command."""
    for key in ("SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "ACHTJE_LOG_LEVEL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ACHTJE_DATABASE_URL", database_url)
    return database_url


async def seed(session: AsyncSession) -> tuple[int, list[int], int]:
    """Partnership 1 with two members and data in every kind of table; partnership 2 with
    the same kinds of data of its own."""
    leaving = await create_demo_partnership(session, NOW, "test", "g-leaving")
    zeynep = await add_member(session, leaving, "zeynep-7731", NOW)
    bert = await add_member(session, leaving, "bert-4410", NOW)
    await fill(session, leaving, zeynep, bert, NOW)
    staying = Partnership(name="Blijft Hier", created_at=NOW,
                          schools=[School(name="Vmbo Oost", type="vmbo"),
                                   School(name="Mbo West", type="mbo")])
    session.add(staying)
    await session.flush()
    anna = await add_member(session, staying, "anna-1", NOW)
    piet = await add_member(session, staying, "piet-2", NOW)
    await fill(session, staying, anna, piet, NOW)
    return leaving.id, [zeynep.id, bert.id], staying.id


def run(url: str, work: object) -> object:
    async def go() -> object:
        engine, sessions = await db.connect(url)
        async with sessions() as session, session.begin():
            result = await work(session)  # type: ignore[operator]
        await engine.dispose()
        return result

    return asyncio.run(go())


async def rows_of(session: AsyncSession, partnership_id: int) -> list[str]:
    """Every row, in any table, with a column that names the partnership."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.name == "partnership_id" or (table.name == "partnership"
                                                   and column.name == "id"):
                count = await session.scalar(select(func.count()).select_from(table)
                                             .where(column == partnership_id))
                if count:
                    found.append(f"{table.name}: {count}")
    return found


def test_removing_a_partnership_asks_then_leaves_nothing_of_it(url: str) -> None:
    leaving, members, staying = run(url, seed)  # type: ignore[misc]
    refused = CliRunner().invoke(app, ["partnership", "remove", "--partnership", str(leaving)],
                                 input="n\n")
    assert refused.exit_code == 1 and "nothing erased" in refused.output
    assert run(url, lambda s: rows_of(s, leaving)) != []

    done = CliRunner().invoke(app, ["partnership", "remove", "--partnership", str(leaving),
                                    "--yes"])
    assert done.exit_code == 0, done.output
    assert f"removed partnership {leaving}" in done.stdout
    assert "members erased: 2" in done.stdout

    assert run(url, lambda s: rows_of(s, leaving)) == []
    for member_id, name in zip(members, ("zeynep-7731", "bert-4410"), strict=True):
        assert run(url, lambda s, m=member_id, n=name: traces(s, m, n)) == []
    assert run(url, lambda s: s.scalar(select(func.count()).select_from(Member)
                                       .where(Member.partnership_id == staying))) == 2
    assert run(url, lambda s: s.scalar(select(func.count()).select_from(Answer))) == 8
    assert run(url, lambda s: traces(s, -1, "Demo Zorg", "g-leaving")) == []

    again = CliRunner().invoke(app, ["partnership", "remove", "--partnership", str(leaving),
                                     "--yes"])
    assert again.exit_code == 1 and f"no partnership with id {leaving}" in again.output
