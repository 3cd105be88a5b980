"""Making a greedy pairing better without breaking it: alternating paths and swaps.

`augment` turns stale pairs (single-school, or met before) into fresh ones along
alternating paths; `repair` swaps partners between two stale pairs when that gives a fresh
cross-school pair. Both are bounded (`_AUGMENT_BUDGET`, `_MAX_REPAIR`), and both keep the
number of cross-school pairs. `bot.nudges.pairing` runs them after its greedy matching.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations

Pair = tuple[int, int]

# The repair step looks at no more stale pairs than this (it is quadratic in them).
_MAX_REPAIR = 400
# How many pairs the search for alternating paths may look at in one round, at most.
_AUGMENT_BUDGET = 2_000_000


def pair_key(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


def is_fresh_cross(a: int, b: int, school: Mapping[int, int], seen: Mapping[Pair, int]) -> bool:
    """From different schools and never paired before."""
    return school[a] != school[b] and pair_key(a, b) not in seen


def repair(pairs: list[list[int]], school: Mapping[int, int], seen: Mapping[Pair, int]) -> None:
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


def augment(pairs: list[list[int]], school: Mapping[int, int],
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
