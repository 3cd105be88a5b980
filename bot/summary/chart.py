"""The summary chart: the five conditions this month against last month, and their course
over three months, as a PNG that reads well on a phone (1000 x 800 pixels, large type).

matplotlib is imported here only, and only when a chart is drawn, so the rest of achtje
starts fast. The object API with the Agg canvas is used, not pyplot: no global figure
state, so drawing in a worker thread is safe.

A monthly run draws hundreds of charts that differ only in their numbers, so what they
share is drawn once: a `_Template` per language, three months and set of months with a
number holds the laid-out figure with axes, names, ticks, legends and grid as pixels, and
a chart restores those pixels and draws only its own title, bars, figures and lines on
them (matplotlib's blitting). The figures beside the bars are pasted from stamps drawn
once per place and text, at the whole pixel nearest to where they belong; otherwise the
pixels come out as a chart drawn whole would. The PNG is written by `bot.summary.png`.
Templates are let go when no chart was drawn for a while (`forget_idle_templates`, from
the scheduler's tick): a monthly run would otherwise keep them for a month.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.content import Content
from bot.months import shift_month
from bot.summary.model import Summary
from bot.summary.png import TemplatePng

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle
    from matplotlib.text import Text

WIDTH, HEIGHT, DPI = 1000, 800, 100
FONT = 17
THIS_MONTH, LAST_MONTH = "#1b6fa8", "#b9c4cc"
LINES = ("#1b6fa8", "#d9822b", "#3a9c4f", "#b3405c", "#7a5cb0")
KEPT_TEMPLATES = 4  # languages x month triples in use at once: a handful
# A template holds 13-18 MB; a monthly run leaves up to KEPT_TEMPLATES of them behind, for a
# month. Let go after this long without a chart (`forget_idle_templates`).
TEMPLATE_IDLE_SECONDS = 600.0
KEPT_STAMPS = 1000  # per template; a stamp is a few kB
_SPARE = 16  # rows around a stamp's text blanked after it is drawn
_PLACEHOLDER = 3.0  # a value that puts a line where a month has numbers when laying out


def summary_chart(summary: Summary, content: Content, lang: str) -> bytes:
    """The chart of `summary` in `lang`, as PNG bytes."""
    words = _Words(
        names=tuple(content.topic_name(t.topic, lang) for t in summary.conditions),
        this_month=content.text("summary_chart_this_month", lang),
        last_month=content.text("summary_chart_last_month", lang),
        scores=content.text("summary_chart_scores", lang),
        trend=content.text("summary_chart_trend", lang),
        hidden=content.text("summary_chart_hidden", lang),
        decimal_comma=lang == "nl")
    months = tuple(content.month_name(shift_month(summary.month, n), lang) for n in (-2, -1, 0))
    # Which months have a number decides the trend's x axis, as it would a plot's autoscale.
    shown = tuple(any(t.trend[n] is not None for t in summary.conditions) for n in range(3))
    key = (words, months, shown)
    global _drawn_at
    with _LOCK:
        template = _TEMPLATES.pop(key, None) or _Template(words, months, shown)
        _TEMPLATES[key] = template
        while len(_TEMPLATES) > KEPT_TEMPLATES:
            _TEMPLATES.popitem(last=False)
        _drawn_at = time.monotonic()
    return template.draw(summary)


def forget_idle_templates(now: float | None = None) -> int:
    """Let the laid-out templates go when no chart was drawn for `TEMPLATE_IDLE_SECONDS`
    (their memory goes back to the system; the next chart lays one out again, about a
    tenth of a second). `now` is `time.monotonic()`'s; how many templates are kept. Never
    waits: while a chart is being laid out (the lock is held) they are in use anyway."""
    if not _LOCK.acquire(blocking=False):
        return len(_TEMPLATES)
    try:
        if (time.monotonic() if now is None else now) - _drawn_at >= TEMPLATE_IDLE_SECONDS:
            _TEMPLATES.clear()
        return len(_TEMPLATES)
    finally:
        _LOCK.release()


@dataclass(frozen=True)
class _Words:
    """The words on a chart: what, with the months, makes charts share a template."""

    names: tuple[str, ...]  # of the conditions, in their order
    this_month: str
    last_month: str
    scores: str
    trend: str
    hidden: str
    decimal_comma: bool


_TEMPLATES: OrderedDict[tuple[Any, ...], _Template] = OrderedDict()
_LOCK = threading.Lock()
_drawn_at = 0.0  # time.monotonic() of the last chart


class _Template:
    """One figure laid out and drawn once without its numbers, redrawn per summary."""

    def __init__(self, words: _Words, months: tuple[str, ...], shown: tuple[bool, ...]
                 ) -> None:
        import numpy as np
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.lock = threading.Lock()
        self.words, self.month = words, months[-1]
        figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
        canvas: Any = FigureCanvasAgg(figure)  # its blitting calls are untyped
        _reuse_glyphs(canvas.get_renderer())
        self.figure, self.canvas = figure, canvas
        # The title's height is laid out with a stand-in of the same font; its text is drawn
        # per chart.
        # The partnership's name is drawn as typed: no "$...$" read as a formula.
        self.title = figure.suptitle(f"Partnerschap, {months[-1]}", fontsize=FONT + 3,
                                     x=0.01, ha="left", parse_math=False)
        bars, trend = figure.subplots(2, 1, height_ratios=(3, 2))
        self.bars_axes, self.trend_axes = bars, trend
        names, count = words.names, len(words.names)
        rows = range(count)
        self.bars: list[list[Rectangle]] = []
        self.texts: list[list[Text]] = []
        for offset, label, colour in (
            (-0.2, words.this_month, THIS_MONTH),
            (0.2, words.last_month, LAST_MONTH),
        ):
            positions = [row + offset for row in rows]
            drawn = bars.barh(positions, [0.0] * count, height=0.38, color=colour, label=label)
            self.bars.append(list(drawn.patches))
            texts = [bars.text(0.06, position, "", va="center", fontsize=FONT - 3)
                     for position in positions]
            for text in texts:
                text.set_in_layout(False)  # as a whole chart: they stay inside the axes
            self.texts.append(texts)
        bars.set_yticks(list(rows), names, fontsize=FONT)
        bars.invert_yaxis()
        bars.set_xlim(0, 6.5)
        bars.set_xticks([1, 2, 3, 4, 5], ["1", "2", "3", "4", "5"], fontsize=FONT - 2)
        bars.set_xlabel(words.scores, fontsize=FONT - 2)
        bars.legend(fontsize=FONT - 2, loc="lower left", bbox_to_anchor=(0, 1), ncol=2,
                    frameon=False)
        bars.grid(axis="x", alpha=0.3)

        stand_in = [_PLACEHOLDER if month else math.nan for month in shown]
        self.lines: list[Line2D] = []
        for name, colour in zip(names, LINES, strict=True):
            [line] = trend.plot(list(months), stand_in, marker="o", markersize=9, linewidth=3,
                                color=colour, label=name)
            self.lines.append(line)
        trend.set_ylim(1, 5)
        trend.set_yticks([1, 2, 3, 4, 5], ["1", "2", "3", "4", "5"], fontsize=FONT - 2)
        trend.tick_params(axis="x", labelsize=FONT - 2)
        trend.set_title(words.trend, fontsize=FONT, loc="left")
        trend.margins(x=0.08)
        figure.legend(*trend.get_legend_handles_labels(), fontsize=FONT - 4,
                      loc="outside lower center", ncol=3, frameon=False)
        trend.grid(alpha=0.3)

        for artist in self._numbers():
            artist.set_animated(True)  # left out of the shared pixels
        # What a whole figure draws over the bars is drawn after them, per chart.
        self.over_bars = [*bars.get_xgridlines(), *bars.spines.values(),
                          *trend.spines.values()]
        for artist in self.over_bars:
            artist.set_visible(False)
        canvas.draw()
        for artist in self.over_bars:
            artist.set_visible(True)
        figure.set_layout_engine("none")  # the layout stays as it is now
        self.background = canvas.copy_from_bbox(figure.bbox)
        canvas.restore_region(self.background)
        for artist in self.over_bars:
            figure.draw_artist(artist)
        # The pixels of a chart without numbers, and its rows compressed: a chart's rows that
        # come out the same (the gaps between bars, the legend) reuse them (`TemplatePng`).
        self.png = TemplatePng(np.array(canvas.buffer_rgba()))
        self.scratch: Any = None  # where a bar's figure is drawn alone, once (`_stamp`)
        self.stamps: dict[tuple[int, str], _Stamp] = {}

    def _numbers(self) -> list[Artist]:
        """What differs per chart, in the order a whole figure draws it."""
        found: list[Artist] = [self.title]
        found += [bar for series in self.bars for bar in series]
        found += [text for series in self.texts for text in series]  # pasted as `_Stamp`s
        found += self.lines
        return found

    def draw(self, summary: Summary) -> bytes:
        def number(value: float) -> str:
            shown = f"{value:.1f}"
            return shown.replace(".", ",") if self.words.decimal_comma else shown

        import numpy as np

        conditions = summary.conditions
        with self.lock:
            self.title.set_text(f"{summary.partnership}, {self.month}")
            labels: list[tuple[int, int, str, float]] = []
            for series, (values, counts) in enumerate((
                    ([t.mean for t in conditions], [t.respondents for t in conditions]),
                    ([t.trend[1] for t in conditions], None))):
                for n, value in enumerate(values):
                    self.bars[series][n].set_width(value or 0)
                    text = self.words.hidden if value is None else number(value)
                    if value is not None and counts is not None:
                        text += f" (n={counts[n]})"
                    labels.append((series, n, text, (value or 0) + 0.06))
            for line, topic in zip(self.lines, conditions, strict=True):
                line.set_ydata([math.nan if v is None else v for v in topic.trend])

            self.canvas.restore_region(self.background)
            draw = self.figure.draw_artist
            draw(self.title)
            # A whole figure draws the bars and lines under the grid and the frame, and the
            # text on top.
            for artist in (*self.bars[0], *self.bars[1], *self.lines, *self.over_bars):
                draw(artist)
            # The canvas's own pixels: the next chart restores them from the template.
            pixels = np.asarray(self.canvas.buffer_rgba())
            for series, n, text, x in labels:
                self._label(pixels, self.texts[series][n], text, x)
            return self.png.encode(pixels)

    def _label(self, pixels: Any, slot: Text, text: str, x: float) -> None:
        """Put a bar's figure on the pixels: drawn once per place and text (`_Stamp`), then
        copied to the whole pixel nearest to where it belongs."""
        transform = slot.get_transform()
        y = slot.get_position()[1]
        anchor = round(float(transform.transform((x, y))[0]))
        key = (id(slot), text)
        stamp = self.stamps.get(key)
        if stamp is None:
            stamp = self.stamps[key] = self._stamp(slot, text, anchor)
            if len(self.stamps) > KEPT_STAMPS:
                del self.stamps[next(iter(self.stamps))]
        stamp.paste(pixels, anchor)

    def _stamp(self, slot: Text, text: str, anchor: int) -> _Stamp:
        import numpy as np
        from matplotlib.backends.backend_agg import RendererAgg
        from matplotlib.colors import to_rgba

        if self.scratch is None:
            renderer: Any = RendererAgg
            self.scratch = renderer(WIDTH, HEIGHT, DPI)
            _reuse_glyphs(self.scratch)
        transform = slot.get_transform()
        y = slot.get_position()[1]
        display_y = float(transform.transform((0, y))[1])
        slot.set_text(text)
        slot.set_x(float(transform.inverted().transform((anchor, display_y))[0]))
        slot.draw(self.scratch)
        box = slot.get_window_extent(self.scratch)
        left = max(0, math.floor(box.x0) - 2)
        right = min(WIDTH, math.ceil(box.x1) + 2)
        top = max(0, HEIGHT - math.ceil(box.y1) - 2)
        bottom = min(HEIGHT, HEIGHT - math.floor(box.y0) + 2)
        drawn = np.asarray(self.scratch.buffer_rgba())
        coverage = drawn[top:bottom, left:right, 3].copy()
        # Blank again for the next stamp: the rows the text was drawn on, with room to
        # spare (clearing the whole scratch took longer than drawing the text).
        drawn[max(0, top - _SPARE):bottom + _SPARE] = 0
        red, green, blue, _ = to_rgba(slot.get_color())
        return _Stamp(left - anchor, top, coverage[:, :, None],
                      np.array((red, green, blue, 1.0), np.float32) * 255)


def _reuse_glyphs(renderer: Any) -> None:
    """Let `renderer` draw each glyph from a bitmap rendered once per font, size, glyph
    and position within a pixel (1/64ths, as FreeType places it): matplotlib renders every
    glyph of every text anew, which is most of drawing a chart's title. A glyph moved by
    whole pixels is the same bitmap moved, so the pixels are what matplotlib draws. Only
    for level, antialiased text; anything else, or another matplotlib that draws text
    otherwise, is drawn as matplotlib does."""
    draw = getattr(renderer, "_draw_text_glyphs_and_boxes", None)
    agg = getattr(renderer, "_renderer", None)
    try:
        from matplotlib.backends import backend_agg
        from matplotlib.ft2font import FT2Font, RenderMode
    except ImportError:
        return
    if draw is None or agg is None or not all(
            hasattr(FT2Font, name) for name in ("_set_transform", "_render_glyph")):
        return
    bitmaps: dict[tuple[Any, ...], tuple[Any, int, int]] = {}

    def glyphs_and_boxes(gc: Any, x: float, y: float, angle: float, glyphs: Any,
                         boxes: Any) -> Any:
        if angle or not gc.get_antialiased():
            return draw(gc, x, y, angle, glyphs, boxes)
        hinting: Any = backend_agg.get_hinting_flag  # untyped
        height, flags = renderer.height, hinting()
        for font, size, index, slant, extend, dx, dy in glyphs:
            if slant or extend != 1:
                draw(gc, x, y, angle, [(font, size, index, slant, extend, dx, dy)], [])
                continue
            across, up = round(0x40 * (x + dx)), round(0x40 * (height - y + dy))
            key = (font.fname, size, renderer.dpi, index, flags, across & 63, up & 63)
            found = bitmaps.get(key)
            if found is None:
                font.set_size(size, renderer.dpi)
                font._set_transform([[0x10000, 0], [0, 0x10000]], [across & 63, up & 63])
                bitmap = font._render_glyph(index, flags, RenderMode.NORMAL)
                found = bitmaps[key] = (bitmap.buffer.copy(), bitmap.left, bitmap.top)
            buffer, left, top = found
            agg.draw_text_image(buffer, left + (across >> 6),
                                int(height) - (top + (up >> 6)) + buffer.shape[0], 0, gc)
        return draw(gc, x, y, angle, [], boxes) if boxes else None

    renderer._draw_text_glyphs_and_boxes = glyphs_and_boxes


@dataclass(frozen=True)
class _Stamp:
    """A text's coverage of the pixels around it, drawn once, and its colour."""

    offset: int  # of its left edge from the text's anchor, in pixels
    top: int
    coverage: Any  # rows x columns x 1, 0..255
    colour: Any  # RGBA, 0..255

    def paste(self, pixels: Any, anchor: int) -> None:
        rows, columns = self.coverage.shape[:2]
        left = anchor + self.offset
        right = min(pixels.shape[1], left + columns)
        if left < 0 or right <= left:
            return
        area = pixels[self.top:self.top + rows, left:right]
        cover = self.coverage[:, :right - left] * (1 / 255)
        area[...] = area * (1 - cover) + self.colour * cover + 0.5
