"""A member with data in every kind of table, for the export, erasure and retention tests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import repo
from bot.store.instruments import (
    FigureEightCheck,
    FigureEightLevel,
    PitfallPoll,
    PitfallVote,
    ReflectionAnswer,
    ReflectionSession,
    TalkPlate,
    TalkPlateOutcome,
)
from bot.store.matrix import MatrixEntry, MatrixGoal
from bot.store.models import Answer, CheckInRound, Conversation, Member, Partnership
from bot.store.nudges import NudgeAnswer, NudgeGroup, NudgeGroupMember, NudgeOptOut, NudgeRound
from bot.store.schedule import OutboxMessage
from bot.store.tables import Base

OPEN_TEXT = "We plannen te weinig samen; " * 40  # long, so the export needs several messages
TEAM_TEXT = "Samen een stagedag organiseren"


async def add_member(session: AsyncSession, partnership: Partnership, user: str,
                     now: datetime, role: str = "member") -> Member:
    member = Member(partnership_id=partnership.id, platform="test", user_ref=user,
                    display_name=user, school_id=partnership.schools[0].id, level="teachers",
                    role=role, created_at=now, onboarded_at=now)
    session.add(member)
    await session.flush()
    return member


async def fill(session: AsyncSession, partnership: Partnership, member: Member,
               other: Member, now: datetime) -> None:
    """Data of `member` (and some of `other`) in every table that can hold a person's."""
    round_ = CheckInRound(partnership_id=partnership.id, number=1, opens_at=now,
                          closes_at=now + timedelta(days=7), statement_ids=["s1", "s2"])
    session.add(round_)
    await session.flush()
    for who in (member, other):
        for statement in ("s1", "s2", "s3", "s4"):
            side, level, school_id = await repo.answer_group(session, who.id)
            session.add(Answer(round_id=round_.id, member_id=who.id, statement_id=statement,
                               status="scored", score=3, comment=OPEN_TEXT, answered_at=now,
                               side=side, level=level, school_id=school_id))
    session.add(Conversation(member_id=member.id, flow="choice", step="",
                             data={"options": [["x", "cmd:help"]]}, updated_at=now))
    nudge_round = NudgeRound(partnership_id=partnership.id, number=1, seed=1, planned_at=now)
    session.add(nudge_round)
    await session.flush()
    group = NudgeGroup(round_id=nudge_round.id, idea_id="coffee", cross_school=True)
    session.add(group)
    await session.flush()
    session.add_all([NudgeGroupMember(group_id=group.id, member_id=member.id),
                     NudgeGroupMember(group_id=group.id, member_id=other.id),
                     NudgeAnswer(group_id=group.id, member_id=member.id, answer="met",
                                 answered_at=now),
                     NudgeOptOut(member_id=member.id, opted_out_at=now)])
    reflection = ReflectionSession(partnership_id=partnership.id, number=1,
                                   statement_ids=["s1"], opened_by=member.id, opened_at=now)
    poll = PitfallPoll(partnership_id=partnership.id, started_by=member.id, started_at=now)
    check = FigureEightCheck(partnership_id=partnership.id,
                             school_a_id=partnership.schools[0].id,
                             school_b_id=partnership.schools[1].id, started_by=member.id,
                             started_at=now)
    plate = TalkPlate(partnership_id=partnership.id, started_by=member.id, started_at=now)
    goal = MatrixGoal(partnership_id=partnership.id, title=TEAM_TEXT, created_at=now,
                      updated_by=member.id, updated_at=now)
    session.add_all([reflection, poll, check, plate, goal])
    await session.flush()
    session.add_all([
        ReflectionAnswer(session_id=reflection.id, member_id=member.id, condition="goal",
                         statement_id="s1", status="scored", score=4, answered_at=now),
        PitfallVote(poll_id=poll.id, member_id=member.id, pitfall_id="p1", voted_at=now),
        FigureEightLevel(check_id=check.id, school_id=partnership.schools[0].id,
                         level="teachers", names=f"{member.display_name}, Piet", inside=3),
        MatrixEntry(partnership_id=partnership.id, goal_id=goal.id, step_id="activities",
                    text=TEAM_TEXT, updated_by=member.id, updated_at=now),
        TalkPlateOutcome(talk_plate_id=plate.id, topic_id="t1", text=TEAM_TEXT,
                         recorded_by=member.id, recorded_at=now),
        OutboxMessage(kind="checkin", partnership_id=partnership.id,
                      recipient=f"member:{member.id}", local_date=now.date(), platform="test",
                      target=member.user_ref, direct=True, payload=[{"text": "Ronde 1"}],
                      member_id=member.id, due_at=now, status="sent", created_at=now),
    ])
    await session.flush()


def member_columns() -> list[tuple[str, str]]:
    return [(table.name, column.name) for table in Base.metadata.sorted_tables
            for column in table.columns
            if any(fk.column.table.name == "member" for fk in column.foreign_keys)
            or (table.name == "member" and column.name == "id")]


async def traces(session: AsyncSession, member_id: int, *words: str) -> list[str]:
    """Every place in every table where the member's id or one of `words` still shows."""
    ids = set(member_columns())
    found = []
    for table in Base.metadata.sorted_tables:
        for row in (await session.execute(select(table))).mappings():
            for column in table.columns:
                value = row[column.name]
                if (table.name, column.name) in ids and value == member_id:
                    found.append(f"{table.name}.{column.name} = {member_id}")
                text = value if isinstance(value, str) else (
                    json.dumps(value) if isinstance(value, dict | list) else "")
                if table.name == "outbox" and text == f"member:{member_id}":
                    found.append(f"outbox.recipient = {text}")
                found += [f"{table.name}.{column.name} has {word!r}"
                          for word in words if word.casefold() in text.casefold()]
    return found
