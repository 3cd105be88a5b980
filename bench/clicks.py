"""Shared by the two click benchmarks: members with an open round, and a load driver.

Every click answers one statement of the open round with a 3, 4 or 5 (no follow-up
question), so each click stores one answer and the engine asks the next statement. Click
`k` is member `k mod M` on statement `k div M`, with M chosen so that no member has two
clicks in flight at once (a person does not press two buttons in the same millisecond).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.common import Result, backends, latency_figures, path_row, ratio, result
from bot import rounds
from bot.content import Content
from bot.store.models import Answer, Member, Partnership, School

# One click at a time (a person presses, sees the next question, presses again), the floor
# and ours in alternating blocks after a warm-up; p99 over `samples` clicks of each.
SIZES = {"smoke": {"warmup": 3, "block": 10, "samples": 20, "concurrency": 1},
         "full": {"warmup": 50, "block": 100, "samples": 1_000, "concurrency": 1}}
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


async def drive(http: aiohttp.ClientSession, url: str,
                requests: Sequence[Callable[[], Request]], concurrency: int,
                finished: Finished, pace: float | None = None) -> tuple[dict[str, float], float]:
    """POST the requests, `concurrency` at a time over the kept-alive connections of `http`:
    a worker sends its next click only when the work of its last one is done (a person
    presses the next button once they see the next question). With a `pace` (presses per
    second) click n also waits for its slot, n / pace seconds after the start: a fixed
    arrival rate, as presses spread over many people come in. Requests are built (signed)
    just before they go, so signatures are fresh; a refused request stops the benchmark.
    Returns when each click was sent, and the wall time."""
    sent: dict[str, float] = {}
    queue: asyncio.Queue[Callable[[], Request]] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    slots = itertools.count()
    started = time.perf_counter()

    async def worker() -> None:
        while not queue.empty():
            build = queue.get_nowait()
            if pace:
                await asyncio.sleep(started + next(slots) / pace - time.perf_counter())
            key, body, headers = build()
            sent[key] = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
                response.raise_for_status()
            with contextlib.suppress(TimeoutError):  # counted as lost
                await finished.wait(key)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent, time.perf_counter() - started


Measured = tuple[list[float], float]  # latencies and the wall time they took


def latencies(sent: dict[str, float], done: dict[str, float]) -> list[float]:
    return [done[key] - at for key, at in sent.items() if key in done]


@dataclass
class Stack:
    """A running stack under test: where clicks go, the clicks still to make (each built
    when it is sent), when each was done, and what it did in all (`tally`: stored answers,
    posted replies, lost ones)."""

    url: str
    requests: Iterator[Callable[[], Request]]
    finished: Finished
    tally: Callable[[], Awaitable[dict[str, Any]]] | None = None


StackFactory = Callable[[int], AbstractAsyncContextManager[Stack]]
OurFactory = Callable[[str, int], AbstractAsyncContextManager[Stack]]


def clicks_needed(scale: dict[str, int]) -> int:
    """Warm-up plus enough whole blocks for the samples."""
    return scale["warmup"] + math.ceil(scale["samples"] / scale["block"]) * scale["block"]


async def _block(http: aiohttp.ClientSession, stack: Stack, clicks: int,
                 scale: dict[str, int]) -> Measured:
    """Send the next `clicks` of a stack (at the scale's concurrency, and its pace if it
    has one); their latencies (request to done) and wall time."""
    sent, seconds = await drive(http, stack.url, list(itertools.islice(stack.requests, clicks)),
                                scale["concurrency"], stack.finished, scale.get("pace_per_s"))
    return latencies(sent, stack.finished.at), seconds


async def alternate(floor: Stack, ours: Stack, scale: dict[str, int]) -> tuple[Measured, Measured]:
    """Warm both stacks up, then send blocks of clicks to the floor and to ours in turn
    until each has had `samples` clicks: both see the same moments of the machine, over
    connections kept alive from the warm-up on (no block pays for a new one)."""
    async with aiohttp.ClientSession() as http:
        return await _alternate(http, floor, ours, scale)


async def _alternate(http: aiohttp.ClientSession, floor: Stack, ours: Stack,
                     scale: dict[str, int]) -> tuple[Measured, Measured]:
    for stack in (floor, ours):
        await _block(http, stack, scale["warmup"], scale)
    done: tuple[list[float], list[float]] = ([], [])
    seconds = [0.0, 0.0]
    for _ in range(math.ceil(scale["samples"] / scale["block"])):
        for n, stack in enumerate((floor, ours)):
            new, took = await _block(http, stack, scale["block"], scale)
            done[n].extend(new)
            seconds[n] += took
    return (done[0], seconds[0]), (done[1], seconds[1])


async def against_floor(name: str, floor_name: str, size: str, scale: dict[str, int],
                        floor: StackFactory, ours: OurFactory, note: str,
                        path: str) -> Result:
    """On every backend: the bare framework and our stack side by side in this process,
    clicked in alternating blocks; latencies, ratios and the issue's verdict."""
    clicks = clicks_needed(scale)
    figures: dict[str, Any] = {}
    floors: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    paths = []
    lost = 0
    for backend in backends():
        async with floor(clicks) as bare, ours(backend, clicks) as mine:
            (bare_done, bare_seconds), (done, seconds) = await alternate(bare, mine, scale)
            assert mine.tally is not None
            tally = await mine.tally()
        lost += tally.pop("lost")
        floors[backend] = latency_figures(bare_done, bare_seconds)
        figures[backend] = {**latency_figures(done, seconds), **tally}
        for key in ("p50_ms", "p99_ms", "per_second"):
            ratios[f"{backend}_{key}"] = ratio(figures[backend][key], floors[backend][key])
        p99, bare_p99 = figures[backend]["p99_ms"], floors[backend]["p99_ms"]
        paths.append(path_row(f"{path} ({backend}, {len(done)} clicks)",
                              "p99 <= 1.5x floor and < 50 ms", p99, bare_p99, "ms",
                              p99 <= 1.5 * bare_p99 and p99 < 50))
    scale = {**scale, "clicks": clicks}
    return result(name, size, scale, figures, {floor_name: floors}, ratios, lost, note, paths)
