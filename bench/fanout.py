"""Fan-out: many channels due at the same minute, delivered at the platforms' rate limits.

Half the partnerships are on Slack and half on Telegram, all with a check-in scheduled at
the same minute (the real `bot.schedule.rules.configure`), each with one member; the Telegram
ones also have a bound group, which gets the check-in invitation. The clock starts at the
due minute: the real Sender runs (as in the service, woken by the planner) while the
planner (`plan_due`) writes the outbox rows partnership by partnership, and sends them
through small HTTP adapters to two fake platforms that enforce the published limits
themselves (Slack one message per second per channel; Telegram 30 per second overall, 20
per minute per group, one per second per private chat) and answer 429 with Retry-After
when exceeded. The figure that counts is the time from the due minute to the last message
received, next to the time the limits make necessary (the target: within 10% of it, at
full size); nothing may be lost (every row sent, each message received once).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, insert, select

from adapters.web import WebServer
from bench.common import Result, Stopwatch, backends, database, path_row, ratio, result
from bot.content import load_content
from bot.schedule.holidays import load_holidays
from bot.schedule.rules import Changes, configure
from bot.store.models import ChannelBinding, Member, Partnership
from bot.store.schedule import OutboxMessage, Schedule
from scheduler.planner import plan_due
from scheduler.sender import Sender
from tests.scheduler_fakes import HttpAdapter

SIZES = {"smoke": {"channels": 20}, "full": {"channels": 2_000}}
TELEGRAM_OVERALL = 30.0
TOLERANCE = 1.05  # the fake forgives 5% (clocks of two processes never agree exactly)
TARGET = 1.10  # the last message within the limits' time plus 10%


@dataclass
class LimitedPlatform:
    """A fake platform that keeps its own buckets (rate, burst) per chat and overall."""

    overall: tuple[float, float] | None
    per_group: tuple[float, float]
    per_direct: tuple[float, float]
    received: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    first: float | None = None
    last: float = 0.0
    times: list[float] = field(default_factory=list)  # when each message was received
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def _allow(self, key: str, rate: float, burst: float, now: float) -> bool:
        tokens, at = self._buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - at) * rate * TOLERANCE)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        chat, direct, now = str(body["chat"]), bool(body["direct"]), time.monotonic()
        rate, burst = self.per_direct if direct else self.per_group
        allowed = self._allow(f"chat:{chat}", rate, burst, now)
        if allowed and self.overall is not None:
            allowed = self._allow("overall", *self.overall, now)
        if not allowed:
            self.refused += 1
            return web.json_response({"ok": False}, status=429, headers={"Retry-After": "1"})
        self.received[chat] += 1
        self.first = self.first if self.first is not None else now
        self.last = now
        self.times.append(now)
        return web.json_response({"ok": True})


async def _unsettled(sessions: Any) -> int:
    """Rows still to send (pending or in flight)."""
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_(("pending", "sending")))) or 0)


@asynccontextmanager
async def serving(platform: LimitedPlatform) -> AsyncIterator[str]:
    server = WebServer("127.0.0.1", 0)
    server.add_route("POST", "/send", platform.handle)
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


async def measure(backend: str, channels: int) -> dict[str, Any]:
    content, holidays = load_content(), load_holidays()
    setup_at = datetime(2026, 11, 30, 8, tzinfo=UTC)  # a Monday
    slack = LimitedPlatform(None, (1.0, 1.0), (1.0, 1.0))
    telegram = LimitedPlatform((TELEGRAM_OVERALL, TELEGRAM_OVERALL), (20 / 60, 1.0), (1.0, 1.0))
    async with database(backend) as (_engine, sessions):
        async with sessions() as session, session.begin():
            pids = []
            for n in range(channels):
                partnership = Partnership(name=f"Partnerschap {n}", created_at=setup_at)
                session.add(partnership)
                pids.append(partnership)
            await session.flush()
            platforms = {p.id: ("slack" if n % 2 == 0 else "telegram")
                         for n, p in enumerate(pids)}
            await session.execute(insert(Member), [
                {"partnership_id": pid, "platform": kind,
                 "user_ref": f"T1:U{pid}" if kind == "slack" else str(100_000 + pid),
                 "display_name": "", "level": "teachers", "role": "member", "language": "nl",
                 "onboarded_at": setup_at, "created_at": setup_at}
                for pid, kind in platforms.items()])
            await session.execute(insert(ChannelBinding), [
                {"partnership_id": pid, "platform": "telegram", "channel_ref": str(-pid),
                 "created_at": setup_at} for pid, kind in platforms.items()
                if kind == "telegram"])
            for partnership in pids:
                await configure(session, holidays, partnership,
                                Changes(first=date(2026, 12, 1)), setup_at)
        async with sessions() as session:
            due_at: datetime | None = await session.scalar(select(func.min(Schedule.next_run_at))
                                          .where(Schedule.kind == "checkin"))
            due_same = await session.scalar(select(func.count()).select_from(Schedule).where(
                Schedule.kind == "checkin", Schedule.next_run_at == due_at))
        assert due_at is not None
        first_due: datetime = due_at
        async with serving(slack) as slack_url, serving(telegram) as telegram_url:
            adapters = {"slack": HttpAdapter(slack_url, "slack"),
                        "telegram": HttpAdapter(telegram_url, "telegram")}
            for adapter in adapters.values():
                await adapter.start()
            started = time.monotonic()

            def clock() -> datetime:
                return first_due + timedelta(seconds=time.monotonic() - started)

            sender = Sender(sessions, adapters, clock=clock)
            sender.start()
            try:
                with Stopwatch() as sending:
                    with Stopwatch() as planning:
                        planned = await plan_due(
                            sessions, content, holidays, clock(), on_planned=sender.wake,
                            invite_in_channel=[name for name, adapter in adapters.items()
                                               if adapter.invites_in_channel])
                    while await _unsettled(sessions):
                        await asyncio.sleep(0.05)
            finally:
                await sender.stop()
                for adapter in adapters.values():
                    await adapter.stop()
        handled = planned
        async with sessions() as session:
            statuses = {status: int(n) for status, n in (await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )).all()}
    delivered = sum(slack.received.values()) + sum(telegram.received.values())
    telegram_sent = sum(telegram.received.values())
    # What the limits make necessary: Telegram's overall rate after its first burst; each
    # Slack channel and Telegram chat gets one message, so no per-chat limit adds time.
    necessary = max(0.0, (telegram_sent - TELEGRAM_OVERALL) / TELEGRAM_OVERALL)
    duplicates = sum(n - 1 for c in (slack.received, telegram.received)
                     for n in c.values() if n > 1)
    last_post_s = max(slack.last, telegram.last) - started
    # Where the time went: Telegram's overall limit is the one that binds, so the figure
    # to watch is how close its achieved rate stays to 30/s from its first message on.
    telegram_first_s = (telegram.first - started) if telegram.first is not None else 0.0
    telegram_span = telegram.last - (telegram.first or telegram.last)
    return {"due_same_minute": due_same, "planned_rows": planned, "plan_s": planning.seconds,
            "last_post_s": last_post_s, "target_s": necessary * TARGET,
            "plan_rows_per_s": planned / planning.seconds if planning.seconds else 0.0,
            "send_s": sending.seconds, "handled": handled, "delivered": delivered,
            "delivered_per_s": delivered / sending.seconds if sending.seconds else 0.0,
            "telegram_messages": telegram_sent, "slack_messages": sum(slack.received.values()),
            "refused_429": slack.refused + telegram.refused, "duplicates": duplicates,
            "outbox": statuses, "necessary_s": necessary,
            "telegram_first_s": telegram_first_s, "load_1min": os.getloadavg()[0],
            "telegram_per_s": telegram_sent / telegram_span if telegram_span else 0.0,
            "telegram_slow_seconds": _slow_seconds(telegram.times, started),
            "slack_last_s": slack.last - started if slack.first is not None else 0.0,
            "lost": planned - delivered + duplicates}


def _slow_seconds(times: list[float], started: float) -> int:
    """Whole seconds between the first and the last message in which Telegram received
    fewer than 90% of what its overall limit allows (time the limit was not used)."""
    if not times:
        return 0
    per_second = Counter(int(at - started) for at in times)
    return sum(1 for second in range(min(per_second), max(per_second))
               if per_second[second] < 0.9 * TELEGRAM_OVERALL)


async def run(size: str) -> Result:
    scale = SIZES[size]
    figures: dict[str, Any] = {}
    floor: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    lost = 0
    paths = []
    for backend in backends():
        found = await measure(backend, scale["channels"])
        lost += found.pop("lost")
        figures[backend] = found
        floor[backend] = {"necessary_s": found["necessary_s"]}
        ratios[f"{backend}_share_of_limit"] = (
            ratio(found["necessary_s"], found["last_post_s"]) if found["necessary_s"]
            else 1.0)
        last, necessary = found["last_post_s"], found["necessary_s"]
        # Where the limits need no waiting (smoke size) there is no 10% to be within.
        paths.append(path_row(
            f"fan-out, due minute to last message ({backend}, {found['delivered']} messages"
            f" to {scale['channels']} channels)", "<= 1.1x what the limits make necessary",
            last, necessary, "s", last <= found["target_s"] if necessary else None))
        print(f"fanout {backend}: last message {found['last_post_s']:.1f} s after the due "
              f"minute; the limits allow {found['necessary_s']:.1f} s (target "
              f"{found['target_s']:.1f} s); Telegram {found['telegram_per_s']:.1f}/s of "
              f"{TELEGRAM_OVERALL:.0f} from {found['telegram_first_s']:.1f} s, "
              f"{found['telegram_slow_seconds']} slow seconds; planning "
              f"{found['plan_s']:.1f} s; load {found['load_1min']:.1f}")
    return result("fanout", size, scale, figures, floor, ratios, lost,
                  "share_of_limit = time the limits make necessary / time from the due "
                  "minute to the last message received (1.0 when the limits need no "
                  "waiting, as at smoke size); planning and sending overlap; lost = "
                  "planned rows not received, plus duplicates", paths)
