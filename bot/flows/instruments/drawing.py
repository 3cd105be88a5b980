"""The figure-eight as a picture: two schools side by side, three levels each, the links
within and between the schools coloured by how well they are connected, weak ones marked.

Pure drawing: it takes a neutral `Eight` and words already in the reader's language, and
returns PNG bytes (matplotlib's Agg canvas, no pyplot, so it is safe in a worker thread).
matplotlib is imported when the first eight is drawn, so starting achtje stays quick.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WEAK = 2  # a link scored 1 or 2 is weak
WIDTH_IN, HEIGHT_IN, DPI = 9.0, 6.4, 110

_GOOD, _FAIR, _WEAK, _UNKNOWN = "#2e7d32", "#ef8f00", "#c62828", "#9e9e9e"
_X = (0.25, 0.75)
_Y = (0.74, 0.47, 0.20)
_BOX_W, _BOX_H = 0.30, 0.15


@dataclass(frozen=True)
class EightLevel:
    """One level in both schools: the people named ("" = nobody yet) and the scores."""

    name: str
    names: tuple[str, str]
    inside: tuple[int | None, int | None]
    between: int | None


@dataclass(frozen=True)
class Eight:
    title: str
    schools: tuple[str, str]
    levels: tuple[EightLevel, EightLevel, EightLevel]  # board, management, teachers


@dataclass(frozen=True)
class Words:
    """The few words in the picture, in the reader's language."""

    nobody: str
    strong: str
    fair: str
    weak: str
    missing: str
    unknown: str


@dataclass(frozen=True)
class Link:
    """A line in the eight: between two levels of one school, or one level across schools."""

    level: int  # the upper level of an inside link, or the level of a between link
    school: int | None  # None for a link between the schools
    score: int | None
    missing: bool  # somebody is missing at one end

    @property
    def weak(self) -> bool:
        return self.missing or (self.score is not None and self.score <= WEAK)


def links(eight: Eight) -> list[Link]:
    """Every link of the eight, inside each school (top down) and between the schools."""
    found = []
    for school in (0, 1):
        for upper in (0, 1):
            a, b = eight.levels[upper], eight.levels[upper + 1]
            scores = (a.inside[school], b.inside[school])
            score = None if None in scores else min(s for s in scores if s is not None)
            found.append(Link(upper, school, score,
                              not a.names[school] or not b.names[school]))
    for index, level in enumerate(eight.levels):
        found.append(Link(index, None, level.between, not level.names[0] or not level.names[1]))
    return found


def draw(eight: Eight, words: Words) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.axis("off")
    _draw_eight_outline(axes)
    axes.text(0.5, 0.96, eight.title, ha="center", va="top", fontsize=15, weight="bold",
              parse_math=False)
    for school, x in enumerate(_X):
        axes.text(x, 0.87, eight.schools[school], ha="center", va="center", fontsize=13,
                  weight="bold", parse_math=False)
    for link in links(eight):
        _draw_link(axes, link)
    for index, level in enumerate(eight.levels):
        for school, x in enumerate(_X):
            _draw_level(axes, x, _Y[index], level, school, words)
    handles = [
        Line2D([], [], color=_GOOD, lw=3, label=words.strong),
        Line2D([], [], color=_FAIR, lw=3, label=words.fair),
        Line2D([], [], color=_WEAK, lw=3, ls="--", label=words.weak),
        Line2D([], [], color=_WEAK, lw=2, ls=":", label=words.missing),
        Line2D([], [], color=_UNKNOWN, lw=2, ls=":", label=words.unknown),
    ]
    axes.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=9.5,
                bbox_to_anchor=(0.5, 0.0))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _draw_eight_outline(axes: Axes) -> None:
    """A faint lemniscate behind the schools: the eight lying on its side."""
    steps = [2 * math.pi * n / 240 for n in range(241)]
    xs = [0.5 + 0.47 * math.cos(t) / (1 + math.sin(t) ** 2) for t in steps]
    ys = [0.47 + 0.62 * math.sin(t) * math.cos(t) / (1 + math.sin(t) ** 2) for t in steps]
    axes.plot(xs, ys, color="#1565c0", lw=14, alpha=0.07, solid_capstyle="round")


def _style(link: Link) -> tuple[str, str, float]:
    if link.missing:
        return _WEAK, ":", 2.5
    if link.score is None:
        return _UNKNOWN, ":", 2.5
    if link.score <= WEAK:
        return _WEAK, "--", 3.5
    return (_FAIR if link.score == 3 else _GOOD), "-", 4.0


def _draw_link(axes: Axes, link: Link) -> None:
    color, style, width = _style(link)
    if link.school is None:
        y = _Y[link.level]
        start, end = (_X[0] + _BOX_W / 2, y), (_X[1] - _BOX_W / 2, y)
    else:
        x = _X[link.school]
        start, end = (x, _Y[link.level] - _BOX_H / 2), (x, _Y[link.level + 1] + _BOX_H / 2)
    axes.plot([start[0], end[0]], [start[1], end[1]], color=color, ls=style, lw=width,
              zorder=1)
    mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    label = "?" if link.score is None else str(link.score)
    if link.weak:
        label = f"! {label}" if link.score is not None else "!"
    axes.text(mid[0], mid[1], label, ha="center", va="center", fontsize=10, weight="bold",
              color=color, zorder=3, parse_math=False,
              bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": color, "lw": 1.2})


def _draw_level(axes: Axes, x: float, y: float, level: EightLevel, school: int,
                words: Words) -> None:
    from matplotlib.patches import FancyBboxPatch

    names = level.names[school]
    box = FancyBboxPatch((x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H,
                         boxstyle="round,pad=0.008,rounding_size=0.02",
                         fc="#f5f5f5" if names else "#ffebee",
                         ec="#424242" if names else _WEAK, lw=1.5, zorder=2,
                         ls="-" if names else "--")
    axes.add_patch(box)
    axes.text(x, y + 0.035, level.name, ha="center", va="center", fontsize=11,
              weight="bold", zorder=3, parse_math=False)
    shown = _shorten(names) if names else words.nobody
    axes.text(x, y - 0.025, shown, ha="center", va="center", fontsize=9, zorder=3,
              style="normal" if names else "italic", parse_math=False,
              color="#212121" if names else _WEAK)


def _shorten(names: str, width: int = 34, lines: int = 2) -> str:
    wrapped = textwrap.wrap(" ".join(names.split()), width=width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 3].rstrip() + "..."
    return "\n".join(wrapped)
