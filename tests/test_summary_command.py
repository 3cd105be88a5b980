"""`samenvatting` / `summary` in chat: a project leader asks for the last month that is over
or an earlier one and gets the full version privately; anyone else gets the polite refusal.
A month still running is not summarised: its numbers could change between two requests."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Image, Reply, Text
from bot.store.models import ChannelBinding, Member
from bot.summary.command import parse_month
from tests.summary_fakes import NOV, OCT, Partners, png_size


@pytest.fixture
async def partners(sessions: async_sessionmaker[Any]) -> Partners:
    """Five vmbo teachers who scored shared ambition in October and November."""
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 5)
    for day, scores in ((OCT, [3, 3, 3, 2, 2]), (NOV, [4, 4, 4, 2, 2])):
        round_id = await partners.round(day, ["ambition_1"])
        await partners.answer(round_id, "ambition_1", people, scores,
                              [None, None, None, "Meer tijd", "Een gezamenlijke dag"])
    return partners


async def person(engine: Engine, partners: Partners, role: str, language: str = "nl",
                 direct: bool = True) -> MemoryChat:
    """A chat with a new onboarded member of the partnership in `role`."""
    [member_id] = await partners.members("mbo", "management", 1)
    async with partners.sessions() as session, session.begin():
        member = await session.get(Member, member_id)
        assert member is not None
        member.role, member.language = role, language
        user = member.user_ref
    if not direct:
        chat = "group-zuid"
        async with partners.sessions() as session, session.begin():
            session.add(ChannelBinding(partnership_id=partners.partnership.id, platform="test",
                                       channel_ref=chat, created_at=datetime.now(UTC)))
        return MemoryChat(engine, user=user, chat=chat, direct=False)
    return MemoryChat(engine, user=user, chat=f"dm-{user}")


def texts(replies: list[Reply]) -> list[str]:
    return [reply.text for reply in replies if isinstance(reply, Text)]


async def test_a_leader_asks_for_the_last_month_and_earlier_ones_in_dutch(
    engine: Engine, partners: Partners
) -> None:
    chat = await person(engine, partners, "leader")  # on 24 November 2026

    october = await chat.say("samenvatting")
    said = texts(october)
    # Six members: the five who answered and the leader.
    assert said[0].startswith("Leerlab Zuid, oktober 2026: 5 van 6 leden deden mee (83%)")
    assert "Gedeelde ambitie: 2,6 (n=5)" in said[0]
    assert "Vertrouwelijk, voor de projectleiding." in said[0]
    [chart] = [reply for reply in october if isinstance(reply, Image)]
    assert png_size(chart.png) == (1000, 800)
    everything = "\n".join(said)
    assert '- "Een gezamenlijke dag"\n- "Meer tijd"' in everything
    assert "Informeel contact" in everything  # as the scheduled summary has it
    assert said[-1].startswith("Voor de agenda van het volgende overleg\n1. ")
    assert said[-1].endswith("\n\nEen andere maand zien? Typ samenvatting met de maand "
                             "erachter, zoals samenvatting september 2026.")
    assert not re.search(r"Persoon\d|\bu\d+\b", everything)  # no names, no user ids
    for same in ("samenvatting oktober", "samenvatting 2026-10", "/samenvatting vorige maand",
                 "samenvatting okt 2026"):
        assert texts(await chat.say(same)) == said, same

    # November is still running: its numbers could change while the leader watches.
    for running in ("samenvatting deze maand", "samenvatting november", "samenvatting 2026-11"):
        assert texts(await chat.say(running)) == [
            "De maand november 2026 loopt nog: er kan nog op check-ins geantwoord worden. "
            "De samenvatting staat vast vanaf 1 december 2026; tot die tijd kun je "
            "samenvatting oktober 2026 bekijken."
        ], running
    assert texts(await chat.say("samenvatting 2027-01")) == [
        "De maand januari 2027 is nog niet begonnen, dus daar is nog niets over te zeggen. "
        "Kies een maand die al voorbij is."]
    [which] = texts(await chat.say("samenvatting gisteren"))
    assert which.startswith("Van welke maand wil je de samenvatting?")
    assert which.endswith("zoals samenvatting oktober of samenvatting oktober 2026.")


async def test_a_leader_asks_in_english(engine: Engine, partners: Partners) -> None:
    chat = await person(engine, partners, "leader", "en")

    october = await chat.say("summary october")
    said = texts(october)
    assert said[0].startswith("Leerlab Zuid, October 2026: 5 of 6 members took part (83%)")
    assert "Shared ambition: 2.6 (n=5)" in said[0]
    assert "Check-ins that closed this month (a check-in counts in the month it closes in): " \
           "6 October to 13 October: 5 of 6 (83%)." in said[0]
    assert "Gedeelde ambitie" not in "\n".join(said)
    assert any(isinstance(reply, Image) for reply in october)
    assert said[-1].startswith("For the agenda of the next meeting\n1. ")
    assert said[-1].endswith("Type summary followed by the month, such as summary September 2026.")
    assert texts(await chat.say("/summary 2026-10")) == said
    assert texts(await chat.say("summary")) == said

    assert texts(await chat.say("summary this month")) == [
        "November 2026 is still running: check-ins can still be answered. Its summary is "
        "final from 1 December 2026; until then you can look at summary October 2026."]
    assert texts(await chat.say("summary december 2026")) == [
        "December 2026 hasn't started yet, so there is nothing to say about it. Pick a month that "
        "is over."]
    [which] = texts(await chat.say("summary yesterday"))
    assert which.startswith("Which month would you like the summary of?")


@pytest.mark.parametrize(("language", "refusal"), [
    ("nl", "Dit kan alleen de projectleider van jullie samenwerking; vraag hem of haar erom."),
    ("en", "Only your partnership's project leader can do this; ask them about it."),
])
async def test_a_member_is_politely_refused(
    engine: Engine, partners: Partners, language: str, refusal: str
) -> None:
    chat = await person(engine, partners, "member", language)
    for asked in ("samenvatting", "summary 2026-10", "/samenvatting oktober"):
        assert await chat.say(asked) == [Text(text=refusal)]


async def test_in_a_group_the_summary_is_private_and_an_admin_may_ask_too(
    engine: Engine, partners: Partners
) -> None:
    leader = await person(engine, partners, "leader", direct=False)
    replies = await leader.say("samenvatting")
    assert replies and all(reply.private for reply in replies)
    assert any(isinstance(reply, Image) for reply in replies)

    admin = await person(engine, partners, "admin")
    assert texts(await admin.say("samenvatting"))[0].startswith("Leerlab Zuid, oktober 2026")


@pytest.mark.parametrize(("typed", "month"), [
    ("", date(2026, 10, 1)),  # the last month that is over
    ("deze maand", date(2026, 11, 1)),  # the command says it is still running
    ("vorige", date(2026, 10, 1)),
    ("Oktober", date(2026, 10, 1)),
    ("november", date(2026, 11, 1)),
    ("december", date(2025, 12, 1)),  # the latest December that has begun
    ("mrt 2025", date(2025, 3, 1)),
    ("may, 2024", date(2024, 5, 1)),
    ("2026-7", date(2026, 7, 1)),
    ("2030-01", date(2030, 1, 1)),  # the command says it has not begun
    ("2026-13", None),
    ("1999-12", None),
    ("oktober 26", None),
    ("maandag", None),
    ("okt nov", None),
])
def test_months_are_read_in_dutch_and_english(typed: str, month: date | None) -> None:
    assert parse_month(typed, date(2026, 11, 1)) == month


def test_the_commands_are_known_to_the_engine(content: Content) -> None:
    from bot import features, registry
    from bot.registry import parse_command

    assert features.MODULES  # the engine's list of features declares the command
    assert parse_command("/samenvatting@achtje_bot Oktober") == ("samenvatting", "oktober")
    assert registry.find("samenvatting") is registry.find("summary") is not None
