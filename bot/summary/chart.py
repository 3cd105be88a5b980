"""The summary chart: the five conditions this month against last month, and their course
over three months, as a PNG that reads well on a phone (1000 x 800 pixels, large type).

matplotlib is imported here only, and only when a chart is drawn, so the rest of achtje
starts fast. The object API with the Agg canvas is used, not pyplot: no global figure
state, so drawing in a worker thread is safe.
"""

from __future__ import annotations

import math
from io import BytesIO

from bot.content import Content
from bot.months import shift_month
from bot.summary.model import Summary

WIDTH, HEIGHT, DPI = 1000, 800, 100
FONT = 17
THIS_MONTH, LAST_MONTH = "#1b6fa8", "#b9c4cc"
LINES = ("#1b6fa8", "#d9822b", "#3a9c4f", "#b3405c", "#7a5cb0")


def summary_chart(summary: Summary, content: Content, lang: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def number(value: float) -> str:
        shown = f"{value:.1f}"
        return shown.replace(".", ",") if lang == "nl" else shown

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(f"{summary.partnership}, {summary.month:%Y-%m}", fontsize=FONT + 3,
                    x=0.01, ha="left")
    bars, trend = figure.subplots(2, 1, height_ratios=(3, 2))
    names = [content.topic_name(t.topic, lang) for t in summary.conditions]
    hidden = content.text("summary_chart_hidden", lang)
    rows = range(len(summary.conditions))

    for offset, label, colour, values, counts in (
        (-0.2, content.text("summary_chart_this_month", lang), THIS_MONTH,
         [t.mean for t in summary.conditions], [t.respondents for t in summary.conditions]),
        (0.2, content.text("summary_chart_last_month", lang), LAST_MONTH,
         [t.trend[1] for t in summary.conditions], None),
    ):
        positions = [row + offset for row in rows]
        bars.barh(positions, [v or 0 for v in values], height=0.38, color=colour, label=label)
        for n, (position, value) in enumerate(zip(positions, values, strict=True)):
            text = hidden if value is None else number(value)
            if value is not None and counts is not None:
                text += f" (n={counts[n]})"
            bars.text((value or 0) + 0.06, position, text, va="center", fontsize=FONT - 3)
    bars.set_yticks(list(rows), names, fontsize=FONT)
    bars.invert_yaxis()
    bars.set_xlim(0, 6.5)
    bars.set_xticks([1, 2, 3, 4, 5], ["1", "2", "3", "4", "5"], fontsize=FONT - 2)
    bars.set_xlabel(content.text("summary_chart_scores", lang), fontsize=FONT - 2)
    bars.legend(fontsize=FONT - 2, loc="lower left", bbox_to_anchor=(0, 1), ncol=2,
                frameon=False)
    bars.grid(axis="x", alpha=0.3)

    months = [f"{shift_month(summary.month, n):%Y-%m}" for n in (-2, -1, 0)]
    for topic, name, colour in zip(summary.conditions, names, LINES, strict=True):
        values = [math.nan if v is None else v for v in topic.trend]
        trend.plot(months, values, marker="o", markersize=9, linewidth=3, color=colour,
                   label=name)
    trend.set_ylim(1, 5)
    trend.set_yticks([1, 2, 3, 4, 5], ["1", "2", "3", "4", "5"], fontsize=FONT - 2)
    trend.tick_params(axis="x", labelsize=FONT - 2)
    trend.set_title(content.text("summary_chart_trend", lang), fontsize=FONT, loc="left")
    trend.margins(x=0.08)
    figure.legend(*trend.get_legend_handles_labels(), fontsize=FONT - 4,
                  loc="outside lower center", ncol=3, frameon=False)
    trend.grid(alpha=0.3)

    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
