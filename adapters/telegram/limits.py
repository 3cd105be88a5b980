"""How the Telegram bot paces its replies and takes its updates: per chat, never all at once.

PTB's `AIORateLimiter` halts every request for `retry_after` after any 429, and by default
an `Application` handles one update at a time, so one chat's flood wait made everyone
else wait for their answer. Here a flood wait holds back only the chat it was given for,
the updates of different chats are handled side by side (those of one chat in order), and
a reply that failed for a moment is tried again a few times, so a press is not left with
"Je koos: 4" and no next question.

The Application's bot answers people (replies, tidying pressed buttons); scheduled sends
go through a bot of their own that the sender paces (docs/delivery.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

import httpx
from telegram import Update
from telegram.constants import FloodLimit
from telegram.error import NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter, BaseUpdateProcessor

from adapters.telegram.delivery import flood_wait
from bot.rates import PlatformLimits, Rate

logger = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
# Seconds before trying a reply again after a 5xx or a refused connection, per attempt.
PAUSES = (0.5, 1.0, 2.0, 4.0)
LONGEST_WAIT = 60.0  # a longer flood wait is not waited out for a reply: it fails at once
MAX_CONCURRENT_UPDATES = 256  # updates waiting for their chat's turn hold one place each
# Telegram's published limits, for the scheduler's limiter (see `Platform.limits`): about
# 30 messages a second overall, 20 a minute per group, one a second per private chat.
LIMITS = PlatformLimits(overall=Rate(30.0, burst=30.0), direct=Rate(1.0), group=Rate(20 / 60))


class Window:
    """At most `rate` takes in any `period` seconds (a sliding window)."""

    def __init__(self, rate: int, period: float) -> None:
        self.rate, self.period = rate, period
        self._taken: deque[float] = deque()

    async def take(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._taken and self._taken[0] <= now - self.period:
                self._taken.popleft()
            if len(self._taken) < self.rate:
                self._taken.append(now)
                return
            await asyncio.sleep(self._taken[0] + self.period - now)

    def idle(self, now: float) -> bool:
        return not self._taken or self._taken[-1] <= now - self.period


class ChatRateLimiter(BaseRateLimiter[int]):
    """Telegram's limits (30 messages a second overall, 20 a minute per group) and its
    flood waits, per chat.

    A 429 for a chat makes later requests for that chat wait until `retry_after` has
    passed; other chats go on. A request is tried again after a 429 (when the wait is at
    most `LONGEST_WAIT`), a 5xx answer or a connection that could not be made, at most
    `max_retries` times. A call's `rate_limit_args` is the number of tries it may take; with
    1 a chat that must still wait fails at once with `RetryAfter`, without asking Telegram.
    A timeout is not tried again: the message may have arrived.
    """

    def __init__(self, max_retries: int = 3, *,
                 overall_per_second: int = FloodLimit.MESSAGES_PER_SECOND,
                 group_per_minute: int = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP) -> None:
        self.max_retries = max_retries
        self._overall = Window(overall_per_second, 1.0)
        self._group_rate = group_per_minute
        self._groups: dict[int | str, Window] = {}
        self._not_before: dict[int | str, float] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        # `rate_limit_args`: how many tries this call may take (PTB drops a 0).
        retries = self.max_retries if rate_limit_args is None else max(0, rate_limit_args - 1)
        chat = _key(data.get("chat_id"))
        loop = asyncio.get_running_loop()
        if not retries and chat is not None and self._not_before.get(chat, 0.0) > loop.time():
            # One try only, and the chat must still wait: say so without asking Telegram.
            raise RetryAfter(timedelta(seconds=self._not_before[chat] - loop.time()))
        attempt = 0
        while True:
            await self._turn(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = flood_wait(exc)
                if chat is not None:
                    until = loop.time() + wait
                    self._not_before[chat] = max(self._not_before.get(chat, 0.0), until)
                if attempt >= retries or wait > LONGEST_WAIT:
                    raise
                logger.info("telegram asked to wait %.1fs before %s in chat %s", wait,
                            endpoint, chat)
                if chat is None:
                    await asyncio.sleep(wait)
            except NetworkError as exc:
                if attempt >= retries or not _not_taken(exc):
                    raise
                logger.info("telegram %s failed (%s); trying again", endpoint, exc.message)
                await asyncio.sleep(PAUSES[min(attempt, len(PAUSES) - 1)])
            attempt += 1

    async def _turn(self, chat: int | str | None) -> None:
        """Wait out this chat's flood wait, then take a place within Telegram's limits.
        Requests without a chat (answering a button press) are not counted."""
        if chat is None:
            return
        loop = asyncio.get_running_loop()
        while (wait := self._not_before.get(chat, 0.0) - loop.time()) > 0:
            await asyncio.sleep(wait)  # a later 429 for this chat may lengthen it
        self._not_before.pop(chat, None)
        if isinstance(chat, str) or chat < 0:
            await self._group(chat).take()
        await self._overall.take()

    def _group(self, chat: int | str) -> Window:
        if len(self._groups) > 512:
            now = asyncio.get_running_loop().time()
            for key in [k for k, window in self._groups.items() if window.idle(now)]:
                del self._groups[key]
        return self._groups.setdefault(chat, Window(self._group_rate, 60.0))


class ChatUpdateProcessor(BaseUpdateProcessor):
    """Updates from different chats are handled side by side; those from one chat one
    after the other, in the order they came (so a second tap sees what the first did,
    and one chat's flood wait holds up no one else). The engine also serialises the turns
    of one member across processes (a row lock)."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._chains: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _update_chat(update)
        if key is None:
            await coroutine
            return
        lock = self._chains.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                del self._queued[key], self._chains[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _update_chat(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


def _key(chat: object) -> int | str | None:
    if chat is None:
        return None
    try:
        return int(str(chat))
    except ValueError:
        return str(chat)  # "@channelname"


def _not_taken(exc: NetworkError) -> bool:
    """Whether Telegram certainly did not take the request: it answered with an error
    status (5xx), or no connection could be made. Not after a timeout or a connection
    lost halfway: the message may have arrived."""
    if type(exc) is not NetworkError:  # BadRequest and TimedOut are NetworkErrors too
        return False
    return exc.__cause__ is None or isinstance(exc.__cause__, httpx.ConnectError)
