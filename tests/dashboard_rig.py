"""A partnership with a school year and a half of frozen months, its people, and the
dashboard on a real web server (adapters/web.py, port 0): shared by the dashboard's HTTP
and browser tests.

Scorers: four vmbo teachers, four mbo teachers, three vmbo managers; a round in June 2026
(school year 2025-2026) and in September and October 2026. With the clock at
24 November 2026, October is the last month that is over.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.dashboard import mount_on_first_use
from adapters.dashboard.app import Dashboard, LoginMail
from adapters.memory import MemoryChat
from adapters.web import WebServer
from bot.content import Content
from bot.domain import ADMIN, LEADER
from bot.engine import Engine
from bot.store.models import Member
from tests.conftest import Clock
from tests.summary_fakes import OCT, SEP, Partners

Sessions = async_sessionmaker[Any]
PUBLIC = "http://127.0.0.1"  # replaced by the server's own address in `served`
ANCHORS = ["ambition_1", "interests_1", "relations_1", "organisation_1", "process_1",
           "content_1", "anchoring_1"]
JUNE = date(2026, 6, 2)
LINK = re.compile(r"https?://\S+/dashboard/login/[A-Za-z0-9_-]+")


@dataclass
class People:
    partnership_id: int
    other_partnership_id: int
    leader: str  # user refs on the platform "test"
    board: str
    member: str
    other_leader: str


async def user_ref(sessions: Sessions, member_id: int) -> str:
    async with sessions() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        return member.user_ref


async def give_role(sessions: Sessions, member_id: int, role: str) -> None:
    async with sessions() as session, session.begin():
        member = await session.get(Member, member_id)
        assert member is not None
        member.role = role


async def school_year(sessions: Sessions) -> People:
    partners = await Partners.create(sessions)
    vmbo = await partners.members("vmbo", "teachers", 4)
    mbo = await partners.members("mbo", "teachers", 4)
    managers = await partners.members("vmbo", "management", 3)
    for n, day in enumerate((JUNE, SEP, OCT)):
        round_id = await partners.round(day, ANCHORS)
        for position, statement in enumerate(ANCHORS):
            low = 2 if statement == "ambition_1" else 3 + (position + n) % 2
            await partners.answer(round_id, statement, vmbo + mbo + managers,
                                  [low, low + 1, low, 4, 3, 4, low, 5, low, 3, 4])
    [leader] = await partners.members("vmbo", "management", 1)
    await give_role(sessions, leader, LEADER)
    [board] = await partners.members("mbo", "board", 1)
    [plain] = await partners.members("vmbo", "teachers", 1)
    other = await Partners.create(sessions, "Ander Lab")
    [other_leader] = await other.members("mbo", "management", 1)
    await give_role(sessions, other_leader, ADMIN)
    return People(partners.partnership.id, other.partnership.id,
                  await user_ref(sessions, leader), await user_ref(sessions, board),
                  await user_ref(sessions, plain), await user_ref(sessions, other_leader))


async def ask_link(engine: Engine, user: str) -> tuple[str | None, str]:
    """Type `dashboard` in a private chat as `user`: the link's path (None when the answer
    holds none) and the answer's text."""
    chat = MemoryChat(engine, user=user, chat=f"dm-{user}")
    replies = await chat.say("dashboard")
    text = " ".join(getattr(reply, "text", "") for reply in replies)
    found = LINK.search(text)
    return (None if found is None else urlsplit(found.group(0)).path), text


@asynccontextmanager
async def served(sessions: Sessions, content: Content, clock: Clock,
                 public_url: str = PUBLIC, mail: LoginMail | None = None
                 ) -> AsyncIterator[WebServer]:
    server = WebServer("127.0.0.1", 0)
    mount_on_first_use(server, lambda: Dashboard(  # as `achtje run` mounts it
        sessions, content, public_url=public_url, clock=clock, mail=mail))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
