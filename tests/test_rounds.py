"""The check-in rotation keeps its promise: every condition monthly, both domains bimonthly."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.content import Content
from bot.domain import CONDITION_IDS
from bot.rounds import statements_for_round, topics_for


def test_any_two_consecutive_rounds_ask_all_five_conditions() -> None:
    for number in range(1, 50):
        asked = set(topics_for(number)) | set(topics_for(number + 1))
        assert set(CONDITION_IDS) <= asked, number


def test_any_four_consecutive_rounds_ask_both_other_domains() -> None:
    for number in range(1, 50):
        asked = {t for n in range(number, number + 4) for t in topics_for(n)}
        assert {"content", "anchoring"} <= asked, number


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 1, 1)))
def test_fortnightly_rounds_cover_every_calendar_month(start: date) -> None:
    """With the default cadence each full month sees every condition, each two months
    both domains, whatever day the partnership started."""
    days = [start + timedelta(days=14 * n) for n in range(60)]
    by_month: dict[tuple[int, int], set[str]] = {}
    for number, day in enumerate(days, start=1):
        by_month.setdefault((day.year, day.month), set()).update(topics_for(number))
    months = sorted(by_month)[1:-1]  # the first and last month are partial
    for month in months:
        assert set(CONDITION_IDS) <= by_month[month], month
    for first, second in itertools.pairwise(months):
        assert {"content", "anchoring"} <= by_month[first] | by_month[second]


def test_every_round_asks_the_anchor_and_one_other_in_turn(content: Content) -> None:
    """The anchor (first statement) of every topic a round asks is asked, so a topic's
    monthly score is always on the same statement; the others take turns."""
    asked = Counter(s for n in range(1, 41) for s in statements_for_round(content, n))
    for number in range(1, 41):
        chosen = statements_for_round(content, number)
        assert len(chosen) == 6
        for topic in topics_for(number):
            mine = [s for s in chosen if content.topic_of(s) == topic]
            assert mine[0] == content.anchor(topic) == content.statements_for(topic)[0].id
            assert len(mine) == 2 and mine[1] != mine[0]
    for topic in (*CONDITION_IDS, "content", "anchoring"):
        pool = content.statements_for(topic)
        times = sum(topics_for(n).count(topic) for n in range(1, 41))
        assert asked[pool[0].id] == times, topic
        counts = [asked[s.id] for s in pool[1:]]
        assert max(counts) - min(counts) <= 1, (topic, counts)
