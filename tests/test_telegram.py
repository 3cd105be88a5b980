"""The Telegram adapter end to end: the real adapter (python-telegram-bot inside our loop)
against a fake Bot API over real HTTP, in polling and in webhook mode, on the real engine
and store."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.engine import Engine
from bot.messages import Invitation
from bot.registry import parse_command
from bot.store import binding
from bot.store.models import Answer, ChannelBinding, Member, Partnership, School
from tests.conftest import Clock
from tests.telegram_fakes import (
    ANNA,
    BOB,
    BOT,
    GROUP,
    SECRET,
    Bot,
    Call,
    User,
    running,
)


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, engine: Engine,
              partnership: Partnership) -> AsyncIterator[Bot]:
    async for started in running(engine, request.param):
        yield started


@pytest.fixture
async def polling(engine: Engine, partnership: Partnership) -> AsyncIterator[Bot]:
    async for started in running(engine, "polling"):
        yield started


async def bind_group(sessions: async_sessionmaker[Any], partnership: Partnership,
                     clock: Clock, chat: int = GROUP) -> None:
    async with sessions() as session, session.begin():
        session.add(ChannelBinding(partnership_id=partnership.id, platform="telegram",
                                   channel_ref=str(chat), created_at=clock.now))


async def known_member(sessions: async_sessionmaker[Any], partnership: Partnership,
                       clock: Clock, user: User = ANNA) -> None:
    async with sessions() as session, session.begin():
        session.add(Member(partnership_id=partnership.id, platform="telegram",
                           user_ref=str(user.id), display_name=user.first_name,
                           school_id=partnership.schools[0].id, level="teachers",
                           language="nl", onboarded_at=clock.now, created_at=clock.now))


async def second_partnership(sessions: async_sessionmaker[Any], clock: Clock) -> Partnership:
    """Another partnership, so nothing works just because there is only one."""
    async with sessions() as session, session.begin():
        other = Partnership(name="Leerlab Groen", created_at=clock.now,
                            schools=[School(name="Groen College", type="mbo")])
        session.add(other)
    return other


async def members(sessions: async_sessionmaker[Any]) -> list[Member]:
    async with sessions() as session:
        return list(await session.scalars(select(Member).order_by(Member.id)))


def texts(calls: list[Call]) -> list[str]:
    return [c.text for c in calls if c.method in ("sendMessage", "sendPhoto")]


async def test_start_registers_commands_in_dutch_and_english(bot: Bot, content: Content
                                                             ) -> None:
    registered = {c.params.get("language_code"): {cmd["command"]: cmd["description"]
                                                  for cmd in c.params["commands"]}
                  for c in bot.fake.called("setMyCommands")}
    expected = ["start", "help", "checkin", "valkuilen", "instrumenten", "koffie", "pauze",
                "taal", "privacy", "koppel", "setup"]
    assert {language: list(menu) for language, menu in registered.items()} == {
        "nl": expected, "en": expected, None: expected}
    assert registered["nl"]["koffie"].startswith("Koffiekoppels aan of uit")
    assert registered["en"]["koffie"].startswith("Coffee pairs on or off")
    assert registered[None] == registered["nl"]  # everyone else gets the Dutch menu
    for name in expected:
        assert parse_command(f"/{name}")[0] == name  # the engine knows every listed command
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name)  # Telegram's rules for a command
        for language in ("nl", "en"):
            assert registered[language][name] == content.text(f"telegram_command_{name}",
                                                              language)
            assert 1 <= len(registered[language][name]) <= 256
        assert registered["nl"][name] != registered["en"][name] or name == "checkin"
    if bot.web is None:
        assert bot.fake.called("deleteWebhook") and not bot.fake.called("setWebhook")
    else:
        [webhook] = bot.fake.called("setWebhook")
        assert webhook.params["secret_token"] == SECRET
        assert webhook.params["url"] == "https://achtje.example/telegram/webhook"
        assert not bot.fake.called("getUpdates")


async def test_onboarding_in_a_private_chat(bot: Bot, content: Content,
                                            sessions: async_sessionmaker[Any]) -> None:
    calls = await bot.say(ANNA, "/start")
    assert texts(calls)[0].startswith("Welkom bij achtje")
    assert [row[0]["text"] for row in calls[-1].buttons] == ["Vmbo De Brug",
                                                             "Mbo College Kompas"]
    await bot.press(ANNA, "Vmbo De Brug")
    await bot.press(ANNA, "Docenten")
    calls = await bot.press(ANNA, "Nederlands")
    assert texts(calls) == [content.text("onboarded", "nl")]
    assert any(c.method == "answerCallbackQuery" for c in calls)
    # The pressed question keeps its text, shows the pick, and loses its buttons.
    edit = next(c for c in calls if c.method == "editMessageText")
    assert edit.text.endswith("\n\n✓ Je koos: Nederlands") and "reply_markup" not in edit.params
    [anna] = await members(sessions)
    assert (anna.user_ref, anna.display_name, anna.level) == ("111", "Anna", "teachers")
    assert anna.onboarded_at is not None


async def test_binding_a_group_with_a_code_and_joining_from_it(
    bot: Bot, sessions: async_sessionmaker[Any], clock: Clock, content: Content
) -> None:
    other = await second_partnership(sessions, clock)
    async with sessions() as session, session.begin():
        code = await binding.new_code(session, other.id, clock.now, timedelta(hours=48))
    calls = await bot.say(BOB, f"/koppel@{BOT['username']} {code.lower()}", GROUP)
    [said] = [c for c in calls if c.method == "sendMessage"]
    assert said.chat == GROUP and "Leerlab Groen" in said.text
    url = said.buttons[0][0]["url"]
    assert url.startswith(f"https://t.me/{BOT['username']}?start=")
    async with sessions() as session:
        bound = await session.scalar(select(ChannelBinding.partnership_id).where(
            ChannelBinding.platform == "telegram", ChannelBinding.channel_ref == str(GROUP)))
    assert bound == other.id

    calls = await bot.say(BOB, f"/koppel {code}", -555)  # the same code in another group
    assert texts(calls) == [content.text("bind_used", "en")]

    # Someone outside the group cannot use its link to join the partnership ...
    payload = parse_qs(urlparse(url).query)["start"][0]
    calls = await bot.say(BOB, f"/start {payload}")
    assert texts(calls) == [content.text("not_linked", "en")]
    assert await members(sessions) == []
    # ... but Bob, in the group, lands in its partnership.
    bot.fake.members.add((GROUP, BOB.id))
    calls = await bot.say(BOB, f"/start {payload}")
    assert {c.chat for c in calls if c.method == "sendMessage"} == {BOB.id}
    assert "Leerlab Groen" in texts(calls)[0]
    [bob] = await members(sessions)
    assert bob.partnership_id == other.id and bob.language == "en"


async def test_an_anonymous_admin_is_told_to_post_as_themselves(
    bot: Bot, sessions: async_sessionmaker[Any], clock: Clock, content: Content
) -> None:
    """Telegram hides who an anonymous admin is, so their /koppel cannot make anyone a
    member: the group hears why nothing happens, and the code stays unused."""
    other = await second_partnership(sessions, clock)
    async with sessions() as session, session.begin():
        code = await binding.new_code(session, other.id, clock.now, timedelta(hours=48))
    calls = await bot.deliver(bot.fake.anonymous_update(-777, f"/koppel {code}"))
    [said] = [c for c in calls if c.method == "sendMessage"]
    assert said.chat == -777
    assert said.text == content.text("telegram_anonymous_admin", "nl")
    assert "Anoniem blijven" in said.text
    async with sessions() as session:
        assert await session.scalar(select(ChannelBinding).where(
            ChannelBinding.channel_ref == "-777")) is None
    # Posting as themselves, the same code binds the group.
    calls = await bot.say(BOB, f"/koppel {code}", -777)
    assert "Leerlab Groen" in texts(calls)[0]


async def test_a_whole_checkin_from_a_group_invitation(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content
) -> None:
    await second_partnership(sessions, clock)
    await bind_group(sessions, partnership, clock)
    bot.fake.members.add((GROUP, ANNA.id))
    await bot.adapter.send(str(GROUP), [Invitation(text="Nieuwe ronde!", button="Doe mee",
                                                   action="cmd:checkin")])
    [invitation] = bot.fake.sent(GROUP)
    payload = parse_qs(urlparse(invitation.buttons[0][0]["url"]).query)["start"][0]
    assert payload == f"G{-GROUP}_cmd-checkin"

    await bot.say(ANNA, f"/start {payload}")  # a newcomer: first onboarding ...
    await bot.press(ANNA, "Mbo College Kompas")
    await bot.press(ANNA, "Docenten")
    calls = await bot.press(ANNA, "Nederlands")  # ... then straight on with the check-in
    assert "korte stellingen" in texts(calls)[1] and texts(calls)[2].startswith("1/6")
    scale = calls[-1]
    assert [b["text"] for b in scale.buttons[0]] == ["1", "2", "3", "4", "5"]
    assert [b["text"] for b in scale.buttons[1]] == ["weet ik niet", "overslaan"]
    for label in ("4", "5", "weet ik niet", "3", "3"):
        await bot.press(ANNA, label)
    calls = await bot.press(ANNA, "3")
    assert texts(calls) == [content.text("checkin_done", "nl")]
    async with sessions() as session:
        stored = list(await session.scalars(select(Answer).order_by(Answer.id)))
        anna = await session.scalar(select(Member).where(Member.user_ref == "111"))
    assert anna is not None and anna.partnership_id == partnership.id
    assert [(a.member_id, a.status, a.score) for a in stored] == [
        (anna.id, "scored", 4), (anna.id, "scored", 5), (anna.id, "dont_know", None),
        *[(anna.id, "scored", 3)] * 3]


async def test_a_low_score_gets_a_follow_up_answered_by_text(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content
) -> None:
    await known_member(sessions, partnership, clock)
    await bot.say(ANNA, "/checkin")
    calls = await bot.press(ANNA, "1")
    prompt = calls[-1]
    assert "Je mag dit overslaan" in prompt.text
    assert [b["text"] for b in prompt.buttons[0]] == ["Overslaan"]
    calls = await bot.say(ANNA, "Meer tijd om <b>samen</b> te *plannen* 🙂")
    assert texts(calls)[0] == content.text("followup_thanks", "nl")
    assert texts(calls)[1].startswith("2/6")
    async with sessions() as session:
        [answer] = list(await session.scalars(select(Answer)))
    assert (answer.score, answer.comment) == (1, "Meer tijd om <b>samen</b> te *plannen* 🙂")
    assert all("parse_mode" not in c.params for c in bot.fake.sent())


async def test_the_same_update_twice_has_one_effect(bot: Bot, content: Content) -> None:
    update = bot.fake.text_update(ANNA, ANNA.id, "/privacy")
    first = await bot.deliver(update)
    again = await bot.deliver(update)
    assert texts(first) == [content.text("privacy_short", "nl", answer_months=24,
                                         text_months=3)]
    assert texts(again) == []


async def test_a_double_tap_on_a_button_gives_one_answer(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await known_member(sessions, partnership, clock)
    await bot.say(ANNA, "/checkin")
    message, button = bot.fake.button(ANNA.id, "3")
    taps = [bot.fake.press_update(ANNA, message, button["callback_data"]) for _ in range(2)]
    first = await bot.deliver(taps[0])
    second = await bot.deliver(taps[1])
    assert [t[:3] for t in texts(first)] == ["2/6"]
    assert texts(second) == []
    assert [c.method for c in second] == ["answerCallbackQuery"]
    async with sessions() as session:
        assert len(list(await session.scalars(select(Answer)))) == 1


async def test_a_wrong_webhook_secret_is_refused_and_nothing_happens(
    engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any]
) -> None:
    async for bot in running(engine, "webhook"):
        update = bot.fake.text_update(ANNA, ANNA.id, "/start")
        assert await bot.post(update, secret=None) == 403
        assert await bot.post(update, secret="wrong") == 403
        assert await bot.post(update, secret=SECRET + "x") == 403
        await bot.adapter.app.update_queue.join()
        assert bot.fake.sent() == [] and await members(sessions) == []
        assert texts(await bot.deliver(update))[0].startswith("Welkom")


async def test_a_blocked_user_is_recorded_and_invited_in_the_group(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await bind_group(sessions, partnership, clock)
    await known_member(sessions, partnership, clock)
    bot.fake.blocked.add(ANNA.id)
    calls = await bot.say(ANNA, f"/checkin@{BOT['username']}", GROUP)
    assert len([c for c in calls if c.chat == ANNA.id]) == 1  # tried once, no retry loop
    [invitation] = [c for c in calls if c.chat == GROUP]
    assert invitation.text.startswith("Anna, ")
    assert invitation.buttons[0][0]["url"].endswith(f"?start=G{-GROUP}_cmd-checkin")
    [anna] = await members(sessions)
    assert anna.unreachable_at == clock.now

    bot.fake.blocked.clear()  # she unblocks the bot and writes to it
    await bot.say(ANNA, "/help")
    [anna] = await members(sessions)
    assert anna.unreachable_at is None


async def test_blocking_the_bot_is_recorded(
    polling: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await known_member(sessions, partnership, clock)
    assert await polling.deliver(polling.fake.blocked_update(ANNA)) == []
    [anna] = await members(sessions)
    assert anna.unreachable_at == clock.now
    await polling.deliver(polling.fake.blocked_update(ANNA, "member"))
    [anna] = await members(sessions)
    assert anna.unreachable_at is None


async def test_a_group_that_becomes_a_supergroup_keeps_its_binding(
    polling: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await bind_group(sessions, partnership, clock, -42)
    await polling.deliver(polling.fake.migrate_update(-42, GROUP, ANNA))
    async with sessions() as session:
        refs = set(await session.scalars(select(ChannelBinding.channel_ref).where(
            ChannelBinding.platform == "telegram")))
    assert refs == {str(GROUP)}
