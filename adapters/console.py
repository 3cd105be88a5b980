"""A chat in the terminal: lines from standard input, replies as plain text.

It is the adapter a newcomer tries first and the one scripts drive
(`printf 'help\\ncheckin\\n' | achtje`); it ends cleanly at the end of input.
"""

from __future__ import annotations

import asyncio
import getpass
import io
import logging
import sys
import tempfile
from collections.abc import Sequence
from typing import TextIO

from bot.engine import Engine
from bot.messages import (
    Choice,
    FreeText,
    Image,
    Incoming,
    Invitation,
    Reply,
    Scale,
    Text,
    shown,
    split_mentions,
)

logger = logging.getLogger(__name__)

CHAT = "console"
SCALE_KEYS = ("1", "2", "3", "4", "5", "?", "-")


def render(reply: Reply) -> str:
    """Plain text for one reply; options are numbered so they can be typed."""
    match reply:
        case Text():
            return plain(reply)
        case Scale():
            legend = "  ".join(f"[{k}] {o.label}" for k, o in zip(SCALE_KEYS, reply.options,
                                                                  strict=False))
            return f"{reply.prompt}\n  {legend}"
        case Choice():
            lines = [f"  {n}. {o.label}" for n, o in enumerate(reply.options, start=1)]
            return "\n".join([reply.prompt, *lines])
        case FreeText():
            skip = f"\n  [-] {reply.skip.label}" if reply.skip else ""
            return f"{reply.prompt}{skip}"
        case Invitation():
            return f"{reply.text}\n  [{reply.button}]"
        case Image():
            with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as file:
                file.write(reply.png)
            return f"{reply.caption}\n  ({file.name})"
    raise TypeError(f"cannot render {type(reply).__name__}")


def plain(text: Text) -> str:
    """The text with each mention as the person's name."""
    return "".join(part if isinstance(part, str) else part.name
                   for part in split_mentions(text.text, text.mentions))


class ConsoleChat:
    """The console as a platform: one person, one chat."""

    platform = "console"

    def __init__(
        self,
        engine: Engine,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
        user: str | None = None,
    ) -> None:
        self.engine = engine
        self.stdin = stdin
        self.stdout = stdout
        self.user = user or getpass.getuser()

    async def start(self) -> None:
        """Read lines until the end of input, answering each one."""
        loop = asyncio.get_running_loop()
        interactive = self.stdin.isatty()
        if isinstance(self.stdin, io.TextIOWrapper):
            self.stdin.reconfigure(errors="replace")  # odd bytes must not end the chat
        while True:
            if interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                break
            if not line.strip():
                continue
            incoming = Incoming(platform=self.platform, user=self.user, chat=CHAT, direct=True,
                                text=line.rstrip("\n"), display_name=self.user)
            await self.send(CHAT, (await self.engine.handle(incoming)).replies)

    async def stop(self) -> None:
        self.stdout.flush()

    async def send(self, chat: str, replies: Sequence[Reply]) -> None:
        for reply in shown(replies):
            self.stdout.write(render(reply) + "\n\n")
        self.stdout.flush()

    async def send_direct(self, user: str, replies: Sequence[Reply]) -> None:
        await self.send(CHAT, replies)
