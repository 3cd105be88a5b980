"""The in-memory platform and the console as the engine's tests rely on them: messages get
ids and threads as on Slack and Telegram, a press carries the message it was on, and a
mention reads as the person's name."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.console import ConsoleChat, render
from adapters.memory import MemoryChat, Posted
from bot.content import Content
from bot.engine import Engine
from bot.messages import (
    FIRST,
    Choice,
    Incoming,
    Mention,
    Option,
    Outcome,
    Text,
    mention_mark,
)
from bot.store.models import Partnership
from tests.conftest import Clock, onboard


class Recording(Engine):
    """The real engine, keeping every event it was handed."""

    def __init__(self, sessions: async_sessionmaker[Any], content: Content, clock: Clock
                 ) -> None:
        super().__init__(sessions, content, clock, enrol_strangers=True)
        self.seen: list[Incoming] = []

    async def handle(self, incoming: Incoming) -> Outcome:
        self.seen.append(incoming)
        return await super().handle(incoming)


async def test_messages_get_ids_and_first_threads_per_send(chat: MemoryChat) -> None:
    opening = Text(text="Ronde 3 staat open")
    detail = Text(text="Al 4 mensen deden mee", thread_of=FIRST)
    named = Text(text="Nog 2 dagen", thread_of="m-elders")
    await chat.send("group", [opening, detail, named])
    first, second, third = chat.posted
    assert first == Posted(first.id, "group", opening, None)
    assert (second.thread, third.thread) == (first.id, "m-elders")
    assert len({first.id, second.id, third.id}) == 3
    # FIRST is per send call: a new call starts its own first message.
    await chat.send("group", [Text(text="Los bericht", thread_of=FIRST)])
    assert chat.posted[-1].thread is None
    # An edit keeps the id of the message it replaces.
    await chat.send("group", [Text(text="Ronde 3 is dicht", edit_of=first.id)])
    assert chat.posted[-1].id == first.id and chat.posted_as(opening) == first


async def test_a_press_carries_the_message_and_its_thread(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership
) -> None:
    engine = Recording(sessions, content, clock)
    chat = MemoryChat(engine)
    await onboard(chat)
    await chat.send(chat.chat, [Text(text="Peiling"), Choice(
        prompt="Hoe gaat het?", options=(Option("Help", "cmd:help"),), thread_of=FIRST)])
    poll, question = chat.posted[-2:]
    await chat.press("Help")
    pressed = engine.seen[-1]
    assert (pressed.action, pressed.message, pressed.thread) == ("cmd:help", question.id,
                                                                 poll.id)
    await chat.say("help", thread=poll.id)
    typed = engine.seen[-1]
    assert typed.thread == poll.id and typed.message is not None
    assert typed.message not in {p.id for p in chat.posted}
    await chat.press_value("cmd:nergens")  # a value no message shows
    assert (engine.seen[-1].message, engine.seen[-1].thread) == (None, None)


def test_mentions_read_as_names_in_the_console_and_the_transcript() -> None:
    text = Text(text=f"Koffie met {mention_mark(0)} en {mention_mark(1)}; {mention_mark(5)}",
                mentions=(Mention("T1:U2", "Anna"), Mention("222", "<!channel> Bob")))
    assert render(text) == "Koffie met Anna en <!channel> Bob; "  # no mention 5: no mark


async def test_the_console_prints_mentions_as_names(engine: Engine) -> None:
    out = io.StringIO()
    console = ConsoleChat(engine, stdin=io.StringIO(""), stdout=out, user="anna")
    await console.send("console", [Text(text=f"Hoi {mention_mark(0)}!",
                                        mentions=(Mention("bob", "Bob"),))])
    assert out.getvalue() == "Hoi Bob!\n\n"
