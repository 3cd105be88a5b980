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


# Schools: a third partition that refines the school types (each school is of one type).
SCHOOLS = {"A": "vmbo", "B": "vmbo", "C": "vmbo", "D": "mbo", "E": "mbo", "F": "other"}
Placed = tuple[str | None, str | None, str | None]  # (side, level, school)


@st.composite
def placed_people(draw: st.DrawFn) -> list[Placed]:
    """People in schools (their side is their school's type); some without a school, as
    answers from before schools were recorded, or without a side and level at all."""
    school = st.sampled_from([*SCHOOLS, None])
    found: list[Placed] = []
    for where, level, untyped in draw(st.lists(st.tuples(school, st.sampled_from(LEVELS),
                                                         st.booleans()), max_size=18)):
        side = SCHOOLS[where] if where else (None if untyped else "vmbo")
        found.append((side, level, where))
    return found


def small_sets(people: list[Placed], minimum: int) -> list[list[int]]:
    """Every set of kinds of people (same side, level and school) with fewer than
    `minimum` people in all, as people-vectors."""
    kinds = sorted(set(people), key=repr)
    found = []
    for size in range(1, min(len(kinds), minimum - 1) + 1):
        for chosen in combinations(kinds, size):
            group = [int(person in chosen) for person in people]
            if 0 < sum(group) < minimum:
                found.append(group)
    return found


@settings(max_examples=300, deadline=None)
@given(people=placed_people(), minimum=st.sampled_from([3, 4, 5]))
def test_with_schools_no_set_of_fewer_than_the_minimum_follows(
        people: list[Placed], minimum: int) -> None:
    """An attacker with a spreadsheet: the total and every shown sum (school types, levels
    and schools together) combine into no sum of fewer than `minimum` people."""
    shown = visible_cells(classes(people), minimum, refined=1)  # type: ignore[arg-type]
    known = what_is_known(people, shown, minimum)  # type: ignore[arg-type]
    for cell in shown:
        assert sum(members_of(people, cell)) >= minimum, (cell, people)  # type: ignore[arg-type]
    for group in small_sets(people, minimum):
        assert not derivable(known, group), (group, people, shown)
    cells = {(i, value) for person in people for i, value in enumerate(person)
             if value is not None}
    for cell in cells - shown:  # a hidden cell may be big, but then it must not follow
        assert not derivable(known, members_of(people, cell)), (cell, people)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(people=placed_people(), minimum=st.sampled_from([3, 4, 5]))
def test_schools_leave_the_school_types_and_levels_as_they_were(
        people: list[Placed], minimum: int) -> None:
    """The chat shows school types and levels only: adding schools changes none of them."""
    with_schools = visible_cells(classes(people), minimum, refined=1)  # type: ignore[arg-type]
    without = visible_cells(classes([(side, level) for side, level, _ in people]), minimum)
    assert {cell for cell in with_schools if cell[0] < 2} == without


def test_one_school_of_a_type_is_hidden_when_the_other_would_follow() -> None:
    # vmbo: school A with 4 teachers, school B with 2; mbo: 3. vmbo (6) and A (4) are big
    # enough, but vmbo minus A would be B's two.
    found = {("vmbo", "teachers", "A"): 4, ("vmbo", "teachers", "B"): 2,
             ("mbo", "teachers", "D"): 3}
    shown = visible_cells(found, 3, refined=1)
    assert (0, "vmbo") in shown and (2, "D") in shown
    assert (2, "A") not in shown and (2, "B") not in shown


def test_schools_that_are_all_large_are_all_shown() -> None:
    found = {("vmbo", "teachers", "A"): 4, ("vmbo", "board", "A"): 3,
             ("vmbo", "teachers", "B"): 5, ("mbo", "teachers", "D"): 3,
             ("mbo", "board", "D"): 3}
    shown = visible_cells(found, 3, refined=1)
    assert {cell for cell in shown if cell[0] == 2} == {(2, "A"), (2, "B"), (2, "D")}


def test_six_schools_of_single_people_are_checked_quickly() -> None:
    """The worst a partnership of six schools gives: a class of one person per school and
    level; the check runs through every small set and still ends in well under a second
    on a quiet machine (here only: it ends, and shows no school)."""
    found = {(SCHOOLS[s], level, s): 1 for s in SCHOOLS for level in LEVELS[:3]}
    shown = visible_cells(found, 5, refined=1)
    assert not any(cell[0] == 2 for cell in shown)


def test_the_visible_cells_remembered_stay_few_over_a_monthly_run() -> None:
    """A monthly run works out the cells of hundreds of partnerships, each with schools of
    its own: what the process keeps of them afterwards is a handful, not one per
    partnership (4096 kept ~11 MB after 500 partnerships)."""
    from bot.summary.compute import _visible_cells

    _visible_cells.cache_clear()
    for partnership in range(500):  # two schools of its own, as `bench.summaries` has them
        classes = tuple(sorted(
            (((side, level, str(2 * partnership + n)), 3 + partnership % 7)
             for n, side in enumerate(("vmbo", "mbo")) for level in ("board", "teachers")),
            key=repr))
        assert _visible_cells(classes, 3)
    assert _visible_cells.cache_info().currsize <= 32
