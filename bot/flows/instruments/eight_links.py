"""The links of the figure-eight for any number of schools, who can rate which, and the
figure each link may show.

Inside every school, board and management are linked, and management and teachers; between
every two schools, each level is linked with the same level. A member rates the links that
touch their own place (their school and level): a teacher the link up to management and
the teachers' link to every other school, a manager both links inside and their own level
across.

A link shows the median of its ratings with n, only from `minimum` ratings. A shown
figure is kept (`shown`) and changes only when at least `minimum` ratings came in or
changed since it was computed: two figures that differ by one person's rating would tell
that rating. Pure: no database, no words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import median
from typing import Any, Literal

from bot.domain import LEVEL_IDS

WEAK = 2.0  # a median of 2 or less is a weak link
STRONG = 4.0  # from 4 a link is well connected


@dataclass(frozen=True)
class Link:
    """`kind` inside: `level` is the upper level, `schools` one school; between: `level`
    is the level in both, `schools` two, the lower id first."""

    kind: Literal["inside", "between"]
    level: str
    schools: tuple[int, ...]

    @property
    def key(self) -> str:
        tag = "in" if self.kind == "inside" else "x"
        return ":".join([tag, self.level, *(str(school) for school in self.schools)])

    @property
    def lower(self) -> str:
        """The level below `level` (inside links)."""
        return LEVEL_IDS[LEVEL_IDS.index(self.level) + 1]


@dataclass(frozen=True)
class Figure:
    """What a link shows: the median of `n` ratings, or nothing yet (`median` None)."""

    n: int = 0
    median: float | None = None

    @property
    def weak(self) -> bool:
        return self.median is not None and self.median <= WEAK


def all_links(school_ids: Sequence[int]) -> list[Link]:
    """Every link of the eight: inside each school top down, then between the schools."""
    inside = [Link("inside", level, (school,)) for school in school_ids
              for level in LEVEL_IDS[:-1]]
    between = [Link("between", level, (a, b)) for level in LEVEL_IDS
               for a, b in combinations(sorted(school_ids), 2)]
    return inside + between


def member_links(school_ids: Sequence[int], school: int | None, level: str | None) -> list[Link]:
    """The links a member at `school` and `level` can see and rate; none without both."""
    if school is None or school not in school_ids or level not in LEVEL_IDS:
        return []
    return [link for link in all_links(school_ids) if touches(link, school, level)]


def touches(link: Link, school: int, level: str) -> bool:
    if school not in link.schools:
        return False
    if link.kind == "between":
        return link.level == level
    return level in (link.level, link.lower)


@dataclass(frozen=True)
class Rating:
    """One rating as the figures need it: the link's key, the score (None: don't know)
    and its place in the round (`seq` grows with every rating or change)."""

    link: str
    score: int | None
    seq: int


def shown_figures(
    ratings: Iterable[Rating], shown: dict[str, Any] | None, minimum: int
) -> tuple[dict[str, Figure], dict[str, Any]]:
    """The figure of every rated or earlier shown link, and what to keep as shown.

    A link gets a new figure when it has at least `minimum` scores of which at least
    `minimum` came in (or changed) after the figure it showed before; otherwise the earlier
    figure stands (nothing, the first time)."""
    by_link: dict[str, list[Rating]] = {}
    for rating in ratings:
        by_link.setdefault(rating.link, []).append(rating)
    kept = dict(shown or {})
    figures: dict[str, Figure] = {}
    for key in sorted(set(by_link) | set(kept)):
        before = kept.get(key)
        upto = int(before["upto"]) if before else 0
        rated = by_link.get(key, [])
        scores = [r.score for r in rated if r.score is not None]
        fresh = sum(1 for r in rated if r.score is not None and r.seq > upto)
        if len(scores) >= minimum and fresh >= minimum:
            kept[key] = {"n": len(scores), "median": float(median(scores)),
                         "upto": max(r.seq for r in rated)}
        if key in kept:
            figures[key] = Figure(int(kept[key]["n"]), float(kept[key]["median"]))
        else:
            figures[key] = Figure()
    return figures, kept
