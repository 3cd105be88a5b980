"""What every benchmark shares: sizes, databases, percentiles, memory, and the result shape.

A result is a plain dict so it goes to bench/results.json as is: `figures` holds what was
measured, `floor` what the bare framework or plain SQL did in the same run, `ratios` the
one divided by the other (the figure to compare between machines), and `lost` how many
messages or answers went missing (always expected to be 0).
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.store import db

Result = dict[str, Any]
POSTGRES_ENV = "ACHTJE_BENCH_POSTGRES_URL"


def backends() -> list[str]:
    """SQLite always; PostgreSQL when ACHTJE_BENCH_POSTGRES_URL names a database to wipe."""
    return ["sqlite", "postgres"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@asynccontextmanager
async def database(backend: str) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[Any]]]:
    """A fresh, migrated database: a temporary SQLite file, or the bench PostgreSQL schema
    dropped and made again (never point ACHTJE_BENCH_POSTGRES_URL at data you need)."""
    if backend == "postgres":
        url = os.environ[POSTGRES_ENV]
        wipe = db.create_engine(url)
        async with wipe.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await wipe.dispose()
        engine, sessions = await db.connect(url)
        try:
            yield engine, sessions
        finally:
            await engine.dispose()
        return
    with tempfile.TemporaryDirectory(prefix="achtje-bench-") as folder:
        engine, sessions = await db.connect(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            yield engine, sessions
        finally:
            await engine.dispose()


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def latency_figures(latencies: Sequence[float], seconds: float) -> dict[str, float]:
    """p50 and p99 in milliseconds, and how many per second came through."""
    return {"p50_ms": 1000 * percentile(latencies, 0.50),
            "p99_ms": 1000 * percentile(latencies, 0.99),
            "mean_ms": 1000 * statistics.fmean(latencies) if latencies else float("nan"),
            "per_second": len(latencies) / seconds if seconds else float("nan")}


def ratio(value: float, floor: float) -> float:
    return value / floor if floor else float("nan")


def rss_mb() -> float:
    """Resident memory now (VmRSS), in MB; the peak from getrusage where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stopwatch:
    """Wall time of a block: `with Stopwatch() as watch: ...; watch.seconds`."""

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


def result(name: str, size: str, scale: dict[str, Any], figures: dict[str, Any],
           floor: dict[str, Any], ratios: dict[str, float], lost: int = 0,
           notes: str = "", paths: list[dict[str, Any]] | None = None) -> Result:
    found = {"name": name, "size": size, "scale": scale, "figures": figures, "floor": floor,
             "ratios": ratios, "lost": lost, "notes": notes}
    if paths:
        found["paths"] = paths
    return found


def path_row(path: str, target: str, measured: float, floor: float | None, unit: str,
             met: bool | None) -> dict[str, Any]:
    """One line of the issue's table: path | target | measured | floor | ratio | verdict.
    The verdict holds at the size run (None: the target says nothing at this size);
    absolute targets only mean something on an idle machine."""
    return {"path": path, "target": target, "measured": f"{measured:.3g} {unit}",
            "floor": "" if floor is None else f"{floor:.3g} {unit}",
            "ratio": f"{ratio(measured, floor):.2f}x" if floor else "",
            "verdict": "n/a" if met is None else "met" if met else "short"}
