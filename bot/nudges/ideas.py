"""Which informal-contact idea a group gets: one that fits the partnership, suits the
group's levels and is new to them."""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping, Sequence

from bot.content import Idea

# Where people from schools in one building can go, and where others can.
_SAME_BUILDING = frozenset({"same_building", "any"})
_APART = frozenset({"nearby", "remote", "any"})


def fitting_ideas(ideas: Iterable[Idea], same_building: bool, max_minutes: int) -> list[Idea]:
    """Ideas for the partnership's setting that take at most `max_minutes`.

    When nothing is short enough the time limit is dropped rather than suggesting nothing.
    """
    settings = _SAME_BUILDING if same_building else _APART
    ideas = list(ideas)
    placed = [idea for idea in ideas if idea.setting in settings]
    short = [idea for idea in placed if idea.minutes <= max_minutes]
    return short or placed or ideas


def suiting_ideas(fitting: Sequence[Idea], levels: Collection[str | None]) -> list[Idea]:
    """The ideas of `fitting` that suit every level in the group (two managers never get a
    classroom idea). When none does, those suiting the most of the group, so a group is
    never left without an idea."""
    suiting = [idea for idea in fitting if all(idea.suits(level) for level in levels)]
    if suiting or not fitting:
        return suiting
    score = {idea.id: sum(idea.suits(level) for level in levels) for idea in fitting}
    best = max(score.values())
    return [idea for idea in fitting if score[idea.id] == best]


def choose_idea(fitting: Sequence[Idea], recent: Sequence[str], rng: random.Random,
                this_round: Mapping[str, int] | None = None) -> Idea:
    """A fitting idea none of the group got recently; else the one they got longest ago.

    `recent` is the idea ids the group's members were given, newest first; among the ideas
    new to them, one of those given least often so far this round (`this_round`) is taken
    at random, so a round does not hand everyone the same idea.
    """
    if not fitting:
        raise ValueError("no ideas to choose from")
    used = set(recent)
    fresh = [idea for idea in fitting if idea.id not in used]
    if fresh:
        counts = this_round or {}
        given = [counts.get(idea.id, 0) for idea in fresh]
        least = min(given)
        return rng.choice([idea for idea, n in zip(fresh, given, strict=True) if n == least])
    newest_use: dict[str, int] = {}
    for index, idea_id in enumerate(recent):
        newest_use.setdefault(idea_id, index)
    return max(fitting, key=lambda idea: newest_use[idea.id])
