"""The dashboard's line chart as inline SVG: drawn on the server, no script, no internet.

One line per condition over the school year's months (a gap where a month shows nothing),
the scale 1-5, and the "low" line dashed. Lines differ in colour, dash and marker, so they
tell apart in print and without colour vision. The chart is `role="img"` with a title and a
description; the numbers themselves are in the table under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 860, 340
LEFT, RIGHT, TOP, BOTTOM = 44, 250, 16, 40
# Dark enough for 3:1 against white (WCAG's contrast for graphics).
COLOURS = ("#1f5fa8", "#b3261e", "#2e7d32", "#6a3d9a", "#8a5a00")
DASHES = ("", "7 4", "2 3", "10 3 2 3", "4 2")
MARKERS = ("circle", "square", "diamond", "triangle", "ring")


@dataclass(frozen=True)
class Series:
    key: str  # the condition id, for tests and styling
    name: str
    values: tuple[float | None, ...]  # one per month on the x-axis


def line_chart(series: Sequence[Series], months: Sequence[str], low: float, low_label: str,
               title: str, description: str) -> str:
    """The SVG element as text; every word in it escaped."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(months) - 1, 1)

    def x(n: int) -> float:
        return LEFT + n * step

    def y(value: float) -> float:
        return TOP + (5 - value) / 4 * plot_h

    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="chart-title">{escape(title)}</title>',
           f'<desc id="chart-desc">{escape(description)}</desc>',
           '<g class="axes" stroke="#5f6b73" stroke-width="1">']
    for score in range(1, 6):
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(score):.1f}" '
                   f'y2="{y(score):.1f}" stroke="#d5dadd"/>')
        out.append(f'<text x="{LEFT - 10}" y="{y(score) + 4:.1f}" text-anchor="end" '
                   f'stroke="none" fill="#1d2933" font-size="12">{score}</text>')
    for n, month in enumerate(months):
        out.append(f'<text x="{x(n):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
                   f'stroke="none" fill="#1d2933" font-size="12">{escape(month)}</text>')
    out.append("</g>")
    out.append(f'<g class="low"><line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(low):.1f}" '
               f'y2="{y(low):.1f}" stroke="#1d2933" stroke-width="1.5" '
               f'stroke-dasharray="3 5"/><text x="{LEFT + plot_w + 6}" y="{y(low) + 4:.1f}" '
               f'font-size="12" fill="#1d2933">{escape(low_label)}</text></g>')
    for n, line in enumerate(series):
        colour, dash, marker = (COLOURS[n % len(COLOURS)], DASHES[n % len(DASHES)],
                                MARKERS[n % len(MARKERS)])
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<g class="line" data-condition="{escape(line.key)}">')
        for run in _runs(line.values):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                       f'stroke-width="2.5"{dashed}/>')
        for i, value in enumerate(line.values):
            if value is not None:
                out.append(_marker(marker, x(i), y(value), colour))
        legend_y = TOP + 14 + n * 20
        out.append(f'<line x1="{WIDTH - RIGHT + 40}" x2="{WIDTH - RIGHT + 64}" y1="{legend_y}" '
                   f'y2="{legend_y}" stroke="{colour}" stroke-width="2.5"{dashed}/>')
        out.append(_marker(marker, WIDTH - RIGHT + 52, legend_y, colour))
        out.append(f'<text x="{WIDTH - RIGHT + 70}" y="{legend_y + 4}" font-size="12" '
                   f'fill="#1d2933">{escape(line.name)}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """The stretches of months in a row that have a value (a line breaks at a gap)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for n, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((n, value))
    return [run for run in runs if run]


def _marker(shape: str, cx: float, cy: float, colour: str) -> str:
    if shape == "square":
        return (f'<rect x="{cx - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8" '
                f'fill="{colour}"/>')
    if shape == "diamond":
        return (f'<polygon points="{cx:.1f},{cy - 5:.1f} {cx + 5:.1f},{cy:.1f} '
                f'{cx:.1f},{cy + 5:.1f} {cx - 5:.1f},{cy:.1f}" fill="{colour}"/>')
    if shape == "triangle":
        return (f'<polygon points="{cx:.1f},{cy - 5:.1f} {cx + 5:.1f},{cy + 4:.1f} '
                f'{cx - 5:.1f},{cy + 4:.1f}" fill="{colour}"/>')
    if shape == "ring":
        return (f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#fff" stroke="{colour}" '
                f'stroke-width="2"/>')
    return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}"/>'
