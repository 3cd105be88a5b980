"""What `GET /healthz` says: whether this process can do its work right now.

Ready means two things: the database answers now (a `SELECT 1`, at most a few seconds),
and every configured platform accepted its credentials when it started (Slack `auth.test`
or the Socket Mode connection, Telegram `getMe`). Otherwise the answer is 503 with a short
reason per part, for an operator or a load balancer; no secret is ever part of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.db import reason

DATABASE_TIMEOUT = 3.0
STARTING = "not started yet"


class Health:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], platforms: Sequence[str],
                 timeout: float = DATABASE_TIMEOUT) -> None:
        self.sessions = sessions
        self.timeout = timeout
        self.platforms: dict[str, str | None] = dict.fromkeys(platforms, STARTING)

    def accepted(self, platform: str) -> None:
        """The platform took our credentials at start."""
        self.platforms[platform] = None

    def refused(self, platform: str, why: str) -> None:
        self.platforms[platform] = why.splitlines()[0][:200] if why else "did not start"

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """(ready, the JSON body): {"status": "ok"} or {"status": "unavailable", "reasons":
        {"database" | platform: why}}."""
        reasons = {p: why for p, why in self.platforms.items() if why is not None}
        try:
            async with asyncio.timeout(self.timeout), self.sessions() as session:
                await session.execute(text("SELECT 1"))
        except TimeoutError:
            reasons["database"] = "no answer in time"
        except Exception as exc:  # whatever the driver raises: the database is not usable
            reasons["database"] = reason(exc)
        if reasons:
            return False, {"status": "unavailable", "reasons": reasons}
        return True, {"status": "ok"}
