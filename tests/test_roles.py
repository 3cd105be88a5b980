"""Who may do what: leaders lead, and nobody reaches another partnership's data, also not
with button values typed by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.memory import MemoryChat
from bot.demo import create_demo_partnership
from bot.engine import Engine
from bot.flows.instruments.common import may_lead
from bot.flows.roles import is_leader
from bot.messages import Text
from bot.store.instruments import (
    FigureEightCheck,
    PitfallPoll,
    PitfallVote,
    ReflectionAnswer,
    ReflectionSession,
    TalkPlate,
)
from bot.store.models import Answer, CheckInRound, Member, Partnership
from bot.store.nudges import NudgeAnswer, NudgeGroup, NudgeGroupMember, NudgeRound
from tests.conftest import Clock, onboard
from tests.privacy_fakes import add_member

Sessions = async_sessionmaker[Any]


def test_leaders_and_admins_lead_members_do_not() -> None:
    for role, leads in (("member", False), ("leader", True), ("admin", True)):
        member = Member(role=role)
        assert is_leader(member) is leads and may_lead(member) is leads


async def other_partnership(sessions: Sessions, clock: Clock) -> dict[str, int]:
    """A second partnership with something of every kind, its ids by name."""
    async with sessions() as session, session.begin():
        other = await create_demo_partnership(session, clock.now, "test", "group-other")
        someone = await add_member(session, other, "other-user", clock.now, role="leader")
        round_ = CheckInRound(partnership_id=other.id, number=1, opens_at=clock.now,
                              closes_at=clock.now + timedelta(days=7),
                              statement_ids=["c1_s1"])
        reflection = ReflectionSession(partnership_id=other.id, number=1,
                                       statement_ids=["c1_s1"], opened_by=someone.id,
                                       opened_at=clock.now)
        poll = PitfallPoll(partnership_id=other.id, started_by=someone.id, started_at=clock.now)
        check = FigureEightCheck(partnership_id=other.id, school_a_id=other.schools[0].id,
                                 school_b_id=other.schools[1].id, started_by=someone.id,
                                 started_at=clock.now)
        plate = TalkPlate(partnership_id=other.id, started_by=someone.id, started_at=clock.now)
        nudge_round = NudgeRound(partnership_id=other.id, number=1, seed=1,
                                 planned_at=clock.now)
        session.add_all([round_, reflection, poll, check, plate, nudge_round])
        await session.flush()
        group = NudgeGroup(round_id=nudge_round.id, idea_id="coffee", cross_school=False)
        session.add(group)
        await session.flush()
        session.add(NudgeGroupMember(group_id=group.id, member_id=someone.id))
        return {"round": round_.id, "reflection": reflection.id, "poll": poll.id,
                "check": check.id, "plate": plate.id, "group": group.id,
                "school": other.schools[0].id, "member": someone.id}


async def test_ids_of_another_partnership_are_refused(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    chat = MemoryChat(engine)
    await onboard(chat)  # first: with two partnerships a stranger is not enrolled
    ids = await other_partnership(sessions, clock)
    async with sessions() as session, session.begin():
        me = await session.scalar(select(Member).where(Member.user_ref == "anna"))
        assert me is not None
        me.role = "leader"  # a leader of their own partnership, not of the other
        my_school = me.school_id
    values = [
        f"s:{ids['round']}:c1_s1:4", f"f:{ids['round']}:c1_s1", f"change:{ids['round']}:c1_s1",
        f"rj:{ids['reflection']}", f"rs:{ids['reflection']}:c1:4",
        f"pv:{ids['poll']}:1", f"e8:{ids['check']}:0:4", f"tp:{ids['plate']}:0:next",
        f"tp:{ids['plate']}:0:stop", f"nm:{ids['group']}:m", f"school:{ids['school']}",
    ]
    for value in values:
        replies = await chat.press_value(value)
        shown = " ".join(getattr(r, "text", getattr(r, "prompt", "")) for r in replies)
        assert replies and "other-user" not in shown, (value, shown)
        assert all(not r.public for r in replies), value
    async with sessions() as session:
        for table in (Answer, ReflectionAnswer, PitfallVote, NudgeAnswer):
            assert await session.scalar(select(func.count()).select_from(table)) == 0, table
        check = await session.get(FigureEightCheck, ids["check"])
        plate = await session.get(TalkPlate, ids["plate"])
        assert check is not None and (check.next_step, check.completed_at) == (0, None)
        assert plate is not None and (plate.position, plate.finished_at) == (0, None)
        reflection = await session.get(ReflectionSession, ids["reflection"])
        assert reflection is not None and reflection.closed_at is None
        me = await session.scalar(select(Member).where(Member.user_ref == "anna"))
        assert me is not None and me.school_id == my_school


async def test_privacy_export_shows_only_ones_own_data(
    engine: Engine, sessions: Sessions, partnership: Partnership, clock: Clock
) -> None:
    chat = MemoryChat(engine)
    await onboard(chat)  # first: with two partnerships a stranger is not enrolled
    ids = await other_partnership(sessions, clock)
    # The export takes no id: a value with someone else's id is just not understood.
    for value in (f"avg:export:{ids['member']}", f"avg:{ids['member']}"):
        replies = await chat.press_value(value)
        assert all("other-user" not in getattr(r, "text", "") for r in replies)
    await chat.say("privacy")
    replies = await chat.press("Mijn gegevens bekijken")
    assert "other-user" not in "".join(r.text for r in replies if isinstance(r, Text))
