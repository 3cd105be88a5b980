"""A partnership whose November summary goes out by e-mail, and the e-mail platform
wired to the test SMTP server (tests/smtp_fakes.py) and a real web server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters import email as email_platform
from adapters.email.adapter import EmailAdapter
from adapters.web import WebServer
from bot.content import Content
from bot.engine import Engine
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.settings import Settings
from bot.store.models import Member, Partnership
from bot.store.schedule import OutboxMessage, Schedule
from tests.smtp_fakes import Mailbox
from tests.summary_fakes import NOV, OCT, Partners

HOLIDAYS = load_holidays()
PLANNED = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # Tuesday 1 December, 08:30 local
SECRET_KEY = "test-secret-key-for-mail-links-0123456789"
MAIL_ON = "smtp://127.0.0.1:25"  # mail is set up; the tests that send give their own server
NAME = "Leerlab <Zuid> & Co"  # markup in a name must stay text in the HTML part
OPEN_ANSWER = "<b>Meer tijd</b> & ruimte"
Sessions = async_sessionmaker[Any]


@dataclass
class People:
    partners: Partners
    teachers: list[int]
    leader: int  # nl, leader@mbo.example
    board: int  # en, board level, bert@vmbo.example
    member: int  # has an address, but is neither leader nor board
    leader_without: int  # a leader with no address

    @property
    def partnership_id(self) -> int:
        return self.partners.partnership.id


async def person(partners: Partners, side: str, level: str, role: str, language: str,
                 email: str | None) -> int:
    [member_id] = await partners.members(side, level, 1)
    async with partners.sessions() as session, session.begin():
        member = await session.get(Member, member_id)
        assert member is not None
        member.role, member.language, member.email = role, language, email
    return member_id


async def with_people(sessions: Sessions) -> People:
    """Five teachers who scored shared ambition in October and November (one open answer
    with markup), a leader and a board member with addresses, a member with an address and
    a leader without one; the summary schedule, nothing else."""
    partners = await Partners.create(sessions, name=NAME)
    teachers = await partners.members("vmbo", "teachers", 5)
    for day, scores in ((OCT, [3, 3, 3, 2, 2]), (NOV, [4, 4, 4, 2, 2])):
        round_id = await partners.round(day, ["ambition_1"])
        await partners.answer(round_id, "ambition_1", teachers, scores,
                              [None, None, None, OPEN_ANSWER, "Een dag samen"])
    people = People(
        partners, teachers,
        leader=await person(partners, "mbo", "management", "leader", "nl", "lea@mbo.example"),
        board=await person(partners, "vmbo", "board", "member", "en", "bert@vmbo.example"),
        member=await person(partners, "vmbo", "management", "member", "nl",
                            "piet@vmbo.example"),
        leader_without=await person(partners, "mbo", "management", "leader", "nl", None),
    )
    async with sessions() as session, session.begin():
        partnership = await session.get(Partnership, partners.partnership.id)
        assert partnership is not None
        await configure(session, HOLIDAYS, partnership,
                        Changes(checkins=False, nudges=False), datetime(2026, 11, 30, tzinfo=UTC))
    return people


@asynccontextmanager
async def mail_platform(sessions: Sessions, content: Content, mailbox: Mailbox
                        ) -> AsyncIterator[tuple[EmailAdapter, WebServer]]:
    """The e-mail adapter as `achtje run` builds it, its routes on a running web server."""
    web = WebServer("127.0.0.1", 0)
    settings = Settings(ACHTJE_SMTP_URL=f"smtp://127.0.0.1:{mailbox.port}",
                        ACHTJE_MAIL_FROM="achtje@leerlab.example",
                        ACHTJE_PUBLIC_URL="http://127.0.0.1", ACHTJE_SECRET_KEY=SECRET_KEY)
    adapter = email_platform.build(settings, Engine(sessions, content), web)
    assert isinstance(adapter, EmailAdapter)
    await web.start()
    adapter.public_url = web.url  # known once it listens (port 0)
    await adapter.start()
    try:
        yield adapter, web
    finally:
        await adapter.stop()
        await web.stop()


async def mail_rows(sessions: Sessions) -> dict[int | None, OutboxMessage]:
    async with sessions() as session:
        rows = await session.scalars(select(OutboxMessage).where(
            OutboxMessage.platform == "email").order_by(OutboxMessage.id))
        return {row.member_id: row for row in rows}


async def next_summary_at(sessions: Sessions, partnership_id: int) -> datetime:
    async with sessions() as session:
        found = await session.scalar(select(Schedule.next_run_at).where(
            Schedule.partnership_id == partnership_id, Schedule.kind == "summary"))
    assert found is not None
    return found


def parts(message: EmailMessage) -> tuple[str, str, list[EmailMessage]]:
    """The plain text, the HTML and the images inside the HTML's multipart/related."""
    assert message.get_content_type() == "multipart/alternative"
    plain, related = list(message.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = list(related.iter_parts())
    assert html_part.get_content_type() == "text/html"
    return plain.get_content(), html_part.get_content(), images  # type: ignore[union-attr]
