"""Three processes sending at once share one set of rate limits through the database: the
grants of all three together never exceed what a bucket allows in any window."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.messages import Text
from bot.outbox import Envelope, enqueue
from bot.rates import Rate
from bot.store.models import Partnership
from bot.store.schedule import OutboxMessage
from scheduler.ratelimit import RateLimiter
from scheduler.sender import Sender
from tests.ratelimit_worker import LIMITS
from tests.scheduler_fakes import HttpAdapter, fake_platform
from tests.test_sender import NOW, PLATFORM_LIMITS, FakeTime

WORKERS = 3
DURATION = 3.0


def most_in_a_window(times: list[float], window: float) -> int:
    """The largest number of grants in any half-open interval of `window` seconds."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - window:
            first += 1
        most = max(most, last - first + 1)
    return most


def allowed(rate: Rate, window: float) -> int:
    """What a bucket may grant in a window: a full burst, plus what flows in meanwhile."""
    return int(rate.burst + rate.per_second * window + 1e-6)


@pytest.mark.parametrize("batch", [1, 3])
def test_three_processes_together_stay_within_the_limits(
    database_url: str, tmp_path: Path, sessions: object,  # sessions: the schema is there
    batch: int,
) -> None:
    """One message at a time (`take`), or three at once (`take_many`, as the sender)."""
    chats = ["a", "b", "c", "d"]
    started = [
        subprocess.Popen([sys.executable, "-m", "tests.ratelimit_worker", database_url,
                          str(DURATION), str(batch), *chats[n:], *chats[:n]],
                         cwd=Path(__file__).parent.parent, text=True, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for n in range(WORKERS)
    ]
    for process in started:  # all connected, then all go at the same moment
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    begin = time.time() + 0.5
    for process in started:
        assert process.stdin is not None
        process.stdin.write(f"{begin!r}\n")
        process.stdin.flush()
    grants: dict[str, list[float]] = defaultdict(list)
    per_worker = []
    for process in started:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        lines = [line.split() for line in out.splitlines()]
        per_worker.append(len(lines))
        for chat, at in lines:
            grants[chat].append(float(at))
    everything = [at for times in grants.values() for at in times]
    overall, chat_rate = LIMITS["telegram"].overall, LIMITS["telegram"].direct
    assert overall is not None and chat_rate is not None
    for window in (0.25, 0.5, 1.0, DURATION):
        assert most_in_a_window(everything, window) <= allowed(overall, window)
        for chat, times in grants.items():
            assert most_in_a_window(times, window) <= allowed(chat_rate, window), chat
    # And they did send: most of what the chats allow (4 chats, 2 a second each).
    assert len(everything) >= 0.6 * len(chats) * chat_rate.per_second * DURATION
    assert all(per_worker), per_worker  # each process got its share


async def test_a_row_another_process_beat_to_the_token_waits_without_using_an_attempt(
    sessions: async_sessionmaker[Any],
) -> None:
    """Two senders (as two processes) on one database, two messages for one Slack channel
    (one a second): the second sender claims the second message before it has seen the
    first one's token taken; the shared bucket says no, and the row goes back unharmed."""
    time_now = FakeTime()
    async with sessions() as session, session.begin():
        partnership = Partnership(name="P", created_at=NOW)
        session.add(partnership)
        await session.flush()
        await enqueue(session, [
            Envelope("nudge", partnership.id, f"channel:{n}", date(2026, 11, 24),
                            "slack", "T1:C1", False, (Text(text=f"bericht {n}"),), NOW,
                            NOW + timedelta(hours=3))
            for n in (1, 2)], NOW)
    async with fake_platform() as fake:
        adapter = HttpAdapter(fake.url, platform="slack")
        await adapter.start()
        try:
            first, second = (
                Sender(sessions, {"slack": adapter}, clock=time_now,
                       limiter=RateLimiter(time_now.seconds, PLATFORM_LIMITS,
                                           sessions=sessions))
                for _ in range(2))
            assert await second.limiter.held_back() == {}  # its view, read before
            assert await first.send_due(limit=1) == 1
            assert first._parts == {}  # settled with no room left: its posts are let go
            assert await second.send_due(limit=1) == 0  # claimed, refused, put back
            assert len(fake.received) == 1
            async with sessions() as session:
                back = await session.scalar(select(OutboxMessage).where(
                    OutboxMessage.status == "pending"))
            assert back is not None and back.attempts == 0
            assert back.not_before is not None
            assert back.not_before.replace(tzinfo=UTC) == NOW + timedelta(seconds=1)
            time_now.now += timedelta(seconds=1)
            assert await second.send_due() == 1
        finally:
            await adapter.stop()
    assert [r.text for r in fake.received] == ["bericht 1", "bericht 2"]
    async with sessions() as session:
        settled = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(r.status, r.attempts) for r in settled] == [("sent", 1), ("sent", 1)]
