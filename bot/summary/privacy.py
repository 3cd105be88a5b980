"""Which group cells of a summary may be shown without exposing a small group.

Respondents fall into classes by side (vmbo, mbo) and level (board, management, teachers);
a cell is one side or one level, so a union of classes. A shown cell tells its mean and its
n, and so its sum. Hiding only the cells under the minimum is not enough: from the total and
the other cells, a hidden cell's sum often follows by subtraction, and with two partitions
side by side even a single class (say the vmbo board) can. So a cell is shown only when no
set of fewer than `minimum` respondents has a sum that is a linear combination of the shown
sums; otherwise more cells are hidden, each time the one that exposes least, until none is.

The check is exact: Gaussian elimination over the class vectors, modulo the prime 2**61 - 1.
The vectors hold only 0 and 1 and there are at most a few dozen classes, so by Hadamard's
bound no minor of them reaches that prime, and ranks modulo it equal the rational ranks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice

logger = logging.getLogger(__name__)

ClassKey = tuple[str | None, ...]  # one value per partition; None = not known
Cell = tuple[int, str]  # (partition index, value)

# Past this many small sets to check, show no cells at all rather than check for long.
MAX_SMALL_SETS = 4096
_PRIME = 2**61 - 1


def visible_cells(classes: Mapping[ClassKey, int], minimum: int) -> frozenset[Cell]:
    """The cells whose mean and n may be shown, given the respondents per class."""
    sizes = {key: n for key, n in classes.items() if n > 0}
    if sum(sizes.values()) < minimum:
        return frozenset()
    keys = sorted(sizes, key=repr)
    cells = sorted({(i, value) for key in keys for i, value in enumerate(key)
                    if value is not None})
    vectors = {cell: tuple(int(key[cell[0]] == cell[1]) for key in keys) for cell in cells}
    size = {cell: sum(n for key, n in sizes.items() if key[cell[0]] == cell[1])
            for cell in cells}
    small = list(islice(_small_sets([sizes[key] for key in keys], minimum), MAX_SMALL_SETS + 1))
    if len(small) > MAX_SMALL_SETS:
        logger.warning("too many small groups to check; showing no group cells")
        return frozenset()

    def leaks(chosen: set[Cell]) -> int:
        """How many small sets have a sum that follows from the total and `chosen`."""
        basis = _Basis([(1,) * len(keys), *(vectors[cell] for cell in sorted(chosen))])
        return sum(1 for subset in small if basis.spans(subset))

    shown = {cell for cell in cells if size[cell] >= minimum}
    while leaks(shown):
        # Hide the cell whose hiding leaves the fewest small sets exposed; the smallest on a tie.
        shown.remove(min(shown, key=lambda cell: (leaks(shown - {cell}), size[cell], cell)))
    # A hidden cell that follows from the shown ones anyway tells nothing new: show it.
    basis = _Basis([(1,) * len(keys), *(vectors[cell] for cell in sorted(shown))])
    shown |= {cell for cell in cells if size[cell] >= minimum and basis.spans(vectors[cell])}
    return frozenset(shown)


def _small_sets(sizes: Sequence[int], minimum: int) -> Iterator[tuple[int, ...]]:
    """Every non-empty set of classes (as a 0/1 vector) with fewer than `minimum` people."""

    def grow(index: int, chosen: tuple[int, ...], total: int) -> Iterator[tuple[int, ...]]:
        if index == len(sizes):
            if total:
                yield chosen
            return
        yield from grow(index + 1, (*chosen, 0), total)
        if total + sizes[index] < minimum:
            yield from grow(index + 1, (*chosen, 1), total + sizes[index])

    yield from grow(0, (), 0)


class _Basis:
    """A row-reduced basis of the span of some vectors, to test membership quickly."""

    def __init__(self, vectors: Sequence[Sequence[int]]) -> None:
        self.rows: list[tuple[int, list[int]]] = []  # (pivot column, row)
        for vector in vectors:
            row = self._reduce(list(vector))
            pivot = next((i for i, x in enumerate(row) if x), None)
            if pivot is None:
                continue
            inverse = pow(row[pivot], -1, _PRIME)
            row = [x * inverse % _PRIME for x in row]
            for n, (other_pivot, other) in enumerate(self.rows):
                if other[pivot]:
                    self.rows[n] = (other_pivot, _minus(other, other[pivot], row))
            self.rows.append((pivot, row))

    def _reduce(self, row: list[int]) -> list[int]:
        for pivot, basis_row in self.rows:
            if row[pivot]:
                row = _minus(row, row[pivot], basis_row)
        return row

    def spans(self, vector: Sequence[int]) -> bool:
        return not any(self._reduce(list(vector)))


def _minus(row: list[int], factor: int, other: list[int]) -> list[int]:
    return [(a - factor * b) % _PRIME for a, b in zip(row, other, strict=True)]
