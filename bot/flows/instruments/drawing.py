"""The figure-eight as a picture: the schools side by side, three levels each, the links
within and between the schools coloured by how well they are connected, weak ones marked.

Pure drawing: it takes a neutral `Eight` and words already in the reader's language, and
returns PNG bytes (matplotlib's Agg canvas, no pyplot, so it is safe in a worker thread).
matplotlib is imported when the first eight is drawn, so starting achtje stays quick.
Neighbouring schools are joined by straight lines; schools further apart by arcs above
the boxes, higher the further apart.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain import LEVEL_IDS
from bot.flows.instruments.eight_links import STRONG, Figure, Link, all_links

if TYPE_CHECKING:
    from matplotlib.axes import Axes

HEIGHT_IN, DPI = 6.4, 110
MIN_WIDTH_IN, WIDTH_PER_SCHOOL_IN, MAX_WIDTH_IN = 9.0, 3.4, 17.0

_GOOD, _FAIR, _WEAK, _UNKNOWN = "#2e7d32", "#ef8f00", "#c62828", "#9e9e9e"
_Y = (0.70, 0.45, 0.20)
_BOX_H = 0.15
_INSIDE_AT = 0.3  # inside links run this share of a box's width left of its middle


@dataclass(frozen=True)
class Eight:
    """`schools` as (id, name) from left to right; `levels` the three level names (board,
    management, teachers); `boxes[level][school]` the line under a level's name in a
    school's box; `figures` by link key (a link without one shows "too few")."""

    title: str
    schools: tuple[tuple[int, str], ...]
    levels: tuple[str, str, str]
    boxes: tuple[tuple[str, ...], ...]
    figures: Mapping[str, Figure]

    def figure(self, link: Link) -> Figure:
        return self.figures.get(link.key, Figure())


@dataclass(frozen=True)
class Words:
    """The few words in the picture, in the reader's language."""

    strong: str
    fair: str
    weak: str
    too_few: str


def draw(eight: Eight, words: Words, decimal: str = ",") -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as Canvas
    from matplotlib.lines import Line2D

    count = len(eight.schools)
    width = min(MAX_WIDTH_IN, max(MIN_WIDTH_IN, WIDTH_PER_SCHOOL_IN * count))
    figure = Canvas(figsize=(width, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.axis("off")
    xs = _columns(count)
    box_w = min(0.30, 0.84 / count - 0.05)
    _draw_eight_outline(axes)
    axes.text(0.5, 0.97, eight.title, ha="center", va="top", fontsize=15, weight="bold",
              parse_math=False)
    for (_, name), x in zip(eight.schools, xs, strict=True):
        axes.text(x, 0.885, _shorten(name, width=max(12, int(box_w * 110)), lines=2),
                  ha="center", va="center", fontsize=12, weight="bold", parse_math=False)
    column = {school: index for index, (school, _) in enumerate(eight.schools)}
    for link in all_links([school for school, _ in eight.schools]):
        _draw_link(axes, link, eight.figure(link), xs, column, box_w, decimal)
    for level, name in enumerate(eight.levels):
        for school, x in enumerate(xs):
            _draw_box(axes, x, _Y[level], box_w, name, eight.boxes[level][school])
    handles = [
        Line2D([], [], color=_GOOD, lw=3, label=words.strong),
        Line2D([], [], color=_FAIR, lw=3, label=words.fair),
        Line2D([], [], color=_WEAK, lw=3, ls="--", label=words.weak),
        Line2D([], [], color=_UNKNOWN, lw=2, ls=":", label=words.too_few),
    ]
    axes.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=9.5,
                bbox_to_anchor=(0.5, 0.0))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _columns(count: int) -> list[float]:
    """The x of each school's column, spread evenly."""
    step = 0.84 / count
    return [0.08 + step * (index + 0.5) for index in range(count)]


def _draw_eight_outline(axes: Axes) -> None:
    """A faint lemniscate behind the schools: the eight lying on its side."""
    steps = [2 * math.pi * n / 240 for n in range(241)]
    xs = [0.5 + 0.47 * math.cos(t) / (1 + math.sin(t) ** 2) for t in steps]
    ys = [0.45 + 0.62 * math.sin(t) * math.cos(t) / (1 + math.sin(t) ** 2) for t in steps]
    axes.plot(xs, ys, color="#1565c0", lw=14, alpha=0.07, solid_capstyle="round")


def _style(figure: Figure) -> tuple[str, str, float]:
    if figure.median is None:
        return _UNKNOWN, ":", 2.0
    if figure.weak:
        return _WEAK, "--", 3.5
    return (_GOOD if figure.median >= STRONG else _FAIR), "-", 4.0


def _draw_link(axes: Axes, link: Link, figure: Figure, xs: list[float],
               column: Mapping[int, int], box_w: float, decimal: str) -> None:
    color, style, width = _style(figure)
    y = _Y[LEVEL_IDS.index(link.level)]
    if link.kind == "inside":  # left of the box's middle, clear of the arcs' ends
        x = xs[column[link.schools[0]]] - _INSIDE_AT * box_w
        path = [(x, y - _BOX_H / 2), (x, _Y[LEVEL_IDS.index(link.lower)] + _BOX_H / 2)]
    else:
        left, right = sorted(column[school] for school in link.schools)
        if right - left == 1:  # neighbours: a straight line between the boxes
            path = [(xs[left] + box_w / 2, y), (xs[right] - box_w / 2, y)]
        else:  # further apart: an arc over the boxes in between, ends right of the middle
            shift = box_w * min(0.45, 0.1 + 0.1 * (right - left - 2))
            start, end = xs[left] + shift, xs[right] + shift
            top = y + _BOX_H / 2
            rise = min(0.085, 0.03 + 0.02 * (right - left - 2))
            path = [(start + (end - start) * t / 40,
                     top + rise * math.sin(math.pi * t / 40)) for t in range(41)]
    axes.plot([p[0] for p in path], [p[1] for p in path], color=color, ls=style, lw=width,
              zorder=1)
    mid = path[len(path) // 2] if len(path) > 2 else (
        (path[0][0] + path[1][0]) / 2, (path[0][1] + path[1][1]) / 2)
    label = "?" if figure.median is None else _number(figure.median, decimal)
    if figure.weak:
        label = f"! {label}"
    axes.text(mid[0], mid[1], label, ha="center", va="center", fontsize=9.5, weight="bold",
              color=color, zorder=3, parse_math=False,
              bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": color, "lw": 1.2})


def _number(value: float, decimal: str) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}".replace(".", decimal)


def _draw_box(axes: Axes, x: float, y: float, box_w: float, name: str, line: str) -> None:
    from matplotlib.patches import FancyBboxPatch

    box = FancyBboxPatch((x - box_w / 2, y - _BOX_H / 2), box_w, _BOX_H,
                         boxstyle="round,pad=0.008,rounding_size=0.02",
                         fc="#f5f5f5", ec="#424242", lw=1.5, zorder=2)
    axes.add_patch(box)
    chars = max(10, int(box_w * 110))
    axes.text(x, y + 0.025, _shorten(name, width=chars, lines=2), ha="center", va="center",
              fontsize=10.5, weight="bold", zorder=3, parse_math=False)
    axes.text(x, y - 0.045, _shorten(line, width=chars, lines=1), ha="center", va="center",
              fontsize=9, zorder=3, color="#212121", parse_math=False)


def _shorten(text: str, width: int = 34, lines: int = 2) -> str:
    wrapped = textwrap.wrap(" ".join(text.split()), width=width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 3].rstrip() + "..."
    return "\n".join(wrapped)
