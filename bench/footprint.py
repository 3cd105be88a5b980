"""Footprint: memory of the real service with Slack and Telegram set up.

A fresh process runs `bot.service.serve` (both adapters over HTTP, the scheduler on)
against the fake Slack and fake Telegram of the tests, on a database filled as in the
summaries benchmark. Once its /healthz answers, the resident memory (VmRSS) is read from
/proc; then, once the scheduler's first tick (which starts at once, and freezes the
month that closed last for every partnership) is done, the process computes every
summary as the scheduler sends them, and the memory is read again: that second figure is
the issue's "memory of `achtje run`" (target < 200 MB). Computing them during that tick
would make two writers wait for each other's lock on SQLite. The floor is the memory of a bare
Python interpreter of the same venv. The time to ready is the startup benchmark's.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from bench.common import Result, backends, database, path_row, ratio, result
from bench.process import (
    ROOT,
    bare_interpreter,
    free_port,
    service_env,
    vm_rss_mb,
    wait_idle,
    wait_ready,
)
from bench.summaries import SIZES, all_summaries, fill, freeze_earlier, summary_month
from tests.slack_fakes import FakeSlack
from tests.telegram_fakes import FakeTelegram

MEMORY_TARGET = 200.0  # MB after every summary


async def measure(backend: str, scale: dict[str, int], url: str) -> dict[str, Any]:
    slack, telegram = FakeSlack(), FakeTelegram()
    await slack.start()
    await telegram.start()
    port = free_port()
    env = {**service_env(url, slack, telegram), "ACHTJE_HTTP_PORT": str(port),
           "ACHTJE_BENCH_WEEKS": str(scale["weeks"])}
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.footprint", "--child", env=env, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        await wait_ready(port, started)
        at_ready = vm_rss_mb(child.pid)
        first_tick = await wait_idle(child.pid)
        after_tick = vm_rss_mb(child.pid)
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
    return {"rss_ready_mb": at_ready, "first_tick_s": first_tick, "rss_after_tick_mb": after_tick,
            "rss_after_summaries_mb": after["rss"],
            "summaries": after["summaries"], "summaries_s": after["seconds"]}


async def run(size: str) -> Result:
    scale = SIZES[size]
    bare = bare_interpreter()
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    lost = 0
    paths = []
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
        ratios[f"{backend}_rss_ready_vs_bare"] = ratio(found["rss_ready_mb"], bare["rss_mb"])
        rss = found["rss_after_summaries_mb"]
        ratios[f"{backend}_rss_after_vs_bare"] = ratio(rss, bare["rss_mb"])
        paths.append(path_row(f"memory of `achtje run` after {found['summaries']} summaries "
                              f"({backend})", f"< {MEMORY_TARGET:.0f} MB", rss,
                              bare["rss_mb"], "MB", rss < MEMORY_TARGET))
    return result("footprint", size, scale, figures, {"bare_python": bare}, ratios, lost,
                  "the service in its own process; memory is VmRSS; the floor is a bare "
                  "interpreter's; lost = summaries without respondents", paths)


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
