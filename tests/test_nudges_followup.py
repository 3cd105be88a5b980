"""A week later: "did you meet?", one reminder after "planned", the answers, the numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.content import Content
from bot.engine import Engine
from bot.messages import Choice, Text
from bot.nudges import nudge_stats, plan_followups
from bot.store.models import Partnership
from bot.store.nudges import NudgeAnswer, NudgeGroup, NudgeGroupMember, NudgeRound
from tests.conftest import Clock
from tests.nudge_helpers import (
    MBO,
    VMBO,
    add_member,
    chat_for,
    configure,
    deliver,
    followups,
    member_id,
    plan_round,
)


async def answers(sessions: async_sessionmaker[Any]) -> dict[int, str]:
    async with sessions() as session:
        rows = await session.scalars(select(NudgeAnswer))
        return {row.member_id: row.answer for row in rows}


async def test_did_you_meet_planned_gets_one_reminder_and_the_answers_are_kept(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    partnership: Partnership, engine: Engine,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now)
    await add_member(sessions, partnership, "bram", MBO, clock.now, language="en")
    chats = {user: chat_for(engine, user) for user in ("anna", "bram")}
    anna, bram = chats["anna"], chats["bram"]
    await plan_round(sessions, content, partnership.id, clock.now)

    clock.advance(days=6)
    assert await followups(sessions, content, clock.now) == []
    clock.advance(days=1)
    async with sessions() as session, session.begin():  # another partnership's turn
        assert await plan_followups(session, content, clock.now, partnership.id + 1) == []
    asked = await followups(sessions, content, clock.now)
    assert sorted((m.kind, m.target) for m in asked) == [
        ("nudge_followup", "anna"), ("nudge_followup", "bram")]
    deliver(chats, asked)
    assert anna.transcript() == (
        "Vorige week koppelde ik je aan Bram (Mbo College Kompas). "
        "Hebben jullie elkaar gesproken?\n"
        "  1. Ja, we hebben elkaar gesproken\n  2. Staat gepland\n  3. Nog niet")
    assert bram.transcript().startswith("Last week I paired you with Anna (Vmbo De Brug).")
    assert await followups(sessions, content, clock.now + timedelta(hours=1)) == []

    assert await anna.press("Staat gepland") == [
        Text(text=content.text("nudge_thanks_planned", "nl"))]
    # A text-only chat: the number of the option answers too.
    assert await bram.say("3") == [Text(text=content.text("nudge_thanks_not_yet", "en"))]
    assert await answers(sessions) == {await member_id(sessions, "anna"): "planned",
                                       await member_id(sessions, "bram"): "not_yet"}

    clock.advance(days=7)
    reminded = await followups(sessions, content, clock.now)
    assert [(m.kind, m.target) for m in reminded] == [("nudge_reminder", "anna")]
    deliver(chats, reminded)
    assert anna.last_text().startswith(
        "Je had een afspraak gepland met Bram (Mbo College Kompas). Is het gelukt?")
    assert await anna.press("Ja, we hebben elkaar gesproken") == [
        Text(text=content.text("nudge_thanks_met", "nl"))]
    assert (await answers(sessions))[await member_id(sessions, "anna")] == "met"

    clock.advance(days=7)
    assert await followups(sessions, content, clock.now) == []


async def test_planned_again_after_the_reminder_is_not_reminded_again(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    partnership: Partnership, engine: Engine,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now)
    await add_member(sessions, partnership, "bram", MBO, clock.now)
    chats = {user: chat_for(engine, user) for user in ("anna", "bram")}
    await plan_round(sessions, content, partnership.id, clock.now)
    clock.advance(days=7)
    deliver(chats, await followups(sessions, content, clock.now))
    await chats["anna"].press("Staat gepland")
    clock.advance(days=7)
    deliver(chats, await followups(sessions, content, clock.now))
    assert await chats["anna"].press("Staat gepland") == [
        Text(text=content.text("nudge_thanks_planned_again", "nl"))]
    clock.advance(days=7)
    assert await followups(sessions, content, clock.now) == []


async def test_a_button_for_someone_elses_group_or_a_broken_value_changes_nothing(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    partnership: Partnership, engine: Engine,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now)
    await add_member(sessions, partnership, "bram", MBO, clock.now)
    await add_member(sessions, partnership, "cas", VMBO, clock.now)
    cas = chat_for(engine, "cas")
    await plan_round(sessions, content, partnership.id, clock.now)
    async with sessions() as session:
        group_id = await session.scalar(select(NudgeGroup.id))
    stale = [Text(text=content.text("stale_button", "nl"))]
    outsider = MemoryChat(engine, user="dirk", chat="dm-dirk")
    await add_member(sessions, partnership, "dirk", MBO, clock.now)
    assert await outsider.press_value(f"nm:{group_id}:m") == stale
    for broken in ("nm:abc:m", f"nm:{group_id}:x", "nm:", f"nm:{group_id + 99}:m"):
        assert await cas.press_value(broken) == stale
    assert await answers(sessions) == {}


async def test_nobody_is_asked_when_paused_opted_out_or_nudges_are_off(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    partnership: Partnership, engine: Engine,
) -> None:
    await add_member(sessions, partnership, "anna", VMBO, clock.now)
    await add_member(sessions, partnership, "bram", MBO, clock.now)
    await add_member(sessions, partnership, "cas", VMBO, clock.now)
    await add_member(sessions, partnership, "dirk", MBO, clock.now)
    await plan_round(sessions, content, partnership.id, clock.now)
    clock.advance(days=7)
    await chat_for(engine, "anna").say("koffie uit")
    await chat_for(engine, "bram").say("pauze 2")
    asked = await followups(sessions, content, clock.now)
    assert sorted(m.target for m in asked) == ["cas", "dirk"]

    await plan_round(sessions, content, partnership.id, clock.now)
    await configure(sessions, partnership.id, clock.now, enabled=False)
    clock.advance(days=7)
    assert await followups(sessions, content, clock.now) == []


async def add_round(sessions: async_sessionmaker[Any], partnership_id: int, number: int,
                    planned_at: datetime,
                    groups: list[tuple[list[int], bool, int, dict[int, str]]]) -> None:
    """A stored round: per group its members, cross-school, repeated pairs, and answers."""
    async with sessions() as session, session.begin():
        round_ = NudgeRound(partnership_id=partnership_id, number=number, seed=number,
                            mixed_levels=False, planned_at=planned_at)
        session.add(round_)
        await session.flush()
        for members, cross, repeats, said in groups:
            group = NudgeGroup(round_id=round_.id, idea_id="lunch_walk", cross_school=cross,
                               repeat_pairs=repeats)
            session.add(group)
            await session.flush()
            session.add_all(NudgeGroupMember(group_id=group.id, member_id=m) for m in members)
            session.add_all(NudgeAnswer(group_id=group.id, member_id=m, answer=a,
                                        answered_at=planned_at) for m, a in said.items())


async def test_the_months_numbers_match_a_count_by_hand(
    sessions: async_sessionmaker[Any], clock: Clock, partnership: Partnership,
) -> None:
    ids = [await add_member(sessions, partnership, f"p{n}", n % 2, clock.now)
           for n in range(7)]
    a, b, c, d, e, f, g = ids
    # 1 November 00:30 in Amsterdam is still 31 October in UTC: it counts for November.
    await add_round(sessions, partnership.id, 1, datetime(2026, 10, 31, 23, 30, tzinfo=UTC), [
        ([a, b], True, 0, {a: "met", b: "planned"}),  # met
        ([c, d, e], True, 0, {c: "planned"}),  # planned
        ([f, g], False, 0, {}),  # no answer, one school
    ])
    await add_round(sessions, partnership.id, 2, datetime(2026, 11, 17, 14, 30, tzinfo=UTC), [
        ([a, c], True, 1, {a: "not_yet", c: "not_yet"}),  # answered, not met
        ([b, d], True, 1, {b: "met"}),  # met, a repeat
        ([e, f, g], True, 2, {}),  # no answer, two repeated pairs
    ])
    # Outside November: the end of October (local) and December.
    await add_round(sessions, partnership.id, 3, datetime(2026, 10, 31, 22, 30, tzinfo=UTC), [
        ([a, b], True, 0, {a: "met"})])
    await add_round(sessions, partnership.id, 4, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), [
        ([c, d], True, 0, {c: "met"})])

    async with sessions() as session:
        stats = await nudge_stats(session, partnership.id, date(2026, 11, 15))
    assert (stats.month, stats.rounds, stats.people_paired, stats.groups) == (
        date(2026, 11, 1), 2, 7, 6)
    assert (stats.groups_answered, stats.groups_met, stats.groups_planned) == (4, 2, 1)
    assert stats.met_or_planned_share == 3 / 4
    assert (stats.cross_school_groups, stats.cross_school_share) == (5, 5 / 6)
    assert stats.repeat_pairs == 4
    # Met: a, b (round 1) and b, d (round 2): three people, all in cross-school groups.
    assert (stats.people_met, stats.people_met_cross_school) == (3, 3)

    async with sessions() as session:
        empty = await nudge_stats(session, partnership.id, date(2026, 9, 1))
    assert (empty.rounds, empty.groups, empty.met_or_planned_share,
            empty.cross_school_share) == (0, 0, None, None)


async def test_the_numbers_follow_a_real_round_and_its_answers(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    partnership: Partnership, engine: Engine,
) -> None:
    for user, school in (("anna", VMBO), ("bram", MBO), ("cas", VMBO), ("dirk", MBO)):
        await add_member(sessions, partnership, user, school, clock.now)
    chats = {user: chat_for(engine, user) for user in ("anna", "bram", "cas", "dirk")}
    await plan_round(sessions, content, partnership.id, clock.now)
    clock.advance(days=1)
    await plan_round(sessions, content, partnership.id, clock.now)  # a second round
    clock.advance(days=6)
    deliver(chats, await followups(sessions, content, clock.now))
    replies = await chats["anna"].press("Ja, we hebben elkaar gesproken")
    assert replies == [Text(text=content.text("nudge_thanks_met", "nl"))]
    assert isinstance(chats["anna"].sent[0], Choice)
    async with sessions() as session:
        stats = await nudge_stats(session, partnership.id, date(2026, 11, 1))
    assert (stats.rounds, stats.people_paired, stats.groups, stats.cross_school_groups) == (
        2, 4, 4, 4)
    assert stats.repeat_pairs == 0  # two schools of two: two rounds of new partners
    assert (stats.groups_answered, stats.groups_met, stats.people_met) == (1, 1, 2)
