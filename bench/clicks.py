"""Shared by the two click benchmarks: members with an open round, and a load driver.

Every click answers one statement of the open round with a 3, 4 or 5 (no follow-up
question), so each click stores one answer and the engine asks the next statement. Click
`k` is member `k mod M` on statement `k div M`, with M chosen so that no member has two
clicks in flight at once (a person does not press two buttons in the same millisecond).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.common import Result, backends, ratio, result
from bot import rounds
from bot.content import Content
from bot.store.models import Answer, Member, Partnership, School

SIZES = {"smoke": {"clicks": 30, "concurrency": 10},
         "full": {"clicks": 5_000, "concurrency": 50}}
STATEMENTS = 3


@dataclass(frozen=True)
class Click:
    key: str  # how the finished work is found again
    user: int  # member number
    value: str  # the button value the engine gets


async def prepare(sessions: async_sessionmaker[Any], content: Content, platform: str,
                  user_ref: Callable[[int], str], clicks: int) -> list[Click]:
    """One partnership, enough onboarded members, an open round; the clicks to make."""
    now = datetime.now(UTC)
    people = math.ceil(clicks / STATEMENTS)
    async with sessions() as session, session.begin():
        partnership = Partnership(name="Klikpartnerschap", created_at=now,
                                  schools=[School(name="Vmbo Oost", type="vmbo"),
                                           School(name="Mbo West", type="mbo")])
        session.add(partnership)
        await session.flush()
        schools = [s.id for s in partnership.schools]
        await session.execute(insert(Member), [
            {"partnership_id": partnership.id, "platform": platform, "user_ref": user_ref(n),
             "display_name": f"Lid {n}", "school_id": schools[n % 2], "level": "teachers",
             "role": "member", "language": "nl", "onboarded_at": now, "created_at": now}
            for n in range(people)])
        round_ = await rounds.open_round(session, content, partnership.id, now)
        statements = list(round_.statement_ids)[:STATEMENTS]
        round_id = round_.id
    return [Click(key=str(k), user=k % people,
                  value=f"s:{round_id}:{statements[k // people]}:{3 + k % 3}")
            for k in range(clicks)]


async def stored_answers(sessions: async_sessionmaker[Any]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Answer)) or 0)


Request = tuple[str, bytes, dict[str, str]]  # key, body, headers


@dataclass
class Load:
    """What came back: per key the moment the request was sent and answered."""

    sent: dict[str, float]
    answered: dict[str, float]
    statuses: dict[int, int]
    seconds: float


class Finished:
    """The moment each click's work was done, and a way to wait for one."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._waiting: dict[str, asyncio.Future[None]] = {}

    def mark(self, key: str) -> None:
        self.at[key] = time.perf_counter()
        waiting = self._waiting.pop(key, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    async def wait(self, key: str, timeout: float = 120.0) -> None:
        if key in self.at:
            return
        future = self._waiting.setdefault(key, asyncio.get_running_loop().create_future())
        await asyncio.wait_for(future, timeout)


async def drive(url: str, requests: Sequence[Callable[[], Request]], concurrency: int,
                finished: Finished | None = None) -> Load:
    """POST the requests, `concurrency` at a time over kept-alive connections.

    With `finished`, a worker sends its next click only when the work of its last one is
    done (50 people, each pressing the next button once they see the next question);
    without it, as soon as the HTTP answer is in. Requests are built (signed) just before
    they go, so signatures are fresh."""
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[Callable[[], Request]] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            while not queue.empty():
                key, body, headers = queue.get_nowait()()
                sent[key] = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    answered[key] = time.perf_counter()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                if finished is not None and response.status == 200:
                    with contextlib.suppress(TimeoutError):  # counted as lost
                        await finished.wait(key)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Load(sent, answered, statuses, time.perf_counter() - started)


def latencies(sent: dict[str, float], done: dict[str, float]) -> list[float]:
    return [done[key] - at for key, at in sent.items() if key in done]


Measure = Callable[..., Awaitable[dict[str, Any]]]


async def against_floor(name: str, floor_name: str, size: str, scale: dict[str, int],
                        floor: Measure, ours: Measure, note: str) -> Result:
    """Run the bare framework, then our stack on every backend, and compare the two."""
    bare = await floor(scale["clicks"], scale["concurrency"])
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    lost = 0
    for backend in backends():
        found = await ours(backend, scale["clicks"], scale["concurrency"])
        lost += found.pop("lost")
        figures[backend] = found
        for key in ("p50_ms", "p99_ms"):
            ratios[f"{backend}_{key}"] = ratio(found[key], bare[key])
        ratios[f"{backend}_per_second"] = ratio(found["per_second"], bare["per_second"])
    return result(name, size, scale, figures, {floor_name: bare}, ratios, lost, note)
