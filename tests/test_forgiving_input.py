"""Wrong or loose input gets a kind answer that says what is expected: numbers out of a
menu's range, wrong sign-up answers, number words, commands typed during sign-up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Choice, Scale, Text
from bot.store.instruments import FigureEightLevel, PlanStep
from bot.store.models import Answer, Partnership
from tests.conftest import Clock, onboard
from tests.instruments_fakes import add_people


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


async def test_the_figure_eight_asks_names_again_for_a_bare_number_and_stops_on_stop(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    team = await add_people(engine, sessions, partnership, clock, "anna", "bram")
    dm = team["anna"].dm
    await dm.say("achtje")
    [again] = await dm.say("2")
    assert isinstance(again, Text) and "geen cijfer" in again.text
    async with sessions() as session:  # nothing was stored as the board's names
        assert not list(await session.scalars(select(FigureEightLevel)))
    [stopped] = await dm.say("stop")
    assert isinstance(stopped, Text) and stopped.text.startswith("Prima, we stoppen")
    [after] = await dm.say("Karin de Vries")  # the question is gone
    assert isinstance(after, Text) and after.text.startswith("Dat begrijp ik niet helemaal")


async def test_a_matrix_step_is_no_bare_number_and_stop_leaves_it(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    team = await add_people(engine, sessions, partnership, clock, "lea", leader="lea")
    dm = team["lea"].dm
    await dm.say("matrix")
    [again] = await dm.say("1")
    assert isinstance(again, Text) and again.text.startswith("Een los cijfer")
    async with sessions() as session:
        assert not list(await session.scalars(select(PlanStep)))
    [stopped] = await dm.say("stop")
    assert isinstance(stopped, Text) and "typ matrix om verder te gaan" in stopped.text
