"""Which group cells of a summary may be shown without exposing a small group.

Respondents fall into classes by side (vmbo, mbo), level (board, management, teachers) and
school; a cell is one side, one level or one school, so a union of classes. A shown cell
tells its mean and its n, and so its sum. Hiding only the cells under the minimum is not
enough: from the total and the other cells, a hidden cell's sum often follows by
subtraction ("vmbo minus school A is school B"), and with partitions side by side even a
single class (say the vmbo board) can. So a cell is shown only when no set of fewer than
`minimum` respondents has a sum that is a linear combination of the shown sums; otherwise
more cells are hidden, each time the one that exposes least, until none is.

Partitions that refine the others (`refined`: the schools, each inside one school type) are
weighed after them: the other cells are chosen as if they were not there, so the chat's
sides and levels stay what they would be without schools, and a refining cell is shown
only where the whole set, old and new cells together, still exposes no small set.

The check is exact: linear algebra over the class vectors, modulo the prime 2**61 - 1.
The vectors hold only 0 and 1 and there are at most a few dozen classes, so by Hadamard's
bound no minor of them reaches that prime, and ranks modulo it equal the rational ranks.
A set of classes follows from the shown sums exactly when its vector is orthogonal to the
null space of the shown vectors, so each small set costs a few additions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import islice

logger = logging.getLogger(__name__)

ClassKey = tuple[str | None, ...]  # one value per partition; None = not known
Cell = tuple[int, str]  # (partition index, value)

# Past this many small sets to check, show no cells at all rather than check for long
# (for refining partitions: none of theirs, the others as without them).
MAX_SMALL_SETS = 20000
_PRIME = 2**61 - 1


def visible_cells(classes: Mapping[ClassKey, int], minimum: int, *,
                  refined: int = 0) -> frozenset[Cell]:
    """The cells whose mean and n may be shown, given the respondents per class; the last
    `refined` partitions are weighed after the others (see the module's docstring)."""
    sizes = {key: n for key, n in classes.items() if n > 0}
    if sum(sizes.values()) < minimum:
        return frozenset()
    fixed: frozenset[Cell] = frozenset()
    if refined:
        width = len(next(iter(sizes))) - refined
        coarse: dict[ClassKey, int] = {}
        for key, n in sizes.items():
            coarse[key[:width]] = coarse.get(key[:width], 0) + n
        fixed = visible_cells(coarse, minimum)
        found = _choose(sizes, minimum, fixed, lambda cell: cell[0] >= width)
        return fixed if found is None else found
    return _choose(sizes, minimum, fixed, lambda cell: True) or frozenset()


def _choose(sizes: Mapping[ClassKey, int], minimum: int, fixed: frozenset[Cell],
            open_: Callable[[Cell], bool]) -> frozenset[Cell] | None:
    """`fixed` (shown already, safe on their own) and as many of the cells `open_` lets
    in as can be shown beside them; None when there are too many small sets to check."""
    keys = sorted(sizes, key=repr)
    cells = sorted({(i, value) for key in keys for i, value in enumerate(key)
                    if value is not None})
    vectors = {cell: tuple(int(key[cell[0]] == cell[1]) for key in keys) for cell in cells}
    size = {cell: sum(n for key, n in sizes.items() if key[cell[0]] == cell[1])
            for cell in cells}
    small = list(islice(_small_sets([sizes[key] for key in keys], minimum),
                        MAX_SMALL_SETS + 1))
    if len(small) > MAX_SMALL_SETS:
        logger.warning("too many small groups to check; showing no more group cells")
        return None
    total = (1,) * len(keys)

    def leaks(chosen: set[Cell]) -> int:
        """How many small sets have a sum that follows from the total and `chosen`."""
        kernel = _null_space([total, *(vectors[cell] for cell in sorted(chosen))], len(keys))
        return sum(1 for subset in small
                   if all(sum(k[i] for i in subset) % _PRIME == 0 for k in kernel))

    shown = set(fixed) | {cell for cell in cells if open_(cell) and size[cell] >= minimum}
    while leaks(shown):
        if not shown - fixed:  # cannot be: `fixed` exposes nothing on its own
            return None
        # Hide the cell whose hiding leaves the fewest small sets exposed; the smallest on a tie.
        shown.remove(min(shown - fixed,
                         key=lambda cell: (leaks(shown - {cell}), size[cell], cell)))
    # A hidden cell that follows from the shown ones anyway tells nothing new: show it.
    kernel = _null_space([total, *(vectors[cell] for cell in sorted(shown))], len(keys))
    shown |= {cell for cell in cells if open_(cell) and size[cell] >= minimum
              and not any(_dot(k, vectors[cell]) for k in kernel)}
    return frozenset(shown)


def _small_sets(sizes: Sequence[int], minimum: int) -> Iterator[tuple[int, ...]]:
    """Every non-empty set of classes (as the indices of its classes) with fewer than
    `minimum` people."""

    def grow(index: int, chosen: tuple[int, ...], total: int) -> Iterator[tuple[int, ...]]:
        if index == len(sizes):
            if total:
                yield chosen
            return
        yield from grow(index + 1, chosen, total)
        if total + sizes[index] < minimum:
            yield from grow(index + 1, (*chosen, index), total + sizes[index])

    yield from grow(0, (), 0)


def _null_space(vectors: Sequence[Sequence[int]], width: int) -> list[list[int]]:
    """A basis of the vectors orthogonal to all of `vectors` (modulo the prime): a vector
    lies in their span exactly when it is orthogonal to each of these."""
    rows: list[list[int]] = []
    pivots: list[int] = []
    for vector in vectors:
        row = [x % _PRIME for x in vector]
        for pivot, other in zip(pivots, rows, strict=True):
            if row[pivot]:
                row = _minus(row, row[pivot], other)
        lead = next((i for i, x in enumerate(row) if x), None)
        if lead is None:
            continue
        inverse = pow(row[lead], -1, _PRIME)
        row = [x * inverse % _PRIME for x in row]
        for n, other in enumerate(rows):
            if other[lead]:
                rows[n] = _minus(other, other[lead], row)
        rows.append(row)
        pivots.append(lead)
    kernel = []
    for free in (i for i in range(width) if i not in pivots):
        vector = [0] * width
        vector[free] = 1
        for pivot, row in zip(pivots, rows, strict=True):
            vector[pivot] = -row[free] % _PRIME
        kernel.append(vector)
    return kernel


def _dot(a: Sequence[int], b: Sequence[int]) -> int:
    return sum(x * y for x, y in zip(a, b, strict=True)) % _PRIME


def _minus(row: list[int], factor: int, other: list[int]) -> list[int]:
    return [(a - factor * b) % _PRIME for a, b in zip(row, other, strict=True)]
