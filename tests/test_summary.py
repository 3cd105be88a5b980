"""The monthly summary a project leader reads: numbers they can trust, small groups hidden.

The first tests let members answer through the real engine on a moving clock; the others
write hand-made answers through the store, so every expected number is worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import FreeText, Image, Text
from bot.months import shift_month
from bot.store.models import CheckInRound, Member, Partnership
from bot.summary import (
    Summary,
    compute_summary,
    load_summary_rules,
    render_text,
    summary_replies,
)
from bot.summary.model import AgendaQuestion, GroupScore
from tests.conftest import Clock, onboard
from tests.summary_fakes import NOV, OCT, SEP, Partners, nudge_numbers, png_size

NOVEMBER = date(2026, 11, 1)


async def summary_of(sessions: async_sessionmaker[Any], content: Content, partnership_id: int,
                     month: date = NOVEMBER, **options: Any) -> Summary:
    """The month's summary as a leader gets it once earlier months are frozen: the two
    months before are summarised first (each on its own earlier months) and passed in."""
    async with sessions() as session:
        partnership = await session.get(Partnership, partnership_id)
        assert partnership is not None
        earlier: list[Summary] = []
        for back in (4, 3, 2, 1):
            earlier.append(await compute_summary(
                session, content, partnership, shift_month(month, -back),
                earlier=earlier[-2:], **options))
        return await compute_summary(session, content, partnership, month,
                                     earlier=earlier[-2:], **options)


async def check_in(engine: Engine, user: str, scores: list[str], *, comment: str = "",
                   school: str = "Vmbo De Brug", level: str = "Docenten",
                   onboarded: bool = False) -> None:
    """A member answers the open round by typing; a low score gets `comment` or a skip."""
    chat = MemoryChat(engine, user=user, chat=f"dm-{user}")
    if not onboarded:
        await onboard(chat, school=school, level=level)
    await chat.say("checkin")
    for score in scores:
        await chat.say(score)
        if score in ("1", "2"):
            await chat.say(comment or "overslaan")


# 1. Through the engine: suppression, weighting, response rate


@pytest.mark.parametrize(("respondents", "mean", "texts_shown"),
                         [(2, None, False), (4, 3.0, False), (5, 3.4, True)])
async def test_small_groups_show_no_number_and_open_texts_need_five(
    engine: Engine, sessions: async_sessionmaker[Any], content: Content,
    partnership: Partnership, clock: Clock, respondents: int, mean: float | None,
    texts_shown: bool,
) -> None:
    clock.now = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)  # the round closes on 10 November
    scores = ["1", "2", "4", "5", "5"][:respondents]
    for n, score in enumerate(scores):
        await check_in(engine, f"m{n}", [score, "4", "4", "4", "4", "4"],
                       comment=f"Vaker samen lesgeven {n}")
    summary = await summary_of(sessions, content, partnership.id)
    ambition = summary.condition("ambition")
    # No count for a group too small to show: not even how small it is.
    assert ambition.respondents == (respondents if mean is not None else None)
    assert ambition.mean == (pytest.approx(mean) if mean is not None else None)
    text = render_text(summary, content, load_summary_rules(content), "nl")
    if mean is None:
        assert ambition.distribution is None
        assert "- Gedeelde ambitie: te weinig antwoorden om te laten zien (een cijfer pas " \
               "vanaf 3 mensen)\n" in text
        assert f"n={respondents}" not in text
    else:
        assert f"Gedeelde ambitie: {mean:.1f} (n={respondents})".replace(".", ",") in text
    assert ("Vaker samen lesgeven" in text) is texts_shown
    # The texts stand under the statement they answer (the anchor, asked first).
    assert ambition.results[0].open_answers == (
        ("Vaker samen lesgeven 0", "Vaker samen lesgeven 1") if texts_shown else ())
    assert ('Gedeelde ambitie, "Ik weet waar we samen naartoe werken." (n=5):\n'
            '- "Vaker samen lesgeven 0"\n- "Vaker samen lesgeven 1"' in text) is texts_shown
    # The line on when texts are shown is always there: it tells nothing about this month.
    assert "Open antwoorden laat ik alleen zien bij een stelling die minstens 5 mensen een " \
           "cijfer gaven." in text


async def test_each_person_weighs_once_and_rates_count_everyone(
    engine: Engine, sessions: async_sessionmaker[Any], content: Content,
    partnership: Partnership, clock: Clock,
) -> None:
    # Round 1: ambition_1, ambition_2, interests_1, interests_2, relations_1, relations_2.
    clock.now = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)
    await check_in(engine, "zara", ["2", "?", "-"])
    await check_in(engine, "bram", ["5", "4", "3", "3", "3"], school="Mbo College Kompas")
    await check_in(engine, "cas", ["4", "4", "3", "?"], level="Bestuur")
    await onboard(MemoryChat(engine, user="dirk", chat="dm-dirk"))  # never answers
    clock.advance(days=7)  # round 2 asks organisation, process, content: nobody answers
    await check_in(engine, "zara", [], onboarded=True)
    clock.advance(days=7)  # round 3 asks ambition_1 and ambition_3; only zara scores, a 4
    await check_in(engine, "zara", ["4", "-", "-"], onboarded=True)

    summary = await summary_of(sessions, content, partnership.id)
    ambition = summary.condition("ambition")
    # zara (2 + 4) / 2 = 3, bram 5, cas 4 -> (3 + 5 + 4) / 3 = 4.0; answers 2, 5, 4, 4.
    assert (ambition.respondents, ambition.mean) == (3, pytest.approx(4.0))
    assert ambition.distribution == (0, 1, 0, 2, 1)
    assert ambition.dont_know == 0
    assert ambition.statements == ("ambition_1", "ambition_2", "ambition_3")
    assert ambition.basis == ("ambition_1",)  # the score is on the anchor
    # ambition_2: zara did not know, bram and cas gave 4: two scores, no number.
    assert [(r.statement, r.anchor, r.respondents, r.mean) for r in ambition.results] == [
        ("ambition_1", True, 3, pytest.approx(4.0)), ("ambition_2", False, None, None),
        ("ambition_3", False, None, None)]
    interests = summary.condition("interests")
    assert (interests.respondents, interests.mean, interests.dont_know) == (None, None, None)
    relations = summary.condition("relations")
    assert (relations.respondents, relations.mean) == (None, None)
    together = summary.board("collaboration")
    # Three people scored a condition, but interests and relations cannot be shown.
    assert (together.respondents, together.mean) == (3, None)
    assert (summary.members, summary.respondents, summary.response_rate) == (4, 3, 75)
    assert [(r.number, r.respondents, r.members) for r in summary.rounds] == \
        [(1, 3, 4), (2, 0, 4), (3, 1, 4)]
    text = render_text(summary, content, load_summary_rules(content), "nl")
    assert "3 van 4 leden deden mee (75%)" in text
    assert "Investeren in de samenwerking: het gemiddelde van de vijf voorwaarden; niet te " \
           "geven" in text
    assert "Check-ins die deze maand sloten (een check-in telt mee in de maand waarin hij " \
           "sluit): 3 november t/m 10 november: 3 van 4 (75%); 10 november t/m 17 november: " \
           "0 van 4 (0%); 17 november t/m 24 november: 1 van 4 (25%)." in text
    for private in ("zara", "bram", "cas", "dirk", "14:30", "15:30"):
        assert private not in text


async def test_a_month_is_summarised_once_it_is_over_and_late_answers_change_nothing(
    engine: Engine, sessions: async_sessionmaker[Any], content: Content,
    partnership: Partnership, clock: Clock,
) -> None:
    """The reviewer's leak: a leader asks, Jan says "I just did the check-in", the leader
    asks again and sees which score was added. Now a running month gets no numbers, and
    once it is over no answer can change them."""
    clock.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday; the round closes 9 Nov
    for n, relations in enumerate(["1", "2", "2", "3", "4"]):
        await check_in(engine, f"m{n}", ["4", "4", "4", "4", relations],
                       comment=f"Vaker samen {n}")
    leader = MemoryChat(engine, user="lena", chat="dm-lena")
    await onboard(leader)
    async with sessions() as session, session.begin():
        lena = await session.scalar(select(Member).where(Member.user_ref == "lena"))
        assert lena is not None
        lena.role = "leader"

    def said(replies: list[Any]) -> list[str]:
        return [reply.text for reply in replies if isinstance(reply, Text)]

    running = ["De maand november 2026 loopt nog: er kan nog op check-ins geantwoord worden. "
               "De samenvatting staat vast vanaf 1 december 2026; tot die tijd kun je "
               "samenvatting oktober 2026 bekijken."]
    before = said(await leader.say("samenvatting"))
    # The partnership's first round closes in November: October has no figures at all.
    assert before == [content.text("summary_no_figures", "nl", month="oktober 2026")]
    assert said(await leader.say("samenvatting november")) == running
    await check_in(engine, "jan", ["4", "4", "4", "4", "5"])  # "I just did the check-in"
    assert said(await leader.say("samenvatting")) == before
    assert said(await leader.say("samenvatting november")) == running

    # Kees scores just before the round closes and types his comment just after it.
    kees = MemoryChat(engine, user="kees", chat="dm-kees")
    clock.now = datetime(2026, 11, 9, 8, 58, tzinfo=UTC)
    await onboard(kees)
    await kees.say("checkin")
    for score in ("4", "4", "4", "4", "2"):
        asked = await kees.say(score)
    assert any(isinstance(reply, FreeText) for reply in asked)  # "what would help?"
    clock.now = datetime(2026, 11, 9, 9, 1, tzinfo=UTC)
    assert said(await kees.say("Een late wens van Kees")) == [content.text("round_closed", "nl")]

    clock.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # November is over
    final = said(await leader.say("samenvatting"))
    assert final[0].startswith("Demo Zorg & Welzijn, november 2026: 7 van 8 leden deden mee (88%)")
    assert "Persoonlijke relaties: 2,7 (n=7)" in final[0]  # (1 + 2 + 2 + 3 + 4 + 5 + 2) / 7
    assert "antwoorden 1 t/m 5: 1 · 3 · 1 · 1 · 1" in final[0]
    assert "Een late wens van Kees" not in "\n".join(final)

    # A week later someone joins and presses an old button of the November round: refused.
    clock.now = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    piet = MemoryChat(engine, user="piet", chat="dm-piet")
    await onboard(piet)
    async with sessions() as session:
        [round_id] = (await session.scalars(select(CheckInRound.id))).all()
    assert said(await piet.press_value(f"s:{round_id}:relations_1:5")) == [
        content.text("round_closed", "nl")]
    assert said(await leader.say("samenvatting november")) == final


async def test_a_round_counts_in_the_month_it_closes_and_rates_stay_within_members(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    anna, bert, cor = await partners.members("vmbo", "teachers", 3)
    [dirk] = await partners.members("mbo", "teachers", 1,
                                    onboarded=datetime(2026, 11, 1, tzinfo=UTC))
    # Onboarding dated after the round closed, yet an answer (as hand-made data may have):
    # not among the round's members, so not among its respondents either.
    [eva] = await partners.members("mbo", "board", 1, onboarded=datetime(2026, 12, 2, tzinfo=UTC))
    late = await partners.round(date(2026, 10, 27), ["relations_1"])  # closes 3 November
    await partners.answer(late, "relations_1", [anna, bert, cor, dirk, eva], [3, 4, 4, 5, 1])

    october = await summary_of(sessions, content, partners.partnership.id, date(2026, 10, 1))
    assert (october.rounds, october.members, october.respondents) == ((), 3, 0)
    assert october.condition("relations").respondents is None
    assert october.condition("relations").statements == ()
    november = await summary_of(sessions, content, partners.partnership.id)
    assert [(r.opened_on, r.closed_on, r.respondents, r.members) for r in november.rounds] == [
        (date(2026, 10, 27), date(2026, 11, 3), 4, 4)]
    # Dirk joined after the round opened and could answer it; the old way (by opening month)
    # gave October 4 respondents of 3 members.
    assert (november.members, november.respondents, november.response_rate) == (4, 4, 100)
    text = render_text(november, content, load_summary_rules(content), "nl")
    assert "27 oktober t/m 3 november: 4 van 4 (100%)" in text


# 2. Through the store: trends, gaps, pitfalls, agenda


async def test_response_counts_follow_who_could_answer_each_round(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    anna, bert, cor = await partners.members("vmbo", "teachers", 3)
    # Onboarded after the first November round closed (10-11), before the second.
    dirk, _eva = await partners.members("mbo", "teachers", 2,
                                        onboarded=datetime(2026, 11, 12, tzinfo=UTC))
    await partners.members("mbo", "board", 1, onboarded=datetime(2026, 12, 2, tzinfo=UTC))
    await partners.members("mbo", "board", 1, onboarded=None)  # never finished onboarding
    october = await partners.round(OCT, ["ambition_1"])
    await partners.answer(october, "ambition_1", [anna, bert, cor], [4, 4, 4])
    first = await partners.round(NOV, ["ambition_1"])
    await partners.answer(first, "ambition_1", [anna, bert, cor], [4, "skip", "dk"])
    second = await partners.round(date(2026, 11, 17), ["relations_1"])
    await partners.answer(second, "relations_1", [anna, dirk], [3, 5])

    summary = await summary_of(sessions, content, partners.partnership.id)
    # Skipping or "don't know" is taking part, but is no score.
    assert [(r.number, r.opened_on, r.respondents, r.members) for r in summary.rounds] == [
        (2, NOV, 3, 3), (3, date(2026, 11, 17), 2, 5)]
    assert (summary.members, summary.respondents) == (5, 4)
    # Anna and dirk scored a condition: two, so not even that number is shown.
    assert summary.board("collaboration").respondents is None
    ambition = summary.condition("ambition")
    assert (ambition.respondents, ambition.trend[1]) == (None, pytest.approx(4.0))
    october_summary = await summary_of(sessions, content, partners.partnership.id,
                                       date(2026, 10, 1))
    assert (october_summary.members, october_summary.respondents) == (3, 3)


@pytest.mark.parametrize("rounds", [1, 3])
async def test_a_summary_sends_the_same_four_queries_however_many_rounds(
    sessions: async_sessionmaker[Any], content: Content, rounds: int
) -> None:
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 3)
    for day in (SEP, OCT, *(NOV + timedelta(weeks=n) for n in range(rounds))):
        round_id = await partners.round(day, ["ambition_1", "process_1"])
        await partners.answer(round_id, "ambition_1", people, [3, 4, 5], ["a", None, "b"])
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])  # (connection, cursor, statement, ...)

    engine = sessions.kw["bind"].sync_engine
    earlier = [await summary_of(sessions, content, partners.partnership.id, SEP),
               await summary_of(sessions, content, partners.partnership.id, OCT)]
    async with sessions() as session:
        partnership = await session.get(Partnership, partners.partnership.id)
        assert partnership is not None
        earlier = [await compute_summary(session, content, partnership, month)
                   for month in (date(2026, 9, 1), date(2026, 10, 1))]
        event.listen(engine, "before_cursor_execute", count)
        try:
            summary = await compute_summary(session, content, partnership, NOVEMBER,
                                            earlier=earlier)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(summary.rounds) == rounds
    assert summary.condition("ambition").trend == pytest.approx((4.0, 4.0, 4.0))
    # The month's rounds with their rates, its scores per statement, its counts, its open
    # answers; earlier months come from their summaries, not from the database.
    assert len(sent) == 4, sent


async def test_change_and_trend_over_three_months(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 3)
    for day, ambition, relations, interests in (
        (SEP, [3, 3, 3], [4, 4, 4], [4, 4, 4]),
        (OCT, [3, 4, 4], [4, 4, None], [3, 3, 3]),
        (NOV, [4, 4, 4], [3, 3, 3], [2, 2, 2]),
    ):
        round_id = await partners.round(day, ["ambition_1", "relations_1", "interests_1"])
        await partners.answer(round_id, "ambition_1", people, ambition)
        await partners.answer(round_id, "relations_1", people, relations)
        await partners.answer(round_id, "interests_1", people, interests)

    summary = await summary_of(sessions, content, partners.partnership.id)
    ambition = summary.condition("ambition")
    assert ambition.trend == pytest.approx((3.0, 11 / 3, 4.0))
    # The change is between the means as shown (4.0 and 3.7), and so is the direction.
    assert ambition.change == pytest.approx(0.3)
    assert (ambition.direction, ambition.compared_month) == ("rising", date(2026, 10, 1))
    relations = summary.condition("relations")
    assert relations.trend == (pytest.approx(4.0), None, pytest.approx(3.0))  # October: n=2
    # October measured relations but cannot show it: no change, and no word either.
    assert (relations.change, relations.direction) == (None, None)
    interests = summary.condition("interests")
    assert interests.change == pytest.approx(-1.0)
    # Interests fell by 1.0 to 2.0: low and falling; relations 3.0 is not below 3.0.
    assert [(s.pitfall, [(r.signal, r.condition) for r in s.reasons])
            for s in summary.signals] == [
        ("hidden_interests", [("low", "interests"), ("falling", "interests")])]
    text = render_text(summary, content, load_summary_rules(content), "nl")
    assert "- Gedeelde ambitie: 4,0 (n=3), +0,3 t.o.v. vorige maand (stijgend)\n" \
           "  drie maanden: 3,0 → 3,7 → 4,0\n" in text
    assert "- Persoonlijke relaties: 3,0 (n=3)\n  drie maanden: 4,0 → geen cijfer → 3,0\n" in text
    assert "Belangen onder tafel (Recht doen aan belangen), omdat Recht doen aan belangen " \
           "laag scoort (2,0) en Recht doen aan belangen daalde met 1,0." in text
    october = await summary_of(sessions, content, partners.partnership.id, date(2026, 10, 20))
    assert october.condition("ambition").trend == (None, pytest.approx(3.0),
                                                   pytest.approx(11 / 3))


@pytest.mark.parametrize(("vmbo", "gap", "shown", "confusion"), [
    ([4, 4, 4], 1.0, "vmbo 4,0 (n=3), mbo 3,0 (n=3); verschil 1,0", True),  # exactly 1.0
    # (4 + 4 + 4 + 4 + 3.5) / 5 = 3.9: just below
    ([4, 4, 4, 4, (4, 3)], 0.9, "vmbo 3,9 (n=5), mbo 3,0 (n=3); verschil 0,9", False),
])
async def test_a_gap_of_one_on_ambition_is_a_possible_confusion_of_language(
    sessions: async_sessionmaker[Any], content: Content,
    vmbo: list[int | tuple[int, int]], gap: float, shown: str, confusion: bool,
) -> None:
    partners = await Partners.create(sessions)
    vmbo_people = await partners.members("vmbo", "teachers", len(vmbo))
    mbo_people = await partners.members("mbo", "teachers", 3)
    first = await partners.round(NOV, ["ambition_1"])
    second = await partners.round(date(2026, 11, 17), ["ambition_1"])
    firsts = [s[0] if isinstance(s, tuple) else s for s in vmbo]
    seconds = [s[1] if isinstance(s, tuple) else None for s in vmbo]
    await partners.answer(first, "ambition_1", vmbo_people + mbo_people, [*firsts, 3, 3, 3])
    await partners.answer(second, "ambition_1", vmbo_people, seconds)

    summary = await summary_of(sessions, content, partners.partnership.id)
    ambition = summary.condition("ambition")
    assert ambition.sides == (GroupScore("vmbo", len(vmbo), pytest.approx(3.0 + gap)),
                              GroupScore("mbo", 3, pytest.approx(3.0)))
    assert ambition.side_gap is not None
    assert ambition.side_gap.size == pytest.approx(gap)
    assert ambition.levels == (GroupScore("teachers", len(vmbo) + 3, pytest.approx(
        ambition.mean)),)
    assert ambition.level_gap is None
    fired = {s.pitfall: s.reasons for s in summary.signals}
    assert ("confusion_of_language" in fired) is confusion
    text = render_text(summary, content, load_summary_rules(content), "nl")
    assert f"- Gedeelde ambitie, vmbo en mbo: {shown}\n" in text
    assert ("Mogelijk spraakverwarring" in text) is confusion


async def test_a_gap_between_levels_is_a_figure_eight_signal(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    board = [*await partners.members("vmbo", "board", 2),
             *await partners.members("mbo", "board", 1)]
    teachers = [*await partners.members("vmbo", "teachers", 1),
                *await partners.members("mbo", "teachers", 2)]
    round_id = await partners.round(NOV, ["organisation_1"])
    await partners.answer(round_id, "organisation_1", board + teachers, [4, 4, 4, 3, 3, 2])

    summary = await summary_of(sessions, content, partners.partnership.id)
    organisation = summary.condition("organisation")
    # Sides (vmbo 4, 4, 3; mbo 4, 3, 2) and levels can all be shown: no class of one or two
    # people follows from them.
    assert organisation.sides == (GroupScore("vmbo", 3, pytest.approx(11 / 3)),
                                  GroupScore("mbo", 3, pytest.approx(3.0)))
    assert organisation.levels == (GroupScore("board", 3, pytest.approx(4.0)),
                                   GroupScore("teachers", 3, pytest.approx(8 / 3)))
    assert organisation.level_gap is not None
    assert organisation.level_gap.size == pytest.approx(4 / 3)
    assert [s.pitfall for s in summary.signals] == ["losing_the_board"]
    assert summary.signals[0].reasons[0].signal == "level_gap"
    text = render_text(summary, content, load_summary_rules(content), "en")
    # "Governing body" (Bestuur), so that no level reads as one of the three boards.
    assert "Professional organisation, between layers: Governing body 4.0 (n=3), " \
           "Teachers 2.7 (n=3); difference 1.3" in text
    assert "A figure-eight signal" in text
    assert "Losing the connection with the board (Professional organisation)" in text
    assert "Write the agreements down in a project plan." in text


async def test_a_hidden_level_cannot_be_worked_out_by_subtraction(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    board = await partners.members("vmbo", "board", 2)
    management = await partners.members("mbo", "management", 3)
    teachers = await partners.members("vmbo", "teachers", 4)
    round_id = await partners.round(NOV, ["process_1"])
    await partners.answer(round_id, "process_1", board + management + teachers,
                          [5, 5, 2, 2, 2, 3, 3, 3, 3])
    process = (await summary_of(sessions, content, partners.partnership.id)).condition("process")
    assert process.mean == pytest.approx(28 / 9)
    # The board (2) is too small to show, and the total minus management and teachers would
    # give its sum; hiding teachers as well closes that (vmbo is board and teachers together).
    assert process.levels == (GroupScore("management", 3, pytest.approx(2.0)),)
    assert process.sides == (GroupScore("vmbo", 6, pytest.approx(22 / 6)),
                             GroupScore("mbo", 3, pytest.approx(2.0)))


async def test_pitfall_rules_fire_on_their_signals_only(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 4)
    round_id = await partners.round(NOV, ["ambition_1", "relations_1", "process_1"])
    await partners.answer(round_id, "ambition_1", people, [3, 3, 3, 3])
    await partners.answer(round_id, "relations_1", people, [3, 4, 3, 3])
    await partners.answer(round_id, "process_1", people, [3, 4, 3, 3])

    calm = await summary_of(sessions, content, partners.partnership.id)
    assert calm.signals == ()  # 3.0 is not below 3.0; there is no earlier month
    text = render_text(calm, content, load_summary_rules(content), "nl")
    assert "Deze maand wijzen de cijfers niet op een valkuil." in text
    assert "Informeel contact" not in text  # no nudge numbers, no section

    few = await summary_of(sessions, content, partners.partnership.id,
                           nudges=nudge_numbers(2, 10, 3, 2))
    assert [(s.pitfall, s.reasons[0].signal, s.reasons[0].value) for s in few.signals] == [
        ("only_formal_meetings", "few_informal", pytest.approx(0.3))]
    text = render_text(few, content, load_summary_rules(content), "nl")
    assert "2 keer koppelen: 3 van 10 mensen spraken af (30%), en 67% van hen" in text

    tiny = await summary_of(sessions, content, partners.partnership.id,
                            nudges=nudge_numbers(1, 2, 0, 0))
    assert tiny.signals == ()
    assert "Te weinig mensen gekoppeld" in render_text(tiny, content,
                                                       load_summary_rules(content), "nl")

    strict = await summary_of(sessions, content, partners.partnership.id, min_group_size=5)
    assert strict.condition("ambition").mean is None
    lax = await summary_of(sessions, content, partners.partnership.id, min_group_size=2)
    assert lax.min_group_size == 3  # never below three


async def test_agenda_picks_signalled_pitfalls_then_the_weakest_conditions(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    people = await partners.members("mbo", "teachers", 3)
    statements = ["ambition_1", "interests_1", "relations_1", "organisation_1", "process_1"]
    round_id = await partners.round(NOV, statements)
    for statement, scores in zip(statements, ([5, 5, 4], [3, 3, 4], [3, 3, 3], [4, 4, 4],
                                              [4, 3, 4]), strict=True):
        await partners.answer(round_id, statement, people, scores)
    rules = load_summary_rules(content)

    summary = await summary_of(sessions, content, partners.partnership.id)
    together = summary.board("collaboration")
    assert (together.respondents, together.mean) == (3, pytest.approx(
        (14 / 3 + 10 / 3 + 3 + 4 + 11 / 3) / 5))
    assert summary.signals == ()
    assert summary.agenda == (AgendaQuestion("condition", "relations"),
                              AgendaQuestion("condition", "interests"),
                              AgendaQuestion("condition", "process"))
    text = render_text(summary, content, rules, "en")
    assert "1. " + rules.agenda.conditions["relations"].en in text
    assert "3. " + rules.agenda.conditions["process"].en in text

    nudged = await summary_of(sessions, content, partners.partnership.id,
                              nudges=nudge_numbers(1, 6, 1, 1))
    # The pitfall on relations comes first and covers relations.
    assert nudged.agenda == (AgendaQuestion("pitfall", "only_formal_meetings"),
                             AgendaQuestion("condition", "interests"),
                             AgendaQuestion("condition", "process"))

    empty = await summary_of(sessions, content, partners.partnership.id, date(2026, 5, 1))
    assert empty.agenda == tuple(AgendaQuestion("general", str(n)) for n in range(3))
    assert "Deze maand sloot er geen check-in." in render_text(empty, content, rules, "nl")


# 3. The replies a project leader gets


async def test_summary_replies_hold_texts_and_a_phone_sized_chart(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    partners = await Partners.create(sessions)
    people = await partners.members("vmbo", "teachers", 5)
    for day, score in ((OCT, 3), (NOV, 4)):
        round_id = await partners.round(day, ["ambition_1", "content_1"])
        await partners.answer(round_id, "ambition_1", people, [score, score, score, 2, 2],
                              [None, None, None, "Meer tijd", "Een gezamenlijke dag"])

    async with sessions() as session:
        over = datetime(2026, 12, 1, 9, tzinfo=UTC)
        full = await summary_replies(session, content, partners.partnership, NOVEMBER, "en",
                                     now=over)
        short = await summary_replies(session, content, partners.partnership, NOVEMBER, "nl",
                                      short=True, now=over)
    [image] = [r for r in full if isinstance(r, Image)]
    assert png_size(image.png) == (1000, 800)
    assert 10_000 < len(image.png) < 400_000
    assert "Leerlab Zuid, November 2026" in image.caption
    texts = "\n".join(r.text for r in full if isinstance(r, Text))
    assert "Leerlab Zuid, November 2026: 5 of 5 members took part (100%)" in texts
    assert "Shared ambition: 3.2 (n=5), +0.6 since last month (rising)" in texts
    assert 'Shared ambition, "I know what we are working towards together." (n=5):\n' \
           '- "Een gezamenlijke dag"\n- "Meer tijd"' in texts
    assert "Gedeelde ambitie" not in texts
    assert all(len(r.text) <= 3500 for r in full if isinstance(r, Text))

    assert [type(r).__name__ for r in short] == ["Text", "Image", "Text"]
    short_text = "\n".join(r.text for r in short if isinstance(r, Text))
    assert "Gedeelde ambitie: 3,2 (n=5), +0,6 t.o.v. vorige maand (stijgend)" in short_text
    assert "Voor de agenda van het volgende overleg" in short_text
    assert "Meer tijd" not in short_text and "Valkuilen" not in short_text
