"""Slack's rate limits: the published ones, for the scheduler's limiter (see
`Platform.limits`), and a Web API client that takes its per-method bucket before a call.

About one message per second per channel; the Web API's other methods are limited per
workspace by tier: tier 3 allows about 50 calls a minute, tier 4 about 100, with short
bursts (chat.postMessage is limited per channel instead). The buckets are shared by every
process through the sender's rate limiter (`scheduler.ratelimit.RateLimiter.take_call`).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import RetryLater
from bot.rates import PlatformLimits, Rate

TIER3, TIER4 = Rate(50 / 60, burst=5.0), Rate(100 / 60, burst=10.0)
# conversations.history and .replies (the look-up of a post whose answer was lost) are
# Tier 3 for internal and Marketplace apps, but one call a minute (and at most 15 messages
# a call) for an app distributed outside the Marketplace: ACHTJE_SLACK_HISTORY_PER_MINUTE.
HISTORY_PER_MINUTE = 50.0
HISTORY_METHODS = ("conversations.history", "conversations.replies")


def slack_limits(history_per_minute: float = HISTORY_PER_MINUTE) -> PlatformLimits:
    """Slack's limits, with the history methods at `history_per_minute` (per workspace)."""
    history = Rate(history_per_minute / 60, burst=min(5.0, history_per_minute))
    return PlatformLimits(direct=Rate(1.0), group=Rate(1.0), calls={
        "conversations.open": TIER3, "chat.update": TIER3, "users.info": TIER4,
        **dict.fromkeys(HISTORY_METHODS, history),
    })


LIMITS = slack_limits()
CALL_WAIT = 10.0  # seconds a scheduled call may wait for its method's token


class CallLimits(Protocol):
    """The shared per-method buckets (`scheduler.ratelimit.RateLimiter.take_call`)."""

    async def take_call(self, platform: str, method: str, scope: str = "") -> float: ...


class LimitedClient(AsyncWebClient):
    """A Web API client whose calls first take a token from the method's bucket of this
    workspace, shared by every process (Slack's tiers are per workspace and method;
    chat.postMessage has none here, it is limited per channel by the sender). A call
    whose bucket is empty waits for its token (only this send waits; the sender's other
    sends go on), at most `CALL_WAIT` seconds; beyond that it is not made: `RetryLater`,
    and the sender tries the row again then."""

    def __init__(self, *, limits: CallLimits, workspace: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limits = limits
        self.workspace = workspace

    async def api_call(self, api_method: str, **kwargs: Any) -> Any:
        waited = 0.0
        while (wait := await self.limits.take_call("slack", api_method, self.workspace)) > 0:
            if waited + wait > CALL_WAIT:
                raise RetryLater(wait, f"{api_method}: this workspace's limit is used up")
            await asyncio.sleep(wait)
            waited += wait
        return await super().api_call(api_method, **kwargs)
