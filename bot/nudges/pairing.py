"""Who meets whom in a nudge round: pairs across schools, new partners first.

Pure functions over plain data (no database, no clock), so the rules can be checked by
property tests and timed by a benchmark. The priorities, in order:

1. Everyone eligible is in exactly one group of two; one group of three when the count is
   odd. Nobody is left out.
2. As few people as possible end up in a group with only their own school
   (`fewest_single_school` says how few that is; only a school with more than half the
   people forces it).
3. Within that, people get a cross-school partner they have never been paired with; a
   pair is repeated only when no fresh one is found, and then the pair that met longest
   ago is preferred.
4. Levels: by default people meet their counterpart level (teacher with teacher), in line
   with the figure-eight; a round with `mix_levels` prefers different levels instead.

How: a greedy matching takes the people with the fewest fresh options first and scans a
shuffled pool for the best partner that keeps the school mix possible (a round of 10,000
members with a year of history takes well under a second, see bench/pairing.py). Stale
pairs left over are then improved along alternating paths (`matching.augment`), which with two
schools of equal size finds the most fresh pairs there are, so two schools of k people
meet everyone in k rounds before anyone meets twice. With more schools the search may miss a path;
what always holds (`matching.repair`) is that no two stale pairs could swap partners into a fresh
cross-school pair without losing a cross-school pair. Both steps have a work budget, so a
pathological partnership costs seconds, not minutes.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from operator import itemgetter

from bot.nudges.matching import Pair, augment, is_fresh_cross, pair_key, repair

__all__ = ["Candidate", "Group", "Pair", "fewest_single_school", "is_fresh_cross", "last_seen",
           "pair_key", "pair_members"]

Group = tuple[int, ...]

# After this many acceptable partners, stop looking for one of the preferred level.
_LEVEL_SCAN = 64


@dataclass(frozen=True)
class Candidate:
    """A member as the pairing sees them."""

    member_id: int
    school_id: int
    level: str = ""
    paused: bool = False
    opted_out: bool = False

    @property
    def eligible(self) -> bool:
        return not (self.paused or self.opted_out)


def last_seen(history: Iterable[Sequence[int]]) -> dict[Pair, int]:
    """Every pair in earlier groups (oldest first), with the index of the last group."""
    seen: dict[Pair, int] = {}
    for index, group in enumerate(history):
        for a, b in combinations(sorted(group), 2):
            seen[(a, b)] = index
    return seen


def fewest_single_school(school_counts: Sequence[int]) -> int:
    """How many people must be in a group with only their own school, at the least.

    With `n` people and a largest school of `m`, the `n - m` others can each take one
    person of that school, and the one group of three (odd `n`) can take a second one.
    """
    n = sum(school_counts)
    m = max(school_counts, default=0)
    if n < 2 or m == n:
        return n if n >= 2 else 0
    excess = 2 * m - n
    return max(0, excess - excess % 2)


def pair_members(
    candidates: Iterable[Candidate],
    history: Iterable[Sequence[int]] | Mapping[Pair, int],
    seed: int,
    *,
    mix_levels: bool = False,
) -> list[Group]:
    """This round's groups, each sorted, in a stable order; the same seed gives the same.

    `history` is the earlier groups oldest first, or every earlier pair with when it last
    met: `last_seen` of them, or any numbers in the same order (only their order counts).
    """
    people: dict[int, Candidate] = {}
    for candidate in candidates:
        if candidate.eligible:
            people[candidate.member_id] = candidate
    if len(people) < 2:
        return []
    seen = history if isinstance(history, Mapping) else last_seen(history)
    matcher = _Matcher(people, seen, random.Random(seed), mix_levels)
    groups = matcher.run()
    return sorted(tuple(sorted(group)) for group in groups)


class _Matcher:
    """The state of one greedy matching: who is left, and how many per school."""

    def __init__(self, people: dict[int, Candidate], seen: Mapping[Pair, int],
                 rng: random.Random, mix_levels: bool) -> None:
        self.people = people
        self.seen = seen
        self.mix_levels = mix_levels
        self.school = {i: c.school_id for i, c in people.items()}
        self.level = {i: c.level for i, c in people.items()}
        self.count: Counter[int] = Counter(self.school.values())
        ids = sorted(people)
        rng.shuffle(ids)
        self.rank = {member: index for index, member in enumerate(ids)}
        self.pool = ids
        self.head = 0  # everyone in the pool before this index is matched
        self.unmatched = set(ids)

    def run(self) -> list[list[int]]:
        order = self._hardest_first()
        extra = self._set_aside_one() if len(self.unmatched) % 2 else None
        pairs: list[list[int]] = []
        for x in order:
            if x not in self.unmatched:
                continue
            y = self._partner(x)
            self._take(x)
            self._take(y)
            pairs.append([x, y])
        pairs = augment(pairs, self.school, self.seen)
        repair(pairs, self.school, self.seen)
        if extra is not None:
            self._attach(extra, pairs)
        return pairs

    def _hardest_first(self) -> list[int]:
        """Members by how few fresh cross-school partners they have (then at random)."""
        n = len(self.people)
        school = self.school
        fresh = {i: n - self.count[s] for i, s in school.items()}
        # Counted in C as far as possible: the history holds about a pair per person a round.
        pairs = list(self.seen)
        firsts = list(map(school.get, map(itemgetter(0), pairs)))
        seconds = list(map(school.get, map(itemgetter(1), pairs)))
        cross = [pair for pair, one, other in zip(pairs, firsts, seconds, strict=True)
                 if one is not None and other is not None and one != other]
        met = Counter(map(itemgetter(0), cross))
        met.update(map(itemgetter(1), cross))
        for member, count in met.items():
            fresh[member] -= count
        rank = self.rank
        return sorted(self.people, key=lambda i: (fresh[i], rank[i]))

    def _set_aside_one(self) -> int:
        """With an odd count: someone of the largest school waits to join a pair as third."""
        largest = min(self.count, key=lambda s: (-self.count[s], s))
        member = min((i for i in self.unmatched if self.school[i] == largest),
                     key=lambda i: self.rank[i])
        self._take(member)
        return member

    def _take(self, member: int) -> None:
        self.unmatched.discard(member)
        self.count[self.school[member]] -= 1
        while self.head < len(self.pool) and self.pool[self.head] not in self.unmatched:
            self.head += 1
        if len(self.pool) - self.head > 64 + 2 * len(self.unmatched):
            self.pool = [i for i in self.pool[self.head:] if i in self.unmatched]
            self.head = 0

    def _partner(self, x: int) -> int:
        """The best partner for `x` among those left that keeps the school mix possible."""
        n = len(self.unmatched)
        # Most of the time any cross-school partner keeps every school within reach.
        if 2 * max(self.count.values()) <= n - 2:
            return self._cross_partner(x)
        top = heapq.nlargest(3, ((c, s) for s, c in self.count.items() if c > 0))
        floor = max(0, 2 * top[0][0] - n)
        best: tuple[int, int, int, int] | None = None
        best_member = -1
        acceptable = 0
        for position in range(self.head, len(self.pool)):
            y = self.pool[position]
            if y == x or y not in self.unmatched:
                continue
            same = self.school[x] == self.school[y]
            if 2 * same + self._floor_without(x, y, top, n) != floor:
                continue
            last = self.seen.get(pair_key(x, y), -1)
            key = (int(same), int(last >= 0), int(not self._level_fits(x, y)), last)
            if best is None or key < best:
                best, best_member = key, y
            if key[:2] == (0, 0):
                acceptable += 1
                if key[2] == 0 or acceptable >= _LEVEL_SCAN:
                    break
        if best is None:
            raise RuntimeError(f"no partner left for member {x}")
        return best_member

    def _cross_partner(self, x: int) -> int:
        """`_partner` when any cross-school partner keeps the mix possible: the first fresh
        partner of a fitting level in the pool, else the first fresh one once `_LEVEL_SCAN`
        were seen (or the pool ends), else the one met longest ago (fitting level first).
        The same choice as ranking every partner, with the work of the common case only."""
        school, seen, unmatched, level = self.school, self.seen, self.unmatched, self.level
        own, own_level, mix = school[x], level[x], self.mix_levels
        misfit_fresh = -1
        acceptable = 0
        stale: tuple[int, int] | None = None  # (misfit, last) of the best met before
        stale_member = -1
        for position in range(self.head, len(self.pool)):
            y = self.pool[position]
            if school[y] == own or y not in unmatched:
                continue
            other = level[y]
            fits = not own_level or not other or ((own_level != other) if mix
                                                 else (own_level == other))
            last = seen.get((x, y) if x < y else (y, x), -1)
            if last < 0:
                if fits:
                    return y
                if misfit_fresh < 0:
                    misfit_fresh = y
                acceptable += 1
                if acceptable >= _LEVEL_SCAN:
                    break
            elif misfit_fresh < 0:
                key = (int(not fits), last)
                if stale is None or key < stale:
                    stale, stale_member = key, y
        if misfit_fresh >= 0:
            return misfit_fresh
        if stale is None:
            raise RuntimeError(f"no partner left for member {x}")
        return stale_member

    def _floor_without(self, x: int, y: int, top: list[tuple[int, int]], n: int) -> int:
        """The single-school floor for who is left once `x` and `y` are paired."""
        sx, sy = self.school[x], self.school[y]
        largest = 0
        for count, school in top:
            largest = max(largest, count - (school == sx) - (school == sy))
        return max(0, 2 * largest - (n - 2))

    def _level_fits(self, x: int, y: int) -> bool:
        a, b = self.people[x].level, self.people[y].level
        if not a or not b:
            return True
        return (a != b) if self.mix_levels else (a == b)

    def _attach(self, z: int, pairs: list[list[int]]) -> None:
        """Make one group of three: where `z` meets another school, fresh partners, its level."""
        if not pairs:
            raise RuntimeError("a group of three needs a pair to join")

        def cost(index: int) -> tuple[int, int, int, int]:
            group = pairs[index]
            lonely = all(self.school[m] == self.school[z] for m in group)
            fresh = sum(is_fresh_cross(z, m, self.school, self.seen) for m in group)
            level = sum(self._level_fits(z, m) for m in group)
            return int(lonely), -fresh, -level, index

        pairs[min(range(len(pairs)), key=cost)].append(z)
