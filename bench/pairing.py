"""How long pairing takes: 10,000 members with a year of fortnightly rounds behind them.

Run `python -m bench.pairing [--members N] [--rounds R] [--schools S]`, or
`python -m bench pairing --size full` for the figures in bench/results.json. It builds the
history by pairing round after round (26 rounds is a year at the default cadence), then
times the next round, and prints what that round looks like: groups, cross-school share,
repeated pairs. A small partnership is simulated too, to show when repeats begin.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from itertools import combinations
from typing import Any

from bot.nudges.pairing import (
    Candidate,
    Group,
    fewest_single_school,
    last_seen,
    pair_key,
    pair_members,
)

LEVELS = ("board", "management", "teachers", "teachers", "teachers", "teachers")


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


def measure(count: int, rounds: int, schools: int) -> dict[str, Any]:
    """Build the history, then time the next round against the floor of a plain shuffle
    into pairs of the same people (no schools, no history); the figures as a dict."""
    rng = random.Random(2026)
    people = members(count, schools, rng)
    history: list[Group] = []
    seen: dict[tuple[int, int], int] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    for number in range(rounds):
        for group in pair_members(people, seen, seed=number, mix_levels=number % 3 == 2):
            for a, b in combinations(group, 2):
                seen[pair_key(a, b)] = len(history)
            history.append(group)
    built_wall, built_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall = time.perf_counter()
    seen = last_seen(history)
    indexed = time.perf_counter() - wall
    wall, cpu = time.perf_counter(), time.process_time()
    groups = pair_members(people, seen, seed=rounds)
    took_wall, took_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall = time.perf_counter()
    shuffled = [p.member_id for p in people if not (p.paused or p.opted_out)]
    random.Random(rounds).shuffle(shuffled)
    plain = [shuffled[i:i + 2] for i in range(0, len(shuffled), 2)]
    floor = time.perf_counter() - wall
    placed = sum(len(g) for g in groups)
    return {"history_groups": len(history), "distinct_pairs": len(seen),
            "build_history_s": built_wall, "build_cpu_per_round_s": built_cpu / max(1, rounds),
            "index_history_s": indexed, "pair_round_s": took_wall, "pair_round_cpu_s": took_cpu,
            "floor_shuffle_s": floor, "groups": len(groups), "placed": placed,
            "eligible": len(shuffled), "plain_groups": len(plain),
            "description": describe(groups, people, history)}


def big(count: int, rounds: int, schools: int) -> None:
    found = measure(count, rounds, schools)
    print(f"{count} members in {schools} schools, {rounds} rounds of history "
          f"({found['history_groups']} groups, {found['distinct_pairs']} distinct pairs)")
    print(f"  building the history: {found['build_history_s']:.2f} s "
          f"({found['build_cpu_per_round_s']:.3f} s CPU a round)")
    print(f"  indexing the history (last_seen): {found['index_history_s']:.3f} s")
    print(f"  pairing round {rounds + 1}: {found['pair_round_s']:.3f} s wall, "
          f"{found['pair_round_cpu_s']:.3f} s CPU")
    print(f"  {found['description']}")


SIZES = {"smoke": {"members": 300, "rounds": 4, "schools": 6},
         "full": {"members": 10_000, "rounds": 26, "schools": 12}}


async def run(size: str) -> dict[str, Any]:
    """For `python -m bench`: the next round after a year of history, against a shuffle."""
    from bench.common import ratio, result

    scale = SIZES[size]
    found = measure(scale["members"], scale["rounds"], scale["schools"])
    floor = {"shuffle_s": found.pop("floor_shuffle_s")}
    return result("pairing", size, scale, found, floor,
                  {"pair_round_vs_shuffle": ratio(found["pair_round_s"], floor["shuffle_s"])},
                  lost=found["eligible"] - found["placed"],
                  notes="lost = eligible members left out of the round")


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
