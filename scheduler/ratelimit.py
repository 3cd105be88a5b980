"""Rate limits per platform, chat and API method, shared by every process that sends.

Each platform's description (adapters/) gives its published limits; its adapter carries
them as `limits`, and the sender hands them in (`limits_of`). These hold for the bot, not
for one process: three processes sending side by side must together stay under them. So
the buckets live in the database (`scheduler/buckets.py`) when the limiter is given the
session factory; without it (unit tests, one process) they live in this process's memory.

Times are seconds from the clock the limiter is given (the sending process's clock, so the
processes' clocks should agree, as NTP keeps them); tests pass a fake clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.rates import PlatformLimits, Rate
from scheduler.buckets import (
    ALL,
    CALL,
    CHAT,
    EPSILON,
    Buckets,
    Contended,
    DatabaseBuckets,
    Key,
    MemoryBuckets,
    Seconds,
    Wanted,
)

__all__ = ["Contended", "RateLimiter", "limits_of"]


class RateLimiter:
    """The buckets of every platform, chat and API method: shared through the database
    when `sessions` is given, else kept in this process."""

    def __init__(
        self,
        clock: Seconds,
        limits: Mapping[str, PlatformLimits] | None = None,
        *,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.clock = clock
        self.limits: Mapping[str, PlatformLimits] = {} if limits is None else limits
        self.store: Buckets = (MemoryBuckets() if sessions is None
                               else DatabaseBuckets(sessions))

    def _wanted(self, platform: str, target: str, direct: bool) -> list[tuple[Key, Rate | None]]:
        """The platform's bucket, then the chat's (whose hold counts even without a rate)."""
        limits = self.limits.get(platform, PlatformLimits())
        wanted: list[tuple[Key, Rate | None]] = []
        if limits.overall is not None:
            wanted.append(((platform, ALL, ""), limits.overall))
        wanted.append(((platform, CHAT, target), limits.direct if direct else limits.group))
        return wanted

    async def wait(self, platform: str, target: str, direct: bool) -> float:
        """Seconds before a message to this chat may go (0: now)."""
        keys = [key for key, _ in self._wanted(platform, target, direct)]
        wait = await self.store.until(keys) - self.clock()
        return wait if wait > EPSILON else 0.0

    async def take(self, platform: str, target: str, direct: bool) -> float:
        """Take a token for one message to this chat from every bucket it needs, at once.

        0.0: taken, send now. More: nothing was taken (the chat or platform must wait, or
        another process took the last token first); do not send, try again that much later.
        """
        return await self._take_one(self._wanted(platform, target, direct))

    async def take_many(self, messages: Sequence[tuple[str, str, bool]],
                        connection: AsyncConnection | None = None) -> list[float]:
        """`take` for several messages (platform, chat, direct) at once, in order, each
        from all of its buckets or none; in the caller's transaction on `connection` when
        given (then it may raise `Contended`: roll back, nothing was taken)."""
        return await self.store.take_many(
            [self._wanted(platform, target, direct) for platform, target, direct in messages],
            self.clock(), connection)

    async def take_call(self, platform: str, method: str, scope: str = "") -> float:
        """Like `take`, for one call of an API method limited per workspace (`scope`)."""
        rate = self.limits.get(platform, PlatformLimits()).calls.get(method)
        if rate is None:
            return 0.0
        return await self._take_one([((platform, CALL, f"{scope}:{method}"), rate)])

    async def _take_one(self, wanted: Wanted) -> float:
        """One message's take, in a transaction of its own: a batch of one (`take_many`),
        tried again when another process made one of its buckets meanwhile."""
        while True:
            with contextlib.suppress(Contended):
                [wait] = await self.store.take_many([wanted], self.clock(), None)
                return wait

    async def hold(self, platform: str, target: str, seconds: float) -> None:
        """The chat (not the whole platform) waits `seconds`, as a 429 asked, in every
        process."""
        await self.store.hold((platform, CHAT, target), self.clock() + seconds)

    async def held_back(self) -> dict[str, list[str] | None]:
        """What must wait right now: per platform None (all of it) or the waiting chats."""
        waiting: dict[str, list[str] | None] = {}
        for (platform, scope, target), _ in await self.store.blocked(self.clock()):
            if scope == ALL:
                waiting[platform] = None
            elif scope == CHAT:
                chats = waiting.setdefault(platform, [])
                if chats is not None and target not in chats:
                    chats.append(target)
        return waiting

    async def next_free(self) -> float:
        """Seconds until something held back may go again (0 when nothing waits)."""
        now = self.clock()
        return min((until - now for _, until in await self.store.blocked(now)), default=0.0)


def limits_of(adapters: Mapping[str, object]) -> dict[str, PlatformLimits]:
    """The limits each adapter declares as `limits` (one that declares none: no limits)."""
    found: dict[str, PlatformLimits] = {}
    for platform, adapter in adapters.items():
        limits = getattr(adapter, "limits", None)
        found[platform] = limits if isinstance(limits, PlatformLimits) else PlatformLimits()
    return found
