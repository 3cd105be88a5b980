"""The monthly condition summary for a partnership's project leaders.

`summary_replies(session, content, partnership, month, lang)` is the entry point: it
computes the month (`compute.compute_summary`) and renders it as `Text` and `Image` replies
(`render`). The trust rules are in `compute` and `privacy`; the editable pitfall rules and
agenda questions in `rules` (content/summary_rules.yaml, content/summary_agenda.yaml).
"""

from bot.nudges.stats import NudgeStats
from bot.summary.compute import compute_summary, leader_summary
from bot.summary.model import MIN_GROUP_SIZE, Summary
from bot.summary.render import SummaryMessages, render_text, summary_replies
from bot.summary.rules import SummaryRules, load_summary_rules

__all__ = [
    "MIN_GROUP_SIZE",
    "NudgeStats",
    "Summary",
    "SummaryMessages",
    "SummaryRules",
    "compute_summary",
    "leader_summary",
    "load_summary_rules",
    "render_text",
    "summary_replies",
]
