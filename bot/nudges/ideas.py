"""Which informal-contact idea a group gets: one that fits the partnership and is new to them."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence

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


def choose_idea(fitting: Sequence[Idea], recent: Sequence[str], rng: random.Random,
                this_round: Mapping[str, int] | None = None) -> Idea:
    """A fitting idea none of the group got recently; else the one they got longest ago.

    `recent` is the idea ids the group's members were given, newest first; among the ideas
    new to them, the one given least often so far this round (`this_round`) is taken, so a
    round does not hand everyone the same idea.
    """
    if not fitting:
        raise ValueError("no ideas to choose from")
    order = list(fitting)
    rng.shuffle(order)
    used = set(recent)
    fresh = [idea for idea in order if idea.id not in used]
    if fresh:
        counts = this_round or {}
        return min(fresh, key=lambda idea: counts.get(idea.id, 0))
    newest_use: dict[str, int] = {}
    for index, idea_id in enumerate(recent):
        newest_use.setdefault(idea_id, index)
    return max(order, key=lambda idea: newest_use[idea.id])
