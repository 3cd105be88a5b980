"""The check-in rotation keeps its promise: every condition monthly, both domains bimonthly."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.content import CONDITION_IDS, Content
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


def test_statements_take_turns_within_a_topic(content: Content) -> None:
    asked = Counter(s for n in range(1, 41) for s in statements_for_round(content, n))
    for condition in content.conditions:
        counts = [asked[s.id] for s in condition.statements]
        assert max(counts) - min(counts) <= 1, (condition.id, counts)
    assert all(len(statements_for_round(content, n)) == 3 for n in range(1, 9))
