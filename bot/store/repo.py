"""The queries the engine and the CLI need, each taking the caller's session (transaction)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.store.models import (
    Answer,
    ChannelBinding,
    CheckInRound,
    Conversation,
    Member,
    Partnership,
    ProcessedEvent,
    School,
)


def insert_for(session: AsyncSession, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT on both supported backends."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# The statements every turn runs, built once per dialect with bound parameters: building
# one and deriving its cache key costs more than SQLite takes to run it.
_PER_TURN: dict[tuple[str, str], Any] = {}


def _per_turn(session: AsyncSession, name: str) -> Any:
    dialect = session.get_bind().dialect.name
    found = _PER_TURN.get((dialect, name))
    if found is None:
        found = _PER_TURN[dialect, name] = _build(dialect, name)
    return found


def _build(dialect: str, name: str) -> Any:
    """Core statements on the tables (no ORM objects to load or to synchronise): the ORM's
    bulk-insert path and the cache key of literal values cost more than the SQL."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    if name == "processed":
        events = _table(ProcessedEvent)
        return (insert(events)
                .values(platform=bindparam("platform"), event_id=bindparam("event_id"),
                        processed_at=bindparam("now", type_=events.c.processed_at.type))
                .on_conflict_do_nothing()
                .returning(events.c.event_id))
    if name == "memberships":
        query = (select(Member, Partnership)
                 .join(Partnership, Partnership.id == Member.partnership_id)
                 .where(Member.platform == bindparam("identity_platform"),
                        Member.user_ref == bindparam("identity_user"))
                 .order_by(Member.id)
                 .options(joinedload(Partnership.schools))
                 .execution_options(populate_existing=True))
        return query.with_for_update(of=Member) if dialect == "postgresql" else query
    if name == "answer":  # one answer, new or given again: every column but the key anew
        upsert = insert(_table(Answer))
        return upsert.on_conflict_do_update(
            index_elements=["round_id", "member_id", "statement_id"],
            set_={column: upsert.excluded[column] for column in _ANSWER_GIVEN})
    if name == "conversation":
        upsert = insert(_table(Conversation))
        return upsert.on_conflict_do_update(
            index_elements=["member_id"],
            set_={column: upsert.excluded[column] for column in _CONVERSATION_STATE})
    if name == "round_answered":  # the round and which of its statements the member answered
        answer = _table(Answer)
        return (select(CheckInRound, answer.c.statement_id)
                .outerjoin(answer, (answer.c.round_id == CheckInRound.id)
                           & (answer.c.member_id == bindparam("member_id")))
                .where(CheckInRound.id == bindparam("round_id")))
    members = _table(Member)
    assert name == "touch"  # SQLite's stand-in for a row lock: a no-op write
    return (update(members)
            .where(members.c.platform == bindparam("identity_platform"),
                   members.c.user_ref == bindparam("identity_user"))
            .values(language=members.c.language))


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


_ANSWER_GIVEN = ("status", "score", "comment", "answered_at", "side", "level", "school_id")
_CONVERSATION_STATE = ("flow", "step", "data", "updated_at")


async def mark_processed(
    session: AsyncSession, platform: str, event_id: str, now: datetime
) -> bool:
    """Record a platform event id; False when it was handled before (a redelivery)."""
    found = await session.execute(_per_turn(session, "processed"),
                                  {"platform": platform, "event_id": event_id[:200], "now": now})
    return found.first() is not None


async def partnership_for_chat(
    session: AsyncSession, platform: str, chat: str
) -> Partnership | None:
    return await session.scalar(
        select(Partnership)
        .join(ChannelBinding)
        .where(ChannelBinding.platform == platform, ChannelBinding.channel_ref == chat)
    )


async def only_partnership(session: AsyncSession) -> Partnership | None:
    """The partnership of a deployment that has just one, else None."""
    found = (await session.scalars(select(Partnership).limit(2))).all()
    return found[0] if len(found) == 1 else None


async def set_reachable(
    session: AsyncSession, platform: str, user: str | None, reachable: bool, now: datetime,
    *, member_id: int | None = None,
) -> int:
    """Record whether the platform can reach an identity: unreachable marks every
    membership of `user` that is not marked yet (so the first time stays), reachable clears
    the marked ones. `member_id` narrows it to that one membership (then `user` may be
    None). Returns how many memberships changed."""
    statement = update(Member).where(Member.platform == platform)
    if user is not None:
        statement = statement.where(Member.user_ref == user)
    if member_id is not None:
        statement = statement.where(Member.id == member_id)
    if reachable:
        statement = statement.where(Member.unreachable_at.is_not(None)).values(
            unreachable_at=None)
    else:
        statement = statement.where(Member.unreachable_at.is_(None)).values(unreachable_at=now)
    changed = await session.execute(statement.returning(Member.id))
    return len(changed.all())


async def identities(session: AsyncSession, platform: str, user: str) -> list[Member]:
    rows = await session.scalars(
        select(Member)
        .where(Member.platform == platform, Member.user_ref == user)
        .order_by(Member.id)
    )
    return list(rows)


async def memberships(
    session: AsyncSession, platform: str, user: str, *, written: bool
) -> list[tuple[Member, Partnership]]:
    """Every membership of an identity with its partnership (schools loaded), in one
    statement, held until the transaction ends so turns of one person run one after the
    other in every process (two presses on one question cannot both advance it).

    PostgreSQL locks the member rows (FOR UPDATE). SQLite has no row locks: a transaction
    that has `written` already holds its database write lock, and read what it reads after
    that fresh; otherwise a no-op write by identity takes that lock first (it waits, busy
    timeout, for another writer)."""
    who = {"identity_platform": platform, "identity_user": user}
    if session.get_bind().dialect.name != "postgresql" and not written:
        await session.execute(_per_turn(session, "touch"), who)
    rows = (await session.execute(_per_turn(session, "memberships"), who)).unique()
    return [(member, partnership) for member, partnership in rows]


async def school(session: AsyncSession, partnership_id: int, school_id: int) -> School | None:
    return await session.scalar(
        select(School).where(School.id == school_id, School.partnership_id == partnership_id)
    )


async def lock_member(session: AsyncSession, member: Member) -> None:
    """Hold the member's row until the transaction ends, so turns of one person run one
    after the other in every process (two presses on one question cannot both advance
    it), and reload it. PostgreSQL locks the row; SQLite has no row locks, so a no-op
    write takes its database write lock, which waits (busy timeout) for another writer."""
    if session.get_bind().dialect.name == "postgresql":
        await session.refresh(member, with_for_update=True)
        return
    # A column no key or index holds, so the write costs SQLite no foreign-key lookups.
    await session.execute(update(Member).where(Member.id == member.id)
                          .values(language=Member.language)
                          .execution_options(synchronize_session=False))
    await session.refresh(member)


async def create_member(session: AsyncSession, **values: Any) -> tuple[Member, bool]:
    """A new member, or the one with the same (partnership, platform, user) that another
    turn created at the same moment (the insert waits for that turn to commit), and
    whether it is new: a double click of a newcomer does not fail on the unique key."""
    created = await session.scalar(
        insert_for(session, Member).values(**values)
        .on_conflict_do_nothing(index_elements=["partnership_id", "platform", "user_ref"])
        .returning(Member.id)
    )
    member = await session.scalar(
        select(Member).where(Member.partnership_id == values["partnership_id"],
                             Member.platform == values["platform"],
                             Member.user_ref == values["user_ref"])
        .execution_options(populate_existing=True)
    )
    assert member is not None
    return member, created is not None


async def conversation(session: AsyncSession, member_id: int) -> Conversation | None:
    return await session.scalar(
        select(Conversation)
        .where(Conversation.member_id == member_id)
        .execution_options(populate_existing=True)
    )


async def set_conversation(
    session: AsyncSession, member_id: int, flow: str, data: dict[str, Any], now: datetime
) -> None:
    """Replace the member's conversation state; written at once, so a later clear or set in
    the same turn sees it."""
    await session.execute(_per_turn(session, "conversation"), {
        "member_id": member_id, "flow": flow, "step": "", "data": data, "updated_at": now})


async def clear_conversation(session: AsyncSession, member_id: int) -> None:
    await session.execute(delete(Conversation).where(Conversation.member_id == member_id))


async def open_round_at(
    session: AsyncSession, partnership_id: int, now: datetime
) -> CheckInRound | None:
    """The newest round of the partnership that is open at `now`."""
    return await session.scalar(
        select(CheckInRound)
        .where(
            CheckInRound.partnership_id == partnership_id,
            CheckInRound.opens_at <= now,
            CheckInRound.closes_at > now,
        )
        .order_by(CheckInRound.number.desc())
        .limit(1)
    )


async def last_round_number(session: AsyncSession, partnership_id: int) -> int:
    number = await session.scalar(
        select(func.max(CheckInRound.number)).where(CheckInRound.partnership_id == partnership_id)
    )
    return number or 0


async def answers(session: AsyncSession, round_id: int, member_id: int) -> dict[str, Answer]:
    rows = await session.scalars(
        select(Answer)
        .where(Answer.round_id == round_id, Answer.member_id == member_id)
        .execution_options(populate_existing=True)
    )
    return {row.statement_id: row for row in rows}


class AnswerGroup(NamedTuple):
    """Who an answer given now counts as: the member's school type, level and school."""

    side: str | None
    level: str | None
    school_id: int | None


async def answer_group(session: AsyncSession, member_id: int) -> AnswerGroup:
    """The member's school type (side), level and school now: the group an answer given now
    counts in, stored with it so a later move to another school or level leaves it where it
    was. The turn's member and its partnership's schools are in the session already: no
    query."""
    member = await session.get(Member, member_id)
    if member is None:
        return AnswerGroup(None, None, None)
    school = await session.get(School, member.school_id) if member.school_id else None
    if school is None:
        return AnswerGroup(None, member.level, None)
    return AnswerGroup(school.type, member.level, school.id)


async def save_answer(
    session: AsyncSession,
    *,
    round_id: int,
    member_id: int,
    statement_id: str,
    status: str,
    score: int | None,
    now: datetime,
) -> None:
    """Store or replace one answer; the unique key keeps it one row however often it comes.

    The row keeps the member's group as it is now (`answer_group`). An answer given again
    (a changed score, only while the round is open) is a new answer: it takes the group
    anew, together with its time, so the row always says who gave it when it was last given.
    """
    side, level, school_id = await answer_group(session, member_id)
    await session.execute(_per_turn(session, "answer"), {
        "round_id": round_id, "member_id": member_id, "statement_id": statement_id,
        "status": status, "score": score, "comment": None, "answered_at": now,
        "side": side, "level": level, "school_id": school_id})


async def round_answered(session: AsyncSession, round_id: int, member_id: int
                         ) -> tuple[CheckInRound | None, set[str]]:
    """A round and the statements of it the member has answered, in one statement."""
    rows = (await session.execute(_per_turn(session, "round_answered"),
                                  {"round_id": round_id, "member_id": member_id})).all()
    if not rows:
        return None, set()
    return rows[0][0], {statement for _, statement in rows if statement is not None}


async def answer_again(session: AsyncSession, round_id: int, member_id: int,
                       statement_id: str, status: str, score: int | None, now: datetime
                       ) -> None:
    """A stored answer changed in place (a second tap): its group stays as it was."""
    await session.execute(
        update(Answer)
        .where(Answer.round_id == round_id, Answer.member_id == member_id,
               Answer.statement_id == statement_id)
        .values(status=status, score=score, answered_at=now))


async def save_comment(
    session: AsyncSession, round_id: int, member_id: int, statement_id: str, comment: str
) -> bool:
    answer = await session.scalar(
        select(Answer).where(
            Answer.round_id == round_id,
            Answer.member_id == member_id,
            Answer.statement_id == statement_id,
        )
    )
    if answer is None:
        return False
    answer.comment = comment
    return True

async def eligible_members(session: AsyncSession, partnership_id: int, today: date,
                           role: str | None = None) -> list[Member]:
    """Members who may get a message today: onboarded, reachable, not paused."""
    query = select(Member).where(
        Member.partnership_id == partnership_id,
        Member.onboarded_at.is_not(None),
        Member.unreachable_at.is_(None),
        or_(Member.paused_until.is_(None), Member.paused_until <= today),
    ).order_by(Member.id)
    if role is not None:
        query = query.where(Member.role == role)
    return list(await session.scalars(query))



async def members_by_name(session: AsyncSession, partnership_id: int) -> list[Member]:
    """Everyone in the partnership, by display name (then id)."""
    rows = await session.scalars(
        select(Member).where(Member.partnership_id == partnership_id)
        .order_by(Member.display_name, Member.id))
    return list(rows)
