"""The instruments' tables: reflection sessions, pitfall polls, figure-eight checks, the
impact matrix (goals and their rows) and talk-plate conversations, kept as part of a
partnership's history.

Rows that hold one person's answer or vote are deleted with that member (erasure); rows a
member only started or edited keep the work of the team and lose the name (SET NULL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, ChannelBinding, Member
from bot.store.repo import insert_for

_PARTNERSHIP = "partnership.id"
_MEMBER = "member.id"


class ReflectionSession(Base):
    """A team's reflection on the five conditions: one statement per condition for all.

    `chat_ref` is the chat it was opened in; its result is shown there."""

    __tablename__ = "reflection_session"
    __table_args__ = (UniqueConstraint("partnership_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey(_PARTNERSHIP, ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    statement_ids: Mapped[list[str]]
    opened_by: Mapped[int | None] = mapped_column(ForeignKey(_MEMBER, ondelete="SET NULL"))
    opened_at: Mapped[datetime]
    chat_ref: Mapped[str] = mapped_column(String(100), default="")
    closed_at: Mapped[datetime | None]
    # The aggregate posted in the chat once enough people had answered, kept so that
    # closing can tell what may still be shown without revealing anyone's answers.
    shown: Mapped[dict[str, Any] | None]


class ReflectionAnswer(Base):
    """One member's score for one condition in a session; `score` is None for don't know.

    `school_id` is the member's school when they answered: the comparison per school counts
    the answer there even after the member moves (as `Answer.side` does for the summary)."""

    __tablename__ = "reflection_answer"
    __table_args__ = (UniqueConstraint("session_id", "member_id", "condition"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("reflection_session.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey(_MEMBER, ondelete="CASCADE"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="SET NULL"))
    condition: Mapped[str] = mapped_column(String(20))
    statement_id: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(10))  # scored / dont_know / skipped
    score: Mapped[int | None]
    answered_at: Mapped[datetime]
    # What goes well on this condition and why, or what could be better, in the member's
    # own words; None when skipped or not asked yet.
    note: Mapped[str | None] = mapped_column(Text)


class PitfallPoll(Base):
    """"Which pitfall do you recognise?" asked in a chat (`chat_ref`); open until it is
    closed there. `shown` holds the vote counts posted once enough people had voted."""

    __tablename__ = "pitfall_poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey(_PARTNERSHIP, ondelete="CASCADE"), index=True
    )
    started_by: Mapped[int | None] = mapped_column(ForeignKey(_MEMBER, ondelete="SET NULL"))
    started_at: Mapped[datetime]
    chat_ref: Mapped[str] = mapped_column(String(100), default="")
    closed_at: Mapped[datetime | None]
    shown: Mapped[dict[str, Any] | None]


class PitfallVote(Base):
    """A member's one vote in a poll; voting again changes it."""

    __tablename__ = "pitfall_vote"
    __table_args__ = (UniqueConstraint("poll_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("pitfall_poll.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey(_MEMBER, ondelete="CASCADE"), index=True)
    pitfall_id: Mapped[str] = mapped_column(String(50))
    voted_at: Mapped[datetime]


class FigureEightCheck(Base):
    """One round of the partnership's figure-eight: every member rates the links they can
    see (`FigureEightRating`); a leader closes it by starting a new one (`completed_at`).

    `shown` holds, per link, the figure last shown (n, median) and the last rating it was
    computed from, so a figure changes only when enough new ratings came in (see
    `eight_links.shown_figures`). Rounds from before 0019 were one person's walk through
    two schools (`school_a_id`, `school_b_id`, `FigureEightLevel`, `FigureEightLink`).
    """

    __tablename__ = "figure_eight_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey(_PARTNERSHIP, ondelete="CASCADE"), index=True
    )
    school_a_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    school_b_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    started_by: Mapped[int | None] = mapped_column(ForeignKey(_MEMBER, ondelete="SET NULL"))
    started_at: Mapped[datetime]
    next_step: Mapped[int] = mapped_column(Integer, default=0)
    completed_at: Mapped[datetime | None]
    shown: Mapped[dict[str, Any] | None]


class FigureEightRating(Base):
    """One member's rating of one link of the eight (1-5, None for don't know).

    `link` names the link (see `eight_links.Link.key`); `seq` grows with every rating or
    change in the round, so what came in after a shown figure can be told apart."""

    __tablename__ = "figure_eight_rating"
    __table_args__ = (UniqueConstraint("check_id", "member_id", "link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(
        ForeignKey("figure_eight_check.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey(_MEMBER, ondelete="CASCADE"), index=True)
    link: Mapped[str] = mapped_column(String(60))
    score: Mapped[int | None]
    seq: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime]


class FigureEightLevel(Base):
    """Who is involved at one level of one school, and how well it is connected inside it.

    `names` is "" for "nobody yet"; `inside` is 1-5, or None for don't know.
    """

    __tablename__ = "figure_eight_level"
    __table_args__ = (UniqueConstraint("check_id", "school_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(
        ForeignKey("figure_eight_check.id", ondelete="CASCADE"), index=True
    )
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(20))
    names: Mapped[str] = mapped_column(Text, default="")
    inside: Mapped[int | None]


class FigureEightLink(Base):
    """How well a level is connected with its counterpart at the other school (1-5 or None)."""

    __tablename__ = "figure_eight_link"
    __table_args__ = (UniqueConstraint("check_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(
        ForeignKey("figure_eight_check.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[str] = mapped_column(String(20))
    score: Mapped[int | None]


class TalkPlate(Base):
    """A guided team conversation; `position` is the question now on the table, `chat_ref`
    the chat where it is held (its questions are posted there), `thread_ref` the platform's
    id of the first question there: the next questions and the outcomes go under it."""

    __tablename__ = "talk_plate"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey(_PARTNERSHIP, ondelete="CASCADE"), index=True
    )
    started_by: Mapped[int | None] = mapped_column(ForeignKey(_MEMBER, ondelete="SET NULL"))
    started_at: Mapped[datetime]
    chat_ref: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None]
    thread_ref: Mapped[str | None] = mapped_column(String(100))


class TalkPlateOutcome(Base):
    """What the team concluded on one topic, as someone wrote it down for everyone."""

    __tablename__ = "talk_plate_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    talk_plate_id: Mapped[int] = mapped_column(
        ForeignKey("talk_plate.id", ondelete="CASCADE"), index=True
    )
    topic_id: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey(_MEMBER, ondelete="SET NULL"))
    recorded_at: Mapped[datetime]


async def upsert(
    session: AsyncSession, table: Any, key: dict[str, Any], values: dict[str, Any]
) -> None:
    """Insert a row, or update `values` on the row with the same unique `key`."""
    statement = (
        insert_for(session, table)
        .values(**key, **values)
        .on_conflict_do_update(index_elements=list(key), set_=values)
    )
    await session.execute(statement)


async def open_session(session: AsyncSession, partnership_id: int) -> ReflectionSession | None:
    return await session.scalar(
        select(ReflectionSession)
        .where(ReflectionSession.partnership_id == partnership_id,
               ReflectionSession.closed_at.is_(None))
        .order_by(ReflectionSession.id.desc())
        .limit(1)
    )


async def last_session_number(session: AsyncSession, partnership_id: int) -> int:
    number = await session.scalar(
        select(func.max(ReflectionSession.number))
        .where(ReflectionSession.partnership_id == partnership_id)
    )
    return number or 0


async def session_answers(
    session: AsyncSession, session_id: int, member_id: int | None = None
) -> list[ReflectionAnswer]:
    """Every answer of a session, or one member's; fresh from the database."""
    query = select(ReflectionAnswer).where(ReflectionAnswer.session_id == session_id)
    if member_id is not None:
        query = query.where(ReflectionAnswer.member_id == member_id)
    rows = await session.scalars(query.execution_options(populate_existing=True))
    return list(rows)


async def open_poll(session: AsyncSession, partnership_id: int) -> PitfallPoll | None:
    return await session.scalar(
        select(PitfallPoll)
        .where(PitfallPoll.partnership_id == partnership_id, PitfallPoll.closed_at.is_(None))
        .order_by(PitfallPoll.id.desc())
        .limit(1)
    )


async def poll_votes(session: AsyncSession, poll_id: int) -> list[PitfallVote]:
    rows = await session.scalars(
        select(PitfallVote).where(PitfallVote.poll_id == poll_id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def open_round(session: AsyncSession, partnership_id: int) -> FigureEightCheck | None:
    """The partnership's figure-eight round that is still open (the newest)."""
    return await session.scalar(
        select(FigureEightCheck)
        .where(FigureEightCheck.partnership_id == partnership_id,
               FigureEightCheck.completed_at.is_(None),
               FigureEightCheck.school_a_id.is_(None))
        .order_by(FigureEightCheck.id.desc())
        .limit(1)
    )


async def ratings(
    session: AsyncSession, check_id: int, member_id: int | None = None
) -> list[FigureEightRating]:
    query = select(FigureEightRating).where(FigureEightRating.check_id == check_id)
    if member_id is not None:
        query = query.where(FigureEightRating.member_id == member_id)
    rows = await session.scalars(query.order_by(FigureEightRating.seq, FigureEightRating.id)
                                 .execution_options(populate_existing=True))
    return list(rows)


async def rate(session: AsyncSession, check_id: int, member_id: int, link: str,
               score: int | None, now: datetime) -> None:
    """Keep (or replace) one member's rating of one link, with the round's next `seq`; the
    same rating given again keeps its place, so it does not count as new."""
    before = await session.scalar(select(FigureEightRating).where(
        FigureEightRating.check_id == check_id, FigureEightRating.member_id == member_id,
        FigureEightRating.link == link).execution_options(populate_existing=True))
    if before is not None and before.score == score:
        return
    last = await session.scalar(select(func.max(FigureEightRating.seq))
                                .where(FigureEightRating.check_id == check_id))
    await upsert(session, FigureEightRating,
                 {"check_id": check_id, "member_id": member_id, "link": link},
                 {"score": score, "seq": (last or 0) + 1, "answered_at": now})


async def members_by_place(
    session: AsyncSession, partnership_id: int
) -> dict[tuple[int, str], int]:
    """How many of the partnership's members are in achtje per (school, level)."""
    rows = await session.execute(
        select(Member.school_id, Member.level, func.count())
        .where(Member.partnership_id == partnership_id, Member.school_id.is_not(None),
               Member.level.is_not(None))
        .group_by(Member.school_id, Member.level))
    return {(school, level): count for school, level, count in rows
            if school is not None and level is not None}


async def running_talk_plate(session: AsyncSession, partnership_id: int) -> TalkPlate | None:
    return await session.scalar(
        select(TalkPlate)
        .where(TalkPlate.partnership_id == partnership_id, TalkPlate.finished_at.is_(None))
        .order_by(TalkPlate.id.desc())
        .limit(1)
    )


async def talk_plate_outcomes(session: AsyncSession, talk_plate_id: int) -> list[TalkPlateOutcome]:
    rows = await session.scalars(
        select(TalkPlateOutcome).where(TalkPlateOutcome.talk_plate_id == talk_plate_id)
        .order_by(TalkPlateOutcome.id)
    )
    return list(rows)


async def team_chat(
    session: AsyncSession, partnership_id: int, chat_ref: str
) -> ChannelBinding | None:
    """The partnership's bound channel or group with this reference; None for a private
    chat (or one that is not bound), where nothing is posted on the team's behalf."""
    return await session.scalar(
        select(ChannelBinding)
        .where(ChannelBinding.partnership_id == partnership_id,
               ChannelBinding.channel_ref == chat_ref)
        .order_by(ChannelBinding.id)
        .limit(1)
    )
