"""Dialogues as a member lives them, through the in-memory chat and the real store."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Choice, FreeText, Scale, Text
from bot.store.models import Answer, ChannelBinding, Member, Partnership
from tests.conftest import Clock, onboard


async def answers(sessions: async_sessionmaker[Any]) -> list[Answer]:
    async with sessions() as session:
        return list(await session.scalars(select(Answer).order_by(Answer.id)))


async def the_member(sessions: async_sessionmaker[Any], user: str = "anna") -> Member:
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.user_ref == user))
        assert member is not None
        return member


async def test_onboarding_asks_school_level_and_language(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content
) -> None:
    replies = await chat.say("hoi")
    assert "Welkom bij achtje" in replies[0].text  # type: ignore[attr-defined]
    assert isinstance(replies[1], Choice)
    assert [o.label for o in replies[1].options] == ["Vmbo De Brug", "Mbo College Kompas"]

    await chat.press("Mbo College Kompas")
    assert chat.last_text().startswith(content.text("ask_level", "nl"))
    await chat.press("Management en projectleiding")
    assert chat.last_text().startswith(content.text("ask_language", "nl"))
    await chat.press("Engels (English)")
    assert chat.last_text() == content.text("onboarded", "en")

    member = await the_member(sessions)
    assert (member.level, member.language) == ("management", "en")
    assert member.onboarded_at is not None


async def test_a_typed_number_answers_a_choice_in_a_text_only_chat(
    chat: MemoryChat, sessions: async_sessionmaker[Any]
) -> None:
    await chat.say("hoi")
    for typed in ("2", "3", "1"):
        await chat.say(typed)
    member = await the_member(sessions)
    assert (member.level, member.language) == ("teachers", "nl")
    assert member.onboarded_at is not None


async def test_checkin_with_a_low_score_asks_what_would_help(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content
) -> None:
    await onboard(chat)
    replies = await chat.say("checkin")
    # Three topics, each its anchor statement and one other.
    assert "6 korte stellingen" in replies[0].text  # type: ignore[attr-defined]
    first = replies[1]
    assert isinstance(first, Scale) and first.prompt.startswith("1/6")
    assert [o.label for o in first.options][-2:] == ["weet ik niet", "overslaan"]

    replies = await chat.press("mee oneens")  # a 2
    assert isinstance(replies[0], FreeText)
    # The follow-up of the statement just scored (the anchor of shared ambition).
    assert replies[0].prompt == content.text(
        "followup_prompt", "nl", question=content.statement("ambition_1").followup.nl)

    replies = await chat.say("Vaker samen de plannen bespreken")
    assert replies[0] == Text(text=content.text("followup_thanks", "nl"))
    assert isinstance(replies[1], Scale) and replies[1].prompt.startswith("2/6")

    await chat.press("helemaal mee eens")
    await chat.press("weet ik niet")
    for _ in range(2):
        await chat.press("neutraal")
    replies = await chat.press("neutraal")
    assert replies == [Text(text=content.text("checkin_done", "nl"))]

    stored = await answers(sessions)
    assert [(a.status, a.score) for a in stored] == [
        ("scored", 2), ("scored", 5), ("dont_know", None), ("scored", 3), ("scored", 3),
        ("scored", 3)
    ]
    assert stored[0].comment == "Vaker samen de plannen bespreken"


async def test_each_statement_asks_its_own_follow_up(
    chat: MemoryChat, content: Content
) -> None:
    """Not one question per round: the second statement (ambition_2) gets the question
    written for it, whatever round it is asked in."""
    await onboard(chat)
    await chat.say("checkin")
    await chat.press("neutraal")
    replies = await chat.press("helemaal mee oneens")
    assert isinstance(replies[0], FreeText)
    assert replies[0].prompt == content.text(
        "followup_prompt", "nl", question=content.statement("ambition_2").followup.nl)
    assert content.statement("ambition_2").followup != content.statement("ambition_1").followup


async def test_follow_up_can_be_skipped_by_button_or_word(
    chat: MemoryChat, sessions: async_sessionmaker[Any]
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    await chat.press("helemaal mee oneens")
    await chat.press("Overslaan")
    await chat.press("helemaal mee oneens")
    replies = await chat.say("overslaan")
    assert isinstance(replies[-1], Scale) and replies[-1].prompt.startswith("3/6")
    assert [a.comment for a in await answers(sessions)] == [None, None]


async def test_typed_scores_work_and_nonsense_gets_help(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    replies = await chat.say("zeven")
    assert replies == [Text(text=content.text("checkin_typed_help", "nl"))]
    await chat.say("4")
    await chat.say("?")
    await chat.say("-")
    assert [(a.status, a.score) for a in await answers(sessions)] == [
        ("scored", 4), ("dont_know", None), ("skipped", None)
    ]


async def test_changing_an_answer_while_the_round_is_open_keeps_one_row(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    for label in ("mee eens", "mee eens", "neutraal", "mee eens", "mee eens", "mee eens"):
        await chat.press(label)
    replies = await chat.say("checkin")
    assert isinstance(replies[0], Choice)
    assert replies[0].prompt == content.text("checkin_already_done", "nl")
    assert replies[0].options[2].label.endswith("(3)")

    await chat.press(replies[0].options[2].value)
    replies = await chat.press("helemaal mee eens")
    assert replies == [Text(text=content.text("checkin_done", "nl"))]
    assert [a.score for a in await answers(sessions)] == [4, 4, 5, 4, 4, 4]


async def test_the_same_answer_twice_stores_one_row(
    chat: MemoryChat, sessions: async_sessionmaker[Any]
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    button = chat.find_option("mee eens").value
    await chat.press_value(button)
    await chat.press_value(button)
    assert [a.score for a in await answers(sessions)] == [4]


async def test_a_redelivered_event_is_handled_once(
    chat: MemoryChat, sessions: async_sessionmaker[Any]
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    first = await chat.press_value(chat.find_option("neutraal").value, event_id="slack-42")
    again = await chat.press_value(chat.find_option("neutraal").value, event_id="slack-42")
    assert first and again == []
    assert len(await answers(sessions)) == 1


async def test_a_pressed_button_before_onboarding_is_answered_afterwards(
    engine: Engine, chat: MemoryChat, sessions: async_sessionmaker[Any]
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    button = chat.find_option("helemaal mee eens").value

    newcomer = MemoryChat(engine, user="bram", chat="dm-bram")
    replies = await newcomer.press_value(button)
    assert "Welkom" in replies[0].text  # type: ignore[attr-defined]
    for label in ("Mbo College Kompas", "Bestuur", "Nederlands"):
        replies = await newcomer.press(label)
    assert isinstance(replies[-1], Scale) and replies[-1].prompt.startswith("2/6")
    bram = await the_member(sessions, "bram")
    assert [(a.member_id, a.score) for a in await answers(sessions)] == [(bram.id, 5)]


async def test_a_restarted_engine_continues_the_conversation(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content, clock: Clock
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    chat.engine = Engine(sessions, content, clock)  # a second process, same database
    replies = await chat.say("5")
    assert isinstance(replies[0], Scale) and replies[0].prompt.startswith("2/6")


async def test_a_closed_round_refuses_late_answers(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content, clock: Clock
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    button = chat.find_option("neutraal").value
    clock.advance(days=8)
    assert await chat.press_value(button) == [Text(text=content.text("round_closed", "nl"))]
    assert await answers(sessions) == []


@pytest.mark.parametrize("value", ["s:999:ambition_1:3", "s:x:y", "s:1:nope:3", "school:abc",
                                   "pitfall:none", "level:king", "zzz", "s:1:ambition_1:9",
                                   # typed by hand: ids no database column holds
                                   "s:99999999999:ambition_1:3", "lm:99999999999",
                                   "rj:-99999999999", "pv:1:99999999999999999999999",
                                   "pause:99999999999"])
async def test_stale_or_forged_buttons_get_a_kind_answer(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content, value: str
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    assert await chat.press_value(value) == [Text(text=content.text("stale_button", "nl"))]
    assert await answers(sessions) == []


async def test_buttons_of_another_partnership_do_not_work(
    engine: Engine, chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content,
    clock: Clock,
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    button = chat.find_option("neutraal").value
    async with sessions() as session, session.begin():
        other = Partnership(name="Ander verband", created_at=clock.now)
        session.add(other)
        await session.flush()
        session.add(ChannelBinding(partnership_id=other.id, platform="test",
                                   channel_ref="group-2", created_at=clock.now))
        session.add(Member(partnership_id=other.id, platform="test", user_ref="zoe",
                           level="teachers", onboarded_at=clock.now, created_at=clock.now))
    outsider = MemoryChat(engine, user="zoe", chat="group-2", direct=False)
    replies = await outsider.press_value(button)
    assert [r.text for r in replies] == [content.text("stale_button", "nl")]  # type: ignore[attr-defined]
    assert replies[0].private
    assert await answers(sessions) == []


async def test_pause_and_resume(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content
) -> None:
    await onboard(chat)
    replies = await chat.say("pauze")
    assert isinstance(replies[0], Choice) and len(replies[0].options) == 4
    await chat.press("2 weken")
    assert (await the_member(sessions)).paused_until == date(2026, 12, 8)

    replies = await chat.say("pause 99")
    assert replies == [Text(text=content.text("pause_invalid", "nl", most=26))]
    assert (await the_member(sessions)).paused_until == date(2026, 12, 8)

    await chat.say("pauze uit")
    assert (await the_member(sessions)).paused_until is None


async def test_language_switch_changes_every_following_message(
    chat: MemoryChat, content: Content
) -> None:
    await onboard(chat)
    assert await chat.say("taal en") == [Text(text=content.text("language_set", "en"))]
    replies = await chat.say("help")
    assert replies[0].text.startswith("I'm achtje")  # type: ignore[attr-defined]
    await chat.say("language")
    await chat.press("Nederlands (Dutch)")
    assert chat.last_text() == content.text("language_set", "nl")


async def test_pitfalls_can_be_browsed(chat: MemoryChat, content: Content) -> None:
    await onboard(chat)
    replies = await chat.say("/valkuilen@achtje_bot")
    assert isinstance(replies[0], Choice) and len(replies[0].options) == 5
    await chat.press(content.pitfalls[3].name.nl)
    shown = chat.last_text()
    assert content.pitfalls[3].looks_like.nl in shown
    for factor in content.pitfalls[3].success_factors:
        assert factor.nl in shown
    assert (await chat.say("pitfalls 1"))[0].text.startswith(  # type: ignore[attr-defined]
        "Valkuil 1"
    )


async def test_unknown_input_and_privacy_get_an_answer(chat: MemoryChat, content: Content) -> None:
    await onboard(chat)
    assert await chat.say("wat is het weer?") == [Text(text=content.text("unknown", "nl"))]
    [shown] = await chat.say("privacy")  # three short lines, the rest behind Meer
    assert isinstance(shown, Choice) and shown.prompt == content.text(
        "privacy_short", "nl", answer_months=24, text_months=3)
    assert len(shown.prompt.splitlines()) == 3
    assert [o.label for o in shown.options] == ["Meer", "Mijn gegevens bekijken",
                                                "Mijn gegevens wissen"]
    [more] = await chat.press("Meer")
    assert isinstance(more, Choice) and more.prompt == content.text(
        "privacy_overview", "nl", answer_months=24, text_months=3)
    assert "Meer" not in [o.label for o in more.options]


async def test_help_works_before_onboarding_and_in_english_locale(
    engine: Engine, partnership: Partnership
) -> None:
    english = MemoryChat(engine, user="eve", chat="dm-eve", locale="en-GB")
    replies = await english.say("help")
    assert replies[0].text.startswith("I'm achtje")  # type: ignore[attr-defined]


async def test_a_long_odd_follow_up_is_cleaned_and_shortened(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    await chat.press("helemaal mee oneens")
    typed = "<b>Meer\u202e tijd</b>\x00 \ue0000\ue001" + "x" * 5000  # the last: a mention mark
    replies = await chat.say(typed)
    assert replies[0] == Text(text=content.text("followup_shortened", "nl"))
    comment = (await answers(sessions))[0].comment
    assert comment is not None and len(comment) == 1000
    assert comment.startswith("<b>Meer tijd</b> 0xxx")


async def test_in_a_group_replies_are_private(engine: Engine, partnership: Partnership) -> None:
    group = MemoryChat(engine, user="anna", chat="group-1", direct=False)
    replies = await group.say("help")
    assert replies and all(reply.private for reply in replies)


async def test_someone_from_nowhere_is_told_how_to_join(
    engine: Engine, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    async with sessions() as session, session.begin():
        session.add(Partnership(name="Tweede verband", created_at=clock.now))
    stranger = MemoryChat(engine, user="x", chat="dm-x")
    assert await stranger.say("hoi") == [Text(text=content.text("not_linked", "nl"))]


async def test_a_failing_store_gives_a_kind_sentence_and_a_logged_traceback(
    chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await onboard(chat)
    await chat.say("checkin")
    async with sessions() as session, session.begin():
        await session.execute(text("DROP TABLE answer"))
    with caplog.at_level(logging.ERROR, logger="bot.engine"):
        replies = await chat.press("neutraal")
    assert replies == [Text(text=content.text("error", "nl"), retry=True)]
    assert "Traceback" in caplog.text


async def test_new_members_are_counted_once_per_identity(
    chat: MemoryChat, sessions: async_sessionmaker[Any]
) -> None:
    await onboard(chat)
    await chat.say("help")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 1


async def test_a_platform_stranger_is_not_enrolled_by_a_direct_message(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership
) -> None:
    """On a public platform anyone can write to the bot; only a bound chat enrols them."""
    strict = Engine(sessions, content, clock)
    stranger = MemoryChat(strict, user="x", chat="dm-x")
    assert await stranger.say("hoi") == [Text(text=content.text("not_linked", "nl"))]
    in_group = MemoryChat(strict, user="x", chat="group-1", direct=False)
    replies = await in_group.say("hoi")
    assert "Welkom" in replies[0].text  # type: ignore[attr-defined]
    assert await stranger.say("help") != [Text(text=content.text("not_linked", "nl"))]


async def test_many_people_answering_at_once_lose_nothing(
    engine: Engine, chat: MemoryChat, sessions: async_sessionmaker[Any], content: Content
) -> None:
    """Clicks arrive together in a busy channel; every one is stored, none gets an error."""
    people = [MemoryChat(engine, user=f"p{n}", chat=f"dm-p{n}") for n in range(30)]
    for person in people:
        await onboard(person)
    await people[0].say("checkin")
    button = people[0].find_option("mee eens").value
    results = await asyncio.gather(*(person.press_value(button) for person in people))
    assert all(Text(text=content.text("error", "nl"), retry=True) not in replies
               for replies in results)
    assert len(await answers(sessions)) == 30
