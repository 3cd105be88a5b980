"""Trends compare like with like: a topic's score is on its anchor statement, changes come
from the frozen earlier months only, and the words agree with the numbers next to them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.store.models import Answer
from bot.summary import Summary, compute_summary, load_summary_rules, render_text
from bot.summary.export import summary_document
from tests.summary_fakes import NOV, OCT, SEP, Partners

SEPTEMBER, OCTOBER, NOVEMBER = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)


async def months(sessions: async_sessionmaker[Any], content: Content, partners: Partners,
                 *wanted: date) -> list[Summary]:
    """Each month in turn, with the ones before it as its earlier (frozen) months."""
    done: list[Summary] = []
    async with sessions() as session:
        for month in wanted:
            done.append(await compute_summary(session, content, partners.partnership, month,
                                              earlier=done[-2:]))
    return done


def spread(mean10: int, people: int) -> list[int]:
    """`people` scores (1-5) whose sum is mean10 * people / 10."""
    total = mean10 * people // 10
    base, extra = divmod(total, people)
    return [base + 1] * extra + [base] * (people - extra)


async def test_direction_is_the_sign_of_the_shown_change_and_three_months_are_a_line(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    """The issue's example: 2,3 -> 3,3 -> 2,9 once said "-0,4 ... (stijgend)"."""
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 10)
    for day, mean10 in ((SEP, 23), (OCT, 33), (NOV, 29)):
        round_id = await partners.round(day, ["ambition_1", "ambition_2"])
        await partners.answer(round_id, "ambition_1", people, spread(mean10, 10))
    *_, november = await months(sessions, content, partners, SEPTEMBER, OCTOBER, NOVEMBER)
    ambition = november.condition("ambition")
    assert ambition.trend == pytest.approx((2.3, 3.3, 2.9))
    assert (ambition.change, ambition.direction) == (pytest.approx(-0.4), "falling")
    text = render_text(november, content, load_summary_rules(content), "nl")
    assert "- Gedeelde ambitie: 2,9 (n=10), -0,4 t.o.v. vorige maand (dalend)\n" \
           "  drie maanden: 2,3 → 3,3 → 2,9\n" in text
    assert "stijgend" not in text
    document = summary_document(november, content, load_summary_rules(content))
    [shown] = [t for t in document["conditions"] if t["id"] == "ambition"]
    assert (shown["change"], shown["direction"], shown["compared_with"]) == (
        -0.4, "falling", "2026-10")


async def test_months_scored_on_other_statements_are_not_compared(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    """October's rounds (from before the anchor) asked organisation_2 only, November the
    anchor organisation_1: a drop from 4,0 to 2,0 is no change, and no pitfall signal."""
    partners = await Partners.create(sessions)
    people = await partners.members("mbo", "teachers", 4)
    october = await partners.round(OCT, ["organisation_2"])
    await partners.answer(october, "organisation_2", people, [4, 4, 4, 4])
    november = await partners.round(NOV, ["organisation_1", "organisation_3"])
    await partners.answer(november, "organisation_1", people, [2, 2, 2, 2])
    await partners.answer(november, "organisation_3", people, [3, 4, 4, 4])
    _, found = await months(sessions, content, partners, OCTOBER, NOVEMBER)
    organisation = found.condition("organisation")
    assert found.condition("organisation").basis == ("organisation_1",)
    assert (organisation.change, organisation.direction, organisation.comparable) == (
        None, None, False)
    assert organisation.trend == (None, None, pytest.approx(2.0))
    assert all(r.signal != "falling" for s in found.signals for r in s.reasons)
    rules = load_summary_rules(content)
    text = render_text(found, content, rules, "nl")
    assert "- Professioneel organiseren: 2,0 (n=4), niet vergelijkbaar met vorige maand\n" \
           in text
    # The other statement asked is shown on its own, for depth.
    assert '  ook gevraagd: "Ik krijg tijd en ruimte om met de andere school samen te ' \
           'werken." 3,8 (n=4)' in text
    assert "not comparable with last month" in render_text(found, content, rules, "en")
    [shown] = [t for t in summary_document(found, content, rules)["conditions"]
               if t["id"] == "organisation"]
    assert (shown["change"], shown["comparable"], shown["score_statements"]) == (
        None, False, ["organisation_1"])


async def test_a_domain_compares_with_the_last_month_that_measured_it_and_says_which(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "management", 3)
    for day, statements, scores in ((SEP, ["content_1", "content_2"], [3, 3, 3]),
                                    (OCT, ["ambition_1"], None),
                                    (NOV, ["content_1", "content_3"], [4, 4, 3])):
        round_id = await partners.round(day, statements)
        if scores:
            await partners.answer(round_id, "content_1", people, scores)
    *_, november = await months(sessions, content, partners, SEPTEMBER, OCTOBER, NOVEMBER)
    board = november.board("content")
    assert (board.change, board.compared_month, board.direction) == (
        pytest.approx(0.7), SEPTEMBER, "rising")
    assert board.trend == (pytest.approx(3.0), None, pytest.approx(11 / 3))
    text = render_text(november, content, load_summary_rules(content), "en")
    assert "- Focus on content: 3.7 (n=3), +0.7 since September 2026 (rising)" in text


async def test_changes_come_from_the_frozen_earlier_month_not_from_raw_rows(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    """October's answers are gone (retention, erasure) after its summary was frozen: the
    November change still compares with October as it was published."""
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 3)
    october_round = await partners.round(OCT, ["relations_1"])
    await partners.answer(october_round, "relations_1", people, [2, 2, 2])
    november_round = await partners.round(NOV, ["relations_1"])
    await partners.answer(november_round, "relations_1", people, [3, 3, 3])
    [october] = await months(sessions, content, partners, OCTOBER)
    async with sessions() as session, session.begin():
        await session.execute(delete(Answer).where(Answer.round_id == october_round))
    async with sessions() as session:
        november = await compute_summary(session, content, partners.partnership, NOVEMBER,
                                         earlier=[october])
        alone = await compute_summary(session, content, partners.partnership, NOVEMBER)
    assert november.condition("relations").change == pytest.approx(1.0)
    assert november.condition("relations").trend[1] == pytest.approx(2.0)
    # Without earlier summaries there is nothing to compare with: raw rows are not read.
    assert (alone.condition("relations").change, alone.condition("relations").trend) == (
        None, (None, None, pytest.approx(3.0)))


async def test_a_rotating_statement_shows_its_own_number_only_from_the_minimum(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 4)
    first = await partners.round(NOV, ["process_1", "process_2"])
    second = await partners.round(NOV + timedelta(days=14), ["process_1", "process_3"])
    await partners.answer(first, "process_1", people, [4, 4, 4, 4])
    await partners.answer(first, "process_2", people, [1, 2, "dk", None])
    await partners.answer(second, "process_3", people, [5, 4, 4, None])
    [found] = await months(sessions, content, partners, NOVEMBER)
    process = found.condition("process")
    assert [(r.statement, r.respondents, r.mean) for r in process.results] == [
        ("process_1", 4, pytest.approx(4.0)), ("process_2", None, None),
        ("process_3", 3, pytest.approx(13 / 3))]
    text = render_text(found, content, load_summary_rules(content), "en")
    assert '  also asked: "It is clear who leads the process." (too few answers to show)' \
           in text
    assert "4.3 (n=3)" in text and "n=2" not in text


async def test_a_month_from_before_the_anchor_shows_no_figures_per_statement(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    """Scored on two statements (each person's mean of both), the topic's number beside
    each statement's own would give away the few who scored only one of them."""
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 6)
    first = await partners.round(NOV, ["process_2"])
    second = await partners.round(NOV + timedelta(days=14), ["process_3"])
    await partners.answer(first, "process_2", people, [2, 2, 2, 2, 2, None],
                          ["Een trekker", None, None, None, None, None])
    await partners.answer(second, "process_3", people, [4, 4, 4, 4, 4, 1])
    [found] = await months(sessions, content, partners, NOVEMBER)
    process = found.condition("process")
    assert process.basis == ("process_2", "process_3")
    assert (process.respondents, process.mean) == (6, pytest.approx((3 * 5 + 1) / 6))
    assert [(r.respondents, r.mean) for r in process.results] == [(None, None), (None, None)]
    text = render_text(found, content, load_summary_rules(content), "nl")
    assert 'Helder proces, "Het is duidelijk wie het proces trekt.":\n- "Een trekker"' in text
