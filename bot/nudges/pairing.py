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
pairs left over are then improved along alternating paths (`_augment`), which with two
schools of equal size finds the most fresh pairs there are, so two schools of k people
meet everyone in k rounds before anyone meets twice. With more schools the search may miss a path;
what always holds (`_repair`) is that no two stale pairs could swap partners into a fresh
cross-school pair without losing a cross-school pair. Both steps have a work budget, so a
pathological partnership costs seconds, not minutes.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from operator import itemgetter

Group = tuple[int, ...]
Pair = tuple[int, int]

# After this many acceptable partners, stop looking for one of the preferred level.
_LEVEL_SCAN = 64
# The repair step looks at no more stale pairs than this (it is quadratic in them).
_MAX_REPAIR = 400
# How many pairs the search for alternating paths may look at in one round, at most.
_AUGMENT_BUDGET = 2_000_000


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


def pair_key(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


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


def is_fresh_cross(a: int, b: int, school: Mapping[int, int], seen: Mapping[Pair, int]) -> bool:
    """From different schools and never paired before."""
    return school[a] != school[b] and pair_key(a, b) not in seen


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
        pairs = _augment(pairs, self.school, self.seen)
        _repair(pairs, self.school, self.seen)
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


def _repair(pairs: list[list[int]], school: Mapping[int, int], seen: Mapping[Pair, int]) -> None:
    """Swap partners between stale pairs while that makes a fresh cross-school pair.

    A pair is stale when it is single-school or met before. For two stale pairs {u, a} and
    {v, b}, re-pairing them as {u, v}+{a, b} or {u, b}+{a, v} is taken when it gives at
    least one fresh cross-school pair and no fewer cross-school pairs. Afterwards no such
    swap is left (among the first `_MAX_REPAIR` stale pairs).
    """

    def fresh(p: Sequence[int]) -> bool:
        return is_fresh_cross(p[0], p[1], school, seen)

    def cross(p: Sequence[int]) -> int:
        return int(school[p[0]] != school[p[1]])

    stale = [i for i, p in enumerate(pairs) if not fresh(p)][:_MAX_REPAIR]
    changed = True
    while changed:
        changed = False
        for i, j in combinations(stale, 2):
            if fresh(pairs[i]) or fresh(pairs[j]):
                continue
            (u, a), (v, b) = pairs[i], pairs[j]
            before = cross(pairs[i]) + cross(pairs[j])
            for first, second in (([u, v], [a, b]), ([u, b], [a, v])):
                if (fresh(first) or fresh(second)) and cross(first) + cross(second) >= before:
                    pairs[i], pairs[j] = first, second
                    changed = True
                    break
        stale = [k for k in stale if not fresh(pairs[k])]


def _augment(pairs: list[list[int]], school: Mapping[int, int],
             seen: Mapping[Pair, int]) -> list[list[int]]:
    """Turn stale pairs into fresh ones along alternating paths, as a matching algorithm does.

    From someone in a stale pair, look for a path of fresh cross-school pairs whose far end
    is someone in another stale pair; shifting partners along it gives one more fresh pair,
    and the two left-over partners pair up (taken only when that keeps the cross-school
    count). With two schools of equal size this finds the most fresh pairs there are (it is
    Kuhn's algorithm then); otherwise it may miss some paths, and never breaks anything.
    """
    partner = {}
    for a, b in pairs:
        partner[a], partner[b] = b, a
    everyone = [m for pair in pairs for m in pair]
    position = {member: index for index, member in enumerate(everyone)}
    budget = [_AUGMENT_BUDGET]

    def fresh(a: int, b: int) -> bool:
        budget[0] -= 1
        return school[a] != school[b] and pair_key(a, b) not in seen

    improved = True
    while improved and budget[0] > 0:
        improved = False
        for u in everyone:
            if budget[0] <= 0:
                break
            if fresh(u, partner[u]):
                continue
            path = _alternating_path(u, partner, everyone, position, fresh, school, budget)
            if path is None:
                continue
            a, b = partner[u], partner[path[-1]]
            starts = [u, *(partner[w] for w in path[:-1])]
            for start, w in zip(starts, path, strict=True):
                partner[start], partner[w] = w, start
            if path[-1] != a:
                partner[a], partner[b] = b, a
            improved = True
    done: set[int] = set()
    result = []
    for member in everyone:
        if member not in done:
            done.update((member, partner[member]))
            result.append([member, partner[member]])
    return result


def _alternating_path(
    u: int, partner: dict[int, int], everyone: list[int], position: Mapping[int, int],
    fresh: Callable[[int, int], bool], school: Mapping[int, int], budget: list[int],
) -> list[int] | None:
    """The people `w1..wk` of an augmenting path from `u` (depth first), or None.

    Each step scans `everyone` in order for the next person not visited yet; `skip` jumps
    over the visited ones (each index points at or before the next unvisited index, with
    the pointers shortened as they are followed), so a long search is not quadratic."""
    a = partner[u]

    def may_end_at(w: int) -> bool:
        if w == a:
            return True
        b = partner[w]
        cross = int(school[a] != school[b])
        return 1 + cross >= int(school[u] != school[a]) + int(school[w] != school[b])

    count = len(everyone)
    skip = list(range(count + 1))

    def unvisited_from(index: int) -> int:
        found = index
        while skip[found] != found:
            found = skip[found]
        while skip[index] != found:
            skip[index], index = found, skip[index]
        return found

    def visit(member: int) -> None:
        visited.add(member)
        index = position[member]
        skip[index] = index + 1

    visited: set[int] = set()
    visit(u)
    stack = [(u, 0)]
    chosen: list[int] = []
    while stack and budget[0] > 0:
        v, start = stack[-1]
        index = unvisited_from(start)
        while index < count:
            w = everyone[index]
            if fresh(v, w):
                mate = partner[w]
                if not fresh(w, mate):
                    if may_end_at(w):
                        return [*chosen, w]
                elif mate not in visited:
                    visit(w)
                    visit(mate)
                    stack[-1] = (v, index + 1)
                    chosen.append(w)
                    stack.append((mate, 0))
                    break
            index = unvisited_from(index + 1)
        else:
            stack.pop()
            if chosen:
                chosen.pop()
    return None
