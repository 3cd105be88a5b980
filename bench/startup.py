"""Start-up: `achtje --help`, and `achtje run` from process start to ready.

`--help` is the installed console script (or `python -c "from bot.cli import main;
main()"` where there is none), run N times: the median wall time, and the CPU it used
beside it. `achtje run` is the real service (Slack over HTTP and Telegram's webhook,
against the fakes of the tests, on a SQLite file at head) started N times in a fresh
process each: the wall time until /healthz answers 200 (the target) and the CPU the
process had used by then (user + system from /proc). The floor of both is a bare
interpreter of the same venv. Bytecode is there, as pip installs it (a first run, not
counted, writes achtje's own). On a shared machine compare the CPU, and the load average
printed beside it, not the wall time.

`python -m bench startup` runs it with the others (2 runs at smoke size, 8 at full);
`python -m bench.startup [--runs N] [--importtime]` prints every run, and with
--importtime the import time of each top-level package (`-X importtime`, which itself
adds some time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Result, path_row, ratio, result
from bench.process import (
    MAIN,
    ROOT,
    bare_interpreter,
    cpu_seconds,
    service_env,
    serving,
)
from tests.slack_fakes import FakeSlack
from tests.telegram_fakes import FakeTelegram

SIZES = {"smoke": {"runs": 2}, "full": {"runs": 8}}
HELP_TARGET, READY_TARGET = 0.3, 1.0  # seconds of wall time


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
    imports: dict[str, float] = field(default_factory=dict)


def help_command() -> list[str]:
    """The installed `achtje` script next to this interpreter, else what it runs."""
    script = Path(sys.executable).with_name("achtje")
    return [str(script)] if script.exists() else [sys.executable, "-c", MAIN]


def help_once(env: dict[str, str]) -> Run:
    """`achtje --help`: its wall time and the CPU the child used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*help_command(), "--help"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Run(wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)


async def once(env: dict[str, str], importtime: bool, log: Path) -> Run:
    """`achtje run` in a fresh process until ready, then stopped."""
    flags = ["-X", "importtime"] if importtime else []
    with log.open("w") as err:
        try:
            async with serving([sys.executable, *flags, "-c", MAIN, "run"], env,
                               err) as served:
                ready, cpu = served.ready_s, cpu_seconds(served.pid)
        except TimeoutError:
            sys.exit(log.read_text()[-3000:])
    return Run(ready, cpu, import_sums(log.read_text()) if importtime else {})


def _medians(runs: list[Run]) -> dict[str, float]:
    return {"wall_s": statistics.median(r.ready_s for r in runs),
            "cpu_s": statistics.median(r.cpu_s for r in runs),
            "wall_min_s": min(r.ready_s for r in runs), "wall_max_s": max(r.ready_s for r in runs)}


async def measure(runs: int, importtime: bool = False,
                  show: bool = False) -> tuple[list[Run], list[Run], dict[str, float]]:
    """`runs` of `achtje --help` and of `achtje run`, alternating, after one uncounted
    run of each; and the load average before and after."""
    slack, telegram = FakeSlack(), FakeTelegram()
    await slack.start()
    await telegram.start()
    helps, readies = [], []
    try:
        with tempfile.TemporaryDirectory() as folder:
            env = service_env(f"sqlite+aiosqlite:///{folder}/a.db", slack, telegram)
            subprocess.run([sys.executable, "-c", MAIN, "db", "upgrade"], env=env,
                           cwd=ROOT, check=True, capture_output=True)
            help_once(env)
            await once(env, False, Path(folder) / "warm-up.log")
            load = {"load_before": os.getloadavg()[0]}
            for number in range(runs):
                helps.append(help_once(env))
                readies.append(await once(env, importtime, Path(folder) / f"run{number}.log"))
                if show:
                    print(f"run {number + 1}: --help {helps[-1].ready_s:.3f} s wall "
                          f"{helps[-1].cpu_s:.2f} s CPU; run: ready {readies[-1].ready_s:.3f}"
                          f" s wall, {readies[-1].cpu_s:.2f} s CPU")
            load["load_after"] = os.getloadavg()[0]
    finally:
        await slack.stop()
        await telegram.stop()
    return helps, readies, load


async def run(size: str) -> Result:
    scale = SIZES[size]
    bare = bare_interpreter()
    helps, readies, load = await measure(scale["runs"])
    figures = {"achtje_help": _medians(helps), "achtje_run": {**_medians(readies), **load}}
    wall_help, wall_ready = figures["achtje_help"]["wall_s"], figures["achtje_run"]["wall_s"]
    paths: list[dict[str, Any]] = [
        path_row(f"`achtje --help` (median wall of {len(helps)})", f"< {HELP_TARGET} s",
                 wall_help, bare["start_s"], "s", wall_help < HELP_TARGET),
        path_row(f"`achtje run` start to ready (median wall of {len(readies)}; CPU "
                 f"{figures['achtje_run']['cpu_s']:.2f} s)", f"< {READY_TARGET:g} s", wall_ready,
                 bare["start_s"], "s", wall_ready < READY_TARGET)]
    ratios = {"help_vs_bare": ratio(wall_help, bare["start_s"]),
              "ready_vs_bare": ratio(wall_ready, bare["start_s"])}
    return result("startup", size, scale, figures, {"bare_python": bare}, ratios, 0,
                  "wall is the target; CPU (user + system of the process) is the figure to "
                  "compare on a shared machine; the floor is a bare interpreter's start",
                  paths)


async def main(runs: int, importtime: bool) -> None:
    helps, readies, load = await measure(runs, importtime, show=True)
    print(f"load before {load['load_before']:.2f}, after {load['load_after']:.2f}")
    for name, found in (("--help", helps), ("run: ready", readies)):
        medians = _medians(found)
        print(f"median {name}: {medians['wall_s']:.3f} s wall, {medians['cpu_s']:.2f} s CPU")
    if importtime:
        names = set().union(*(r.imports for r in readies))
        medians = {n: statistics.median(r.imports.get(n, 0.0) for r in readies) for n in names}
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
