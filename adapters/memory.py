"""An in-memory platform for tests and simulations: say a line, press a button, read back.

It drives the whole stack (engine, store, content) the way a person in a chat would, so
a dialogue test reads as a transcript. Every message the bot posts gets an id (`m1`,
`m2`, ...) and the id of the thread it went into, as Slack and Telegram would give them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count

from adapters.console import render
from bot.engine import Engine
from bot.messages import FIRST, Choice, FreeText, Incoming, Option, Reply, Scale, shown

_event_ids = count(1)
_message_ids = count(1)


@dataclass(frozen=True)
class Posted:
    """One message the bot posted: its id, where, and the thread it is in (None: the
    chat itself). An edit keeps the id of the message it replaced."""

    id: str
    chat: str
    reply: Reply
    thread: str | None = None


def post(chat: str, replies: Sequence[Reply]) -> list[Posted]:
    """Ids and threads for one `send` call, as a platform would give them: a reply with
    `thread_of=FIRST` goes under the first message of the same call."""
    posted: list[Posted] = []
    for reply in replies:
        thread = reply.thread_of
        if thread == FIRST:
            thread = posted[0].id if posted else None
        message = reply.edit_of or f"m{next(_message_ids)}"
        posted.append(Posted(message, chat, reply, thread))
    return posted


@dataclass
class MemoryChat:
    """One person talking to the bot; `sent` keeps everything the bot said, in order, and
    `posted` the same messages with their ids and threads."""

    engine: Engine
    user: str = "anna"
    chat: str = "dm-anna"
    direct: bool = True
    locale: str | None = None
    platform: str = "test"
    sent: list[Reply] = field(default_factory=list)
    posted: list[Posted] = field(default_factory=list)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, chat: str, replies: Sequence[Reply]) -> None:
        replies = shown(replies)
        self.sent.extend(replies)
        self.posted.extend(post(chat, replies))

    async def send_direct(self, user: str, replies: Sequence[Reply]) -> None:
        await self.send(user, replies)

    async def say(self, text: str, thread: str | None = None) -> list[Reply]:
        """Type a line, in the chat or (`thread`: a message id) in that message's thread."""
        return await self._deliver(Incoming(
            platform=self.platform, user=self.user, chat=self.chat, direct=self.direct,
            text=text, locale=self.locale, display_name=self.user,
            event_id=f"ev-{next(_event_ids)}", message=f"m{next(_message_ids)}",
            thread=thread,
        ))

    async def press(self, label_or_value: str) -> list[Reply]:
        """Press the button with this label (or value) in the newest message that has it."""
        option = self.find_option(label_or_value)
        return await self.press_value(option.value)

    async def press_value(self, value: str, event_id: str | None = None) -> list[Reply]:
        """Press a button with this value: on the newest message that shows it, if any
        (its id and thread come along, as on a real platform)."""
        pressed = self.message_with(value)
        return await self._deliver(Incoming(
            platform=self.platform, user=self.user, chat=self.chat, direct=self.direct,
            action=value, locale=self.locale,
            event_id=event_id or f"ev-{next(_event_ids)}",
            message=pressed.id if pressed else None,
            thread=pressed.thread if pressed else None,
        ))

    def find_option(self, label_or_value: str) -> Option:
        for reply in reversed(self.sent):
            for option in _options(reply):
                if label_or_value in (option.label, option.value):
                    return option
        raise LookupError(f"no button {label_or_value!r} in {self.transcript()}")

    def message_with(self, value: str) -> Posted | None:
        """The newest posted message with a button of this value."""
        return next((posted for posted in reversed(self.posted)
                     if any(o.value == value for o in _options(posted.reply))), None)

    def posted_as(self, reply: Reply) -> Posted:
        """How a reply was posted (the newest time, if it was sent more than once)."""
        return next(posted for posted in reversed(self.posted) if posted.reply == reply)

    def last_text(self) -> str:
        return render(self.sent[-1]) if self.sent else ""

    def transcript(self) -> str:
        return "\n".join(render(reply) for reply in self.sent)

    async def _deliver(self, incoming: Incoming) -> list[Reply]:
        replies = (await self.engine.handle(incoming)).replies
        await self.send(self.chat, replies)
        return replies


def _options(reply: Reply) -> tuple[Option, ...]:
    if isinstance(reply, Scale | Choice):
        return reply.options
    if isinstance(reply, FreeText) and reply.skip is not None:
        return (reply.skip,)
    return ()
