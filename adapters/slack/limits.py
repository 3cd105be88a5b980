"""Slack's published rate limits, for the scheduler's limiter (see `Platform.limits`).

About one message per second per channel; the Web API's other methods are limited per
workspace by tier: tier 3 allows about 50 calls a minute, tier 4 about 100, with short
bursts (chat.postMessage is limited per channel instead).
"""

from __future__ import annotations

from bot.rates import PlatformLimits, Rate

TIER3, TIER4 = Rate(50 / 60, burst=5.0), Rate(100 / 60, burst=10.0)
LIMITS = PlatformLimits(direct=Rate(1.0), group=Rate(1.0), calls={
    "conversations.open": TIER3, "conversations.history": TIER3,
    "chat.update": TIER3, "users.info": TIER4,
})
