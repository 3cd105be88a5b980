"""The promise of the summary holds on the dashboard and in the CSV: for any partnership,
no number of a group below the threshold is ever shown, under any filter.

Random people (school and level; two vmbo schools, so a school is not its type) give
random answers in September and October; the dashboard's data (`year_view` under every
filter the page offers, and more), the PDF's content and the CSV rows are read from the
frozen months, and every number shown is checked against the truth counted here: its group
really has that many respondents, and at least the minimum. And as an attacker with a
spreadsheet would: from all the sums a month shows of a condition (everyone, school types,
levels, schools), no sum of fewer than the minimum people follows.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time
from itertools import combinations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.dashboard.pages import Pages
from adapters.dashboard.pdf import Table
from adapters.dashboard.view import Filters, year_view
from bot.content import Content
from bot.domain import CONDITION_IDS, LEVEL_IDS, SCHOOL_TYPES
from bot.store.models import Partnership
from bot.summary.export import csv_rows, summary_csv
from bot.summary.year import year_summaries
from tests.conftest import Clock
from tests.dashboard_rig import Sessions
from tests.summary_fakes import OCT, SEP, Partners

STATEMENTS = ["ambition_1", "relations_1", "process_1", "content_1"]
SCHOOLS = {"vmbo": "vmbo", "vmbo2": "vmbo", "mbo": "mbo"}  # key in Partners -> type
person = st.tuples(st.sampled_from(list(SCHOOLS)), st.sampled_from(LEVEL_IDS))


def follows(known: list[list[int]], target: list[int]) -> bool:
    """Whether `target`'s sum is a linear combination of the `known` sums."""
    matrix = np.array(known, dtype=float)
    return bool(np.linalg.matrix_rank(np.vstack([matrix, target])) ==
                np.linalg.matrix_rank(matrix))
score = st.sampled_from([1, 2, 3, 4, 5, 2, "dk", None])


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_no_group_below_the_threshold_on_the_dashboard_or_in_the_csv(
        sessions: Sessions, content: Content, data: st.DataObject) -> None:
    people = data.draw(st.lists(person, min_size=2, max_size=14), label="people")
    minimum = data.draw(st.integers(3, 5), label="minimum")
    partners = await Partners.create(sessions)
    async with sessions() as session, session.begin():
        found = await session.get(Partnership, partners.partnership.id)
        assert found is not None
        found.min_group_size = minimum
    await partners.school("vmbo2", "Vmbo <b>Zuid</b> & Co", "vmbo")
    school_of = {key: str(partners.schools[key]) for key in SCHOOLS}
    ids = [(await partners.members(key, level, 1))[0] for key, level in people]
    truth: dict[tuple[str, str, str], int] = {}  # (month, topic, group) -> scored
    # (month, topic) -> the groups (type, level, school) of the people who scored
    scorers: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for day in (SEP, OCT):
        round_id = await partners.round(day, STATEMENTS)
        for statement in STATEMENTS:
            scores = data.draw(st.lists(score, min_size=len(ids), max_size=len(ids)))
            await partners.answer(round_id, statement, ids, scores,
                                  answered_at=datetime.combine(day, time(12), UTC))
            topic = content.topic_of(statement)
            for (key_, level), given_score in zip(people, scores, strict=True):
                if isinstance(given_score, int):
                    place = (SCHOOLS[key_], level, school_of[key_])
                    scorers.setdefault((f"{day:%Y-%m}", topic), []).append(place)
                    for group in ("all", *place):
                        key = (f"{day:%Y-%m}", topic, group)
                        truth[key] = truth.get(key, 0) + 1
    clock = Clock()
    async with sessions() as session, session.begin():
        partnership = await session.get(Partnership, partners.partnership.id)
        assert partnership is not None
        summaries = await year_summaries(session, content, partnership, 2026, clock.now)
    assert [f"{s.month:%Y-%m}" for s in summaries] == ["2026-09", "2026-10"]

    filters = [Filters(2026)] + [Filters(2026, side=s) for s in SCHOOL_TYPES] + \
        [Filters(2026, level=level) for level in LEVEL_IDS] + \
        [Filters(2026, school=int(school)) for school in school_of.values()] + \
        [Filters(2026, school=int(school_of["vmbo"]), level=LEVEL_IDS[0])]
    shown = 0
    for chosen in filters:
        view = year_view(summaries, chosen, minimum)
        group = chosen.side or chosen.level or (
            "all" if chosen.school is None else str(chosen.school))
        if chosen.both:
            group = "both"  # nothing is split that way: nothing may show
        for row in view.conditions:
            for condition, figure in zip(CONDITION_IDS, row.figures, strict=True):
                if figure.shown:
                    shown += 1
                    true = truth.get((f"{row.month:%Y-%m}", condition, group), 0)
                    assert figure.respondents == true >= minimum, (row.month, condition, group)
        for row in view.boards:
            assert all(not f.shown for f in row.figures) or group == "all"
        if chosen.school is not None and view.school is not None:
            assert str(view.school.id) in school_of.values()
        for gaps in view.gaps:
            for gap in (*gaps.sides, *gaps.levels):
                if gap is not None:
                    for side in (gap.high, gap.low):
                        assert side.respondents >= minimum
        for informal in view.informal:
            assert informal.invited is None or informal.invited >= minimum
        # The PDF says what the page says: its n's are the view's shown ones, no other.
        document = Pages(content).document(view, partnership, "nl")
        in_pdf = sorted(int(n) for block in document if isinstance(block, Table)
                        for row in block.rows for cell in row
                        for n in re.findall(r"n=(\d+)", cell))
        in_view = sorted(f.respondents for rows in (view.conditions, view.boards)
                         for row in rows for f in row.figures
                         if f.shown and f.respondents is not None)
        assert in_pdf == in_view and all(n >= minimum for n in in_pdf)

    # The attacker: every sum a month shows of a condition, on the people who scored it.
    for summary in summaries:
        for condition in CONDITION_IDS:
            topic = summary.condition(condition)
            places = scorers.get((f"{summary.month:%Y-%m}", condition), [])
            if topic.respondents is None:
                assert not (topic.sides or topic.levels or topic.schools)
                continue
            known = [[1] * len(places)]
            for part, groups in enumerate((topic.sides, topic.levels, topic.schools)):
                for found_group in groups:
                    vector = [int(place[part] == found_group.group) for place in places]
                    assert found_group.respondents == sum(vector) >= minimum
                    known.append(vector)
            kinds = sorted(set(places))
            for size in range(1, min(len(kinds), minimum - 1) + 1):
                for chosen_kinds in combinations(kinds, size):
                    group_ = [int(place in chosen_kinds) for place in places]
                    if 0 < sum(group_) < minimum:
                        assert not follows(known, group_), (summary.month, condition,
                                                            chosen_kinds, places)

    rows = list(csv_rows(summaries))
    assert rows == list(csv.DictReader(io.StringIO(summary_csv(summaries))))
    for row in rows:
        if not row["respondents"]:
            assert row["mean"] == "" and row["suppressed"] != "", row
            continue
        assert row["suppressed"] == "" and int(row["respondents"]) >= minimum, row
        if row["topic"] != "collaboration":  # the boards' mean of the five has its own n
            true = truth.get((row["month"], row["topic"], row["group"]), 0)
            assert int(row["respondents"]) == true, row
    assert all(r["suppressed"] in ("", "not_asked", "below_threshold") for r in rows)
    # Every cell of the five conditions is in the CSV: all, each school type, each level,
    # each of the three schools (by its id, with its name).
    assert sum(1 for r in rows if r["kind"] == "condition") == 2 * 5 * (1 + 3 + 3 + 3)
    assert {r["group"] for r in rows if r["group_kind"] == "school"} == set(school_of.values())
    if len(people) >= 8:  # enough people that something shows, or the test checks nothing
        assert shown or not any(n >= minimum for n in truth.values())
