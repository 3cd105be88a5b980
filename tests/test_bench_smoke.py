"""The benchmarks at their smoke size: each runs, reports its figures, and loses nothing.

No timing is asserted (the machine decides that); figures are printed by `python -m bench`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.__main__ import NAMES, runner, save, table
from tests.conftest import POSTGRES_URL, postgres_only

EXPECTED = {
    "click_slack": ("p50_ms", "p99_ms", "per_second", "stored", "posted"),
    "click_telegram": ("p50_ms", "p99_ms", "per_second", "stored", "sent"),
    "fanout": ("planned_rows", "plan_s", "delivered", "delivered_per_s", "outbox"),
    "summaries": (),
    "pairing": ("pair_round_s", "groups", "placed"),
    "footprint": ("rss_ready_mb", "first_tick_s", "rss_after_tick_mb", "rss_after_summaries_mb",
                  "summaries"),
    "startup": ("wall_s", "cpu_s"),
    "command": ("requests", "cpu_ms_per_request", "calls_per_request"),
    "turn": ("engine_turn",),  # beside the layers above the floor: aiosqlite on SQLite
}
# The benchmarks whose every figure is a line of the issue's table (path | target |
# measured | floor | ratio | verdict).
PATHS = {"click_slack": 1, "click_telegram": 1, "fanout": 1, "footprint": 1, "startup": 2,
         "command": 1}


def _check(found: dict[str, object], name: str) -> None:
    assert found["name"] == name and found["size"] == "smoke"
    assert found["lost"] == 0, found
    assert found["ratios"], "every benchmark reports ratios against its floor"
    assert found["floor"]
    figures = found["figures"]
    assert isinstance(figures, dict)
    if name == "summaries":
        for measured in figures.values():
            assert measured["summaries"] > 0 and measured["answers"] > 0
            # as sent: each leader's full version and the channel's short one, with charts
            assert measured["replies"] > 3 * measured["summaries"]
            assert measured["answers"] == measured["inserted"] * (2 if measured is figures.get(
                "sqlite_2x") or measured is figures.get("postgres_2x") else 1)
        return
    for backend in figures.values():
        for key in EXPECTED[name]:
            assert key in backend, (name, key)


def test_every_row_of_the_issue_has_a_benchmark() -> None:
    """`python -m bench` runs them all: start-up and the slash command's CPU too."""
    assert set(NAMES) == set(EXPECTED)


@pytest.mark.parametrize("name", NAMES)
async def test_each_benchmark_runs_at_smoke_size_and_loses_nothing(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACHTJE_BENCH_POSTGRES_URL", raising=False)  # SQLite here
    found = await runner(name)("smoke")
    _check(found, name)
    if name.startswith("click"):
        [measured] = found["figures"].values()
        clicks = found["scale"]["clicks"]
        assert measured["stored"] == clicks  # one stored answer per click
        assert not math.isnan(found["ratios"]["sqlite_p99_ms"])
    if name == "fanout":
        measured = found["figures"]["sqlite"]
        assert measured["outbox"] == {"sent": measured["planned_rows"]}
        assert measured["duplicates"] == 0
    if name in PATHS:
        rows = found["paths"]
        assert len(rows) == PATHS[name], rows
        for row in rows:
            assert row["verdict"] in ("met", "short", "n/a") and row["measured"], row
    if name == "click_telegram":  # paced under Telegram's 30 messages a second
        assert 0 < found["scale"]["pace_per_s"] <= 15
    if name == "command":
        [measured] = found["figures"].values()
        assert measured["requests"] == found["scale"]["requests"]
        # what achtje does for `/achtje help` in a DM: open the DM, post the help
        assert found["scale"]["calls_per_request"] == {"conversations.open": 1,
                                                       "chat.postMessage": 1}
        assert found["floor"]["bare_bolt"]["sqlite"]["calls_per_request"] == 2
    if name == "startup":
        assert found["figures"]["achtje_help"]["wall_s"] > 0
    if name == "turn":  # the replays ran the statements a real press sent
        layers = found["figures"]["sqlite"]
        assert layers["sqlalchemy"]["statements"] == layers["engine_turn"]["statements"] >= 3
        assert "aiosqlite" in layers
        assert found["floor"]["sqlite"]["layer"] == "sqlite3"


@pytest.mark.postgres
@postgres_only
@pytest.mark.parametrize("name", ["click_slack", "summaries", "fanout", "turn"])
async def test_the_database_benchmarks_also_run_on_postgres(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert POSTGRES_URL
    monkeypatch.setenv("ACHTJE_BENCH_POSTGRES_URL", POSTGRES_URL)
    found = await runner(name)("smoke")
    _check(found, name)
    assert any(key.startswith("postgres") for key in found["figures"])


def test_results_are_kept_per_benchmark_and_tabled(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    first = {"name": "pairing", "size": "smoke", "scale": {}, "figures": {"a": 1.5},
             "floor": {"b": 0.5}, "ratios": {"a_vs_b": 3.0}, "lost": 0, "notes": ""}
    save([first], path)
    save([{**first, "name": "fanout"}], path)
    kept = json.loads(path.read_text())["benchmarks"]
    assert set(kept) == {"pairing", "fanout"}  # running one does not forget the other
    assert "ratio: a_vs_b" in table([first])
