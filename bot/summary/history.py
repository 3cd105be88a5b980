"""Changes and trends of a topic, from the frozen summaries of earlier months only.

Two months compare only when the topic's score was on the same statements in both (its
`basis`: the anchor statement since the anchor model, docs/summary.md). A topic is compared
with the last earlier month that measured it: last month for a condition, often the month
before for content and anchoring, which rounds ask every other month. When that month
measured it on other statements, there is no change but a plain "not comparable".

The change is the difference of the two means as shown (one decimal), and the direction
word is the sign of that same change against the trend step, so the word never disagrees
with the numbers next to it. The pitfall signal "falling" reads the same change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from bot.months import shift_month
from bot.summary.model import Direction, Summary, TopicSummary, shown

EPSILON = 1e-9  # so that a rounded 1.0 counts as 1.0 despite floating point


@dataclass(frozen=True)
class PastTopic:
    """What a later month reads of a topic of a frozen month."""

    topic: str
    basis: tuple[str, ...]
    mean: float | None


@dataclass(frozen=True)
class PastMonth:
    """What a later month reads of a frozen month: decoding only this from the stored JSON
    (`codec.decode` skips the rest) is several times cheaper than the whole `Summary`."""

    month: date
    conditions: tuple[PastTopic, ...]
    boards: tuple[PastTopic, ...]


Earlier = Summary | PastMonth  # a month before, whole or as far as trends need it


def compare(topic: TopicSummary, month: date, earlier: Sequence[Earlier],
            step: float) -> TopicSummary:
    """`topic` of `month` with its change, direction and trend against `earlier` months."""
    if not topic.basis:
        return topic
    same: dict[date, float | None] = {}
    reference: TopicSummary | PastTopic | None = None
    reference_month: date | None = None
    for summary in sorted((s for s in earlier if s.month < month),
                          key=lambda s: s.month, reverse=True):
        past = _find(summary, topic.topic)
        if past is None or not past.basis:
            continue  # not measured that month
        if reference is None:
            reference, reference_month = past, summary.month
        if past.basis != topic.basis:
            break  # measured on other statements: no comparison from here on back
        same[summary.month] = past.mean
    if reference is None:
        return topic
    comparable = reference.basis == topic.basis
    change = None
    if comparable and reference.mean is not None and topic.mean is not None:
        change = round(shown(topic.mean) - shown(reference.mean), 1)
    return replace(
        topic,
        change=change,
        compared_month=reference_month,
        comparable=comparable,
        direction=direction(change, step),
        trend=(same.get(shift_month(month, -2)), same.get(shift_month(month, -1)),
               topic.mean),
    )


def direction(change: float | None, step: float) -> Direction | None:
    """Rising, falling or stable: the sign of the shown change against the trend step."""
    if change is None:
        return None
    if change >= step - EPSILON:
        return "rising"
    if change <= -step + EPSILON:
        return "falling"
    return "stable"


def _find(summary: Earlier, topic: str) -> TopicSummary | PastTopic | None:
    return next((t for t in (*summary.conditions, *summary.boards) if t.topic == topic), None)
