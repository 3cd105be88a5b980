"""Wrong or loose input gets a kind answer that says what is expected: numbers out of a
menu's range, wrong sign-up answers, number words, commands typed during sign-up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Choice, FreeText, Invitation, Scale, Text
from bot.store.instruments import (
    FigureEightRating,
    ReflectionAnswer,
    TalkPlate,
    TalkPlateOutcome,
)
from bot.store.matrix import MatrixGoal
from bot.store.models import Answer, Member, Partnership
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


async def test_the_figure_eight_takes_a_score_word_and_stops_on_stop(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    team = await add_people(engine, sessions, partnership, clock, "anna", "bram")
    dm = team["anna"].dm
    await dm.say("achtje")
    [again] = await dm.say("zeven")
    assert isinstance(again, Text) and again.text.startswith("Typ een getal van 1")
    [next_] = await dm.say("twee")
    assert isinstance(next_, Scale) and next_.prompt.startswith("2/2")
    async with sessions() as session:
        assert [r.score for r in await session.scalars(select(FigureEightRating))] == [2]
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
        assert not list(await session.scalars(select(MatrixGoal)))
    [stopped] = await dm.say("stop")
    assert isinstance(stopped, Text) and "typ matrix om verder te gaan" in stopped.text


async def test_welcome_back_only_after_a_pause(chat: MemoryChat) -> None:
    await onboard(chat)
    [not_paused] = await chat.say("pauze uit")
    assert isinstance(not_paused, Text) and "Welkom terug" not in not_paused.text
    assert not_paused.text.startswith("Je had geen pauze")
    await chat.say("pauze 2")
    [back] = await chat.say("pauze uit")
    assert isinstance(back, Text) and back.text.startswith("Welkom terug!")


async def test_stop_leaves_the_check_in_and_its_follow_up_keeping_what_was_answered(
    chat: MemoryChat, sessions: async_sessionmaker[Any]
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    [ask] = await chat.say("1")  # a low score: what would help?
    assert isinstance(ask, FreeText)
    [again] = await chat.say("3")  # a score once more is no answer to "what would help?"
    assert isinstance(again, Text) and again.text.startswith("Je cijfer heb ik al.")
    [stopped] = await chat.say("Klaar")
    assert isinstance(stopped, Text) and "typ checkin om verder te gaan" in stopped.text
    assert isinstance((await chat.say("4"))[0], Text)  # no statement is asked any more
    async with sessions() as session:
        answers = list(await session.scalars(select(Answer)))
    assert [(a.score, a.comment) for a in answers] == [(1, None)]
    next_ = (await chat.say("checkin"))[-1]
    assert isinstance(next_, Scale) and next_.prompt.startswith("2/6")
    [stopped] = await chat.say("annuleer")
    assert isinstance(stopped, Text) and stopped.text.startswith("Prima, we stoppen hier.")


async def test_stop_leaves_the_reflection_and_reflectie_carries_on(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    team = await add_people(engine, sessions, partnership, clock, "lea", "anna", leader="lea")
    invitation = (await team["lea"].group.say("reflectie start"))[0]
    assert isinstance(invitation, Invitation)
    anna = team["anna"].dm
    await anna.press_value(invitation.action)
    [note] = await anna.say("4")
    assert isinstance(note, FreeText)
    [second] = await anna.say("-")
    assert isinstance(second, Scale) and second.prompt.startswith("2/5")
    [stopped] = await anna.say("Stop!")
    assert isinstance(stopped, Text) and "typ reflectie om verder te gaan" in stopped.text
    assert not isinstance((await anna.say("4"))[0], Scale)  # the question is gone
    async with sessions() as session:
        assert [a.score for a in await session.scalars(select(ReflectionAnswer))] == [4]
    [back] = await anna.say("reflectie")
    assert isinstance(back, Scale) and back.prompt.startswith("2/5")


async def test_a_talk_plate_note_is_no_bare_number_and_stop_records_nothing(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    team = await add_people(engine, sessions, partnership, clock, "anna", "bram")
    anna = team["anna"].dm
    await anna.say("praatplaat")
    [note] = await anna.say("2")  # the menu's second option: record the outcome
    assert isinstance(note, FreeText)
    [again] = await anna.say("5")
    assert isinstance(again, Text) and again.text.startswith("Een los cijfer zegt nog weinig.")
    [cancelled] = await anna.say("stop")
    assert isinstance(cancelled, Text) and cancelled.text == "Oké, er is niets vastgelegd."
    async with sessions() as session:
        assert not list(await session.scalars(select(TalkPlateOutcome)))
    await anna.say("praatplaat")  # the question back on the table, its menu with Stoppen
    [ended] = await anna.say("stop")  # the menu's own Stop: the talk-plate ends
    assert isinstance(ended, Text) and ended.public
    async with sessions() as session:
        plate = await session.scalar(select(TalkPlate))
        assert plate is not None and plate.finished_at is not None


async def test_stop_in_a_plain_menu_leaves_it(chat: MemoryChat) -> None:
    await onboard(chat)
    await chat.say("pauze")
    [stopped] = await chat.say("stop")
    assert isinstance(stopped, Text) and stopped.text.startswith("Prima, gestopt.")
    [after] = await chat.say("2")  # the menu is gone: 2 is no pause now
    assert isinstance(after, Text) and "pauze" not in after.text.lower()


async def test_a_platform_in_another_language_is_asked_the_language_first(
    engine: Engine, partnership: Partnership
) -> None:
    chat = MemoryChat(engine, user="ines", locale="de-DE")
    welcome, first = await chat.say("checkin")
    assert isinstance(welcome, Text) and welcome.text.startswith("Welkom bij achtje")
    assert isinstance(first, Choice) and first.prompt.startswith("In welke taal")
    assert "Which language" in first.prompt
    [school] = await chat.press("Engels (English)")
    assert isinstance(school, Choice) and school.prompt == "Which school do you work at?"
    [level] = await chat.press("Mbo College Kompas")
    assert isinstance(level, Choice) and "Which school" not in level.prompt
    done, *replayed = await chat.say("2")  # no language question at the end
    assert isinstance(done, Text) and done.text.startswith("Thanks, you're all set.")
    assert replayed and isinstance(replayed[-1], Scale)  # the check-in that waited


async def test_a_dutch_or_unknown_locale_keeps_the_language_question_last(
    engine: Engine, partnership: Partnership
) -> None:
    for user, locale in (("noor", "nl-NL"), ("sam", None)):
        chat = MemoryChat(engine, user=user, locale=locale)
        _, first = await chat.say("hoi")
        assert isinstance(first, Choice) and first.prompt == "Bij welke school werk je?"


async def test_the_schedule_names_its_range_and_stop_leaves_a_typed_time(
    chat: MemoryChat, sessions: async_sessionmaker[Any]
) -> None:
    await onboard(chat)
    async with sessions() as session, session.begin():
        me = await session.scalar(select(Member).where(Member.user_ref == chat.user))
        assert me is not None
        me.role = "leader"
    await chat.say("rooster")
    [days] = await chat.press("Dag check-in")
    assert isinstance(days, Choice)
    sorry, again = await chat.say("7" if len(days.options) < 7 else "9")
    assert isinstance(sorry, Text) and sorry.text.startswith("Dat nummer staat er niet bij")
    assert f"1 tot en met {len(days.options)}" in sorry.text
    assert isinstance(again, Choice) and again.options == days.options
    await chat.say("rooster")
    [time] = await chat.press("Tijd check-in")
    assert "Typ een tijd" in getattr(time, "prompt", getattr(time, "text", ""))
    [stopped] = await chat.say("stop")
    assert isinstance(stopped, Text) and stopped.text.startswith("Prima, gestopt.")
