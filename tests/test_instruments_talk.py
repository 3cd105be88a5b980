"""The talk-plate: questions posted one at a time in the channel, outcomes written down."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.flows.instruments.talk_plate import questions
from bot.messages import Choice, FreeText, Incoming, Reply, Text
from bot.store.instruments import TalkPlate, TalkPlateOutcome
from bot.store.models import Partnership
from tests.conftest import Clock
from tests.instruments_fakes import (
    GROUP,
    Person,
    add_people,
    as_private,
    channel_posts,
    queued_posts,
    said,
)


@pytest.fixture
async def team(engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership,
               clock: Clock) -> dict[str, Person]:
    return await add_people(engine, sessions, partnership, clock,
                            "lea", "anna", "bram", "cem", leader="lea")


def question_text(content: Content, number: int) -> str:
    listed = questions(content.talk_plate)
    topic, question = listed[number - 1]
    return content.text("talk_question", "nl", number=number, total=len(listed),
                        topic=topic.name.nl, question=question.nl)


async def test_the_questions_come_one_at_a_time_for_the_whole_channel(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    replies = await team["anna"].group.say("praatplaat")
    assert replies[0] == Text(text=content.text("talk_intro", "nl", total=15), public=True)
    current = replies[1]
    assert isinstance(current, Choice) and not current.private
    assert current.prompt == question_text(content, 1)

    seen = [current.prompt]
    for number in range(2, 16):
        # Whoever leads the conversation moves it on; everyone sees the next question.
        presser = team[("bram", "cem", "lea")[number % 3]].group
        replies = await presser.press_value(current.options[0].value)
        current = replies[0]
        assert isinstance(current, Choice) and not current.private and len(replies) == 1
        seen.append(current.prompt)
    assert [prompt.splitlines()[:2] for prompt in seen] == [
        question_text(content, n).splitlines() for n in range(1, 16)]
    assert current.options[0].label == content.text("talk_finish", "nl")
    per_partner = content.text("talk_per_partner", "nl",
                               schools="Vmbo De Brug, Mbo College Kompas")
    assert [per_partner in prompt for prompt in seen] == [False] * 6 + [True] * 9

    # A second press on an old button does not skip a question.
    assert await team["cem"].group.press_value("tp:1:3:next") == [
        as_private(said(content, "talk_moved_on"))]
    replies = await team["bram"].group.press_value(current.options[0].value)
    assert replies == [Text(text=content.text("talk_done_nothing", "nl"), public=True)]
    async with sessions() as session:
        plate = await session.scalar(select(TalkPlate))
        assert plate is not None and plate.finished_at is not None and plate.position == 14


async def test_outcomes_are_written_down_and_shown_at_the_end_without_names(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    await team["anna"].group.say("praatplaat")
    replies = await team["cem"].group.press_value("tp:1:0:note")
    assert isinstance(replies[0], FreeText) and replies[0].private
    assert "urgentie" in replies[0].prompt
    # Cem answers in the private chat the adapter opened; it is the same conversation.
    assert await team["cem"].dm.say("Minder uitval bij de overstap is ons doel") == [
        said(content, "talk_note_saved", limit=1000)]
    # Buttons pressed away from the team's chat do not move the conversation.
    assert await team["cem"].dm.press_value("tp:1:0:next") == [
        said(content, "talk_elsewhere")]
    await team["bram"].group.press_value("tp:1:0:next")
    await team["bram"].group.press_value("tp:1:1:note")
    assert await team["bram"].group.press_value("tp:1:1:cancel") == [
        as_private(said(content, "talk_note_cancelled"))]

    # Only the starter or a project leader ends it for everyone.
    assert await team["bram"].group.press_value("tp:1:1:stop") == [
        as_private(said(content, "talk_not_yours"))]
    replies = await team["lea"].group.say("praatplaat stop")
    assert replies == [Text(text=content.text(
        "talk_done", "nl", outcomes="- Urgentie: Minder uitval bij de overstap is ons doel"),
        public=True)]
    assert "cem" not in replies[0].text.lower()  # type: ignore[attr-defined]
    async with sessions() as session:
        outcomes = list(await session.scalars(select(TalkPlateOutcome)))
    assert [(o.topic_id, o.text) for o in outcomes] == [
        ("urgency", "Minder uitval bij de overstap is ons doel")]
    assert await team["cem"].group.press_value("tp:1:1:next") == [
        as_private(said(content, "talk_finished"))]


async def test_a_text_only_chat_can_follow_the_talk_plate_by_typing(
    team: dict[str, Person], content: Content
) -> None:
    anna = team["anna"].dm
    await anna.say("praatplaat")
    replies = await anna.say("1")
    assert isinstance(replies[0], Choice) and replies[0].prompt == question_text(content, 2)
    replies = await anna.say("2")
    assert isinstance(replies[0], FreeText)
    replies = await anna.say("Het moet voor leerlingen soepeler")
    assert replies[0] == said(content, "talk_note_saved", limit=1000)
    assert isinstance(replies[1], Choice) and replies[1].prompt == question_text(content, 2)
    replies = await anna.say("3")
    assert replies == [Text(text=content.text(
        "talk_done", "nl", outcomes="- Urgentie: Het moet voor leerlingen soepeler"),
        public=True)]


async def test_starting_again_puts_the_current_question_back_or_starts_over(
    team: dict[str, Person], sessions: async_sessionmaker[Any], content: Content
) -> None:
    await team["anna"].group.say("praatplaat")
    await team["anna"].group.press_value("tp:1:0:next")
    replies = await team["bram"].group.say("talkplate")
    assert isinstance(replies[0], Choice) and replies[0].prompt == question_text(content, 2)
    # Only who started it (or a project leader) starts it over, or stops it.
    refused = [as_private(said(content, "talk_not_yours"))]
    assert await team["bram"].group.say("praatplaat nieuw") == refused
    assert await team["cem"].group.say("praatplaat stop") == refused
    async with sessions() as session:
        plate = await session.scalar(select(TalkPlate))
        assert plate is not None and plate.finished_at is None and plate.position == 1
    replies = await team["anna"].group.say("praatplaat nieuw")
    assert replies[0] == Text(text=content.text("talk_done_nothing", "nl"), public=True)
    assert isinstance(replies[2], Choice) and replies[2].prompt == question_text(content, 1)
    assert replies[2].options[0].value == "tp:2:0:next"
    async with sessions() as session:
        assert len(list(await session.scalars(select(TalkPlate)))) == 2


async def press_under(engine: Engine, person: Person, value: str, message: str,
                      thread: str | None = None) -> list[Reply]:
    """A button pressed in the team's chat, on the platform message `message` (in the
    thread of `thread`), as the Slack and Telegram adapters report it."""
    outcome = await engine.handle(Incoming(platform="test", user=person.user, chat=GROUP,
                                           direct=False, action=value, message=message,
                                           thread=thread))
    return outcome.replies


async def test_the_next_questions_and_the_outcomes_go_in_the_thread_of_the_first(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any], clock: Clock,
    content: Content,
) -> None:
    channel = MemoryChat(engine, chat=GROUP, direct=False)
    replies = await team["anna"].group.say("praatplaat")
    assert [r.thread_of for r in replies] == [None, None]  # the first question: in the channel

    [second] = await press_under(engine, team["bram"], "tp:1:0:next", message="m1")
    assert isinstance(second, Choice) and second.prompt == question_text(content, 2)
    assert (second.thread_of, second.public) == ("m1", True)
    [third] = await press_under(engine, team["cem"], "tp:1:1:next", message="m2", thread="m1")
    assert third.thread_of == "m1"

    [ask] = await press_under(engine, team["cem"], "tp:1:2:note", message="m3", thread="m1")
    assert isinstance(ask, FreeText) and ask.private
    assert await team["cem"].dm.say("Iedereen wil minder uitval") == [
        said(content, "talk_note_saved", limit=1000)]
    [posted] = await channel_posts(sessions, clock, channel)
    assert posted == Text(text=content.text("talk_outcome", "nl", topic="Urgentie",
                                            text="Iedereen wil minder uitval"), thread_of="m1")
    assert await queued_posts(sessions) == [("instrument", "talk_outcome:1", GROUP)]

    # Asked for again, the question on the table comes back in the thread too ...
    [again] = await team["bram"].group.say("praatplaat")
    assert again.thread_of == "m1" and again.prompt == question_text(content, 3)  # type: ignore[attr-defined]
    # ... and what the team recorded is summed up in the channel itself at the end.
    [done] = await team["anna"].group.say("praatplaat stop")
    assert done == Text(text=content.text(
        "talk_done", "nl", outcomes="- Urgentie: Iedereen wil minder uitval"),
        public=True)


async def test_a_talk_plate_in_the_channel_stays_there_when_asked_for_privately(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any],
    content: Content
) -> None:
    await team["anna"].group.say("praatplaat")
    await press_under(engine, team["bram"], "tp:1:0:next", message="m1")
    elsewhere = [said(content, "talk_elsewhere")]
    for typed in ("praatplaat", "praatplaat stop", "praatplaat nieuw"):
        assert await team["anna"].dm.say(typed) == elsewhere  # Anna started it, even so
    assert await team["lea"].dm.say("praatplaat stop") == elsewhere
    async with sessions() as session:
        [plate] = list(await session.scalars(select(TalkPlate)))
        assert (plate.chat_ref, plate.thread_ref, plate.finished_at) == (GROUP, "m1", None)
    # The channel carries on under the same thread.
    [third] = await press_under(engine, team["cem"], "tp:1:1:next", message="m2", thread="m1")
    assert isinstance(third, Choice) and third.thread_of == "m1"


async def test_a_talk_plate_started_privately_moves_to_the_channel_with_a_new_thread(
    team: dict[str, Person], engine: Engine, sessions: async_sessionmaker[Any]
) -> None:
    await team["anna"].dm.say("praatplaat")
    await team["anna"].dm.say("1")
    [here] = await team["bram"].group.say("praatplaat")
    assert isinstance(here, Choice) and here.public and here.thread_of is None
    assert here.options[0].value == "tp:1:1:next"
    async with sessions() as session:
        plate = await session.scalar(select(TalkPlate))
        assert plate is not None and (plate.chat_ref, plate.thread_ref) == (GROUP, None)
