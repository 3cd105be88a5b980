"""How fast a platform takes messages: the neutral words between a platform's description
(adapters/) and the scheduler's rate limiter (scheduler/ratelimit.py), which reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rate:
    """`per_second` tokens flow in; at most `burst` can be saved up."""

    per_second: float
    burst: float = 1.0

    @property
    def interval(self) -> float:
        return 1 / self.per_second

    @property
    def tolerance(self) -> float:
        """How far ahead of now the bucket's `tat` may be and a message still go."""
        return (self.burst - 1) * self.interval


@dataclass(frozen=True)
class PlatformLimits:
    overall: Rate | None = None  # every message on the platform
    direct: Rate | None = None  # per private chat
    group: Rate | None = None  # per channel or group
    calls: Mapping[str, Rate] = field(default_factory=dict)  # per API method and workspace
