"""Teams' rate limits for the scheduler's limiter (see `Platform.limits`).

Microsoft publishes limits per bot per conversation (roughly 7 messages a second, 8 in two
seconds, 60 in thirty seconds and 1800 an hour) and about 50 requests a second per app per
tenant. These are approximate and change without notice; Teams answers HTTP 429 with
Retry-After when a bot goes faster, which the adapter turns into `RetryLater`. We keep
well below them: one message a second per conversation, thirty a second overall.
"""

from __future__ import annotations

from bot.rates import PlatformLimits, Rate

LIMITS = PlatformLimits(overall=Rate(30.0, burst=30.0), direct=Rate(1.0, burst=3.0),
                        group=Rate(1.0, burst=3.0))
