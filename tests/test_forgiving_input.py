"""Wrong or loose input gets a kind answer that says what is expected: numbers out of a
menu's range, wrong sign-up answers, number words, commands typed during sign-up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.messages import Choice, Scale, Text
from bot.store.models import Answer
from tests.conftest import onboard


async def test_a_number_beyond_a_menu_names_the_range_and_asks_again(chat: MemoryChat) -> None:
    await onboard(chat)
    [menu] = await chat.say("pauze")
    assert isinstance(menu, Choice) and len(menu.options) == 4
    sorry, again = await chat.say("9")
    assert isinstance(sorry, Text)
    assert sorry.text == "Dat nummer staat er niet bij: kies 1 tot en met 4."
    assert isinstance(again, Choice) and again.options == menu.options
    assert [o.label for o in menu.options] == ["1 week", "2 weken", "4 weken", "8 weken"]
    [paused] = await chat.say("twee")  # the menu still answers, a number word too
    # Two weeks from Tuesday 24 November 2026, the date written as a teacher writes it.
    assert isinstance(paused, Text) and "Vanaf 8 december 2026 krijg je" in paused.text


async def test_a_wrong_sign_up_answer_says_why_it_is_asked_again(chat: MemoryChat) -> None:
    [welcome, _] = await chat.say("hoi")
    assert isinstance(welcome, Text) and "Welkom bij achtje" in welcome.text
    why, again = await chat.say("7")
    assert isinstance(why, Text) and "1 tot en met 2" in why.text
    assert isinstance(again, Choice) and [o.label for o in again.options] == [
        "Vmbo De Brug", "Mbo College Kompas"]


async def test_the_welcome_is_said_once_however_many_commands_are_typed(
    chat: MemoryChat
) -> None:
    await chat.say("hoi")
    for typed in ("checkin", "koffie", "pauze"):
        first, question = await chat.say(typed)
        assert isinstance(first, Text) and "Welkom" not in first.text
        assert first.text == "Eerst nog deze vraag, daarna doe ik wat je vroeg."
        assert isinstance(question, Choice)
    welcomes = chat.transcript().count("Welkom bij achtje")
    assert welcomes == 1


async def test_a_score_typed_as_a_word_counts(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    [next_] = await chat.say("drie")
    assert isinstance(next_, Scale) and next_.prompt.startswith("2/6")
    [after] = await chat.say("Vier.")
    assert isinstance(after, Scale) and after.prompt.startswith("3/6")
    async with sessions() as session:
        scores = [a.score for a in await session.scalars(select(Answer).order_by(Answer.id))]
    assert scores == [3, 4]
