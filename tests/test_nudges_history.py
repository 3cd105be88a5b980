"""The next round from the database: the pair history and recent ideas the database adds up
give the same pairs and ideas as reading every earlier group did."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
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
