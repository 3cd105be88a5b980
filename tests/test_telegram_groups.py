"""Telegram groups as a bot in privacy mode lives them: only commands, replies to the bot
and mentions of it arrive; typed questions open the reply field of the one person asked;
threads are chains of replies; group buttons stay for everyone, private ones are replaced
by the choice. The real adapter against the fake Bot API, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.engine import Engine
from bot.flows import commands
from bot.messages import FIRST, Choice, FreeText, Mention, Option, Text, mention_mark
from bot.store.instruments import FigureEightCheck, PitfallVote
from bot.store.models import Answer, ChannelBinding, Conversation, Member, Partnership
from tests.conftest import Clock
from tests.telegram_fakes import ANNA, BOB, GROUP, Bot, Call, User, running
from tests.test_telegram import bind_group, known_member

LOTTE = User(333, "Lotte", "nl")


@pytest.fixture
async def bot(engine: Engine) -> AsyncIterator[Bot]:
    async for started in running(engine, "polling"):
        yield started


def said(calls: list[Call], chat: int) -> list[Call]:
    return [c for c in calls if c.method in ("sendMessage", "sendPhoto") and c.chat == chat]


async def test_the_setup_wizard_runs_in_a_group_in_privacy_mode(
    bot: Bot, sessions: async_sessionmaker[Any], content: Content
) -> None:
    command = bot.fake.text_update(LOTTE, GROUP, "/setup")
    intro, ask_name = said(await bot.deliver(command), GROUP)
    assert intro.text == content.text("setup_intro", "nl")
    assert ask_name.text == content.text("setup_ask_name", "nl")
    # The question answers Lotte's command, so her reply field opens, and only hers.
    assert ask_name.params["reply_markup"] == {"force_reply": True, "selective": True}
    assert ask_name.reply_to == command["message"]["message_id"]
    assert bot.fake.prompted(GROUP, LOTTE) is not None
    assert bot.fake.prompted(GROUP, BOB) is None

    # A line typed in the group without replying never reaches the bot.
    assert await bot.say(LOTTE, "Techniek Twente", GROUP) == []
    assert bot.fake.withheld

    await bot.answer(LOTTE, "Techniek Twente", GROUP)
    await bot.answer(LOTTE, "Techniek", GROUP)
    calls = await bot.answer(LOTTE, "Vmbo Het Anker", GROUP)
    [kind] = said(calls, GROUP)
    assert kind.text == content.text("setup_ask_type", "nl", school="Vmbo Het Anker")
    calls = await bot.press(LOTTE, "vmbo", GROUP)
    # After a press there is no line of hers to answer: the question names her.
    [ask_school] = said(calls, GROUP)
    assert ask_school.text == "Lotte: " + content.text("setup_ask_school", "nl", number=2)
    assert ask_school.mentions == [("Lotte", LOTTE.id)]
    assert bot.fake.prompted(GROUP, BOB) is None
    # The group's buttons stay where they are: nothing was edited.
    assert not [c for c in calls if c.method.startswith("editMessage")]

    await bot.answer(LOTTE, "ROC Oost", GROUP)
    for label in ("mbo", "Nee, dit zijn ze", "Noord"):
        await bot.press(LOTTE, label, GROUP)
    calls = await bot.press(LOTTE, "Nederlands", GROUP)
    [done] = said(calls, GROUP)
    assert done.text.startswith("Klaar! Techniek Twente is aangemaakt")
    assert done.buttons[0][0]["url"].startswith("https://t.me/achtje_test_bot?start=G")

    async with sessions() as session:
        partnership = await session.scalar(select(Partnership).where(
            Partnership.name == "Techniek Twente"))
        assert partnership is not None
        assert [(s.name, s.type) for s in partnership.schools] == [
            ("Vmbo Het Anker", "vmbo"), ("ROC Oost", "mbo")]
        binding = await session.scalar(select(ChannelBinding).where(
            ChannelBinding.platform == "telegram"))
        leader = await session.scalar(select(Member).where(Member.platform == "telegram"))
    assert binding is not None and binding.channel_ref == str(GROUP)
    assert binding.partnership_id == partnership.id
    assert leader is not None and (leader.user_ref, leader.role) == (str(LOTTE.id), "leader")
    assert leader.partnership_id == partnership.id


async def test_someone_else_cannot_answer_a_question_meant_for_another(
    bot: Bot, sessions: async_sessionmaker[Any], content: Content
) -> None:
    await bot.say(LOTTE, "/setup", GROUP)
    question = bot.fake.prompted(GROUP, LOTTE)
    assert question is not None
    # Bob replies to Lotte's question all the same: it is not his wizard.
    calls = await bot.deliver(bot.fake.text_update(BOB, GROUP, "Onzin", reply_to=question))
    assert content.text("setup_ask_sector", "nl") not in [c.text for c in calls]
    await bot.answer(LOTTE, "Techniek Twente", GROUP)
    assert bot.fake.sent(GROUP)[-1].text == content.text("setup_ask_sector", "nl")


async def test_a_line_that_mentions_the_bot_arrives_without_the_mention(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content
) -> None:
    await bind_group(sessions, partnership, clock)
    await known_member(sessions, partnership, clock)
    calls = await bot.say(ANNA, "@achtje_test_bot privacy", GROUP)
    assert [c.text for c in said(calls, ANNA.id)] == [
        content.text("privacy_short", "nl", answer_months=24, text_months=3)]


async def test_a_groups_poll_keeps_its_buttons_for_everyone(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content
) -> None:
    await bind_group(sessions, partnership, clock)
    await known_member(sessions, partnership, clock, ANNA)
    await known_member(sessions, partnership, clock, BOB)
    [poll] = said(await bot.say(ANNA, "/valkuilen peiling", GROUP), GROUP)
    label = poll.buttons[0][0]["text"]
    first = await bot.press(ANNA, label, GROUP)
    second = await bot.press(BOB, label, GROUP)  # the same button, someone else
    assert said(first, ANNA.id) and said(second, BOB.id)  # both votes were taken
    assert not [c for c in first + second if c.method.startswith("editMessage")]
    kept = bot.fake.messages[(GROUP, poll.params["message_id"])]
    assert kept["reply_markup"]["inline_keyboard"] == poll.buttons


async def test_a_pressed_private_question_shows_the_choice_with_its_mentions(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await known_member(sessions, partnership, clock)
    await bot.adapter.send(str(ANNA.id), [
        Text(text=f"Koffie met {mention_mark(0)}?", mentions=(Mention(str(BOB.id), "Bob"),)),
        Choice(prompt="Gaat het lukken?", options=(Option("Help", "cmd:help"),),
               thread_of=FIRST)])
    text, choice = bot.fake.sent(ANNA.id)
    assert text.mentions == [("Bob", BOB.id)] and choice.reply_to == text.params["message_id"]
    calls = await bot.press(ANNA, "Help")
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert edit.text == "Gaat het lukken?\n\n✓ Je koos: Help"
    assert "reply_markup" not in bot.fake.messages[(ANNA.id, choice.params["message_id"])]


async def test_threads_are_chains_of_replies(bot: Bot) -> None:
    await bot.adapter.send(str(GROUP), [
        Text(text="Ronde 3 staat open"),
        Text(text="Al 4 mensen deden mee", thread_of=FIRST),
        FreeText(prompt="Wat helpt jullie?", thread_of=FIRST)])
    opening, update, question = bot.fake.sent(GROUP)
    assert opening.reply_to is None
    assert update.reply_to == question.reply_to == opening.params["message_id"]
    # A thread named by its message id (as the engine gets it from an incoming event).
    await bot.adapter.send(str(GROUP), [Text(text="Nog 2 dagen",
                                             thread_of=str(opening.params["message_id"]))])
    assert bot.fake.sent(GROUP)[-1].reply_to == opening.params["message_id"]
    stored = bot.fake.messages[(GROUP, bot.fake.sent(GROUP)[-1].params["message_id"])]
    assert stored["reply_to_message"]["text"] == "Ronde 3 staat open"


async def test_an_edit_replaces_the_message_or_posts_anew_when_it_cannot(bot: Bot) -> None:
    await bot.adapter.send(str(GROUP), [Choice(prompt="Peiling: doe mee",
                                               options=(Option("A", "cmd:help"),))])
    [poll] = bot.fake.sent(GROUP)
    message_id = poll.params["message_id"]
    await bot.adapter.send(str(GROUP), [
        Text(text=f"Peiling gesloten, dank {mention_mark(0)}",
             mentions=(Mention(str(ANNA.id), "Anna"),), edit_of=str(message_id)),
        Text(text="De uitslag", thread_of=FIRST)])
    edit, result = bot.fake.sent(GROUP)[1:]
    assert (edit.method, edit.params["message_id"]) == ("editMessageText", message_id)
    assert edit.mentions == [("Anna", ANNA.id)] and "reply_markup" not in edit.params
    assert result.reply_to == message_id  # the edited message is the call's first
    assert "reply_markup" not in bot.fake.messages[(GROUP, message_id)]
    await bot.adapter.send(str(GROUP), [Text(text="lang " * 2000, edit_of=str(message_id))])
    assert [c.method for c in bot.fake.sent(GROUP)[3:]] == ["sendMessage"] * 3


async def test_a_reply_in_the_group_never_answers_a_private_question(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content
) -> None:
    """Anna's check-in asks her privately what would help; a remark she replies to the bot
    in the group is for the group, so it is not stored as her answer."""
    await bind_group(sessions, partnership, clock)
    await known_member(sessions, partnership, clock)
    await bot.say(ANNA, "/checkin")
    await bot.press(ANNA, "1")  # a low score: the bot asks privately what would help
    await bot.adapter.send(str(GROUP), [Text(text="Ronde 3 staat open")])
    [post] = bot.fake.sent(GROUP)
    reply = bot.fake.text_update(ANNA, GROUP, "Zullen we vrijdag bellen?",
                                 reply_to=bot.fake.messages[(GROUP, post.params["message_id"])])
    calls = await bot.deliver(reply)
    assert said(calls, GROUP) == said(calls, ANNA.id) == []
    addressed = await bot.say(ANNA, "@achtje_test_bot Zullen we vrijdag bellen?", GROUP)
    assert said(addressed, GROUP) == said(addressed, ANNA.id) == []
    calls = await bot.say(ANNA, "Meer tijd om samen te plannen")
    assert said(calls, ANNA.id)[0].text == content.text("followup_thanks", "nl")
    async with sessions() as session:
        [answer] = list(await session.scalars(select(Answer)))
    assert (answer.score, answer.comment) == (1, "Meer tijd om samen te plannen")


async def test_a_reply_to_the_bot_in_the_group_is_no_command_and_makes_no_member(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    """Replying to the bot's post is talking to the group: "Achtje doet het goed" starts no
    figure-eight, "Privacy ..." shows nothing, and a bystander does not become a member."""
    await bind_group(sessions, partnership, clock)
    await known_member(sessions, partnership, clock)
    await bot.adapter.send(str(GROUP), [Text(text="Ronde 3 staat open")])
    [post] = bot.fake.sent(GROUP)
    parent = bot.fake.messages[(GROUP, post.params["message_id"])]
    for person in (ANNA, BOB):
        for line in ("Achtje doet het goed vandaag", "Privacy vind ik belangrijk", "help"):
            calls = await bot.deliver(bot.fake.text_update(person, GROUP, line,
                                                           reply_to=parent))
            assert said(calls, GROUP) == said(calls, person.id) == []
    async with sessions() as session:
        members = list(await session.scalars(select(Member.user_ref)))
        assert members == [str(ANNA.id)]
        assert list(await session.scalars(select(FigureEightCheck))) == []
        assert list(await session.scalars(select(Conversation))) == []


async def test_a_press_that_failed_keeps_its_buttons_to_press_again(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    await known_member(sessions, partnership, clock)
    await bot.adapter.send(str(ANNA.id), [Choice(prompt="Hoe lang pauzeren?", options=(
        Option("Een week", "pause:7"), Option("Twee weken", "pause:14")))])
    [question] = bot.fake.sent(ANNA.id)

    def broken(*_args: object) -> list[Text]:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(commands, "set_pause", broken)
        calls = await bot.press(ANNA, "Een week")
    assert [c.text for c in said(calls, ANNA.id)] == [content.text("error", "nl")]
    assert not [c for c in calls if c.method.startswith("editMessage")]
    kept = bot.fake.messages[(ANNA.id, question.params["message_id"])]
    assert kept["reply_markup"]["inline_keyboard"] == question.buttons

    calls = await bot.press(ANNA, "Een week")  # the same button again: now it works
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert edit.text == "Hoe lang pauzeren?\n\n✓ Je koos: Een week"


async def test_a_vote_changed_and_changed_back_in_a_group_poll_counts(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content
) -> None:
    await bind_group(sessions, partnership, clock)
    await known_member(sessions, partnership, clock)
    async with sessions() as session, session.begin():
        await session.execute(update(Member).values(role="leader"))
    await bot.say(ANNA, "/valkuilen peiling", GROUP)
    first, second = content.pitfalls[:2]
    for pitfall in (first, second, first):
        calls = await bot.press(ANNA, pitfall.name.nl, GROUP)
        [answer] = said(calls, ANNA.id)  # "your vote is counted" or "changed to"
        assert pitfall.name.nl in answer.text
    async with sessions() as session:
        [vote] = list(await session.scalars(select(PitfallVote)))
    assert vote.pitfall_id == first.id
