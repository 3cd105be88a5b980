"""Freezing every partnership's months at once (`bot.summary.batch`, what the scheduler
does each tick) stores exactly the months that freezing them one partnership at a time
(`freeze_closed_months`, what readers and erasure do) stores: the same numbers, the same
hidden groups, the same trends and texts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content
from bot.domain import LEVEL_IDS
from bot.store.models import Partnership
from bot.store.nudges import NudgeAnswer, NudgeGroup, NudgeGroupMember, NudgeRound
from bot.store.summary import SummaryMonth
from bot.summary import backlog
from bot.summary.batch import freeze_all, freeze_backlog
from bot.summary.codec import encode
from bot.summary.frozen import freeze_closed_months, published_summary
from tests.summary_fakes import NOV, OCT, SEP, Partners

Sessions = async_sessionmaker[Any]
NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)
AUG = date(2026, 8, 25)
# The anchors, a rotating statement, and a round from before the anchor model (two
# statements of a topic without its anchor), so topics scored on several statements occur.
ASKED = [["ambition_1", "relations_1", "content_2"], ["ambition_1", "process_3", "anchoring_1"],
         ["ambition_2", "ambition_3", "interests_1"], ["organisation_1", "content_1"]]
TEXTS = [None, None, None, "Meer tijd", "meer tijd", "Samen plannen", "Zes"]

person = st.tuples(st.sampled_from(["vmbo", "mbo", None]),
                   st.sampled_from([*LEVEL_IDS, None]),
                   st.sampled_from([0, 0, 0, 40, 70, None]))  # onboarded: days after Aug 1
score = st.sampled_from([1, 2, 3, 4, 5, 4, 5, "dk", "skip", None, None])


async def stored(session: AsyncSession, ids: list[int]) -> dict[tuple[int, date], Any]:
    rows = await session.execute(select(SummaryMonth).where(
        SummaryMonth.partnership_id.in_(ids)))
    return {(row.partnership_id, row.month): (row.min_group_size, row.data)
            for row in rows.scalars()}


async def fill(sessions: Sessions, data: st.DataObject, name: str, zone: str) -> int:
    partners = await Partners.create(sessions, name)
    async with sessions() as session, session.begin():
        partnership = await session.get(Partnership, partners.partnership.id)
        assert partnership is not None
        partnership.timezone = zone
        partnership.min_group_size = data.draw(st.sampled_from([3, 3, 4]))
    people = data.draw(st.lists(person, min_size=0, max_size=12), label="people")
    ids = []
    for side, level, days in people:
        onboarded = None if days is None else datetime(2026, 8, 1, tzinfo=UTC) + timedelta(days)
        ids += await partners.members(side, level, 1, onboarded=onboarded)
    days = data.draw(st.lists(st.sampled_from([AUG, SEP, SEP + timedelta(weeks=2), OCT,
                                               OCT + timedelta(weeks=3), NOV]),
                              max_size=5, unique=True), label="rounds")
    for day in sorted(days):
        statements = data.draw(st.sampled_from(ASKED))
        round_id = await partners.round(day, statements)
        for statement in statements:
            scores = data.draw(st.lists(score, min_size=len(ids), max_size=len(ids)))
            comments = data.draw(st.lists(st.sampled_from(TEXTS), min_size=len(ids),
                                          max_size=len(ids)))
            await partners.answer(round_id, statement, ids, scores, comments,
                                  datetime.combine(day, time(12), UTC))
    if ids and data.draw(st.booleans(), label="nudges"):
        async with sessions() as session, session.begin():
            for number, day in enumerate((SEP, OCT + timedelta(days=3)), start=1):
                round_ = NudgeRound(partnership_id=partners.partnership.id, number=number,
                                    seed=1, planned_at=datetime.combine(day, time(8), UTC))
                session.add(round_)
                await session.flush()
                for pair in range(0, len(ids) - 1, 2):
                    group = NudgeGroup(round_id=round_.id, idea_id="koffie",
                                       cross_school=pair % 4 == 0, repeat_pairs=pair % 3)
                    session.add(group)
                    await session.flush()
                    for member in ids[pair:pair + 2]:
                        session.add(NudgeGroupMember(group_id=group.id, member_id=member))
                    said = data.draw(st.sampled_from([None, "met", "planned", "not_yet"]))
                    if said:
                        session.add(NudgeAnswer(group_id=group.id, member_id=ids[pair],
                                                answer=said, answered_at=NOW))
    return partners.partnership.id


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_all_at_once_freezes_what_one_at_a_time_freezes(
    sessions: Sessions, content: Content, data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    zones = data.draw(st.lists(st.sampled_from(["Europe/Amsterdam", "Europe/Amsterdam",
                                                "America/Curacao"]),
                               min_size=1, max_size=3), label="zones")
    ids = [await fill(sessions, data, f"Leerlab {n}", zone) for n, zone in enumerate(zones)]
    # One of them had its earlier months frozen before (the scheduler ran last month).
    if data.draw(st.booleans(), label="earlier frozen"):
        async with sessions() as session, session.begin():
            partnership = await session.get(Partnership, ids[0])
            assert partnership is not None
            await freeze_closed_months(session, content, partnership, datetime(
                2026, 11, 2, 9, tzinfo=UTC))

    earlier = len(await _stored_ids(sessions, ids))
    async with sessions() as session, session.begin():
        for pid in ids:
            partnership = await session.get(Partnership, pid)
            assert partnership is not None
            await freeze_closed_months(session, content, partnership, NOW)
        one_by_one = await stored(session, ids)
        await session.rollback()
    async with sessions() as session, session.begin():
        partnerships = list(await session.scalars(
            select(Partnership).where(Partnership.id.in_(ids))))
        frozen = await freeze_all(session, content, partnerships, NOW)
        all_at_once = await stored(session, ids)
        # Read back in the same transaction, the months are what was stored.
        for (pid, month), (_, document) in all_at_once.items():
            partnership = next(p for p in partnerships if p.id == pid)
            summary = await published_summary(session, content, partnership, month, now=NOW)
            assert encode(summary) == document
        await session.rollback()
    assert all_at_once == one_by_one
    assert frozen == len(one_by_one) - earlier
    # As a backlog, a few partnership-months per transaction: the very same months.
    monkeypatch.setattr(backlog, "MONTHS_PER_TRANSACTION", data.draw(st.sampled_from([1, 2, 5])))
    assert await freeze_backlog(sessions, content, NOW, ids) == frozen
    async with sessions() as session:
        assert await stored(session, ids) == one_by_one


async def _stored_ids(sessions: Sessions, ids: list[int]) -> list[Any]:
    async with sessions() as session:
        return list(await session.scalars(select(SummaryMonth.id).where(
            SummaryMonth.partnership_id.in_(ids))))


async def test_a_partnership_without_rounds_or_frozen_already_adds_nothing(
    sessions: Sessions, content: Content
) -> None:
    empty = await Partners.create(sessions, "Leerlab Leeg")
    busy = await Partners.create(sessions, "Leerlab Vol")
    people = await busy.members("vmbo", "teachers", 4)
    round_id = await busy.round(OCT, ["ambition_1"])
    await busy.answer(round_id, "ambition_1", people, [4, 4, 5, 2])
    async with sessions() as session, session.begin():
        partnerships = list(await session.scalars(select(Partnership).where(
            Partnership.id.in_([empty.partnership.id, busy.partnership.id]))))
        assert await freeze_all(session, content, partnerships, NOW) == 2  # October, November
        assert await freeze_all(session, content, partnerships, NOW) == 0
        months = await stored(session, [empty.partnership.id, busy.partnership.id])
    assert sorted(months) == [(busy.partnership.id, date(2026, 10, 1)),
                              (busy.partnership.id, date(2026, 11, 1))]
    october = months[(busy.partnership.id, date(2026, 10, 1))][1]
    [ambition] = [t for t in october["conditions"] if t["topic"] == "ambition"]
    assert (ambition["respondents"], round(ambition["mean"], 2)) == (4, 3.75)
    async with sessions() as session, session.begin():  # another tick: nothing new
        partnerships = list(await session.scalars(select(Partnership).where(
            Partnership.id.in_([empty.partnership.id, busy.partnership.id]))))
        assert await freeze_all(session, content, partnerships, NOW) == 0
