"""Start-up: `achtje run` from process start to ready, and what it imports on the way.

`python -m bench.startup [--runs N] [--importtime]` runs the real `achtje run` (Slack over
HTTP and Telegram's webhook, against the fakes of the tests, on a SQLite file at head) N
times in a fresh process each and reports, per run and as medians: the wall time until
/healthz answers 200, the CPU the process had used by then (user + system from /proc), and
with --importtime the import time of each top-level package (`-X importtime`, which itself
adds some time). Bytecode is there, as pip installs it (a first run, not counted, writes
achtje's own). On a shared machine compare the CPU and the import sums, and the load
average printed beside them, not the wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.footprint import ROOT, _wait_ready, free_port
from tests.slack_fakes import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.telegram_fakes import FakeTelegram

TICKS = os.sysconf("SC_CLK_TCK")
MAIN = "from bot.cli import main; main()"  # what the `achtje` script runs


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def import_sums(stderr: str) -> dict[str, float]:
    """Seconds of import per top-level package (the sum of its modules' own times, from
    `-X importtime`), and under "total" the sum of the cumulative times at depth 0."""
    sums: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        sums[name.strip().split(".")[0]] += int(own) / 1e6
        if not name.startswith("  "):
            sums["total"] += int(cumulative) / 1e6
    return dict(sums)


@dataclass(frozen=True)
class Run:
    ready_s: float
    cpu_s: float
    imports: dict[str, float]


async def once(env: dict[str, str], importtime: bool, log: Path) -> Run:
    port = free_port()
    flags = ["-X", "importtime"] if importtime else []
    started = time.perf_counter()
    with log.open("w") as err:
        child = subprocess.Popen([sys.executable, *flags, "-c", MAIN, "run"],
                                 env={**env, "ACHTJE_HTTP_PORT": str(port)}, cwd=ROOT,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=err)
        try:
            try:
                ready = await _wait_ready(port, started, timeout=60)
            except TimeoutError:
                sys.exit(log.read_text()[-3000:])
            cpu = cpu_seconds(child.pid)
        finally:
            child.terminate()
            child.wait(30)
    return Run(ready, cpu, import_sums(log.read_text()) if importtime else {})


async def main(runs: int, importtime: bool) -> None:
    slack, telegram = FakeSlack(), FakeTelegram()
    await slack.start()
    await telegram.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            env = {**os.environ, "ACHTJE_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/a.db",
                   "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                   "ACHTJE_SLACK_API_URL": slack.api_url,
                   "TELEGRAM_BOT_TOKEN": telegram.token,
                   "ACHTJE_TELEGRAM_API_URL": telegram.url,
                   "ACHTJE_TELEGRAM_WEBHOOK_URL": "https://bench.invalid/telegram/webhook",
                   "ACHTJE_TELEGRAM_WEBHOOK_SECRET": "bench-secret",
                   "ACHTJE_SCHEDULER_TICK": "3600", "ACHTJE_LOG_LEVEL": "WARNING"}
            # As installed (pip writes every module's bytecode): one run first, not
            # counted, writes achtje's own, should PYTHONDONTWRITEBYTECODE be set here.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            subprocess.run([sys.executable, "-c", MAIN, "db", "upgrade"], env=env,
                           cwd=ROOT, check=True, capture_output=True)
            await once(env, False, Path(folder) / "warm-up.log")
            print(f"load before: {os.getloadavg()[0]:.2f}")
            results = []
            for number in range(runs):
                found = await once(env, importtime, Path(folder) / f"run{number}.log")
                results.append(found)
                print(f"run {number + 1}: ready {found.ready_s:.3f} s wall, "
                      f"{found.cpu_s:.2f} s CPU")
            print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        await slack.stop()
        await telegram.stop()
    print(f"median: ready {statistics.median(r.ready_s for r in results):.3f} s wall, "
          f"{statistics.median(r.cpu_s for r in results):.2f} s CPU")
    if importtime:
        names = set().union(*(r.imports for r in results))
        medians = {n: statistics.median(r.imports.get(n, 0.0) for r in results) for n in names}
        print("imports, median s (total: the cumulative times at depth 0; the rest: each "
              "package's own):")
        for name, seconds in sorted(medians.items(), key=lambda item: -item[1])[:25]:
            print(f"  {name:<28} {seconds:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.importtime))
