"""The monthly summary by e-mail, read off a real SMTP server (aiosmtpd on 127.0.0.1):
who gets it, both parts and the inline chart, the one-click unsubscribe link over real
HTTP, and delivery through the outbox: a 4xx retried once, a 5xx failed for good, a
connection lost after the message never sent twice."""

from __future__ import annotations

import html
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.store.models import Member
from scheduler.planner import plan_due
from scheduler.sender import Sender
from tests.conftest import Clock, without_settings
from tests.email_helpers import (
    HOLIDAYS,
    MAIL_ON,
    NAME,
    OPEN_ANSWER,
    PLANNED,
    mail_platform,
    mail_rows,
    next_summary_at,
    parts,
    with_people,
)
from tests.smtp_fakes import DROP, smtp_server
from tests.summary_fakes import Partners

ACHTJE = Path(sys.executable).with_name("achtje")
Sessions = async_sessionmaker[Any]


@pytest.fixture(autouse=True)
def mail_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mail is set up (ACHTJE_SMTP_URL): without it nothing is queued."""
    monkeypatch.setenv("ACHTJE_SMTP_URL", MAIL_ON)


async def test_leaders_and_board_members_get_the_summary_by_mail_with_the_chart_inline(
    sessions: Sessions, content: Content
) -> None:
    people = await with_people(sessions)
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    rows = await mail_rows(sessions)
    # A member with an address, or a leader without one, gets no mail.
    assert sorted(rows) == sorted([people.leader, people.board])
    assert {row.kind for row in rows.values()} == {"summary_mail"}
    async with smtp_server() as mailbox, mail_platform(sessions, content, mailbox) as (mail, _):
        sender = Sender(sessions, {"email": mail}, clock=lambda: PLANNED)
        assert await sender.send_due() == 2
    assert sorted(to for to, _ in mailbox.accepted) == ["bert@vmbo.example", "lea@mbo.example"]
    by_address = dict(mailbox.accepted)
    assert {row.status for row in (await mail_rows(sessions)).values()} == {"sent"}

    leader = by_address["lea@mbo.example"]
    assert leader["Subject"] == f"Samenvatting {NAME}, november 2026"
    assert leader["From"] == "achtje@leerlab.example"
    assert leader["To"].addresses[0].addr_spec == "lea@mbo.example"
    assert leader["Content-Language"] == "nl"
    assert leader["Message-ID"] == f"<achtje.outbox.{rows[people.leader].id}@leerlab.example>"
    assert leader["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = link_of(leader)
    assert link.startswith("http://127.0.0.1:") and "/mail/stop/" in link
    plain, page, images = parts(leader)
    # The full version, as in chat: the confidential note and the open answers.
    assert "Vertrouwelijk, voor de projectleiding" in plain and OPEN_ANSWER in plain
    assert "Gedeelde ambitie: 3,2 (n=5)" in plain
    assert "omdat je projectleider bent van" in plain and "mail uit" in plain and link in plain
    # Everything a person typed, and the partnership's name, is text in the HTML.
    assert html.escape(OPEN_ANSWER) in page and OPEN_ANSWER not in page
    assert html.escape(NAME) in page and NAME not in page
    assert "<li>Gedeelde ambitie: 3,2 (n=5)" in page
    assert f'<a href="{html.escape(link)}">' in page
    [chart] = images
    assert chart.get_content_type() == "image/png"
    assert chart.get_content().startswith(b"\x89PNG\r\n\x1a\n")  # type: ignore[union-attr]
    cid = chart["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in page and 'alt="Grafiek: de vijf voorwaarden' in page

    board = by_address["bert@vmbo.example"]
    assert board["Subject"] == f"Summary {NAME}, November 2026"
    plain, page, images = parts(board)
    # A board member who is no leader gets the channel's version: nothing confidential.
    assert "Shared ambition: 3.2 (n=5)" in plain and len(images) == 1
    assert "Confidential" not in plain and "Meer tijd" not in plain
    assert "on the board of a school in" in plain and "mail off" in plain


async def test_the_link_asks_first_then_stops_the_mail_and_forged_links_are_refused(
    sessions: Sessions, content: Content
) -> None:
    people = await with_people(sessions)
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    async with smtp_server() as mailbox, mail_platform(sessions, content, mailbox) as (mail, _):
        await Sender(sessions, {"email": mail}, clock=lambda: PLANNED).send_due()
        link = link_of(dict(mailbox.accepted)["lea@mbo.example"])
        other = link_of(dict(mailbox.accepted)["bert@vmbo.example"])
        member_id, _, mac = link.rpartition("/")[2].partition(".")
        forged = [link[:-2] + ("AA" if not link.endswith("AA") else "BB"),
                  link.replace(f"/{member_id}.", f"/{people.member}."),
                  other.rpartition("/")[0] + f"/{people.member}.{mac}"]
        async with aiohttp.ClientSession() as http:
            async with http.get(link) as shown:
                page = await shown.text()
                assert shown.status == 200
                assert "<form method=\"post\">" in page and "Stop de e-mail</button>" in page
                assert html.escape(NAME) in page
            assert await stopped(sessions, people.leader) is False  # looking stops nothing
            for wrong in forged:
                async with http.post(wrong, data="List-Unsubscribe=One-Click",
                                     headers={"Content-Type": "application/x-www-form-"
                                                              "urlencoded"}) as refused:
                    assert refused.status == 404
            assert await stopped(sessions, people.member) is False
            # What a mail program sends for one click (RFC 8058).
            async with http.post(link, data="List-Unsubscribe=One-Click", headers={
                    "Content-Type": "application/x-www-form-urlencoded"}) as done:
                assert done.status == 200
                assert "niet meer per e-mail" in await done.text()
    assert await stopped(sessions, people.leader) is True
    assert await stopped(sessions, people.board) is False
    # December's summary by mail goes to the board member only.
    december = await december_figures(people.partners)
    await plan_due(sessions, content, HOLIDAYS, december)
    assert sorted(m for m, row in (await mail_rows(sessions)).items()
                  if row.local_date.month == 12) == [people.board]


async def stopped(sessions: Sessions, member_id: int) -> bool:
    async with sessions() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        return member.mail_off_at is not None


async def december_figures(partners: Partners) -> Any:
    """Teachers score in December too; when December's summary is due."""
    from tests.summary_fakes import NOV  # a Tuesday; five weeks on is 8 December

    round_id = await partners.round(NOV + timedelta(days=35), ["ambition_1"])
    people = await partners.members("vmbo", "teachers", 3)
    await partners.answer(round_id, "ambition_1", people, [4, 4, 5])
    return await next_summary_at(partners.sessions, partners.partnership.id)


async def test_a_temporary_refusal_is_tried_again_and_the_mail_arrives_once(
    sessions: Sessions, content: Content, clock: Clock
) -> None:
    people = await with_people(sessions)
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    clock.now = PLANNED
    async with smtp_server() as mailbox, mail_platform(sessions, content, mailbox) as (mail, _):
        mailbox.data_answers = ["451 4.3.0 Mailbox busy, try again later"]
        mailbox.rcpt_answers = ["250 OK", "421 4.7.0 Too many connections"]
        sender = Sender(sessions, {"email": mail}, clock=clock)
        assert await sender.send_due() == 2
        assert mailbox.accepted == []
        rows = await mail_rows(sessions)
        assert [rows[m].status for m in (people.leader, people.board)] == ["pending"] * 2
        errors = sorted(row.last_error or "" for row in rows.values())
        assert errors == [
            "retry later: the mail server said before the message: 421 4.7.0 Too many "
            "connections",
            "retry later: the mail server said the message: 451 4.3.0 Mailbox busy, try again "
            "later"]
        assert await sender.send_due() == 0  # not before its time
        clock.advance(minutes=2)
        assert await sender.send_due() == 2
        clock.advance(minutes=30)
        assert await sender.send_due() == 0
    assert sorted(to for to, _ in mailbox.accepted) == ["bert@vmbo.example", "lea@mbo.example"]
    rows = await mail_rows(sessions)
    assert [(rows[m].status, rows[m].attempts) for m in (people.leader, people.board)] == [
        ("sent", 2), ("sent", 2)]


async def test_a_permanent_refusal_fails_once_and_is_listed(
    sessions: Sessions, content: Content, clock: Clock, database_url: str
) -> None:
    people = await with_people(sessions)
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    clock.now = PLANNED
    async with smtp_server() as mailbox, mail_platform(sessions, content, mailbox) as (mail, _):
        mailbox.rcpt_answers = ["550 5.1.1 No such mailbox here"]
        sender = Sender(sessions, {"email": mail}, clock=clock)
        assert await sender.send_due() == 2
        clock.advance(hours=1)
        assert await sender.send_due() == 0
    rows = await mail_rows(sessions)  # the two go side by side: either is refused
    [failed] = [row for row in rows.values() if row.status != "sent"]
    [sent] = [row for row in rows.values() if row.status == "sent"]
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "550 5.1.1 No such mailbox" in (failed.last_error or "")
    addresses = {people.leader: "lea@mbo.example", people.board: "bert@vmbo.example"}
    assert [to for to, _ in mailbox.accepted] == [addresses[sent.member_id or 0]]
    async with sessions() as session:  # the member's chat is not marked unreachable
        refused = await session.get(Member, failed.member_id)
        assert refused is not None and refused.unreachable_at is None
    listed = achtje(database_url, "outbox").stdout.splitlines()
    assert len(listed) == 3 and listed[1].startswith(f"{failed.id}\tfailed\tsummary_mail\t")
    assert f"member:{failed.member_id}" in listed[1] and "550" in listed[1]
    assert "@" not in "\n".join(listed)  # no address in the list


async def test_a_connection_lost_after_the_message_is_never_sent_twice(
    sessions: Sessions, content: Content, clock: Clock
) -> None:
    await with_people(sessions)
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    clock.now = PLANNED
    async with smtp_server() as mailbox, mail_platform(sessions, content, mailbox) as (mail, _):
        mailbox.data_answers = [DROP]
        sender = Sender(sessions, {"email": mail}, clock=clock)
        await sender.send_due()
        clock.advance(hours=1)
        await sender.send_due()
    rows = await mail_rows(sessions)  # either of the two was the one cut off
    statuses = sorted(row.status for row in rows.values())
    assert statuses == ["sent", "uncertain"]  # the server had it: maybe delivered
    [doubt] = mailbox.taken_then_dropped
    cut_off = doubt["To"].addresses[0].addr_spec
    assert [to for to, _ in mailbox.accepted] == [
        a for a in ("lea@mbo.example", "bert@vmbo.example") if a != cut_off]


async def test_the_address_is_read_when_the_mail_goes(
    sessions: Sessions, content: Content, clock: Clock
) -> None:
    people = await with_people(sessions)
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    async with sessions() as session, session.begin():
        leader = await session.get(Member, people.leader)
        board = await session.get(Member, people.board)
        assert leader is not None and board is not None
        leader.email = "lea.nieuw@mbo.example"
        board.email = None
    clock.now = PLANNED
    async with smtp_server() as mailbox, mail_platform(sessions, content, mailbox) as (mail, _):
        await Sender(sessions, {"email": mail}, clock=clock).send_due()
    assert [to for to, _ in mailbox.accepted] == ["lea.nieuw@mbo.example"]
    rows = await mail_rows(sessions)
    assert rows[people.board].status == "failed"
    assert "no e-mail address" in (rows[people.board].last_error or "")


def link_of(message: EmailMessage) -> str:
    """The one-click link (the header may be folded over two lines)."""
    return "".join(str(message["List-Unsubscribe"]).split()).strip("<>")


def achtje(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = without_settings()
    return subprocess.run([str(ACHTJE), *args], capture_output=True, text=True,
                          env={**env, "ACHTJE_DATABASE_URL": url}, timeout=90, check=False)
