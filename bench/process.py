"""The real service in a process of its own, as the operator starts it, against the fakes.

Shared by the benchmarks that measure a process from outside: start-up, memory and the
slash command's server CPU. Readiness is /healthz answering 200; CPU is the process's
user + system time from /proc, so what the client and the fakes spend is not counted.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any, NamedTuple

import aiohttp

from tests.slack_fakes import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.telegram_fakes import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
MAIN = "from bot.cli import main; main()"  # what the `achtje` script runs


def cpu_seconds(pid: int) -> float:
    """User + system CPU a running process has used so far (clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_env(database_url: str, slack: FakeSlack | None,
                telegram: FakeTelegram | None) -> dict[str, str]:
    """The environment of `achtje run` with the platforms given, against those fakes (the
    scheduler ticks once an hour, so it does not run during a measurement)."""
    env = {**os.environ, "ACHTJE_DATABASE_URL": database_url, "ACHTJE_SCHEDULER_TICK": "3600",
           "ACHTJE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    if slack is not None:
        env |= {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "ACHTJE_SLACK_API_URL": slack.api_url}
    if telegram is not None:
        env |= {"TELEGRAM_BOT_TOKEN": telegram.token, "ACHTJE_TELEGRAM_API_URL": telegram.url,
                "ACHTJE_TELEGRAM_WEBHOOK_URL": "https://bench.invalid/telegram/webhook",
                "ACHTJE_TELEGRAM_WEBHOOK_SECRET": "bench-secret"}
    # As installed (pip writes every module's bytecode): a first run writes achtje's own,
    # should PYTHONDONTWRITEBYTECODE be set in this shell.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


async def wait_ready(port: int, started: float, timeout: float = 120) -> float:
    """Seconds from `started` until /healthz on `port` answers 200."""
    async with aiohttp.ClientSession() as http:
        while time.perf_counter() - started < timeout:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.02)
    raise TimeoutError("the service did not become ready")


class Served(NamedTuple):
    pid: int
    url: str  # where it serves, http://127.0.0.1:<port>
    ready_s: float  # from its start until /healthz answered


@asynccontextmanager
async def serving(argv: list[str], env: dict[str, str], stderr: IO[Any] | None = None,
                  timeout: float = 60) -> AsyncIterator[Served]:
    """A child process serving HTTP on a free port (ACHTJE_HTTP_PORT), once its /healthz
    answers; stopped when the block ends."""
    port = free_port()
    started = time.perf_counter()
    child = subprocess.Popen(argv, env={**env, "ACHTJE_HTTP_PORT": str(port)}, cwd=ROOT,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        ready = await wait_ready(port, started, timeout)
        yield Served(child.pid, f"http://127.0.0.1:{port}", ready)
    finally:
        child.terminate()
        child.wait(30)


async def wait_idle(pid: int, timeout: float = 1800, quiet: float = 0.05) -> float:
    """Seconds until a process has used less than `quiet` s of CPU in each of two
    seconds running (a service's first scheduler tick, which starts at once, is done)."""
    started, calm = time.perf_counter(), 0
    cpu = cpu_seconds(pid)
    while calm < 2:
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the service did not become idle")
        await asyncio.sleep(1.0)
        cpu, before = cpu_seconds(pid), cpu
        calm = calm + 1 if cpu - before < quiet else 0
    return time.perf_counter() - started


def bare_interpreter() -> dict[str, float]:
    """The floor of a process: a bare interpreter of this venv that reports its own memory;
    its start time and memory, best of three."""
    code = ("import pathlib;print([int(l.split()[1]) for l in pathlib.Path('/proc/self/status')"
            ".read_text().splitlines() if l.startswith('VmRSS:')][0] / 1024)")
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout
        runs.append((time.perf_counter() - started, float(out)))
    seconds, rss = min(runs)
    return {"start_s": seconds, "rss_mb": rss}
