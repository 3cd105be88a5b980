"""One press, one effect, and no press waits for another chat: double taps, two buttons of
one question, a flood wait in someone else's chat and a reply that failed for a moment,
against the fake Telegram and Slack servers over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker
from telegram.error import RetryAfter

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Incoming, Noted, Scale
from bot.store import db, repo
from bot.store.models import Answer, Member, Partnership
from tests.conftest import Clock
from tests.slack_fakes import SlackRig, bound_rig, buttons_of
from tests.telegram_fakes import ANNA, BOB, Bot, Call, User, running

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture(params=["polling", "webhook"])
async def bot(request: pytest.FixtureRequest, engine: Engine,
              partnership: Partnership) -> AsyncIterator[Bot]:
    async for started in running(engine, request.param):
        yield started


@pytest.fixture
async def polling(engine: Engine, partnership: Partnership) -> AsyncIterator[Bot]:
    async for started in running(engine, "polling"):
        yield started


async def known(sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
                user: User) -> None:
    async with sessions() as session, session.begin():
        session.add(Member(partnership_id=partnership.id, platform="telegram",
                           user_ref=str(user.id), display_name=user.first_name,
                           school_id=partnership.schools[0].id, level="teachers",
                           language="nl", onboarded_at=clock.now, created_at=clock.now))


async def scores(sessions: async_sessionmaker[Any]) -> list[int | None]:
    async with sessions() as session:
        return list(await session.scalars(select(Answer.score).order_by(Answer.id)))


def texts(calls: list[Call], chat: int | None = None) -> list[str]:
    return [c.text for c in calls if c.method == "sendMessage" and not c.refused
            and (chat is None or c.chat == chat)]


def shown(bot: Bot, chat: int, start: str) -> dict[str, Any]:
    """The bot's message in `chat` whose text starts with `start`, as people see it now."""
    [message] = [m for (in_chat, _), m in bot.fake.messages.items()
                 if in_chat == chat and m.get("text", "").startswith(start)]
    return message


# Telegram


async def test_two_buttons_of_one_statement_move_the_checkin_on_once(
    polling: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock,
    content: Content,
) -> None:
    await known(sessions, partnership, clock, ANNA)
    await polling.say(ANNA, "/checkin")
    calls = await polling.deliver_together(polling.fake.press_updates(ANNA, ANNA.id, "4", "5"))
    assert [text[:3] for text in texts(calls)] == ["2/6"]
    assert await scores(sessions) == [5]  # the last choice stands
    question = shown(polling, ANNA.id, "1/6")
    assert "reply_markup" not in question  # no live buttons on the stale copy
    assert question["text"].endswith(content.text("chosen", "nl", choice="5"))

    for _ in range(4):  # up to the last of the round's six statements
        await polling.press(ANNA, "4")
    calls = await polling.deliver_together(polling.fake.press_updates(ANNA, ANNA.id, "3", "3"))
    assert texts(calls) == [content.text("checkin_done", "nl")]  # thanked once
    assert await scores(sessions) == [5, 4, 4, 4, 4, 3]


async def test_a_double_tap_in_one_batch_is_one_answer(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await known(sessions, partnership, clock, ANNA)
    await bot.say(ANNA, "/checkin")
    calls = await bot.deliver_together(bot.fake.press_updates(ANNA, ANNA.id, "4", "4"))
    assert [text[:3] for text in texts(calls)] == ["2/6"]
    assert await scores(sessions) == [4]
    assert "reply_markup" not in shown(bot, ANNA.id, "1/6")


async def test_sign_up_questions_are_asked_once_however_often_she_taps(
    polling: Bot, sessions: async_sessionmaker[Any], partnership: Partnership,
    content: Content,
) -> None:
    await polling.say(ANNA, "/start")
    taps = polling.fake.press_updates(ANNA, ANNA.id, "Vmbo De Brug", "Mbo College Kompas")
    calls = await polling.deliver_together(taps)
    assert texts(calls) == [content.text("ask_level", "nl")]
    board, teachers = (content.level_name(level, "nl") for level in ("board", "teachers"))
    calls = await polling.deliver_together(
        polling.fake.press_updates(ANNA, ANNA.id, teachers, board))
    assert texts(calls) == [content.text("ask_language", "nl")]
    calls = await polling.deliver_together(
        polling.fake.press_updates(ANNA, ANNA.id, "Nederlands", "Engels (English)"))
    assert texts(calls, ANNA.id) == [content.text("onboarded", "nl")]  # one welcome
    async with sessions() as session:
        [anna] = list(await session.scalars(select(Member)))
    kompas = partnership.schools[1].id
    assert (anna.school_id, anna.level, anna.language) == (kompas, "board", "en")  # last
    for start in ("Bij welke school", "In welke laag", "In welke taal"):
        assert "reply_markup" not in shown(polling, ANNA.id, start)


async def test_a_press_is_answered_while_another_chat_waits_out_a_flood(
    polling: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    for user in (ANNA, BOB):
        await known(sessions, partnership, clock, user)
        await polling.say(user, "/checkin")
    polling.fake.flood[ANNA.id] = [2]  # Anna's chat must wait two seconds
    anna = polling.fake.press_updates(ANNA, ANNA.id, "4")
    bob = polling.fake.press_updates(BOB, BOB.id, "4")
    calls = await polling.deliver_together(anna + bob)  # Anna's tap comes first

    def first(check: Any) -> int:
        return next(i for i, c in enumerate(calls) if check(c))

    refused = first(lambda c: c.chat == ANNA.id and c.refused)
    bob_next = first(lambda c: c.chat == BOB.id and c.text.startswith("2/6"))
    anna_next = first(lambda c: c.chat == ANNA.id and c.text.startswith("2/6"))
    # Both presses run at once, so which reaches Telegram first is a race; what counts is
    # that Anna's reply was refused and waited, and Bob's did not wait for it.
    assert refused < anna_next and bob_next < anna_next
    assert [t[:3] for t in texts(calls, ANNA.id)] == ["2/6"]
    assert [t[:3] for t in texts(calls, BOB.id)] == ["2/6"]


async def test_a_reply_refused_with_a_502_is_sent_again(
    bot: Bot, sessions: async_sessionmaker[Any], partnership: Partnership, clock: Clock
) -> None:
    await known(sessions, partnership, clock, ANNA)
    await bot.say(ANNA, "/checkin")
    bot.fake.fail_next("sendMessage", 502, "Bad Gateway")
    calls = await bot.press(ANNA, "4")
    sends = [c for c in calls if c.method == "sendMessage"]
    assert [c.refused for c in sends] == [True, False]
    assert sends[1].text.startswith("2/6")  # not left with "Je koos: 4" alone


async def test_a_flood_wait_holds_back_that_chat_only(polling: Bot) -> None:
    bot = polling.adapter.app.bot
    polling.fake.flood[ANNA.id] = [30]
    for _ in range(2):  # refused by Telegram, then by the limiter without asking again
        with pytest.raises(RetryAfter):
            await bot.send_message(ANNA.id, "een", rate_limit_args=1)
    assert len(polling.fake.sent(ANNA.id)) == 1
    await bot.send_message(BOB.id, "twee", rate_limit_args=1)
    assert [c.text for c in polling.fake.sent(BOB.id)] == ["twee"]


# Slack


@pytest.fixture
async def slack(engine: Engine, partnership: Partnership, sessions: async_sessionmaker[Any],
                clock: Clock) -> AsyncIterator[SlackRig]:
    async with bound_rig(engine, partnership.id, sessions, clock.now) as rig:
        yield rig


def last_buttons(slack: SlackRig) -> dict[str, str]:
    return buttons_of(slack.fake.posted()[-1])


async def press_together(slack: SlackRig, *labels: str, channel: str = "DU1") -> None:
    """Presses on buttons of the newest message, both made before either is answered
    (two payloads, two trigger_ids), as a double click sends them."""
    buttons = last_buttons(slack)
    await asyncio.gather(*(slack.press(buttons[label], channel=channel) for label in labels))


async def onboard(slack: SlackRig) -> None:
    await slack.dm("hoi")
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        await slack.press(last_buttons(slack)[label], channel="DU1")


@pytest.mark.parametrize("labels", [("neutraal", "neutraal"), ("neutraal", "mee eens")])
async def test_a_double_click_on_slack_posts_the_next_statement_once(
    slack: SlackRig, sessions: async_sessionmaker[Any], content: Content,
    labels: tuple[str, str],
) -> None:
    await onboard(slack)
    await slack.dm("checkin")
    question = slack.fake.posted()[-1].result["ts"]
    await press_together(slack, *labels)
    assert sum(text.startswith("2/6") for text in slack.fake.texts()) == 1
    assert len(await scores(sessions)) == 1
    assert not buttons_of_shown(slack, question)  # the pressed copy has no live buttons

    for _ in range(4):  # up to the last of the round's six statements
        await slack.press(last_buttons(slack)["mee eens"], channel="DU1")
    await press_together(slack, "mee eens", "helemaal mee eens")
    assert slack.fake.texts().count(content.text("checkin_done", "nl")) == 1


async def test_a_double_click_on_a_sign_up_question_asks_the_next_one_once(
    slack: SlackRig, content: Content
) -> None:
    await slack.dm("hoi")
    await press_together(slack, "Vmbo De Brug", "Mbo College Kompas")
    assert slack.fake.texts().count(content.text("ask_level", "nl")) == 1


async def test_a_newcomer_clicking_a_channel_button_twice_is_welcomed_once(
    slack: SlackRig, content: Content
) -> None:
    await asyncio.gather(*(slack.press("cmd:checkin", user="U2", channel="C1")
                           for _ in range(2)))
    welcome = content.text("welcome", "nl", partnership="Leerlab Noord")
    assert [text[:20] for text in slack.fake.texts()] == [welcome[:20], "Bij welke school wer"]


async def test_one_button_clicked_twice_on_slack_is_one_press_whatever_it_does(
    slack: SlackRig, content: Content
) -> None:
    await onboard(slack)
    await slack.dm("privacy")
    await press_together(slack, "Mijn gegevens wissen", "Mijn gegevens wissen")
    assert slack.fake.texts().count(content.text("privacy_erase_confirm", "nl")) == 1


async def test_a_reply_slack_failed_with_a_5xx_is_posted_again(slack: SlackRig) -> None:
    await onboard(slack)
    await slack.dm("checkin")
    slack.fake.fail_next("chat.postMessage", error="internal_error", status=502)
    await slack.press(last_buttons(slack)["neutraal"], channel="DU1")
    tries = slack.fake.of("chat.postMessage")[-2:]
    assert [call.failed for call in tries] == [True, False]
    assert sum(text.startswith("2/6") for text in slack.fake.texts()) == 1


def buttons_of_shown(slack: SlackRig, ts: str) -> list[dict[str, Any]]:
    return [block for block in slack.fake.shown[ts].blocks if block.get("type") == "actions"]


# Two processes


async def test_two_processes_taking_two_presses_at_once_move_on_once(
    database_url: str, engine: Engine, partnership: Partnership, content: Content,
    clock: Clock,
) -> None:
    """Each engine has its own connection pool, as two `achtje run` processes would: the
    member's row lock lets only one of the presses advance the check-in."""
    chat = MemoryChat(engine)
    await chat.say("hoi")
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        await chat.press(label)
    await chat.say("checkin")
    [scale] = [reply for reply in chat.sent if isinstance(reply, Scale)]
    options = scale.options[2:]  # 3-5, don't know, skip: none asks a follow-up
    other, factory = await db.connect(database_url)
    try:
        engines = (engine, Engine(factory, content, clock, enrol_strangers=True))
        # Connections open in both pools first, so the presses really meet in the database.
        await asyncio.gather(*(warm(process) for process in engines for _ in options))
        answered = await asyncio.gather(*(  # five buttons of the statement at once
            engines[n % 2].handle(Incoming(
                platform=chat.platform, user=chat.user, chat=chat.chat, direct=True,
                action=option.value, event_id=f"press-{option.value}"))
            for n, option in enumerate(options)))
    finally:
        await other.dispose()
    replies = [reply for outcome in answered for reply in outcome.replies]
    asked = [r for r in replies if isinstance(r, Scale) and r.prompt.startswith("2/6")]
    assert len(asked) == 1 and replies.count(Noted()) == len(options) - 1


async def warm(engine: Engine) -> None:
    async with engine.sessions() as session:
        await session.execute(text("SELECT 1"))
        await asyncio.sleep(0.05)


async def test_a_press_waits_for_the_turn_that_holds_the_member(
    database_url: str, engine: Engine, partnership: Partnership, clock: Clock
) -> None:
    """Another process is handling her first tap (it holds her row, has stored the answer
    and asked the next statement, not yet committed) when her second tap arrives: that
    one waits, then finds the statement answered and only replaces the choice."""
    if not database_url.startswith("postgres"):
        pytest.skip("watches PostgreSQL's lock waits")
    chat = MemoryChat(engine)
    await chat.say("hoi")
    for label in ("Vmbo De Brug", "Docenten", "Nederlands"):
        await chat.press(label)
    await chat.say("checkin")
    first, second = (chat.find_option(label).value for label in ("neutraal", "mee eens"))
    round_id, statement = int(first.split(":")[1]), first.split(":")[2]
    async with engine.sessions() as session, session.begin():
        [anna] = list(await session.scalars(select(Member)))
        await repo.lock_member(session, anna)
        await repo.save_answer(session, round_id=round_id, member_id=anna.id,
                               statement_id=statement, status="scored", score=3, now=clock.now)
        await repo.set_conversation(session, anna.id, "checkin",
                                    {"round_id": round_id, "statement_id": "next"}, clock.now)
        press = asyncio.create_task(engine.handle(Incoming(
            platform=chat.platform, user=chat.user, chat=chat.chat, direct=True,
            action=second, event_id="second-tap")))
        await waiting_on_a_lock(engine)
    assert (await press).replies == [Noted()]
    assert await scores(engine.sessions) == [4]  # her last choice


async def waiting_on_a_lock(engine: Engine) -> None:
    """Until some connection to this database waits for a lock another one holds."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                 "AND datname = current_database()")
    for _ in range(1000):
        async with engine.sessions() as session:
            if await session.scalar(query):
                return
        await asyncio.sleep(0.01)
    raise AssertionError("no turn ever waited")
