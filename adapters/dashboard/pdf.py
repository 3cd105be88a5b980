"""The dashboard's print view as a PDF file (A4, portrait), drawn with matplotlib, which
achtje already uses for the chat's chart: no browser, no system library, no internet.

Two steps: `year_document` turns the page's view into neutral blocks (headings, tables of
strings, paragraphs), with the same words and the same suppressed cells as the HTML page,
so a test can hold the two side by side; `render_pdf` lays the blocks out on pages.
matplotlib is imported only when a PDF is drawn.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.dashboard.svg import COLOURS
from adapters.dashboard.view import BOARD_IDS, MonthFigures, YearView
from bot.domain import CONDITION_IDS

if TYPE_CHECKING:
    from adapters.dashboard.pages import Words

A4 = (8.27, 11.69)  # inches
MARGIN = 0.07  # of the page, left and right
TOP, BOTTOM = 0.95, 0.05
LINE = 0.0135  # one line of 7.5 pt text, as a share of the page's height
DASHES = ("-", "--", ":", "-.", (0, (4, 2)))
MARKERS = ("o", "s", "D", "^", "o")


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    months: tuple[str, ...]
    series: tuple[tuple[str, tuple[float | None, ...]], ...]  # (name, one value per month)
    low: float
    low_label: str
    title: str


Block = Heading | Paragraph | Table | Chart


def year_document(view: YearView, words: Words, title: str, chart: Chart | None,
                  agenda: Sequence[tuple[Any, Sequence[str]]]) -> list[Block]:
    """The print view's content, section by section, as on the HTML page."""
    t = words.t
    blocks: list[Block] = [Heading(title, 0), Paragraph(_year_line(view, words)),
                           Paragraph(t("dashboard_confidential", minimum=view.minimum))]
    if not view.months:
        return [*blocks, Paragraph(t("dashboard_no_months"))]
    blocks.append(Heading(t("dashboard_conditions_title")))
    if chart is not None:
        blocks.append(chart)
    blocks += [_figures(view.conditions, CONDITION_IDS, words),
               Paragraph(t("dashboard_hidden_note", minimum=view.minimum)),
               Heading(t("dashboard_boards_title"))]
    if view.filtered:
        blocks.append(Paragraph(t("dashboard_boards_filtered")))
    blocks.append(_figures(view.boards, BOARD_IDS, words))
    blocks.append(Heading(t("dashboard_gaps_title")))
    for caption, part in words.gap_tables(view):
        blocks += [Heading(caption, 2), Table(
            (t("dashboard_month"), *(words.topic(c) for c in CONDITION_IDS)),
            tuple((words.month(row.month),
                   *(words.gap(gap, view.schools) for gap in getattr(row, part)))
                  for row in view.gaps))]
    blocks += [Paragraph(t("dashboard_no_gap_note")), Heading(t("dashboard_rates_title")),
               Table((t("dashboard_month"), t("dashboard_rate_respondents"),
                      t("dashboard_rate_members"), t("dashboard_rate_share"),
                      t("dashboard_rate_rounds")),
                     tuple((words.month(r.month), str(r.respondents), str(r.members),
                            f"{r.rate}%", str(r.rounds)) for r in view.rates)),
               Heading(t("dashboard_informal_title"))]
    if view.informal:
        hidden = t("dashboard_hidden")
        blocks.append(Table(
            (t("dashboard_month"), t("dashboard_informal_rounds"),
             t("dashboard_informal_invited"), t("dashboard_informal_met"),
             t("dashboard_informal_cross")),
            tuple((words.month(r.month), str(r.rounds),
                   *(hidden if v is None else str(v) for v in (r.invited, r.met,
                                                               r.cross_school)))
                  for r in view.informal)))
    else:
        blocks.append(Paragraph(t("dashboard_informal_none")))
    blocks.append(Heading(t("dashboard_agenda_title")))
    for month, questions in agenda:
        blocks.append(Heading(words.month(month), 2))
        blocks += [Paragraph(f"{n}. {question}") for n, question in enumerate(questions, 1)]
    return blocks


def _year_line(view: YearView, words: Words) -> str:
    line = words.t("dashboard_year", year=words.year(view.filters.year))
    if view.filtered:
        line += " · " + words.t("dashboard_showing", group=words.chosen(view))
    return line


def _figures(rows: Sequence[MonthFigures], ids: Sequence[str], words: Words) -> Table:
    return Table((words.t("dashboard_month"), *(words.topic(i) for i in ids)),
                 tuple((words.month(row.month), *(words.figure(f) for f in row.figures))
                       for row in rows))


def render_pdf(blocks: Sequence[Block], title: str, lang: str) -> bytes:
    """The blocks on A4 pages, top to bottom; a table or chart that does not fit on what is
    left of a page starts the next one."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    out = io.BytesIO()
    # TrueType (42), not Type 3: the text can be searched, copied and read aloud. Text is
    # drawn as written: a name with "$...$" in it is no formula.
    with rc_context({"pdf.fonttype": 42, "text.parse_math": False}), PdfPages(
            out, metadata={"Title": title, "Creator": "achtje", "Subject": lang}) as pdf:
        page = Figure(figsize=A4)
        y = TOP
        for n, block in enumerate(blocks):
            height = _height(block)
            need = _kept_together(blocks, n)
            if y - need < BOTTOM and y < TOP:
                pdf.savefig(page)
                page, y = Figure(figsize=A4), TOP
            _draw(page, block, y, height)
            y -= height + LINE * 0.6
        pdf.savefig(page)
    return out.getvalue()


def _kept_together(blocks: Sequence[Block], start: int) -> float:
    """The height of a block, and for a heading of the headings and the block after it:
    a heading never ends a page."""
    need, n = 0.0, start
    while n < len(blocks):
        need += _height(blocks[n]) + (LINE * 0.6 if n > start else 0)
        if not isinstance(blocks[n], Heading):
            break
        n += 1
    return need


def _wrapped(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def _cell_lines(table: Table) -> tuple[int, list[list[list[str]]]]:
    """Each cell wrapped to its column's width; the characters a column may hold."""
    columns = len(table.header)
    width = max(int(108 / columns), 10)
    cells = [[_wrapped(cell, width) for cell in row] for row in (table.header, *table.rows)]
    return width, cells


def _height(block: Block) -> float:
    if isinstance(block, Heading):
        return LINE * (2.4 if block.level == 0 else 1.8 if block.level == 1 else 1.4)
    if isinstance(block, Paragraph):
        return LINE * len(_wrapped(block.text, 120))
    if isinstance(block, Chart):
        return 0.3
    _, cells = _cell_lines(block)
    return sum(LINE * max(len(cell) for cell in row) + LINE * 0.4 for row in cells)


def _draw(page: Any, block: Block, y: float, height: float) -> None:
    if isinstance(block, Heading):
        size = (15, 12, 10)[min(block.level, 2)]
        page.text(MARGIN, y, block.text, fontsize=size, fontweight="bold", va="top")
    elif isinstance(block, Paragraph):
        page.text(MARGIN, y, "\n".join(_wrapped(block.text, 120)), fontsize=7.5, va="top",
                  linespacing=1.3)
    elif isinstance(block, Chart):
        _chart(page, block, y, height)
    else:
        _table(page, block, y)


def _chart(page: Any, chart: Chart, y: float, height: float) -> None:
    axes = page.add_axes((MARGIN + 0.04, y - height + 0.03, 0.58, height - 0.05))
    positions = range(len(chart.months))
    for n, (name, values) in enumerate(chart.series):
        axes.plot(positions, [float("nan") if v is None else v for v in values],
                  color=COLOURS[n % len(COLOURS)], linestyle=DASHES[n % len(DASHES)],
                  marker=MARKERS[n % len(MARKERS)], markersize=4, linewidth=1.4,
                  markerfacecolor="white" if n == 4 else None, label=name)
    axes.axhline(chart.low, color="#4b5a66", linestyle="--", linewidth=0.8,
                 label=chart.low_label)
    axes.set_ylim(1, 5)
    axes.set_yticks([1, 2, 3, 4, 5])
    axes.set_xticks(list(positions), chart.months, fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    axes.set_title(chart.title, fontsize=8, loc="left")
    axes.grid(axis="y", color="#dde3e6", linewidth=0.5)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=7, frameon=False)


def _table(page: Any, table: Table, y: float) -> None:
    columns = len(table.header)
    width = (1 - 2 * MARGIN) / columns
    _, cells = _cell_lines(table)
    top = y
    for r, row in enumerate(cells):
        lines = max(len(cell) for cell in row)
        row_height = LINE * lines + LINE * 0.4
        if r == 0:
            page.patches.append(_box(page, MARGIN, top - row_height, 1 - 2 * MARGIN,
                                     row_height, "#eef2f4"))
        for c, cell in enumerate(row):
            page.text(MARGIN + c * width + 0.004, top - LINE * 0.2, "\n".join(cell),
                      fontsize=7, va="top", linespacing=1.25,
                      fontweight="bold" if r == 0 or c == 0 else "normal")
        top -= row_height
        page.lines.append(_rule(page, top))


def _box(page: Any, x: float, y: float, w: float, h: float, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, transform=page.transFigure, facecolor=colour,
                     edgecolor="none", figure=page)


def _rule(page: Any, y: float) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([MARGIN, 1 - MARGIN], [y, y], transform=page.transFigure,
                  color="#c9d1d6", linewidth=0.5, figure=page)
