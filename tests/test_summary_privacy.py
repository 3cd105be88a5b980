"""No back door by subtraction: what a summary hides cannot be worked out from what it shows.

An attacker knows the total and every shown group's sum (mean times n). A hidden sum is
exposed exactly when its people-vector lies in the span of the shown groups' vectors; the
property tests check that with numpy on the people themselves, independently of how
`visible_cells` reasons about classes.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.summary.privacy import ClassKey, visible_cells

SIDES = ("vmbo", "mbo", "other", None)
LEVELS = ("board", "management", "teachers", None)
Person = tuple[str | None, str | None]

people_lists = st.lists(st.tuples(st.sampled_from(SIDES), st.sampled_from(LEVELS)),
                        max_size=16)


def classes(people: list[Person]) -> dict[ClassKey, int]:
    counted: dict[ClassKey, int] = {}
    for person in people:
        counted[person] = counted.get(person, 0) + 1
    return counted


def derivable(known: list[list[int]], target: list[int]) -> bool:
    if not known:
        return not any(target)
    matrix = np.array(known, dtype=float)
    return bool(np.linalg.matrix_rank(np.vstack([matrix, target])) ==
                np.linalg.matrix_rank(matrix))


def members_of(people: list[Person], cell: tuple[int, str]) -> list[int]:
    return [int(person[cell[0]] == cell[1]) for person in people]


def what_is_known(people: list[Person], shown: frozenset[tuple[int, str]],
                  minimum: int) -> list[list[int]]:
    known = [members_of(people, cell) for cell in sorted(shown)]
    return known + ([[1] * len(people)] if len(people) >= minimum else [])


@settings(max_examples=300, deadline=None)
@given(people=people_lists, minimum=st.sampled_from([3, 4, 5]))
def test_no_hidden_cell_follows_from_the_shown_ones(people: list[Person], minimum: int) -> None:
    shown = visible_cells(classes(people), minimum)
    known = what_is_known(people, shown, minimum)
    cells = {(i, value) for person in people for i, value in enumerate(person)
             if value is not None}
    for cell in cells:
        group = members_of(people, cell)
        if cell in shown:
            assert sum(group) >= minimum, (cell, people)
        else:
            assert not derivable(known, group), (cell, people)


@settings(max_examples=300, deadline=None)
@given(people=people_lists, minimum=st.sampled_from([3, 4]))
def test_no_small_group_of_any_kind_follows(people: list[Person], minimum: int) -> None:
    """Not only cells: no class or pair of classes under the minimum, e.g. the vmbo board."""
    shown = visible_cells(classes(people), minimum)
    known = what_is_known(people, shown, minimum)
    kinds = sorted(set(people), key=repr)
    for size in (1, 2):
        for chosen in combinations(kinds, size):
            group = [int(person in chosen) for person in people]
            if 0 < sum(group) < minimum:
                assert not derivable(known, group), (chosen, people)


def test_a_cell_big_enough_is_hidden_when_a_small_class_would_follow() -> None:
    # vmbo: 2 teachers and 3 board members; mbo: 3 teachers. Every side and level has 3 or
    # more, but teachers minus mbo would be the 2 vmbo teachers.
    found = {("vmbo", "teachers"): 2, ("vmbo", "board"): 3, ("mbo", "teachers"): 3}
    shown = visible_cells(found, 3)
    assert len(shown) < 4
    people: list[Person] = [key for key, n in found.items() for _ in range(n)]  # type: ignore[misc]
    assert not derivable(what_is_known(people, shown, 3),
                         [int(p == ("vmbo", "teachers")) for p in people])


def test_groups_that_are_all_large_are_all_shown() -> None:
    found = {("vmbo", "board"): 3, ("vmbo", "teachers"): 5, ("mbo", "board"): 3,
             ("mbo", "teachers"): 4}
    assert visible_cells(found, 3) == {(0, "vmbo"), (0, "mbo"), (1, "board"), (1, "teachers")}


def test_a_single_small_level_takes_a_second_one_with_it() -> None:
    found = {("vmbo", "board"): 2, ("vmbo", "management"): 3, ("vmbo", "teachers"): 6}
    shown = visible_cells(found, 3)
    assert (1, "board") not in shown
    assert len([cell for cell in shown if cell[0] == 1]) == 1  # one level left, not two
    assert (0, "vmbo") in shown  # the side is the total: nothing new


def test_too_few_people_show_nothing() -> None:
    assert visible_cells({("vmbo", "teachers"): 2}, 3) == frozenset()
    assert visible_cells({}, 3) == frozenset()
