"""Board members and leaders with no chat account, only an address: `member import`
without platform and user. They get the monthly summary by mail through a real SMTP server
(tests/smtp_fakes.py), can stop it with the link, are exported and erased, and never get a
check-in, reminder, nudge or pairing, nor count in a response rate (a hypothesis property).
Also: without ACHTJE_SMTP_URL no mail is queued, and `achtje run` says once that mail is off."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.mail.store import MAIL_ONLY, mail_recipients
from bot.partnerships_cli import ImportProblems, import_members
from bot.privacy.data import erase_member, export_member
from bot.schedule.rules import Changes, configure
from bot.service import serve
from bot.settings import Settings
from bot.store.models import Member, Partnership
from bot.store.schedule import OutboxMessage
from bot.summary.queries import counted_rounds, month_counts
from scheduler.planner import plan_due
from scheduler.sender import Sender
from tests.email_helpers import (
    HOLIDAYS,
    MAIL_ON,
    PLANNED,
    mail_platform,
    mail_rows,
    parts,
    with_people,
)
from tests.smtp_fakes import smtp_server
from tests.summary_fakes import Partners

Sessions = async_sessionmaker[Any]
NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # a Tuesday, 15:30 local


@pytest.fixture
def mail_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACHTJE_SMTP_URL", MAIL_ON)


def mail_only_row(partnership_id: int, address: str, **more: str) -> dict[str, str]:
    return {"partnership": str(partnership_id), "platform": "", "user": "", "name": "Bea",
            "school": "Vmbo Noorderlicht", "level": "board", "role": "member",
            "language": "nl", "email": address, **more}


async def import_rows(sessions: Sessions, content: Content, rows: list[dict[str, str]]) -> int:
    async with sessions() as session, session.begin():
        return await import_members(session, content, rows, NOW)


async def by_address(sessions: Sessions, address: str) -> Member:
    async with sessions() as session:
        found = await session.scalar(select(Member).where(Member.email == address))
        assert found is not None
        return found


async def test_import_takes_board_members_and_leaders_without_a_chat_account(
    sessions: Sessions, content: Content
) -> None:
    partners = await Partners.create(sessions)
    pid = partners.partnership.id
    assert await import_rows(sessions, content, [
        mail_only_row(pid, "Bea@Bestuur.Example"),
        mail_only_row(pid, "lea@mbo.example", platform="email", level="management",
                      role="leader", school="Mbo Vakcollege", language="en")]) == 2
    bea = await by_address(sessions, "Bea@bestuur.example")
    assert (bea.platform, bea.user_ref, bea.onboarded_at) == (
        MAIL_ONLY, "Bea@bestuur.example", None)
    # Importing the same file again changes nobody and adds nobody.
    assert await import_rows(sessions, content, [mail_only_row(pid, "Bea@Bestuur.Example",
                                                               name="Bea de Boer")]) == 1
    async with sessions() as session:
        rows = list(await session.scalars(select(Member).where(Member.partnership_id == pid)))
    assert sorted((m.display_name, m.email) for m in rows) == [
        ("Bea", "lea@mbo.example"), ("Bea de Boer", "Bea@bestuur.example")]
    with pytest.raises(ImportProblems) as refused:
        await import_rows(sessions, content, [
            mail_only_row(pid, "piet@vmbo.example", level="teachers"),
            mail_only_row(pid, "", level="board"),
            mail_only_row(pid, "x@vmbo.example", platform="test")])
    assert refused.value.problems == [
        "line 2: a member without platform and user only gets the summary mail: give role "
        "leader or level board",
        "line 3: platform and user are needed",
        "line 4: platform and user are needed",
    ]


async def test_a_mail_only_board_member_gets_the_mail_and_stops_it_with_the_link(
    sessions: Sessions, content: Content, mail_on: None
) -> None:
    people = await with_people(sessions)
    pid = people.partnership_id
    await import_rows(sessions, content, [mail_only_row(pid, "bea@bestuur.example",
                                                        language="nl")])
    bea = await by_address(sessions, "bea@bestuur.example")
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    rows = await mail_rows(sessions)
    assert sorted(rows) == sorted([people.leader, people.board, bea.id])
    assert {row.kind for row in rows.values()} == {"summary_mail"}
    async with smtp_server() as mailbox, mail_platform(sessions, content, mailbox) as (
            adapter, web):
        await Sender(sessions, {"email": adapter}, clock=lambda: PLANNED).send_due()
        assert len(mailbox.accepted) == 3
        [(_, mail)] = [(to, m) for to, m in mailbox.accepted if to == "bea@bestuur.example"]
        plain, html_part, _images = parts(mail)
        assert "in het bestuur zit van een school" in plain
        assert "Typ mail uit in de chat" not in plain  # she is in no chat
        assert f"{web.url}/mail/stop/" in plain and f"{web.url}/dashboard/login" in plain
        assert f'<a href="{web.url}/dashboard/login">' in html_part
        [(_, lea_mail)] = [(to, m) for to, m in mailbox.accepted if to == "lea@mbo.example"]
        assert "Typ mail uit in de chat" in parts(lea_mail)[0]
        link = str(mail["List-Unsubscribe"]).strip()[1:-1]
        async with aiohttp.ClientSession() as http:
            stopped = await http.post(link, data={"List-Unsubscribe": "One-Click"})
            assert stopped.status == 200
            assert "Vraag het de projectleiding van" in await stopped.text()
    async with sessions() as session:
        assert bea.id not in [m.id for m in await mail_recipients(session, pid)]


async def test_leaders_see_who_is_in_no_chat_in_the_member_list(
    sessions: Sessions, content: Content
) -> None:
    people = await with_people(sessions)
    await import_rows(sessions, content, [mail_only_row(people.partnership_id,
                                                        "bea@bestuur.example")])
    async with sessions() as session:
        leader = await session.get(Member, people.leader)
        assert leader is not None
    chat = MemoryChat(Engine(sessions, content), user=leader.user_ref, chat="dm-lea")
    await chat.say("leden")
    listed = [line for line in chat.transcript().splitlines() if "Bea" in line]
    assert listed and listed[0].endswith("· lid · alleen per e-mail, niet in de chat")


async def test_a_mail_only_member_is_exported_and_erased(
    sessions: Sessions, content: Content, mail_on: None
) -> None:
    people = await with_people(sessions)
    await import_rows(sessions, content, [mail_only_row(people.partnership_id,
                                                        "bea@bestuur.example")])
    bea = await by_address(sessions, "bea@bestuur.example")
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    async with sessions() as session, session.begin():
        exported = await export_member(session, bea.id)
        assert exported is not None
        assert exported["member"]["email"] == "bea@bestuur.example"
        await erase_member(session, bea.id)
    assert bea.id not in await mail_rows(sessions)  # the queued mail went with her
    async with sessions() as session:
        assert await session.get(Member, bea.id) is None
        assert await session.scalar(select(Member.id).where(
            Member.user_ref == "bea@bestuur.example")) is None


async def test_one_address_on_two_members_gets_one_mail(
    sessions: Sessions, content: Content, mail_on: None
) -> None:
    people = await with_people(sessions)  # bert@vmbo.example is a board member in chat
    await import_rows(sessions, content, [mail_only_row(people.partnership_id,
                                                        "Bert@VMBO.example")])
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    assert sorted(await mail_rows(sessions)) == [people.leader, people.board]


async def test_without_smtp_no_mail_is_queued_and_run_says_mail_is_off(
    sessions: Sessions, content: Content, database_url: str, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("ACHTJE_SMTP_URL", raising=False)
    people = await with_people(sessions)
    await import_rows(sessions, content, [mail_only_row(people.partnership_id,
                                                        "bea@bestuur.example")])
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    assert await mail_rows(sessions) == {}
    async with sessions() as session:  # the summary in chat went as before
        kinds = set(await session.scalars(select(OutboxMessage.kind)))
    assert kinds == {"summary"}
    stop = asyncio.Event()
    stop.set()
    with caplog.at_level(logging.INFO, logger="bot.service"):
        await serve(Settings(ACHTJE_DATABASE_URL=database_url, ACHTJE_SCHEDULER=False),
                    content, stop)
    said = [r.getMessage() for r in caplog.records if "mail is off" in r.getMessage()]
    assert said == ["mail is off (ACHTJE_SMTP_URL is not set): no summary mail is queued"]


# The property: whatever the people, mail-only members are never planned to and never counted.

ROLES = st.sampled_from([("member", "board"), ("leader", "management"), ("leader", "board"),
                         ("admin", "teachers")])


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vmbo=st.integers(1, 4), mbo=st.integers(1, 4),
       mail_only=st.lists(st.tuples(ROLES, st.sampled_from(["nl", "en"])), min_size=1,
                          max_size=4),
       answering=st.integers(0, 8))
async def test_mail_only_members_are_never_asked_paired_or_counted(
    sessions: Sessions, content: Content, vmbo: int, mbo: int,
    mail_only: list[tuple[tuple[str, str], str]], answering: int
) -> None:
    partners = await Partners.create(sessions, name="Eigenschap")
    pid = partners.partnership.id
    chat_ids = (await partners.members("vmbo", "teachers", vmbo)
                + await partners.members("mbo", "teachers", mbo))
    await import_rows(sessions, content, [
        mail_only_row(pid, f"m{n}.{pid}@school.example", role=role, level=level,
                      language=lang)
        for n, ((role, level), lang) in enumerate(mail_only)])
    async with sessions() as session:
        quiet = set(await session.scalars(select(Member.id).where(
            Member.partnership_id == pid, Member.platform == MAIL_ONLY)))
    assert len(quiet) == len(mail_only)
    async with sessions() as session, session.begin():
        partnership = await session.get(Partnership, pid)
        assert partnership is not None
        await configure(session, HOLIDAYS, partnership,
                        Changes(first=date(2026, 11, 24), checkins=True, nudges=True),
                        NOW - timedelta(hours=1))
    # Three weeks of ticks: check-ins, reminders, nudge slots, their follow-ups.
    for day in range(21):
        await plan_due(sessions, content, HOLIDAYS, NOW + timedelta(days=day))
    async with sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.partnership_id == pid)))
        round_ids = [r.round.id for r in await counted_rounds(
            session, pid, NOW - timedelta(days=1), NOW + timedelta(days=30))]
    kinds = {row.kind for row in rows}
    assert {"checkin", "nudge"} <= kinds  # the plan did run for the chat members
    for row in rows:
        assert row.member_id not in quiet, row.kind
        assert row.platform != MAIL_ONLY and "@" not in row.target, row.kind
    # Response rates: answers from some chat members; the members counted are the chat's.
    assert round_ids
    answered = chat_ids[:answering]
    await partners.answer(round_ids[0], "ambition_1", answered, [3] * len(answered))
    async with sessions() as session:
        counted = await counted_rounds(session, pid, NOW - timedelta(days=1),
                                       NOW + timedelta(days=30))
        month = await month_counts(session, pid, round_ids, ["ambition_1"],
                                   NOW + timedelta(days=30))
    assert (counted[0].members, counted[0].respondents) == (len(chat_ids), len(answered))
    assert (month.members, month.respondents) == (len(chat_ids), len(answered))
