"""What a press costs without the platform: the engine's turn, and its SQL by layer.

The click benchmarks compare a whole press with a bare framework that stores nothing. This
one splits what lies between: the engine's turn for a check-in press (`Engine.handle` of
a button, no HTTP, no platform calls), and the very statements that turn sent to the
database, recorded from a real press and replayed in one transaction (a fresh event id
each time), through each layer the turn goes through: SQLAlchemy's async engine (driver
SQL, nothing to compile), aiosqlite's thread, and sqlite3 in the calling thread. The
lowest is the floor: what storing a press costs at all. Turns and replays alternate in
blocks after a warm-up, on the same database file.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.clicks import Click, prepare
from bench.common import Result, backends, database, latency_figures, ratio, result
from bot.content import load_content
from bot.engine import Engine
from bot.messages import Incoming
from tests.sql_log import recorded

SIZES = {"smoke": {"warmup": 5, "block": 20, "samples": 60},
         "full": {"warmup": 100, "block": 200, "samples": 2_000}}
TEAM = "T1"
Statement = tuple[str, Any]  # SQL as sent to the driver, and its parameters


def press(click: Click, number: int) -> Incoming:
    return Incoming(platform="slack", user=f"{TEAM}:U{click.user}", chat=f"D{click.user}",
                    direct=True, action=click.value, event_id=f"turn:{number}")


def fresh_marker(statements: list[Statement], number: int) -> list[Statement]:
    """The recorded statements with a new event id for the processed-event marker, so a
    replay writes it as a new press would."""
    renewed = []
    for sql, parameters in statements:
        if "processed_event" in sql:
            parameters = tuple(f"replay:{number}" if str(p).startswith("turn:") else p
                               for p in parameters)
        renewed.append((sql, parameters))
    return renewed


async def _timed(samples: list[float], step: Callable[[], Awaitable[None]], count: int) -> None:
    for _ in range(count):
        started = time.perf_counter()
        await step()
        samples.append(time.perf_counter() - started)


async def _measure(backend: str, scale: dict[str, int]) -> dict[str, dict[str, float]]:
    content = load_content()
    needed = scale["warmup"] + scale["samples"] + 1
    async with database(backend) as (engine, sessions):
        clicks = iter(await prepare(sessions, content, "slack", lambda n: f"{TEAM}:U{n}",
                                    needed))
        turns = Engine(sessions, content)
        numbers = itertools.count()
        with recorded(engine) as sent:
            outcome = await turns.handle(press(next(clicks), next(numbers)))
        if not outcome.replies:
            raise RuntimeError("the recorded press was not answered")
        statements = [s for s in sent if not s[0].lstrip().upper().startswith(
            ("BEGIN", "COMMIT", "ROLLBACK"))]

        async def turn() -> None:
            await turns.handle(press(next(clicks), next(numbers)))

        async def through_sqlalchemy() -> None:
            async with engine.connect() as connection, connection.begin():
                for sql, parameters in fresh_marker(statements, next(numbers)):
                    found = await connection.exec_driver_sql(sql, parameters)
                    if found.returns_rows:
                        found.fetchall()

        layers: dict[str, Callable[[], Awaitable[None]]] = {
            "engine_turn": turn, "sqlalchemy": through_sqlalchemy}
        closers: list[Callable[[], Awaitable[None]]] = []
        if backend == "sqlite":
            layers.update(await _sqlite_layers(engine, statements, numbers, closers))
        try:
            samples: dict[str, list[float]] = {name: [] for name in layers}
            for step in layers.values():
                await _timed([], step, scale["warmup"])
            for _ in range(scale["samples"] // scale["block"]):
                for name, step in layers.items():
                    await _timed(samples[name], step, scale["block"])
        finally:
            for close in closers:
                await close()
        took = {name: latency_figures(found, sum(found)) for name, found in samples.items()}
        for figures in took.values():
            figures["statements"] = len(statements)
        return took


async def _sqlite_layers(engine: AsyncEngine, statements: list[Statement],
                         numbers: Iterator[int],
                         closers: list[Callable[[], Awaitable[None]]]
                         ) -> dict[str, Callable[[], Awaitable[None]]]:
    """Replays through aiosqlite (each step a hop to its thread) and through sqlite3 in
    this thread, on the same file with the same pragmas."""
    import sqlite3

    import aiosqlite

    path = str(engine.url.database)
    hopping = await aiosqlite.connect(path, isolation_level=None)
    direct = sqlite3.connect(path, isolation_level=None)
    for pragma in ("PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON"):
        await hopping.execute(pragma)
        direct.execute(pragma)

    async def close() -> None:
        await hopping.close()
        direct.close()

    closers.append(close)

    async def through_aiosqlite() -> None:
        await hopping.execute("BEGIN")
        for sql, parameters in fresh_marker(statements, next(numbers)):
            cursor = await hopping.execute(sql, parameters)
            await cursor.fetchall()
            await cursor.close()
        await hopping.execute("COMMIT")

    async def through_sqlite3() -> None:
        direct.execute("BEGIN")
        for sql, parameters in fresh_marker(statements, next(numbers)):
            direct.execute(sql, parameters).fetchall()
        direct.execute("COMMIT")

    return {"aiosqlite": through_aiosqlite, "sqlite3": through_sqlite3}


async def run(size: str) -> Result:
    scale = SIZES[size]
    figures: dict[str, Any] = {}
    floors: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    for backend in backends():
        took = await _measure(backend, scale)
        lowest = "sqlite3" if backend == "sqlite" else "sqlalchemy"
        floors[backend] = took.pop(lowest) | {"layer": lowest}
        figures[backend] = took
        for name, found in took.items():
            ratios[f"{backend}_{name}_p50"] = ratio(found["p50_ms"], floors[backend]["p50_ms"])
    return result("turn", size, scale, figures, floors, ratios, 0,
                  "a check-in press without the platform: the engine's turn, and the same "
                  "statements replayed through each layer under it; the floor is the lowest "
                  "layer (sqlite3 in the calling thread on SQLite)")
