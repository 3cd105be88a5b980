"""Informal-contact pairing as `achtje nudge preview` runs it: 10,000 members with a year of
fortnightly rounds behind them, from the database.

Run `python -m bench.pairing [--members N] [--rounds R] [--schools S]`, or
`python -m bench pairing --size full` for the figures in bench/results.json. It stores one
partnership with a history built by pairing round after round (26 rounds is a year at the
default cadence), then times the next round as the preview plans it (reading members,
opt-outs and history, pairing, choosing ideas, describing), and prints what that round
looks like: groups, cross-school share, repeated pairs. The floor reads what pairing needs
with plain SQL (the members, the pairs of earlier rounds) and shuffles people into pairs;
floor and preview alternate, after a warm-up, five times each, wall and CPU time (of every
thread: SQLite works in aiosqlite's), with the load average noted. The pairing alone (from
memory) is timed too.
A small partnership is simulated, to show when repeats begin.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench.common import Stopwatch, backends, database, path_row, ratio, result
from bot.content import Content, load_content
from bot.nudges.pairing import (
    Candidate,
    Group,
    fewest_single_school,
    last_seen,
    pair_key,
    pair_members,
)
from bot.nudges.planner import compose_round, describe_round
from bot.store.models import Member, Partnership, School
from bot.store.nudges import NudgeGroup, NudgeGroupMember, NudgeOptOut, NudgeRound

LEVELS = ("board", "management", "teachers", "teachers", "teachers", "teachers")
SIZES = {"smoke": {"members": 300, "rounds": 4, "schools": 6},
         "full": {"members": 10_000, "rounds": 26, "schools": 12}}
REPEATS = 5


def members(count: int, schools: int, rng: random.Random) -> list[Candidate]:
    """Schools of uneven size; about one in twenty paused or opted out."""
    weights = [1 + rng.random() * 2 for _ in range(schools)]
    return [
        Candidate(member_id=i + 1, school_id=rng.choices(range(1, schools + 1), weights)[0],
                  level=rng.choice(LEVELS), paused=rng.random() < 0.04,
                  opted_out=rng.random() < 0.01)
        for i in range(count)
    ]


def describe(groups: list[Group], people: list[Candidate], history: list[Group]) -> str:
    school = {p.member_id: p.school_id for p in people}
    seen = last_seen(history)
    cross = sum(len({school[m] for m in g}) > 1 for g in groups)
    repeats = sum(pair_key(a, b) in seen for g in groups for i, a in enumerate(g)
                  for b in g[i + 1:])
    single = sum(len(g) for g in groups if len({school[m] for m in g}) == 1)
    counts = list(Counter(school[m] for g in groups for m in g).values())
    return (f"{len(groups)} groups, cross-school {100 * cross / max(1, len(groups)):.1f}%, "
            f"people in single-school groups {single} (fewest possible "
            f"{fewest_single_school(counts)}), repeated pairs {repeats}")


async def fill(engine: AsyncEngine, content: Content, people: list[Candidate], schools: int,
               rounds: int) -> list[Group]:
    """Store one partnership with `people` and `rounds` fortnightly nudge rounds behind it,
    paired as the product pairs them; returns the stored groups, oldest first."""
    created = datetime(2025, 1, 6, 9, tzinfo=UTC)
    history: list[Group] = []
    seen: dict[tuple[int, int], int] = {}
    async with engine.begin() as connection:
        await connection.execute(insert(Partnership), [
            {"id": 1, "name": "Bench", "sector": "", "region": "midden",
             "timezone": "Europe/Amsterdam", "language": "nl", "created_at": created}])
        await connection.execute(insert(School), [
            {"id": s, "partnership_id": 1, "name": f"School {s}", "type": ("vmbo", "mbo")[s % 2]}
            for s in range(1, schools + 1)])
        await connection.execute(insert(Member), [
            {"id": p.member_id, "partnership_id": 1, "platform": "bench",
             "user_ref": f"u{p.member_id}", "display_name": f"Lid {p.member_id}",
             "school_id": p.school_id, "level": p.level, "role": "member", "language": "nl",
             "onboarded_at": created, "created_at": created,
             "paused_until": date(2099, 1, 1) if p.paused else None} for p in people])
        out = [{"member_id": p.member_id, "opted_out_at": created} for p in people
               if p.opted_out]
        if out:
            await connection.execute(insert(NudgeOptOut), out)
        group_id = 0
        ideas = [idea.id for idea in content.ideas]
        for number in range(1, rounds + 1):
            planned = pair_members(people, seen, seed=number, mix_levels=number % 3 == 0)
            await connection.execute(insert(NudgeRound), [{
                "id": number, "partnership_id": 1, "number": number, "seed": number,
                "mixed_levels": False, "planned_at": created + timedelta(weeks=2 * number)}])
            groups, members_ = [], []
            for n, group in enumerate(planned):
                group_id += 1
                groups.append({"id": group_id, "round_id": number,
                               "idea_id": ideas[(n + number) % len(ideas)],
                               "cross_school": True, "repeat_pairs": 0})
                members_ += [{"group_id": group_id, "member_id": m} for m in group]
                for a, b in combinations(group, 2):
                    seen[pair_key(a, b)] = len(history)
                history.append(group)
            await connection.execute(insert(NudgeGroup), groups)
            await connection.execute(insert(NudgeGroupMember), members_)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    return history


async def preview(sessions: async_sessionmaker[Any], content: Content) -> list[str]:
    """What `achtje nudge preview --partnership 1` does once the process is up."""
    async with sessions() as session:
        partnership = await session.get(Partnership, 1)
        assert partnership is not None
        plan = await compose_round(session, content, partnership, datetime.now(UTC))
        return describe_round(plan)


async def floor(sessions: async_sessionmaker[Any]) -> int:
    """Plain SQL for what pairing reads (the members who may be paired, the pairs of earlier
    rounds), then a plain shuffle into pairs: no schools, no history weighed."""
    async with sessions() as session:
        rows = (await session.execute(text(
            "SELECT id, school_id, level FROM member WHERE partnership_id = 1 "
            "AND onboarded_at IS NOT NULL AND school_id IS NOT NULL"))).all()
        pairs = (await session.execute(text(
            "SELECT a.member_id, b.member_id, max(r.number) FROM nudge_round r "
            "JOIN nudge_group g ON g.round_id = r.id "
            "JOIN nudge_group_member a ON a.group_id = g.id "
            "JOIN nudge_group_member b ON b.group_id = g.id AND a.member_id < b.member_id "
            "WHERE r.partnership_id = 1 GROUP BY a.member_id, b.member_id"))).all()
    ids = [row[0] for row in rows]
    random.Random(len(pairs)).shuffle(ids)
    return len([ids[i:i + 2] for i in range(0, len(ids), 2)])


async def measure(backend: str, count: int, rounds: int, schools: int) -> dict[str, Any]:
    """Store a year of history, then time the next round as `achtje nudge preview` plans it
    from the database, alternating with the floor; and the pairing alone, from memory."""
    content = load_content()
    people = members(count, schools, random.Random(2026))
    async with database(backend) as (engine, sessions):
        with Stopwatch() as building:
            history = await fill(engine, content, people, schools, rounds)
        await floor(sessions)  # warm-up: caches and query plans
        lines = await preview(sessions, content)
        previews, floors, cpu, floor_cpu = [], [], [], []
        loads = [os.getloadavg()[0]]
        for _ in range(REPEATS):
            started = time.process_time()
            with Stopwatch() as watch:
                await floor(sessions)
            floors.append(watch.seconds)
            floor_cpu.append(time.process_time() - started)
            started = time.process_time()
            with Stopwatch() as watch:
                again = await preview(sessions, content)
            previews.append(watch.seconds)
            cpu.append(time.process_time() - started)  # all threads: aiosqlite's too
            assert again == lines  # the same members and history pair the same way
        loads.append(os.getloadavg()[0])
    seen = last_seen(history)
    with Stopwatch() as alone:
        groups = pair_members(people, seen, seed=rounds + 1)
    return {"history_groups": len(history), "distinct_pairs": len(seen),
            "build_history_s": building.seconds, "preview_s": statistics.median(previews),
            "preview_runs_s": [round(x, 3) for x in previews],
            "preview_cpu_s": statistics.median(cpu),
            "preview_cpu_runs_s": [round(x, 3) for x in cpu],
            "floor_s": statistics.median(floors), "floor_cpu_s": statistics.median(floor_cpu),
            "load_average": [round(x, 1) for x in loads], "pair_round_s": alone.seconds,
            "groups": len(groups), "placed": sum(len(g) for g in groups),
            "eligible": sum(p.eligible for p in people),
            "previewed_groups": sum(line.startswith("  ") and "not paired" not in line
                                    for line in lines),
            "description": describe(groups, people, history)}


def big(count: int, rounds: int, schools: int) -> None:
    found = asyncio.run(measure("sqlite", count, rounds, schools))
    print(f"{count} members in {schools} schools, {rounds} rounds of history "
          f"({found['history_groups']} groups, {found['distinct_pairs']} distinct pairs)")
    print(f"  storing the history: {found['build_history_s']:.2f} s")
    print(f"  round {rounds + 1} as `achtje nudge preview` plans it: {found['preview_s']:.3f} s "
          f"wall, {found['preview_cpu_s']:.3f} s CPU, medians of {found['preview_runs_s']} / "
          f"{found['preview_cpu_runs_s']} (floor {found['floor_s']:.3f} s wall, "
          f"{found['floor_cpu_s']:.3f} s CPU); the pairing alone {found['pair_round_s']:.3f} s; "
          f"load average {found['load_average']}")
    print(f"  {found['description']}")


async def run(size: str) -> dict[str, Any]:
    """For `python -m bench`: the next round after a year of history, from the database."""
    scale = SIZES[size]
    figures: dict[str, Any] = {}
    floors: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    paths: list[dict[str, Any]] = []
    lost = 0
    for backend in backends():
        found = await measure(backend, scale["members"], scale["rounds"], scale["schools"])
        floors[backend] = {"floor_s": found.pop("floor_s"),
                           "floor_cpu_s": found.pop("floor_cpu_s")}
        figures[backend] = found
        ratios[f"{backend}_preview_vs_floor"] = ratio(found["preview_s"],
                                                      floors[backend]["floor_s"])
        lost += found["eligible"] - found["placed"]
        paths.append(path_row(
            f"`achtje nudge preview` from the database, {scale['members']} members ({backend})",
            "< 1 s", found["preview_s"], floors[backend]["floor_s"], "s",
            found["preview_s"] < 1))
    return result("pairing", size, scale, figures, floors, ratios, lost=lost,
                  notes=f"preview = `achtje nudge preview` from the database (median of "
                        f"{REPEATS}, wall and CPU of all threads, with the load average "
                        f"before and after); lost = eligible members left out of the round",
                  paths=paths)


def small(per_school: int, rounds: int) -> None:
    people = [Candidate(i, 1 + i % 2, "teachers") for i in range(2 * per_school)]
    history: list[Group] = []
    repeats = []
    for number in range(rounds):
        groups = pair_members(people, history, seed=number)
        seen = last_seen(history)
        repeats.append(sum(pair_key(*g[:2]) in seen for g in groups))
        history.extend(groups)
    print(f"two schools of {per_school}: repeated pairs per round {repeats} "
          f"(a repeat is unavoidable from round {per_school + 1})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=26)
    parser.add_argument("--schools", type=int, default=12)
    args = parser.parse_args()
    big(args.members, args.rounds, args.schools)
    small(6, 9)
    small(10, 12)


if __name__ == "__main__":
    main()
