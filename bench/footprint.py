"""Footprint: memory and start-up time of the real service with Slack and Telegram set up.

A fresh process runs `bot.service.serve` (both adapters over HTTP, the scheduler on)
against the fake Slack and fake Telegram of the tests, on a database filled as in the
summaries benchmark. Ready is when its /healthz answers; the resident memory (VmRSS) is
read from /proc then, and again after the process has computed every summary. The floor
is a bare Python interpreter of the same venv: its start time and memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import Result, backends, database, ratio, result
from bench.summaries import SIZES, all_summaries, fill, freeze_earlier, summary_month
from tests.slack_fakes import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.telegram_fakes import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bare_interpreter() -> dict[str, float]:
    """The floor: start a bare interpreter that reports its own memory, best of three."""
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


async def measure(backend: str, scale: dict[str, int], url: str) -> dict[str, Any]:
    slack, telegram = FakeSlack(), FakeTelegram()
    await slack.start()
    await telegram.start()
    port = free_port()
    env = {**os.environ, "ACHTJE_DATABASE_URL": url, "ACHTJE_HTTP_PORT": str(port),
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "ACHTJE_SLACK_API_URL": slack.api_url, "TELEGRAM_BOT_TOKEN": telegram.token,
           "ACHTJE_TELEGRAM_API_URL": telegram.url,
           "ACHTJE_TELEGRAM_WEBHOOK_URL": "https://bench.invalid/telegram/webhook",
           "ACHTJE_TELEGRAM_WEBHOOK_SECRET": "bench-secret", "ACHTJE_SCHEDULER_TICK": "3600",
           "ACHTJE_BENCH_WEEKS": str(scale["weeks"]), "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.footprint", "--child", env=env, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        ready = await _wait_ready(port, started)
        at_ready = vm_rss_mb(child.pid)
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(b"summaries\n")
        await child.stdin.drain()
        after = json.loads(await asyncio.wait_for(child.stdout.readline(), 1800))
        child.stdin.close()
        await asyncio.wait_for(child.wait(), 60)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await slack.stop()
        await telegram.stop()
    return {"ready_s": ready, "rss_ready_mb": at_ready, "rss_after_summaries_mb": after["rss"],
            "summaries": after["summaries"], "summaries_s": after["seconds"]}


async def _wait_ready(port: int, started: float, timeout: float = 120) -> float:
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


async def run(size: str) -> Result:
    scale = SIZES[size]
    bare = bare_interpreter()
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    lost = 0
    for backend in backends():
        async with database(backend) as (engine, _sessions):
            from bot.content import load_content

            content = load_content()
            await fill(engine, content, scale["partnerships"], scale["members"],
                       scale["weeks"])
            # The months before the summarised one frozen, as in the summaries benchmark
            # (a running scheduler froze them), before the service starts: made while the
            # service's scheduler freezes the same backlog, its copies would race it.
            await freeze_earlier(_sessions, content, list(range(1, scale["partnerships"] + 1)),
                                 summary_month(scale["weeks"]))
            url = engine.url.render_as_string(hide_password=False)
            found = await measure(backend, scale, url)
        figures[backend] = found
        lost += scale["partnerships"] - found["summaries"]
        ratios[f"{backend}_ready_vs_bare"] = ratio(found["ready_s"], bare["start_s"])
        ratios[f"{backend}_rss_ready_vs_bare"] = ratio(found["rss_ready_mb"], bare["rss_mb"])
    return result("footprint", size, scale, figures, {"bare_python": bare}, ratios, lost,
                  "the service in its own process; lost = summaries without respondents")


async def _child() -> None:
    """Run the service; on a line on stdin compute every summary, report, and stop."""
    from bot.content import load_content
    from bot.service import serve
    from bot.settings import Settings
    from bot.store import db

    settings = Settings.model_validate(dict(os.environ))
    content = load_content()
    stop = asyncio.Event()
    service = asyncio.create_task(serve(settings, content, stop))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    engine, sessions = await db.connect(settings.database_url)
    seconds, done = await all_summaries(sessions, content,
                                        summary_month(int(os.environ["ACHTJE_BENCH_WEEKS"])))
    await engine.dispose()
    print(json.dumps({"rss": vm_rss_mb(os.getpid()), "summaries": done, "seconds": seconds}),
          flush=True)
    stop.set()
    await service


if __name__ == "__main__" and "--child" in sys.argv:
    asyncio.run(_child())
