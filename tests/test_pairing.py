"""The pairing rules as properties: everyone once, across schools, new partners first."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.nudges.pairing import (
    Candidate,
    Group,
    Pair,
    fewest_single_school,
    is_fresh_cross,
    last_seen,
    pair_key,
    pair_members,
)

LEVELS = ("board", "management", "teachers")


@st.composite
def partnerships(draw: st.DrawFn, max_people: int = 24) -> tuple[list[Candidate], list[Group]]:
    """Members of 1-4 schools (some paused or opted out) and a random history of groups."""
    schools = draw(st.integers(1, 4))
    rows = draw(st.lists(st.tuples(st.integers(1, schools), st.sampled_from(LEVELS),
                                   st.sampled_from(("", "", "", "", "", "paused", "out"))),
                         max_size=max_people))
    people = [
        Candidate(member_id=100 + i, school_id=school, level=level,
                  paused=flag == "paused", opted_out=flag == "out")
        for i, (school, level, flag) in enumerate(rows)
    ]
    ids = [p.member_id for p in people]
    history: list[Group] = []
    if len(ids) >= 2:
        pairs = st.lists(st.sampled_from(ids), min_size=2, max_size=3, unique=True)
        history = [tuple(g) for g in draw(st.lists(pairs, max_size=3 * len(ids)))]
    return people, history


def single_school_people(groups: Sequence[Group], school: dict[int, int]) -> int:
    return sum(len(g) for g in groups if len({school[m] for m in g}) == 1)


def stale_pairs(groups: Sequence[Group], school: dict[int, int],
                seen: dict[Pair, int]) -> list[Group]:
    """Groups of two that are single-school or met before."""
    return [g for g in groups
            if len(g) == 2 and not is_fresh_cross(g[0], g[1], school, seen)]


@settings(max_examples=100, deadline=None)
@given(partnerships(), st.integers(0, 2**31 - 1), st.booleans())
def test_every_eligible_member_is_in_exactly_one_group_of_two_or_three(
    case: tuple[list[Candidate], list[Group]], seed: int, mix: bool
) -> None:
    people, history = case
    groups = pair_members(people, history, seed, mix_levels=mix)
    eligible = sorted(p.member_id for p in people if not (p.paused or p.opted_out))
    placed = sorted(m for g in groups for m in g)
    if len(eligible) < 2:
        assert groups == []
        return
    assert placed == eligible
    assert all(len(g) in (2, 3) for g in groups)
    triples = sum(len(g) == 3 for g in groups)
    assert triples == len(eligible) % 2


@settings(max_examples=100, deadline=None)
@given(partnerships(), st.integers(0, 2**31 - 1))
def test_groups_are_cross_school_whenever_the_numbers_allow(
    case: tuple[list[Candidate], list[Group]], seed: int
) -> None:
    people, history = case
    eligible = [p for p in people if not (p.paused or p.opted_out)]
    school = {p.member_id: p.school_id for p in eligible}
    groups = pair_members(people, history, seed)
    counts = list(Counter(school.values()).values())
    assert single_school_people(groups, school) == fewest_single_school(counts)


@settings(max_examples=100, deadline=None)
@given(partnerships(), st.integers(0, 2**31 - 1), st.booleans())
def test_no_two_stale_pairs_could_swap_into_a_new_cross_school_pair(
    case: tuple[list[Candidate], list[Group]], seed: int, mix: bool
) -> None:
    people, history = case
    school = {p.member_id: p.school_id for p in people}
    seen = last_seen(history)
    groups = pair_members(people, history, seed, mix_levels=mix)

    def fresh(pair: Sequence[int]) -> bool:
        return is_fresh_cross(pair[0], pair[1], school, seen)

    def cross(pair: Sequence[int]) -> int:
        return int(school[pair[0]] != school[pair[1]])

    for (u, a), (v, b) in combinations(stale_pairs(groups, school, seen), 2):
        before = cross((u, a)) + cross((v, b))
        for first, second in (((u, v), (a, b)), ((u, b), (a, v))):
            assert not ((fresh(first) or fresh(second))
                        and cross(first) + cross(second) >= before), (first, second)


@settings(max_examples=100, deadline=None)
@given(partnerships(), st.integers(0, 2**31 - 1))
def test_with_two_schools_nobody_repeats_while_an_unused_cross_school_pair_is_free(
    case: tuple[list[Candidate], list[Group]], seed: int
) -> None:
    """With two schools the swap rule means: among everyone in a stale pair, no two from
    different schools have never met."""
    people, history = case
    people = [Candidate(p.member_id, 1 + p.school_id % 2, p.level, p.paused, p.opted_out)
              for p in people]
    school = {p.member_id: p.school_id for p in people}
    seen = last_seen(history)
    groups = pair_members(people, history, seed)
    stuck = [m for g in stale_pairs(groups, school, seen) for m in g]
    for a, b in combinations(stuck, 2):
        assert not is_fresh_cross(a, b, school, seen), (a, b)


@settings(max_examples=100, deadline=None)
@given(partnerships(), st.integers(0, 2**31 - 1), st.randoms(use_true_random=False))
def test_the_same_seed_gives_the_same_groups_whatever_the_input_order(
    case: tuple[list[Candidate], list[Group]], seed: int, rnd: random.Random
) -> None:
    people, history = case
    shuffled = list(people)
    rnd.shuffle(shuffled)
    assert pair_members(people, history, seed) == pair_members(shuffled, history, seed)


def test_different_seeds_give_different_rounds() -> None:
    people = [Candidate(i, i % 2) for i in range(12)]
    outcomes = {tuple(pair_members(people, [], seed)) for seed in range(10)}
    assert len(outcomes) > 1


def test_the_one_unused_partner_each_is_found() -> None:
    """Every cross-school pair but one perfect matching has met: that matching is it."""
    a_side, b_side = [1, 2, 3, 4, 5], [11, 12, 13, 14, 15]
    people = [Candidate(m, 1) for m in a_side] + [Candidate(m, 2) for m in b_side]
    history: list[Group] = [(a, b) for a in a_side for b in b_side if b != a + 10]
    for seed in range(20):
        assert pair_members(people, history, seed) == [(a, a + 10) for a in a_side]


def test_when_every_pair_has_met_the_longest_ago_is_repeated() -> None:
    people = [Candidate(1, 1), Candidate(2, 1), Candidate(11, 2), Candidate(12, 2)]
    history: list[Group] = [(1, 11), (2, 12), (1, 12), (2, 11)]
    for seed in range(20):
        assert pair_members(people, history, seed) == [(1, 11), (2, 12)]


def test_a_dominant_school_fills_the_other_schools_first() -> None:
    """Six of one school and two others: the two others each get one of the six."""
    people = [Candidate(i, 1) for i in range(6)] + [Candidate(10, 2), Candidate(11, 3)]
    for seed in range(10):
        groups = pair_members(people, [], seed)
        for other in (10, 11):
            group = next(g for g in groups if other in g)
            assert len(group) == 2 and min(group) < 6
        assert single_school_people(groups, {p.member_id: p.school_id for p in people}) == 4


def test_counterparts_meet_unless_the_round_mixes_levels() -> None:
    people = [Candidate(i, 1 + i % 2, LEVELS[(i // 2) % 2]) for i in range(8)]
    level = {p.member_id: p.level for p in people}
    for seed in range(10):
        same = pair_members(people, [], seed)
        assert all(len({level[m] for m in g}) == 1 for g in same)
        mixed = pair_members(people, [], seed, mix_levels=True)
        assert all(len({level[m] for m in g}) == 2 for g in mixed)


def test_paused_and_opted_out_members_are_left_alone() -> None:
    people = [Candidate(1, 1), Candidate(2, 2, paused=True), Candidate(3, 2),
              Candidate(4, 1, opted_out=True)]
    assert pair_members(people, [], 0) == [(1, 3)]
    assert pair_members(people[:2], [], 0) == []


def _partitions(items: list[int]) -> Iterator[list[list[int]]]:
    """Every split into groups of two with at most one group of three."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for size in (1, 2):
        for others in combinations(rest, size):
            remaining = [i for i in rest if i not in others]
            for tail in _partitions(remaining):
                groups = [[first, *others], *tail]
                if sum(len(g) == 3 for g in groups) <= 1:
                    yield groups


@given(st.lists(st.integers(1, 3), min_size=2, max_size=9))
@settings(max_examples=100, deadline=None)
def test_fewest_single_school_matches_a_brute_force_count(schools: list[int]) -> None:
    best = min(
        sum(len(g) for g in groups if len({schools[i] for i in g}) == 1)
        for groups in _partitions(list(range(len(schools))))
    )
    assert fewest_single_school(list(Counter(schools).values())) == best


def test_pair_key_is_order_free() -> None:
    assert pair_key(5, 2) == pair_key(2, 5) == (2, 5)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**31 - 1))
def test_two_equal_schools_meet_everyone_before_anyone_meets_twice(
    size: int, seed: int
) -> None:
    """With k people in each of two schools there are k rounds of new partners for all."""
    people = [Candidate(i, 1 + i % 2) for i in range(2 * size)]
    history: list[Group] = []
    for number in range(size):
        groups = pair_members(people, history, seed + number)
        seen = last_seen(history)
        assert not any(pair_key(*g) in seen for g in groups), (number, groups)
        history.extend(groups)
    assert len(last_seen(history)) == size * size
