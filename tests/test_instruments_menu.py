"""The way in: a menu of the five instruments, and the instruments in English."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Choice, Image, Invitation, Scale, Text
from bot.store.models import Partnership
from tests.conftest import Clock
from tests.instruments_fakes import GROUP, add_people, channel_posts


async def test_the_menu_leads_to_each_instrument(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    anna = (await add_people(engine, sessions, partnership, clock, "anna"))["anna"].dm
    replies = await anna.say("instrumenten")
    assert isinstance(replies[0], Choice)
    assert [o.value for o in replies[0].options] == [
        "cmd:reflectie", "cmd:valkuilen peiling", "cmd:achtje", "cmd:matrix", "cmd:praatplaat"]
    replies = await anna.say("3")
    assert isinstance(replies[0], Choice) and content.figure_eight.intro.nl in replies[0].prompt
    assert isinstance(replies[1], Scale)


async def test_the_instruments_speak_english(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    team = await add_people(engine, sessions, partnership, clock, "lea", "eve", "finn",
                            leader="lea", language="en")
    replies = await team["lea"].group.say("reflection start")
    invitation = replies[0]
    assert isinstance(invitation, Invitation)
    assert invitation.text == content.text("reflection_invite", "en", number=1, minimum=3)
    for user in ("lea", "eve", "finn"):
        await team[user].dm.press_value(invitation.action)
        for _ in range(5):
            await team[user].dm.press("well")
            await team[user].dm.press("Skip")
    channel = MemoryChat(engine, chat=GROUP, direct=False)
    [result] = await channel_posts(sessions, clock, channel)
    assert result.text.splitlines()[1] == content.text(  # type: ignore[attr-defined]
        "reflection_row", "en", condition="Shared ambition", mean="4.0", count=3, bar="████░")
    replies = await team["lea"].group.say("reflection close")
    assert replies[0].text == content.text(  # type: ignore[attr-defined]
        "reflection_closed_shown", "en", number=1, count=3, minimum=3)

    for user in ("eve", "finn", "lea"):
        replies = await team[user].dm.say("figure8")
        assert content.figure_eight.intro.en in replies[0].prompt  # type: ignore[attr-defined]
        for answer in ["2", "1"]:
            replies = await team[user].dm.say(answer)
    assert isinstance(replies[0], Image) and replies[0].caption.startswith("The figure-eight")
    assert isinstance(replies[1], Text) and replies[1].text.startswith("Weak connections")

    replies = await team["finn"].group.say("talkplate")
    assert replies[0].text.startswith("Discussion poster:")  # type: ignore[attr-defined]
    replies = await team["lea"].dm.say("matrix")
    assert replies[0] == Text(text=content.text("matrix_intro", "en", total=7))
