"""An in-memory platform for tests and simulations: say a line, press a button, read back.

It drives the whole stack (engine, store, content) the way a person in a chat would, so
a dialogue test reads as a transcript.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count

from adapters.console import render
from bot.engine import Engine
from bot.messages import Choice, FreeText, Incoming, Option, Reply, Scale

_event_ids = count(1)


@dataclass
class MemoryChat:
    """One person talking to the bot; `sent` keeps everything the bot said, in order."""

    engine: Engine
    user: str = "anna"
    chat: str = "dm-anna"
    direct: bool = True
    locale: str | None = None
    platform: str = "test"
    sent: list[Reply] = field(default_factory=list)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, chat: str, replies: Sequence[Reply]) -> None:
        self.sent.extend(replies)

    async def send_direct(self, user: str, replies: Sequence[Reply]) -> None:
        self.sent.extend(replies)

    async def say(self, text: str) -> list[Reply]:
        return await self._deliver(Incoming(
            platform=self.platform, user=self.user, chat=self.chat, direct=self.direct,
            text=text, locale=self.locale, display_name=self.user,
            event_id=f"ev-{next(_event_ids)}",
        ))

    async def press(self, label_or_value: str) -> list[Reply]:
        """Press the button with this label (or value) in the newest message that has it."""
        option = self.find_option(label_or_value)
        return await self.press_value(option.value)

    async def press_value(self, value: str, event_id: str | None = None) -> list[Reply]:
        return await self._deliver(Incoming(
            platform=self.platform, user=self.user, chat=self.chat, direct=self.direct,
            action=value, locale=self.locale,
            event_id=event_id or f"ev-{next(_event_ids)}",
        ))

    def find_option(self, label_or_value: str) -> Option:
        for reply in reversed(self.sent):
            for option in _options(reply):
                if label_or_value in (option.label, option.value):
                    return option
        raise LookupError(f"no button {label_or_value!r} in {self.transcript()}")

    def last_text(self) -> str:
        return render(self.sent[-1]) if self.sent else ""

    def transcript(self) -> str:
        return "\n".join(render(reply) for reply in self.sent)

    async def _deliver(self, incoming: Incoming) -> list[Reply]:
        replies = await self.engine.handle(incoming)
        await self.send(self.chat, replies)
        return replies


def _options(reply: Reply) -> tuple[Option, ...]:
    if isinstance(reply, Scale | Choice):
        return reply.options
    if isinstance(reply, FreeText) and reply.skip is not None:
        return (reply.skip,)
    return ()
