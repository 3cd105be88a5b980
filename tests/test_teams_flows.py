"""Flows that ask for typed answers and post in threads, on Teams: the real adapter on the
real engine against the fake Bot Connector over real HTTP. The impact matrix is typed into
its cards' fields (and as plain messages); the talk plate runs in a team channel, its
questions and the outcome someone types privately all in the thread of the first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.teams.render import escape
from bot.content import Content
from bot.engine import Engine
from bot.flows.instruments.matrix_table import row_steps
from bot.store.models import ChannelBinding, Member, Partnership
from scheduler.sender import Sender
from tests.conftest import Clock
from tests.teams_fakes import ANNA, BOT, TENANT, Person, Teams, running

LEA = Person("29:lea", "aad-lea", "Lea")  # the project leader
CEM = Person("29:cem", "aad-cem", "Cem")
TEAM = (LEA, ANNA, CEM)
CHANNEL = "19:general@thread.tacv2"
MENTION = {"type": "mention", "text": "<at>achtje</at>", "mentioned": BOT}


def personal(person: Person) -> str:
    return f"a:personal-{person.member}"


@pytest.fixture
async def teams(engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
                clock: Clock) -> AsyncIterator[Teams]:
    """The team's channel bound to the demo partnership; three onboarded members."""
    async with sessions() as session, session.begin():
        session.add(ChannelBinding(partnership_id=partnership.id, platform="teams",
                                   channel_ref=CHANNEL, created_at=clock.now))
        for index, person in enumerate(TEAM):
            session.add(Member(
                partnership_id=partnership.id, platform="teams",
                user_ref=f"{TENANT}:{person.aad}", display_name=person.name,
                school_id=partnership.schools[index % 2].id, level="teachers",
                role="leader" if person is LEA else "member", language="nl",
                onboarded_at=clock.now, created_at=clock.now))
    async for started in running(engine):
        yield started


async def test_the_impact_matrix_is_typed_into_its_cards(
        teams: Teams, partnership: Partnership, content: Content) -> None:
    chat = personal(LEA)
    sent = await teams.say(LEA, "matrix")
    assert sent[0].text == content.text("matrix_intro", "nl")
    await teams.type_in(LEA, "Iedereen loopt mee")
    for number, step in enumerate(row_steps(content), start=1):
        asked = teams.fake.posts(chat)[-1]
        assert asked.text.startswith(f"Doel 1 · stap {number}/6 · {step.name.nl}")
        if step.id == "resources":
            sent = await teams.press(LEA, content.text("matrix_skip", "nl"))
        elif step.number % 2:
            sent = await teams.type_in(LEA, f"Ons antwoord *voor* stap {step.number}")
        else:  # typed as a message of its own, not in the card's field
            sent = await teams.say(LEA, f"Ons antwoord voor stap {step.number}")
    table = [s.text for s in sent if s.method == "send"][-2]
    assert table.startswith(escape("Doel 1 · Iedereen loopt mee"))
    assert "Ons antwoord \\*voor\\* stap 7" in table  # shown as typed, not as markdown
    assert "Ons antwoord voor stap 6" in table
    assert teams.fake.posts(CHANNEL) == []

    shown = await teams.say(ANNA, "<at>achtje</at> matrix toon", f"{CHANNEL};messageid=900",
                            "channel", entities=[MENTION])
    [(where, text)] = [(s.conversation, s.text) for s in shown]
    assert where == f"{CHANNEL};messageid=900" and text.endswith(table)
    assert text.startswith(escape(content.text("matrix_plan_title", "nl",
                                               partnership=partnership.name)))


async def test_the_talk_plate_runs_in_the_thread_of_its_first_question(
        teams: Teams, sessions: async_sessionmaker[Any], clock: Clock,
        content: Content) -> None:
    thread = f"{CHANNEL};messageid=500"  # Anna's post starts the thread
    await teams.say(ANNA, "<at>achtje</at> praatplaat", thread, "channel",
                    entities=[MENTION])
    await teams.press(CEM, content.text("talk_next", "nl"), thread)
    await teams.press(CEM, content.text("talk_note", "nl"), thread)
    [ask] = teams.fake.posts(personal(CEM))  # the bot opened Cem's personal chat
    assert "urgentie" in ask.text and ask.card is not None
    thanks = await teams.type_in(CEM, "Minder uitval bij de overstap")
    assert thanks[-1].text == content.text("talk_note_saved", "nl")
    await Sender(sessions, {"teams": teams.adapter}, clock=clock).send_due()

    in_thread = teams.fake.posts(thread)
    assert in_thread[-1].text == content.text(
        "talk_outcome", "nl", topic="Urgentie", text="Minder uitval bij de overstap")
    assert teams.fake.posts(CHANNEL) == []  # nothing outside the thread
    assert [p.text.split("\n")[0].split(" · ")[-1] for p in in_thread[1:3]] == [
        "Urgentie", "Urgentie"]
    assert all(person.name not in p.text for p in in_thread for person in TEAM)
