"""The five instruments in a Telegram group: the real adapter (python-telegram-bot) against
the local fake Bot API, the real outbox sender for what the instruments post by
themselves, and what people see in the group and in their private chats."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.engine import Engine
from bot.flows.instruments.common import bar
from bot.flows.instruments.matrix_table import row_steps
from bot.flows.instruments.talk_plate import questions
from bot.store.models import ChannelBinding, Member, Partnership
from scheduler.sender import Sender
from tests.conftest import Clock
from tests.instruments_fakes import assert_png
from tests.telegram_fakes import ANNA, GROUP, Bot, Call, User, running

LEA = User(444, "Lea")  # the project leader
BRAM = User(555, "Bram")
CEM = User(333, "Cem")
TEAM = (LEA, ANNA, BRAM, CEM)
POSTS = {"sendMessage", "sendPhoto"}


@pytest.fixture
async def bot(engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
              clock: Clock) -> AsyncIterator[Bot]:
    """The team's group bound to the demo partnership; four onboarded members in it."""
    async with sessions() as session, session.begin():
        session.add(ChannelBinding(partnership_id=partnership.id, platform="telegram",
                                   channel_ref=str(GROUP), created_at=clock.now))
        for index, user in enumerate(TEAM):
            session.add(Member(
                partnership_id=partnership.id, platform="telegram", user_ref=str(user.id),
                display_name=user.first_name, school_id=partnership.schools[index % 2].id,
                level="teachers", role="leader" if user is LEA else "member",
                language="nl", onboarded_at=clock.now, created_at=clock.now))
    async for started in running(engine, "polling"):
        started.fake.members.update((GROUP, user.id) for user in TEAM)
        yield started


async def send_outbox(bot: Bot, sessions: async_sessionmaker[Any], clock: Clock) -> list[Call]:
    """What the running service's sender does a moment later; the calls it made."""
    before = len(bot.fake.calls)
    await Sender(sessions, {"telegram": bot.adapter}, clock=clock).send_due()
    return [c for c in bot.fake.calls[before:] if c.method in POSTS]


def in_group(bot: Bot) -> list[Call]:
    """Messages everyone in the group sees."""
    return bot.fake.sent(GROUP, POSTS)


def nobody_named(text: str) -> bool:
    return not any(user.first_name in text or str(user.id) in text for user in TEAM)


def replied_to(call: Call) -> int | None:
    """The message a sent message answers (Telegram's thread), however PTB put it."""
    found = call.params.get("reply_parameters")
    if isinstance(found, str):
        found = json.loads(found)
    if isinstance(found, dict):
        return int(found["message_id"])
    legacy = call.params.get("reply_to_message_id")
    return int(legacy) if legacy is not None else None


async def press_on(bot: Bot, user: User, message: dict[str, Any], label: str) -> list[Call]:
    """Press `label` on `message` as it was first shown (another member's screen may still
    show buttons this person's press is not the first on)."""
    rows = message["reply_markup"]["inline_keyboard"]
    data = next(b["callback_data"] for row in rows for b in row if b["text"] == label)
    return await bot.deliver(bot.fake.press_update(user, message, data))


async def test_a_reflection_session_in_a_telegram_group(
    bot: Bot, sessions: async_sessionmaker[Any], clock: Clock, content: Content
) -> None:
    await bot.say(LEA, "/reflectie start", GROUP)
    [invitation] = in_group(bot)
    assert invitation.text == content.text("reflection_invite", "nl", number=1, minimum=3)
    link = invitation.buttons[0][0]["url"]
    payload = parse_qs(urlparse(link).query)["start"][0]
    assert payload == f"G{-GROUP}_rj-1"
    assert bot.fake.sent(LEA.id, POSTS)  # the leader's own next step, privately

    for user, scores in ((ANNA, "1 2 3 4 5"), (BRAM, "2 2 4 4 5"), (CEM, "3 5 2 4 5")):
        calls = await bot.say(user, f"/start {payload}")  # the group's link, privately
        assert {c.chat for c in calls if c.method in POSTS} == {user.id}
        for score in scores.split():
            await bot.press(user, score)
            await bot.press(user, "Sla over")
        done = "reflection_done_shown" if user is CEM else "reflection_done"  # the third
        assert bot.fake.sent(user.id, POSTS)[-1].text == content.text(done, "nl", minimum=3)
    assert in_group(bot) == [invitation]  # all answers were private

    [result] = await send_outbox(bot, sessions, clock)
    assert result.chat == GROUP
    shown = result.text.splitlines()
    assert shown[0] == content.text("reflection_result_title", "nl", number=1, count=3)
    assert shown[1] == content.text("reflection_row", "nl", condition="Gedeelde ambitie",
                                    mean="2,0", count=3, bar="██░░░")
    assert shown[-1] == content.text("reflection_result_open", "nl", minimum=3)
    assert nobody_named(result.text)

    await bot.say(LEA, f"/start {payload}")  # a fourth: no second result
    for _ in range(5):
        await bot.press(LEA, "4")
        await bot.press(LEA, "Sla over")
    assert await send_outbox(bot, sessions, clock) == []
    calls = await bot.say(LEA, "/reflectie sluit", GROUP)
    assert [(c.chat, c.text) for c in calls if c.method in POSTS] == [
        (GROUP, content.text("reflection_closed_shown", "nl", number=1, count=4, minimum=3))]


async def test_the_pitfalls_and_their_poll_in_a_telegram_group(
    bot: Bot, sessions: async_sessionmaker[Any], clock: Clock, content: Content
) -> None:
    names = [pitfall.name.nl for pitfall in content.pitfalls]
    calls = await bot.say(ANNA, "/valkuilen")  # browsing, privately
    assert [row[0]["text"] for row in calls[-1].buttons] == names
    calls = await bot.press(ANNA, names[3])
    [shown_pitfall] = [c for c in calls if c.method in POSTS]
    assert (shown_pitfall.chat, shown_pitfall.text[:9]) == (ANNA.id, "Valkuil 4")
    assert in_group(bot) == []

    await bot.say(LEA, "/valkuilen peiling", GROUP)
    [poll] = in_group(bot)
    assert poll.text == content.text("poll_question", "nl", minimum=3)
    assert [row[0]["text"] for row in poll.buttons] == names
    shown = copy.deepcopy(bot.fake.messages[(GROUP, poll.params["message_id"])])
    for user, number in ((ANNA, 2), (BRAM, 5), (CEM, 3)):
        calls = await press_on(bot, user, shown, names[number - 1])
        assert [(c.chat, c.text) for c in calls if c.method in POSTS] == [
            (user.id, content.text("poll_voted", "nl", pitfall=names[number - 1]))]
    [result] = await send_outbox(bot, sessions, clock)
    assert result.chat == GROUP
    assert result.text.splitlines()[:4] == [
        content.text("poll_result_title", "nl", count=3),
        *(content.text("poll_result_row", "nl", pitfall=names[n], count=1, bar=bar(5 / 3))
          for n in (1, 2, 4))]
    assert nobody_named(result.text)

    await press_on(bot, LEA, shown, names[0])  # a fourth vote: no second result
    assert await send_outbox(bot, sessions, clock) == []
    calls = await bot.say(LEA, "/valkuilen uitslag", GROUP)
    assert [(c.chat, c.text) for c in calls if c.method in POSTS] == [
        (GROUP, content.text("poll_closed_shown", "nl", count=4, minimum=3))]


async def test_a_vote_leaves_the_group_poll_as_it_was(bot: Bot, content: Content) -> None:
    """The poll stays for the others to vote on, and the group does not see what was
    picked."""
    names = [pitfall.name.nl for pitfall in content.pitfalls]
    await bot.say(LEA, "/valkuilen peiling", GROUP)
    calls = await bot.press(ANNA, names[2], GROUP)
    assert [c for c in calls if c.chat == GROUP] == []
    await bot.press(BRAM, names[3], GROUP)  # the buttons are still there


async def test_two_members_who_pick_the_same_pitfall_both_count(
    bot: Bot, content: Content
) -> None:
    name = content.pitfalls[0].name.nl
    await bot.say(LEA, "/valkuilen peiling", GROUP)
    [poll] = in_group(bot)
    shown = copy.deepcopy(bot.fake.messages[(GROUP, poll.params["message_id"])])
    for user in (ANNA, BRAM):
        calls = await press_on(bot, user, shown, name)
        assert [(c.chat, c.text) for c in calls if c.method in POSTS] == [
            (user.id, content.text("poll_voted", "nl", pitfall=name))]


async def test_the_figure_eight_is_drawn_privately_and_shared_in_the_group(
    bot: Bot, content: Content
) -> None:
    calls = await bot.say(ANNA, "/achtje")
    assert content.figure_eight.intro.nl in calls[0].text
    await bot.press(ANNA, "4")
    calls = await bot.press(ANNA, "1")
    [photo] = [c for c in calls if c.method == "sendPhoto"]
    assert photo.chat == ANNA.id and photo.text.startswith("Het achtje sinds")
    assert_png(photo.params["photo"])
    assert in_group(bot) == []

    calls = await bot.say(BRAM, "/achtje toon", GROUP)
    [shared, weak_links] = [c for c in calls if c.method in POSTS]
    assert (shared.method, shared.chat, weak_links.chat) == ("sendPhoto", GROUP, GROUP)
    assert_png(shared.params["photo"])
    assert nobody_named(weak_links.text)


async def test_the_impact_matrix_is_filled_in_privately_and_shown_in_the_group(
    bot: Bot, partnership: Partnership, content: Content
) -> None:
    calls = await bot.say(BRAM, "/matrix")  # any member, not only the leader
    assert calls[0].text == content.text("matrix_intro", "nl")
    await bot.say(BRAM, "Meeloopdagen <b>voor</b> iedereen")
    for number, step in enumerate(row_steps(content), start=1):
        asked = bot.fake.sent(BRAM.id, POSTS)[-1].text
        assert asked.startswith(f"Doel 1 · stap {number}/6 · {step.name.nl}")
        if step.id == "resources":
            calls = await bot.press(BRAM, content.text("matrix_skip", "nl"))
        else:
            calls = await bot.say(BRAM, f"Ons antwoord voor {step.name.nl}")
    table = [c.text for c in calls if c.method in POSTS][-2]
    assert table.startswith("Doel 1 · Meeloopdagen <b>voor</b> iedereen")  # as typed
    assert "Ons antwoord voor De volgende stap" in table and in_group(bot) == []

    await bot.say(ANNA, "/matrix toon", GROUP)
    [shown] = [c.text for c in in_group(bot)]
    assert shown.startswith(content.text("matrix_plan_title", "nl",
                                         partnership=partnership.name))
    assert shown.endswith(table)


async def talk_about_urgency(bot: Bot, sessions: async_sessionmaker[Any], clock: Clock
                             ) -> list[Call]:
    """Anna starts the talk-plate in the group, Bram and Cem move it on twice, Cem writes
    down an outcome in his private chat; the group's messages from the third question on."""
    await bot.say(ANNA, "/praatplaat", GROUP)
    first = in_group(bot)[-1]
    await bot.press(BRAM, "Volgende vraag", GROUP)
    await bot.press(CEM, "Volgende vraag", GROUP)
    await bot.press(CEM, "Uitkomst vastleggen", GROUP)
    await bot.say(CEM, "Minder uitval bij de overstap")
    await send_outbox(bot, sessions, clock)
    return [first, *in_group(bot)[2:]]


async def test_the_talk_plate_in_a_telegram_group(
    bot: Bot, sessions: async_sessionmaker[Any], clock: Clock, content: Content
) -> None:
    total = len(questions(content.talk_plate))
    await talk_about_urgency(bot, sessions, clock)
    [intro, first, second, third, outcome] = in_group(bot)
    assert intro.text == content.text("talk_intro", "nl", total=total)
    assert [c.text.split("\n")[0] for c in (first, second, third)] == [
        f"Praatplaat {n}/{total} · Urgentie" for n in (1, 2, 3)]
    # Cem was asked privately and thanked privately; the group sees the outcome, no name.
    [ask, thanks] = bot.fake.sent(CEM.id, POSTS)
    assert "urgentie" in ask.text and thanks.text == content.text("talk_note_saved", "nl")
    assert outcome.text == content.text("talk_outcome", "nl", topic="Urgentie",
                                        text="Minder uitval bij de overstap")

    calls = await bot.say(ANNA, "/praatplaat stop", GROUP)
    [done] = [c for c in calls if c.method in POSTS]
    assert (done.chat, done.text) == (GROUP, content.text(
        "talk_done", "nl", outcomes="- Urgentie: Minder uitval bij de overstap"))
    assert replied_to(done) is None
    assert all(nobody_named(c.text) for c in in_group(bot))


async def test_telegram_talk_plate_questions_and_outcomes_reply_to_the_first(
    bot: Bot, sessions: async_sessionmaker[Any], clock: Clock
) -> None:
    first, *under = await talk_about_urgency(bot, sessions, clock)
    assert replied_to(first) is None
    assert [replied_to(c) for c in under] == [first.params["message_id"]] * 3
