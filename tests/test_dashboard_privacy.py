"""The promise of the summary holds on the dashboard and in the CSV: for any partnership,
no number of a group below the threshold is ever shown, under any filter.

Random people (school type and level) give random answers in September and October; the
dashboard's data (`year_view` under every filter the page offers, and more), the PDF's
content and the CSV rows are read from the frozen months, and every number shown is
checked against the truth counted here: its group really has that many respondents, and
at least the minimum.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time

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
person = st.tuples(st.sampled_from(["vmbo", "mbo"]), st.sampled_from(LEVEL_IDS))
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
    ids = [(await partners.members(side, level, 1))[0] for side, level in people]
    truth: dict[tuple[str, str, str], int] = {}  # (month, topic, group) -> scored
    for day in (SEP, OCT):
        round_id = await partners.round(day, STATEMENTS)
        for statement in STATEMENTS:
            scores = data.draw(st.lists(score, min_size=len(ids), max_size=len(ids)))
            await partners.answer(round_id, statement, ids, scores,
                                  answered_at=datetime.combine(day, time(12), UTC))
            topic = content.topic_of(statement)
            for (side, level), given_score in zip(people, scores, strict=True):
                if isinstance(given_score, int):
                    for group in ("all", side, level):
                        key = (f"{day:%Y-%m}", topic, group)
                        truth[key] = truth.get(key, 0) + 1
    clock = Clock()
    async with sessions() as session, session.begin():
        partnership = await session.get(Partnership, partners.partnership.id)
        assert partnership is not None
        summaries = await year_summaries(session, content, partnership, 2026, clock.now)
    assert [f"{s.month:%Y-%m}" for s in summaries] == ["2026-09", "2026-10"]

    filters = [Filters(2026)] + [Filters(2026, side=s) for s in SCHOOL_TYPES] + \
        [Filters(2026, level=level) for level in LEVEL_IDS]
    shown = 0
    for chosen in filters:
        view = year_view(summaries, chosen, minimum)
        group = chosen.side or chosen.level or "all"
        for row in view.conditions:
            for condition, figure in zip(CONDITION_IDS, row.figures, strict=True):
                if figure.shown:
                    shown += 1
                    true = truth.get((f"{row.month:%Y-%m}", condition, group), 0)
                    assert figure.respondents == true >= minimum, (row.month, condition, group)
        for row in view.boards:
            assert all(not f.shown for f in row.figures) or group == "all"
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
    # Every cell of the five conditions is in the CSV: all, each school type, each level.
    assert sum(1 for r in rows if r["kind"] == "condition") == 2 * 5 * (1 + 3 + 3)
    if len(people) >= 8:  # enough people that something shows, or the test checks nothing
        assert shown or not any(n >= minimum for n in truth.values())
