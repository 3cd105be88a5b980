"""A fake chat platform for the scheduler tests, a small Adapter that posts to it, and a
sender worker to run as a separate process (`python -m tests.scheduler_fakes`).

The fake is a real aiohttp server on 127.0.0.1 port 0. It records every message it is
given, can answer 429 with Retry-After or 403 for chosen chats, and can kill the process
that is sending (SIGKILL) when it receives its n-th message, to test crash recovery.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from adapters.platforms import PLATFORMS
from adapters.web import WebServer
from bot.messages import DeliveryUncertain, Reply, RetryLater, Unreachable
from bot.outbox import dump_replies
from bot.rates import PlatformLimits
from bot.store.models import Member


@dataclass(frozen=True)
class Received:
    chat: str
    direct: bool
    replies: list[dict[str, Any]]
    worker: int

    @property
    def text(self) -> str:
        first = self.replies[0]
        return str(first.get("text") or first.get("prompt"))


@dataclass
class FakePlatform:
    """What the fake does is set by the test before (or while) messages come in."""

    received: list[Received] = field(default_factory=list)
    throttle: dict[str, list[float]] = field(default_factory=dict)  # chat -> Retry-Afters
    gone: set[str] = field(default_factory=set)  # chats that answer 403
    kill_at: int | None = None  # SIGKILL the sending process at this message number
    attempts: Counter[str] = field(default_factory=Counter)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        chat = str(body["chat"])
        self.attempts[chat] += 1
        if chat in self.gone:
            return web.json_response({"ok": False, "error": "gone"}, status=403)
        waits = self.throttle.get(chat)
        if waits:
            return web.json_response({"ok": False}, status=429,
                                     headers={"Retry-After": str(waits.pop(0))})
        self.received.append(Received(chat, bool(body["direct"]), body["replies"],
                                      int(body.get("worker", 0))))
        if self.kill_at is not None and len(self.received) == self.kill_at:
            os.kill(int(body["worker"]), signal.SIGKILL)
        return web.json_response({"ok": True})

    def duplicates(self) -> dict[tuple[str, str], int]:
        seen = Counter((r.chat, r.text) for r in self.received)
        return {key: n for key, n in seen.items() if n > 1}


@asynccontextmanager
async def fake_platform(**settings: Any) -> AsyncIterator[FakePlatform]:
    platform = FakePlatform(**settings)
    server = WebServer("127.0.0.1", 0)
    server.add_route("POST", "/send", platform.handle)
    await server.start()
    platform.url = server.url
    try:
        yield platform
    finally:
        await server.stop()


class HttpAdapter:
    """A test platform adapter: posts neutral replies to the fake and maps its answers
    onto the delivery errors the way a real adapter does."""

    def __init__(self, url: str, platform: str = "fake", timeout: float = 10.0) -> None:
        self.platform = platform
        # Named after a real platform, it carries what that platform's description says,
        # as the real adapter does (the sender and the planner read it off the adapter).
        described = next((p for p in PLATFORMS if p.name == platform), None)
        self.limits = described.limits if described else PlatformLimits()
        self.invites_in_channel = described.invites_in_channel if described else False
        self.url = url
        self.timeout = timeout
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def send(self, chat: str, replies: Sequence[Reply]) -> None:
        await self._post(chat, False, replies)

    async def send_direct(self, user: str, replies: Sequence[Reply]) -> None:
        await self._post(user, True, replies)

    async def _post(self, chat: str, direct: bool, replies: Sequence[Reply]) -> None:
        assert self._http is not None, "start() the adapter first"
        body = {"chat": chat, "direct": direct, "replies": dump_replies(replies),
                "worker": os.getpid()}
        try:
            async with self._http.post(f"{self.url}/send", json=body) as response:
                if response.status == 429:
                    raise RetryLater(float(response.headers.get("Retry-After", "1")))
                if response.status == 403:
                    raise Unreachable(f"{chat}: forbidden")
                response.raise_for_status()
        except TimeoutError as exc:
            raise DeliveryUncertain(f"{chat}: timed out") from exc
        except aiohttp.ClientConnectionError as exc:
            raise RetryLater(1.0, f"{chat}: {exc}") from exc


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Drain the outbox to the fake platform.")
    parser.add_argument("--db", required=True)
    parser.add_argument("--fake", required=True, help="base URL of the fake platform")
    parser.add_argument("--now", required=True, help="the sender's clock starts here (ISO)")
    parser.add_argument("--barrier", help="write ready-<pid> here, wait for a file 'go'")
    return parser.parse_args(argv)


async def _work(args: argparse.Namespace) -> int:
    from bot.store import db
    from scheduler.sender import Sender

    started, t0 = datetime.fromisoformat(args.now), time.monotonic()

    def clock() -> datetime:
        return started + timedelta(seconds=time.monotonic() - t0)

    engine, sessions = await db.connect(args.db)
    adapter = HttpAdapter(args.fake)
    await adapter.start()
    try:
        if args.barrier:
            barrier = Path(args.barrier)
            (barrier / f"ready-{os.getpid()}").touch()
            while not (barrier / "go").exists():
                await asyncio.sleep(0.02)
        sender = Sender(sessions, {"fake": adapter}, clock=clock)
        return await sender.drain(asyncio.sleep)
    finally:
        await adapter.stop()
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sent = asyncio.run(_work(_arguments(argv if argv is not None else sys.argv[1:])))
    print(f"handled {sent}")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def add_members(
    session: Any, partnership_id: int, count: int, platform: str = "fake", *,
    start: int = 1, language: str = "nl", role: str = "member", **extra: Any,
) -> list[Member]:
    """`count` onboarded members (user-<n>) of a partnership, added to the session."""
    members = [
        Member(partnership_id=partnership_id, platform=platform, user_ref=f"user-{n}",
               display_name=f"Lid {n}", level="teachers", role=role, language=language,
               onboarded_at=utc(2026, 9, 1), created_at=utc(2026, 9, 1), **extra)
        for n in range(start, start + count)
    ]
    session.add_all(members)
    return members


if __name__ == "__main__":
    main()
