"""Addresses and the choice to get mail: `member import`'s email column, `mail` in chat,
`privacy` and erasure, who may ever get a mail (a hypothesis property), the signed
unsubscribe token, the settings, and `achtje summary --email`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters import email as email_platform
from adapters.email.smtp import MailServer
from adapters.memory import MemoryChat
from adapters.web import WebServer
from bot.content import Content
from bot.engine import Engine
from bot.mail.address import address_problem
from bot.mail.store import mail_recipients
from bot.mail.token import member_of_token, unsubscribe_token
from bot.partnerships_cli import ImportProblems, import_members
from bot.privacy.data import erase_member, export_member
from bot.service import serve
from bot.settings import Settings, SettingsError
from bot.store.models import Member
from scheduler.planner import plan_due
from tests.conftest import without_settings
from tests.email_helpers import (
    HOLIDAYS,
    MAIL_ON,
    PLANNED,
    SECRET_KEY,
    mail_rows,
    with_people,
)
from tests.smtp_fakes import smtp_server
from tests.summary_fakes import Partners

ACHTJE = Path(sys.executable).with_name("achtje")
Sessions = async_sessionmaker[Any]
NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def mail_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mail is set up (ACHTJE_SMTP_URL): without it nothing is queued."""
    monkeypatch.setenv("ACHTJE_SMTP_URL", MAIL_ON)


async def member(sessions: Sessions, member_id: int) -> Member:
    async with sessions() as session:
        found = await session.get(Member, member_id)
        assert found is not None
        return found


def row(partnership_id: int, user: str, **more: str) -> dict[str, str]:
    return {"partnership": str(partnership_id), "platform": "test", "user": user,
            "name": "Lea", "school": "Mbo Vakcollege", "level": "management",
            "role": "leader", "language": "nl", **more}


async def test_member_import_takes_an_optional_checked_email_column(
    sessions: Sessions, content: Content
) -> None:
    partners = await Partners.create(sessions)
    pid = partners.partnership.id
    async with sessions() as session, session.begin():
        await import_members(session, content, [
            row(pid, "lea", email=" Lea.de.Vries@MBO.Example "), row(pid, "bert", email="")],
            NOW)
    async with sessions() as session, session.begin():
        with pytest.raises(ImportProblems) as refused:
            await import_members(session, content, [
                row(pid, "lea", email="lea.nieuw@mbo.example"),
                row(pid, "bert", email="bert at vmbo"),
                row(pid, "piet", email="piet@vmbo.example\r\nBcc: all@vmbo.example")], NOW)
    assert refused.value.problems == [
        "line 3: email: 'bert at vmbo' is not an e-mail address (name@school.nl)",
        "line 4: email: 'piet@vmbo.example\\r\\nBcc: all@vmbo.example': the part before @ "
        "has characters an address cannot have",
    ]
    async with sessions() as session:
        found = {m.user_ref: m.email for m in await mail_recipients(session, pid)}
    assert found == {"lea": "Lea.de.Vries@mbo.example"}  # nothing of the refused import
    # A file without the column leaves addresses alone; an empty cell removes one.
    async with sessions() as session, session.begin():
        await import_members(session, content, [row(pid, "bert")], NOW)
        await import_members(session, content, [row(pid, "lea", email="")], NOW)
    async with sessions() as session:
        assert await mail_recipients(session, pid) == []


@pytest.mark.parametrize("address", [
    "a@b", "@school.nl", "name@", "na me@school.nl", "name@school..nl", "name@-school.nl",
    "name@school.nl>", "name@10.0.0.1", "x" * 250 + "@school.nl", "naam@schööl.nl",
])
def test_addresses_achtje_will_not_send_to(address: str) -> None:
    assert address_problem(address) is not None


def test_ordinary_school_addresses_are_taken() -> None:
    for address in ("lea.de-vries+achtje@mbo-college.example.nl", "b@vmbo.nl"):
        assert address_problem(address) is None


async def test_mail_in_chat_shows_stops_and_starts_the_summary_mail(
    sessions: Sessions, content: Content
) -> None:
    people = await with_people(sessions)
    leader = await member(sessions, people.leader)
    chat = MemoryChat(Engine(sessions, content), user=leader.user_ref, chat="dm-lea")
    await chat.say("mail")
    assert "ook per e-mail, op lea@mbo.example" in chat.last_text()
    await chat.say("mail uit")
    assert "niet meer per e-mail" in chat.last_text()
    await chat.say("mail")
    assert "zette hem uit" in chat.last_text()
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    assert sorted(await mail_rows(sessions)) == [people.board]  # not the leader any more
    await chat.say("mail aan")
    assert "weer elke maand per e-mail, op lea@mbo.example" in chat.last_text()
    async with sessions() as session:
        assert [m.id for m in await mail_recipients(session, people.partnership_id)] == [
            people.leader, people.board]
    for who, expected in ((people.member, "voor projectleiders en bestuursleden"),
                          (people.leader_without, "geen e-mailadres van je")):
        other = MemoryChat(Engine(sessions, content),
                           user=(await member(sessions, who)).user_ref, chat=f"dm-{who}")
        await other.say("mail")
        assert expected in other.last_text()
        await other.say("mail aan")
        if who == people.member:
            async with sessions() as session:
                assert who not in [m.id for m in await mail_recipients(
                    session, people.partnership_id)]


async def test_privacy_shows_exports_and_erases_the_address(
    sessions: Sessions, content: Content
) -> None:
    people = await with_people(sessions)
    board = await member(sessions, people.board)
    chat = MemoryChat(Engine(sessions, content), user=board.user_ref, chat="dm-bert")
    await chat.say("privacy")
    assert "Your e-mail address: bert@vmbo.example." in chat.transcript()
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    async with sessions() as session, session.begin():
        exported = await export_member(session, people.board)
        assert exported is not None and exported["member"]["email"] == "bert@vmbo.example"
        await erase_member(session, people.board)
    rows = await mail_rows(sessions)
    assert people.board not in rows and people.leader in rows  # the planned mail went too
    async with sessions() as session:
        assert await session.get(Member, people.board) is None


ROLES = st.sampled_from(["member", "leader", "admin"])
LEVELS = st.sampled_from(["board", "management", "teachers", None])


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(st.tuples(ROLES, LEVELS, st.booleans(), st.booleans()),
                       min_size=1, max_size=6))
async def test_only_readers_of_the_summaries_with_an_address_who_want_it_get_mail(
    sessions: Sessions, people: list[tuple[str, str | None, bool, bool]]
) -> None:
    partners = await Partners.create(sessions, name="Eigenschap")
    wanted = set()
    for role, level, has_address, stopped in people:
        [member_id] = await partners.members("vmbo", level, 1)
        async with sessions() as session, session.begin():
            found = await session.get(Member, member_id)
            assert found is not None
            found.role, found.email = role, f"p{member_id}@school.example" if has_address else None
            found.mail_off_at = NOW if stopped else None
        if has_address and not stopped and (role in ("leader", "admin") or level == "board"):
            wanted.add(member_id)
    async with sessions() as session:
        got = {m.id for m in await mail_recipients(session, partners.partnership.id)}
    assert got == wanted


def test_only_a_token_signed_with_the_key_names_a_member() -> None:
    token = unsubscribe_token(SECRET_KEY, 42)
    assert member_of_token(SECRET_KEY, token) == 42
    assert member_of_token("another-secret-key-0123456789", token) is None
    assert member_of_token(SECRET_KEY, token.replace("42.", "43.")) is None
    for wrong in ("", "42", "42.", ".abc", "-1." + token.split(".")[1], "x.y", token + "x"):
        assert member_of_token(SECRET_KEY, wrong) is None


@given(st.text(max_size=60))
def test_no_made_up_token_names_a_member(token: str) -> None:
    assert member_of_token(SECRET_KEY, token) is None


def test_the_smtp_url_and_the_settings_the_platform_needs() -> None:
    server = MailServer.parse("smtps://achtje%40school.nl:p%3Ass@mail.school.nl")
    assert (server.host, server.port, server.username, server.password, server.implicit_tls) \
        == ("mail.school.nl", 465, "achtje@school.nl", "p:ss", True)
    assert str(server) == "smtps://mail.school.nl:465"  # never the password
    assert MailServer.parse("smtp://u:p@mail.school.nl").port == 587
    for wrong in ("http://mail.school.nl", "smtp://", "smtp://host:99999"):
        with pytest.raises(SettingsError):
            MailServer.parse(wrong)
    complete = {"ACHTJE_SMTP_URL": "smtp://127.0.0.1:25", "ACHTJE_MAIL_FROM": "a@school.nl",
                "ACHTJE_PUBLIC_URL": "https://achtje.school.nl", "ACHTJE_SECRET_KEY": SECRET_KEY}
    for missing in ("ACHTJE_MAIL_FROM", "ACHTJE_PUBLIC_URL", "ACHTJE_SECRET_KEY"):
        given_ = {key: value for key, value in complete.items() if key != missing}
        with pytest.raises(SettingsError, match=missing):
            email_platform.build(Settings(**given_), None, WebServer())  # type: ignore[arg-type]
    short = Settings(**{**complete, "ACHTJE_SECRET_KEY": "fifteen-letters"})
    with pytest.raises(SettingsError, match="at least 16 characters"):
        email_platform.build(short, None, WebServer())  # type: ignore[arg-type]


async def test_summary_email_on_the_command_line_queues_each_mail_once(
    sessions: Sessions, content: Content, database_url: str
) -> None:
    people = await with_people(sessions)
    args = ["summary", "--partnership", str(people.partnership_id), "--month", "2026-11",
            "--email"]
    first = achtje(database_url, *args)
    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith("queued 2 mails for 2026-11;") and first.stdout == ""
    again = achtje(database_url, *args)
    assert again.stderr.startswith("queued 0 mails for 2026-11 (2 already had this month's")
    refused = achtje(database_url, *args, "--format", "json")
    assert refused.returncode == 1 and "--email" in refused.stderr
    async with smtp_server() as mailbox:
        # `achtje run` with only mail set up: the web server for the link, the sender.
        stop = asyncio.Event()
        running = asyncio.create_task(serve(Settings(
            ACHTJE_DATABASE_URL=database_url, ACHTJE_HTTP_PORT=0, ACHTJE_SCHEDULER_TICK=0.2,
            ACHTJE_SMTP_URL=f"smtp://127.0.0.1:{mailbox.port}",
            ACHTJE_MAIL_FROM="achtje@leerlab.example",
            ACHTJE_PUBLIC_URL="https://achtje.example", ACHTJE_SECRET_KEY=SECRET_KEY),
            content, stop))
        for _ in range(1500):
            if len(mailbox.accepted) == 2 or running.done():
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(running, timeout=20)
    assert sorted(to for to, _ in mailbox.accepted) == ["bert@vmbo.example", "lea@mbo.example"]
    assert all(str(m["List-Unsubscribe"]).strip().startswith("<https://achtje.example/mail/stop/")
               for _, m in mailbox.accepted)
    # The scheduled summary a day later adds no second mail for November.
    await plan_due(sessions, content, HOLIDAYS, PLANNED)
    assert len(await mail_rows(sessions)) == 2


def achtje(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = without_settings()
    return subprocess.run([str(ACHTJE), *args], capture_output=True, text=True,
                          env={**env, "ACHTJE_DATABASE_URL": url, "ACHTJE_SMTP_URL": MAIL_ON},
                          timeout=90, check=False)
