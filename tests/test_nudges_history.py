"""The next round from the database: the pair history and recent ideas the database adds up
give the same pairs and ideas as reading every earlier group did (for a history played
round by round, and for random histories stored in any order)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.demo import create_demo_partnership
from bot.nudges import compose_round
from bot.nudges.pairing import Candidate, Group, Pair, last_seen, pair_members
from bot.nudges.planner import round_seed
from bot.nudges.records import RECENT_IDEAS, pair_history, recent_ideas
from bot.store.models import Member, Partnership
from bot.store.nudges import NudgeGroup, NudgeGroupMember, NudgeRound
from tests.conftest import Clock
from tests.nudge_helpers import MBO, VMBO, add_member, plan_round


async def every_group(sessions: async_sessionmaker[Any]) -> list[tuple[Group, str]]:
    """Every stored group with its idea, oldest first (round, then group)."""
    async with sessions() as session:
        rows = await session.execute(
            select(NudgeGroup.id, NudgeGroup.idea_id, NudgeGroupMember.member_id)
            .join(NudgeRound, NudgeRound.id == NudgeGroup.round_id)
            .join(NudgeGroupMember, NudgeGroupMember.group_id == NudgeGroup.id)
            .order_by(NudgeRound.number, NudgeGroup.id, NudgeGroupMember.member_id))
        groups: dict[int, tuple[list[int], str]] = {}
        for group_id, idea, member in rows:
            groups.setdefault(group_id, ([], idea))[0].append(member)
    return [(tuple(members), idea) for members, idea in groups.values()]


def in_order(seen: dict[Pair, int]) -> list[Pair]:
    return sorted(seen, key=lambda pair: (seen[pair], pair))


async def test_the_database_history_pairs_as_every_earlier_group_did(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock, partnership: Partnership,
) -> None:
    # Three and four people: repeats come soon, and one group of three each round.
    for n in range(3):
        await add_member(sessions, partnership, f"v{n}", VMBO, clock.now)
    for n in range(4):
        await add_member(sessions, partnership, f"m{n}", MBO, clock.now,
                         level="board" if n == 3 else "teachers")
    for day in range(RECENT_IDEAS + 2):
        if day == RECENT_IDEAS - 2:  # one person pauses: their last ideas go further back
            async with sessions() as session, session.begin():
                paused = await session.scalar(select(Member).where(Member.user_ref == "v0"))
                assert paused is not None
                paused.paused_until = (clock.now + timedelta(days=day + 4)).date()
        await plan_round(sessions, content, partnership.id, clock.now + timedelta(days=day))
    history = await every_group(sessions)
    groups = [members for members, _ in history]
    async with sessions() as session:
        seen = await pair_history(session, partnership.id)
        people = [Candidate(m.id, m.school_id or 0, m.level or "") for m in
                  await session.scalars(select(Member).order_by(Member.id))]
        paused_id = await session.scalar(select(Member.id).where(Member.user_ref == "v0"))
        recent = await recent_ideas(session, partnership.id, (p.member_id for p in people))
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        plan = await compose_round(session, content, found, clock.now + timedelta(days=30))

    before = last_seen(groups)
    assert set(seen) == set(before)
    assert in_order(seen) == in_order(before)  # who met longest ago comes first alike
    for seed in range(20):
        assert pair_members(people, seen, seed) == pair_members(people, before, seed)
        assert pair_members(people, seen, seed, mix_levels=True) == pair_members(
            people, groups, seed, mix_levels=True)
    # Per member, the ideas of their last groups, newest first, at most RECENT_IDEAS.
    expected: dict[int, list[str]] = {}
    for members, idea in reversed(history):
        for member in members:
            if len(expected.setdefault(member, [])) < RECENT_IDEAS:
                expected[member].append(idea)
    assert recent == expected
    assert max(len(ideas) for ideas in recent.values()) == RECENT_IDEAS
    # v0 sat out the last four rounds: two of their ideas come from before the last ten.
    assert len(recent[paused_id]) == RECENT_IDEAS + 2 - 4
    # The preview's round is the one the whole history gives.
    assert plan.number == RECENT_IDEAS + 3
    assert [tuple(m.id for m in g.members) for g in plan.groups] == pair_members(
        people, groups, round_seed(partnership.id, plan.number))


async def store_history(sessions: async_sessionmaker[Any], partnership: Partnership,
                        people: list[tuple[int, str]], rounds: list[list[list[int]]],
                        order: list[int], now: datetime) -> tuple[list[int], list[Group]]:
    """`people` (school index, level) as members, and `rounds` of groups (indexes into
    people) stored with round numbers 1.. but round rows written in `order`, so round ids do
    not follow the numbers. Returns the member ids and the groups oldest first."""
    async with sessions() as session, session.begin():
        ids = []
        for n, (school, level) in enumerate(people):
            member = Member(partnership_id=partnership.id, platform="test",
                            user_ref=f"p{partnership.id}-{n}", display_name=f"P{n}",
                            school_id=partnership.schools[school].id, level=level,
                            language="nl", onboarded_at=now, created_at=now)
            session.add(member)
            await session.flush()
            ids.append(member.id)
        stored: dict[int, list[Group]] = {}
        for index in order:
            round_ = NudgeRound(partnership_id=partnership.id, number=index + 1, seed=index,
                                mixed_levels=False, planned_at=now)
            session.add(round_)
            await session.flush()
            for group in rounds[index]:
                row = NudgeGroup(round_id=round_.id, idea_id="lunch_walk", cross_school=True,
                                 repeat_pairs=0)
                session.add(row)
                await session.flush()
                session.add_all(NudgeGroupMember(group_id=row.id, member_id=ids[m])
                                for m in group)
                stored.setdefault(index, []).append(tuple(sorted(ids[m] for m in group)))
            await session.flush()
    return ids, [group for index in range(len(rounds)) for group in stored.get(index, [])]


_CHATS = itertools.count()  # each example's partnership binds a chat of its own


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[tuple[int, str]], list[list[list[int]]],
                                        list[int]]:
    """A handful of people in two schools, and rounds of groups of two or three of them
    (whoever takes part that round), the rounds stored in a random order."""
    people = draw(st.lists(st.tuples(st.integers(0, 1),
                                     st.sampled_from(["teachers", "management", "board"])),
                           min_size=4, max_size=9))
    rounds = []
    for _ in range(draw(st.integers(0, 7))):
        present = draw(st.permutations(range(len(people))))
        present = present[:draw(st.integers(2, len(present)))]
        groups = [list(present[i:i + 2]) for i in range(0, len(present) - 1, 2)]
        if len(present) % 2:
            groups[-1].append(present[-1])
        rounds.append(groups)
    order = draw(st.permutations(range(len(rounds))))
    return people, rounds, list(order)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=histories(), seed=st.integers(0, 2**31 - 1), mix=st.booleans())
async def test_the_history_the_database_adds_up_pairs_as_every_group_row_did(
    sessions: async_sessionmaker[Any], content: Content, clock: Clock,
    history: tuple[list[tuple[int, str]], list[list[list[int]]], list[int]], seed: int,
    mix: bool,
) -> None:
    people, rounds, order = history
    async with sessions() as session, session.begin():
        partnership = await create_demo_partnership(session, clock.now, "test",
                                                    f"chat-{next(_CHATS)}")
    ids, groups = await store_history(sessions, partnership, people, rounds, order, clock.now)
    async with sessions() as session:
        seen = await pair_history(session, partnership.id)
        found = await session.get(Partnership, partnership.id)
        assert found is not None
        plan = await compose_round(session, content, found, clock.now)
    candidates = [Candidate(member, partnership.schools[school].id, level)
                  for member, (school, level) in zip(ids, people, strict=True)]
    before = last_seen(groups)
    assert in_order(seen) == in_order(before)
    assert pair_members(candidates, seen, seed, mix_levels=mix) == pair_members(
        candidates, groups, seed, mix_levels=mix)
    assert [tuple(m.id for m in g.members) for g in plan.groups] == pair_members(
        candidates, groups, round_seed(partnership.id, len(rounds) + 1))
