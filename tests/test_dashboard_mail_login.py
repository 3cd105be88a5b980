"""The dashboard for people in no chat: a login link by mail (`/dashboard/login`), over
real HTTP with a real SMTP server (tests/smtp_fakes.py), on SQLite and PostgreSQL. The
answer is the same for every address; only leaders and board members get a link, at most
a few per address while links live."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from markupsafe import escape
from sqlalchemy import select

from adapters.dashboard import mount_on_first_use
from adapters.dashboard.app import MAIL_LINKS_PER_WINDOW, Dashboard
from adapters.email.adapter import EmailAdapter
from adapters.email.smtp import MailServer
from adapters.web import WebServer
from bot.content import Content
from bot.partnerships_cli import import_members
from bot.store.models import Member
from tests.conftest import Clock
from tests.dashboard_rig import People, Sessions, school_year
from tests.email_helpers import SECRET_KEY
from tests.smtp_fakes import Mailbox, smtp_server

PUBLIC = "https://achtje.example.nl"
LINK = re.compile(r"https://achtje\.example\.nl(/dashboard/login/[A-Za-z0-9_-]+)")


@pytest.fixture
async def people(sessions: Sessions, content: Content) -> People:
    found = await school_year(sessions)
    async with sessions() as session, session.begin():
        for user, address in ((found.board, "bert@vmbo.example"),
                              (found.member, "piet@vmbo.example")):
            member = await session.scalar(select(Member).where(Member.user_ref == user))
            assert member is not None
            member.email = address
        await import_members(session, content, [{
            "partnership": str(found.partnership_id), "platform": "", "user": "",
            "name": "Bea", "school": "Vmbo Noorderlicht", "level": "board",
            "email": "bea@bestuur.example"}], Clock().now)
    return found


@asynccontextmanager
async def served(sessions: Sessions, content: Content, clock: Clock, mailbox: Mailbox | None
                 ) -> AsyncIterator[tuple[WebServer, Dashboard]]:
    mail = None if mailbox is None else EmailAdapter(
        MailServer.parse(f"smtp://127.0.0.1:{mailbox.port}"), "achtje@leerlab.example",
        sessions, content, SECRET_KEY, PUBLIC)
    dashboard = Dashboard(sessions, content, public_url=PUBLIC, clock=clock, mail=mail)
    server = WebServer("127.0.0.1", 0)
    mount_on_first_use(server, lambda: dashboard)  # as `achtje run` mounts it
    await server.start()
    try:
        yield server, dashboard
    finally:
        await server.stop()


async def settled(dashboard: Dashboard) -> None:
    """Until the login mails on their way were handed to the server."""
    for _ in range(500):
        if not dashboard.sending:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("login mails still on their way")


async def ask(http: aiohttp.ClientSession, base: str, address: str) -> tuple[int, str]:
    answer = await http.post(base + "/dashboard/login", data={"email": address},
                             allow_redirects=False)
    return answer.status, await answer.text()


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_a_board_member_in_no_chat_logs_in_with_a_link_by_mail(
        sessions: Sessions, content: Content, clock: Clock, people: People) -> None:
    async with smtp_server() as mailbox, served(sessions, content, clock, mailbox) as (
            server, dashboard), client() as http:
        form = await http.get(server.url + "/dashboard/login")
        html = await form.text()
        assert form.status == 200 and '<label for="email">' in html
        assert 'type="email"' in html and 'action="/dashboard/login"' in html
        status, said = await ask(http, server.url, " Bea@BESTUUR.example ")
        assert status == 200
        assert escape(content.text("dashboard_mail_login_sent", "nl")) in said
        await settled(dashboard)
        [(to, mail)] = mailbox.accepted
        assert to == "bea@bestuur.example"
        assert str(mail["Subject"]) == content.text("mail_login_subject", "nl")
        text = mail.get_content()  # type: ignore[attr-defined]
        assert "Leerlab Zuid: https://achtje.example.nl/dashboard/login/" in text
        assert "15 minuten" in text and "List-Unsubscribe" not in mail
        found = LINK.search(text)
        assert found is not None
        path = found.group(1)
        taken = await http.post(server.url + path, allow_redirects=False)
        assert taken.status == 303
        assert taken.headers["Location"] == f"/dashboard/{people.partnership_id}"
        assert "Secure" in taken.headers["Set-Cookie"]  # the public address is https
        cookie = taken.cookies["achtje_dashboard"].value  # Secure: the test speaks http
        page = await http.get(server.url + f"/dashboard/{people.partnership_id}",
                              headers={"Cookie": f"achtje_dashboard={cookie}"})
        assert page.status == 200
        assert (await page.text()).count('<g class="line" data-condition=') == 5
        again = await http.post(server.url + path, allow_redirects=False)
        assert again.status == 403  # a link by mail works once, like the chat's


async def test_every_address_gets_the_same_answer_and_links_are_limited(
        sessions: Sessions, content: Content, clock: Clock, people: People) -> None:
    async with smtp_server() as mailbox, served(sessions, content, clock, mailbox) as (
            server, dashboard), client() as http:
        answers = {await ask(http, server.url, address) for address in (
            "nobody@school.example",  # unknown
            "piet@vmbo.example",  # a member's address: no reader of the summaries
            "not an address", "",
            *["bert@vmbo.example"] * (MAIL_LINKS_PER_WINDOW + 2))}
        assert len(answers) == 1 and answers.pop()[0] == 200
        await settled(dashboard)
        assert [to for to, _ in mailbox.accepted] == ["bert@vmbo.example"] * \
            MAIL_LINKS_PER_WINDOW
        clock.advance(minutes=16)  # the earlier links expired: the address may ask again
        await ask(http, server.url, "bert@vmbo.example")
        await settled(dashboard)
        assert len(mailbox.accepted) == MAIL_LINKS_PER_WINDOW + 1
        foreign = await http.post(server.url + "/dashboard/login",
                                  data={"email": "bert@vmbo.example"},
                                  headers={"Origin": "https://elders.example"})
        assert foreign.status == 403
        await settled(dashboard)
        assert len(mailbox.accepted) == MAIL_LINKS_PER_WINDOW + 1


async def test_the_way_in_by_mail_is_shown_and_says_so_when_mail_is_off(
        sessions: Sessions, content: Content, clock: Clock, people: People) -> None:
    async with smtp_server() as mailbox, served(sessions, content, clock, mailbox) as (
            server, _), client() as http:
        lost = await http.get(server.url + f"/dashboard/{people.partnership_id}")
        assert lost.status == 401 and 'href="/dashboard/login"' in await lost.text()
    async with served(sessions, content, clock, None) as (server, _), client() as http:
        off = await http.get(server.url + "/dashboard/login")
        assert off.status == 404
        assert escape(content.text("dashboard_mail_login_off", "nl")) in await off.text()
        posted = await http.post(server.url + "/dashboard/login",
                                 data={"email": "bert@vmbo.example"})
        assert posted.status == 404
