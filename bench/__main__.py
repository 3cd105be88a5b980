"""`python -m bench [NAME ...] [--size smoke|full]`: run the benchmarks, print a table and
write bench/results.json (results of benchmarks not run this time are kept).

PostgreSQL is measured too when ACHTJE_BENCH_POSTGRES_URL names a database this may wipe.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import platform
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import Result

RESULTS = Path(__file__).with_name("results.json")
Runner = Callable[[str], Awaitable[Result]]


NAMES = ("click_slack", "click_telegram", "command", "turn", "fanout", "summaries", "pairing",
         "startup", "footprint")


def runner(name: str) -> Runner:
    """The `run(size)` of bench/<name>.py, imported only when it runs."""
    module = importlib.import_module(f"bench.{name}")
    found: Runner = module.run
    return found


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    return str(value)


def table(results: Sequence[Result]) -> str:
    """One line per figure: benchmark, figure, value, and its ratio to the floor."""
    lines = [f"{'benchmark':<15} {'figure':<34} value"]
    for found in results:
        lines.append(f"{found['name']:<15} {'size':<34} {found['size']} {_short(found['scale'])}")
        for kind in ("figures", "floor", "ratios"):
            for key, value in found[kind].items():
                label = f"{kind[:-1] if kind != 'floor' else 'floor'}: {key}"
                lines.append(f"{'':<15} {label:<34} {_short(value)}")
        lines.append(f"{'':<15} {'lost':<34} {found['lost']}")
    rows = [row for found in results for row in found.get("paths", ())]
    if rows:
        columns = ("path", "target", "measured", "floor", "ratio", "verdict")
        lines += ["", " | ".join(columns),
                  *(" | ".join(str(row[column]) for column in columns) for row in rows)]
    return "\n".join(lines)


def save(results: Sequence[Result], path: Path = RESULTS) -> None:
    kept: dict[str, Any] = {}
    if path.exists():
        try:
            kept = json.loads(path.read_text()).get("benchmarks", {})
        except (ValueError, AttributeError):
            kept = {}
    for found in results:
        kept[found["name"]] = {**found, "measured_at": datetime.now(UTC).isoformat(
            timespec="seconds"), "machine": {"cpus": _cpus(), "python": platform.python_version()}}
    path.write_text(json.dumps({"benchmarks": kept}, indent=2, default=str) + "\n")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


async def run_all(names: Sequence[str], size: str) -> list[Result]:
    found = []
    for name in names:
        print(f"running {name} ({size})...", file=sys.stderr, flush=True)
        found.append(await runner(name)(size))
    return found


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"{' '.join(NAMES)} (default: all)")
    parser.add_argument("--size", choices=("smoke", "full"), default="smoke")
    parser.add_argument("--no-save", action="store_true", help="do not write results.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    names = args.names or list(NAMES)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark: {', '.join(unknown)}")
    results = asyncio.run(run_all(names, args.size))
    print(table(results))
    if not args.no_save:
        save(results)
        print(f"written to {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
