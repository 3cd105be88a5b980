"""Rate limits per platform and per chat, as token buckets on an injected clock.

The platforms publish rough limits (Slack: about one message per second per channel;
Telegram: about 30 per second overall, 20 per minute per group and one per second per
private chat). The sender asks before each message whether the platform and the chat have
a token; a chat that answered 429 with Retry-After is held back for that long while
other chats continue. The clock is a function returning seconds, so tests are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

Seconds = Callable[[], float]


@dataclass(frozen=True)
class Rate:
    """`per_second` tokens flow in; at most `burst` can be saved up."""

    per_second: float
    burst: float = 1.0


@dataclass(frozen=True)
class PlatformLimits:
    overall: Rate | None = None  # every message on the platform
    direct: Rate | None = None  # per private chat
    group: Rate | None = None  # per channel or group


LIMITS: dict[str, PlatformLimits] = {
    "slack": PlatformLimits(direct=Rate(1.0), group=Rate(1.0)),
    "telegram": PlatformLimits(overall=Rate(30.0, burst=30.0), direct=Rate(1.0),
                               group=Rate(20 / 60)),
}


class TokenBucket:
    def __init__(self, rate: Rate, clock: Seconds) -> None:
        self.rate = rate
        self.clock = clock
        self.tokens = rate.burst
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.rate.burst,
                          self.tokens + (now - self.updated) * self.rate.per_second)
        self.updated = now

    def wait(self) -> float:
        """Seconds until a token is available (0 when one is there now)."""
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate.per_second

    def take(self) -> None:
        self._refill()
        self.tokens -= 1

    def full(self) -> bool:
        """As good as a fresh bucket, so it can be forgotten."""
        self._refill()
        return self.tokens >= self.rate.burst


class RateLimiter:
    """The buckets of every platform and chat this process sends to."""

    def __init__(
        self, clock: Seconds, limits: Mapping[str, PlatformLimits] | None = None
    ) -> None:
        self.clock = clock
        self.limits = LIMITS if limits is None else limits
        self._overall: dict[str, TokenBucket] = {}
        self._chats: dict[tuple[str, str], TokenBucket] = {}
        self._held: dict[tuple[str, str], float] = {}  # chat -> clock time it may go again

    def _buckets(self, platform: str, target: str, direct: bool) -> list[TokenBucket]:
        limits = self.limits.get(platform, PlatformLimits())
        found = []
        if limits.overall is not None:
            if platform not in self._overall:
                self._overall[platform] = TokenBucket(limits.overall, self.clock)
            found.append(self._overall[platform])
        rate = limits.direct if direct else limits.group
        if rate is not None:
            key = (platform, target)
            if key not in self._chats:
                self._chats[key] = TokenBucket(rate, self.clock)
            found.append(self._chats[key])
        return found

    def wait(self, platform: str, target: str, direct: bool) -> float:
        """Seconds before a message to this chat may go (0: now)."""
        held = self._held.get((platform, target), float("-inf")) - self.clock()
        return max([held, 0.0, *(b.wait() for b in self._buckets(platform, target, direct))])

    def take(self, platform: str, target: str, direct: bool) -> None:
        for bucket in self._buckets(platform, target, direct):
            bucket.take()

    def hold(self, platform: str, target: str, seconds: float) -> None:
        """The chat (not the whole platform) waits `seconds`, as a 429 asked."""
        key = (platform, target)
        self._held[key] = max(self._held.get(key, float("-inf")), self.clock() + seconds)

    def held_back(self) -> dict[str, list[str] | None]:
        """What must wait right now: per platform None (all of it) or the waiting chats."""
        now = self.clock()
        waiting: dict[str, list[str] | None] = {
            platform: None for platform, bucket in self._overall.items() if bucket.wait() > 0
        }
        for key, bucket in list(self._chats.items()):
            if bucket.full():
                del self._chats[key]
            elif bucket.wait() > 0:
                self._add(waiting, *key)
        for key, until in list(self._held.items()):
            if until <= now:
                del self._held[key]
            else:
                self._add(waiting, *key)
        return waiting

    @staticmethod
    def _add(waiting: dict[str, list[str] | None], platform: str, target: str) -> None:
        if platform not in waiting:
            waiting[platform] = []
        chats = waiting[platform]
        if chats is not None and target not in chats:
            chats.append(target)

    def next_free(self) -> float:
        """Seconds until something held back may go again (0 when nothing waits)."""
        now = self.clock()
        waits = [b.wait() for b in (*self._overall.values(), *self._chats.values())]
        waits += [until - now for until in self._held.values()]
        return min((w for w in waits if w > 0), default=0.0)
