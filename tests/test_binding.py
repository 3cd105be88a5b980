"""Binding a group to a partnership with a one-time code, as a dialogue on any platform."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from typer.testing import CliRunner

from adapters.memory import MemoryChat
from bot.cli import app
from bot.content import Content
from bot.engine import Engine
from bot.messages import Invitation, Text
from bot.store import binding, repo
from bot.store.binding import BindCode
from bot.store.models import ChannelBinding, Member, Partnership, School
from tests.conftest import Clock


async def new_partnership(sessions: async_sessionmaker[Any], clock: Clock,
                          name: str = "Leerlab Groen") -> Partnership:
    async with sessions() as session, session.begin():
        found = Partnership(name=name, created_at=clock.now,
                            schools=[School(name="Groen College", type="mbo")])
        session.add(found)
    return found


async def code_for(sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
                   hours: int = 48) -> str:
    async with sessions() as session, session.begin():
        return await binding.new_code(session, partnership.id, clock.now,
                                      timedelta(hours=hours))


async def bound_to(sessions: async_sessionmaker[Any], chat: str) -> int | None:
    async with sessions() as session:
        return await session.scalar(select(ChannelBinding.partnership_id).where(
            ChannelBinding.platform == "test", ChannelBinding.channel_ref == chat))


def group_chat(engine: Engine, chat: str = "group-9", user: str = "piet") -> MemoryChat:
    return MemoryChat(engine, user=user, chat=chat, direct=False)


async def test_a_newcomer_binds_a_group_with_a_code(
    engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
    clock: Clock, content: Content
) -> None:
    other = await new_partnership(sessions, clock)
    code = await code_for(sessions, other, clock)
    group = group_chat(engine)
    replies = await group.say(f"/koppel {code}")
    [done] = replies
    assert isinstance(done, Invitation) and not done.private  # the whole group sees it
    assert done.text == content.text("bind_done", "nl", partnership="Leerlab Groen")
    assert done.action == "cmd:start"
    assert await bound_to(sessions, "group-9") == other.id
    async with sessions() as session:
        assert list(await session.scalars(select(Member))) == []  # binding made no member

    # From now on, people in the group belong to that partnership.
    replies = await group_chat(engine, user="fatima").say("/help")
    assert replies[0].private and "Leerlab Groen" in replies[0].text  # type: ignore[attr-defined]


async def test_a_code_works_once_and_is_stored_only_as_a_hash(
    engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
    clock: Clock, content: Content
) -> None:
    other = await new_partnership(sessions, clock)
    code = await code_for(sessions, other, clock)
    await group_chat(engine).say(f"koppel {code.lower().replace('-', ' ')}")
    replies = await group_chat(engine, chat="group-10").say(f"/link {code}")
    assert replies == [Text(text=content.text("bind_used", "nl"))]
    assert await bound_to(sessions, "group-10") is None
    async with sessions() as session:
        [stored] = list(await session.scalars(select(BindCode)))
    assert code.replace("-", "") not in stored.code_hash
    assert (stored.used_chat, stored.used_platform) == ("group-9", "test")


async def test_wrong_and_expired_codes_get_a_clear_answer(
    engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
    clock: Clock, content: Content
) -> None:
    code = await code_for(sessions, partnership, clock, hours=1)
    group = group_chat(engine)
    assert await group.say("/koppel ABCDE-FGHJK") == [Text(text=content.text("bind_unknown",
                                                                             "nl"))]
    assert await group.say("/koppel") == [Text(text=content.text("bind_how", "nl"))]
    clock.advance(hours=2)
    assert await group.say(f"/koppel {code}") == [Text(text=content.text("bind_expired", "nl"))]
    assert await bound_to(sessions, "group-9") is None


async def test_a_bound_group_and_a_private_chat_are_not_bound_again(
    engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
    clock: Clock, content: Content
) -> None:
    other = await new_partnership(sessions, clock)
    code = await code_for(sessions, other, clock)
    in_demo_group = group_chat(engine, chat="group-1")  # bound to the demo partnership
    assert await in_demo_group.say(f"/koppel {code}") == [
        Text(text=content.text("bind_already", "nl", partnership=partnership.name))]
    private = MemoryChat(engine, user="piet", chat="dm-piet", direct=True, locale="en")
    assert await private.say(f"/koppel {code}") == [Text(text=content.text("bind_in_group",
                                                                           "en"))]
    # Neither used up the code.
    assert isinstance((await group_chat(engine).say(f"/koppel {code}"))[0], Invitation)


async def test_a_code_that_loses_the_race_for_a_group_is_not_used(
    engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
    clock: Clock, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone binds a new group (with `koppel` or `setup`) while Piet's `koppel` with the
    code of another partnership is under way: the group stays with the first; Piet's code
    is not used up, and Piet hears so."""
    first = await new_partnership(sessions, clock)
    second = await new_partnership(sessions, clock, name="Techniek Oost")
    code = await code_for(sessions, second, clock)
    async with sessions() as session, session.begin():
        assert await binding.bind_chat(session, first.id, "test", "group-9", clock.now)
    looked_up = repo.partnership_for_chat

    async def still_free_when_piet_looked(*args: Any) -> Partnership | None:
        # Piet's turn saw the group free a moment before the other turn's binding landed.
        monkeypatch.setattr(repo, "partnership_for_chat", looked_up)
        return None

    monkeypatch.setattr(repo, "partnership_for_chat", still_free_when_piet_looked)
    assert await group_chat(engine).say(f"koppel {code}") == [
        Text(text=content.text("bind_already", "nl", partnership="Leerlab Groen"))]
    assert await bound_to(sessions, "group-9") == first.id
    async with sessions() as session:
        [stored] = list(await session.scalars(select(BindCode)))
    assert (stored.used_at, stored.used_platform, stored.used_chat) == (None, None, None)
    # The unused code still binds another group.
    [done] = await group_chat(engine, chat="group-10").say(f"koppel {code}")
    assert isinstance(done, Invitation) and "Techniek Oost" in done.text
    assert await bound_to(sessions, "group-10") == second.id


def test_bind_code_command_prints_a_fresh_code_and_keeps_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"ACHTJE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"}
    runner = CliRunner(env=env)
    created = runner.invoke(app, ["partnership", "create", "--name", "Leerlab",
                                  "--school", "A:vmbo"])
    made = runner.invoke(app, ["bind-code", "--partnership", created.stdout.strip(),
                               "--hours", "2"])
    assert made.exit_code == 0, made.output
    code = made.stdout.strip()
    assert len(code) == 11 and code[5] == "-" and "/koppel" in made.stderr
    digest = hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    with closing(sqlite3.connect(tmp_path / "a.db")) as db:
        rows = db.execute("SELECT partnership_id, used_at FROM bind_code WHERE code_hash = ?",
                          (digest,)).fetchall()
    assert rows == [(int(created.stdout), None)]
    refused = runner.invoke(app, ["bind-code", "--partnership", "99"])
    assert refused.exit_code == 1 and "no partnership" in refused.stderr
