"""The retention job: what is older than the partnership's terms is deleted or blanked.

Personal data of the partnership's activity goes by whole calendar months in the
partnership's own time zone, never row by row: a month's data is kept for `answer_months`
calendar months after that month ends and then goes all at once, at local midnight. With
24 months, what counts in October 2024 is kept through October 2026 and deleted on
1 November 2026. What counts in which month:

- check-in answers and their open texts: the month their round closes in, the month a
  summary counts them in (an answer typed on 30 September in a round that closes on
  3 October is October's);
- reflection answers: the month their session opened; pitfall votes: the month their poll
  started; figure-eight checks: the month they started; coffee (nudge) rounds with their
  pairs and answers: the month they were planned in, as the summary's nudge numbers count
  them.

Open texts (an answer's comment) are blanked the same way after `open_text_months`: with 3,
July's texts (the summary of July goes out early August) are blanked on 1 November.
Platform bookkeeping is pruned for everyone by age: handled-event ids after 30 days, sent or
failed outbox messages after 90 days, conversation state untouched for 90 days, setup
wizards left for a week, expired Slack install states.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content
from bot.months import month_bounds, shift_month
from bot.store.instruments import (
    FigureEightCheck,
    PitfallPoll,
    PitfallVote,
    ReflectionAnswer,
    ReflectionSession,
)
from bot.store.models import Answer, CheckInRound, Conversation, Partnership, ProcessedEvent
from bot.store.nudges import NudgeRound
from bot.store.privacy import ANSWER_MONTHS, OPEN_TEXT_MONTHS, RetentionSettings
from bot.store.schedule import OutboxMessage
from bot.store.setup import SetupDraft
from bot.store.slack import SlackOAuthState
from bot.summary.batch import freeze_backlog
from bot.summary.frozen import forget_open_texts, freeze_closed_months

logger = logging.getLogger(__name__)

PROCESSED_EVENT_DAYS = 30
OUTBOX_DAYS = 90
CONVERSATION_DAYS = 90
SETUP_DAYS = 7
FINISHED_OUTBOX = ("sent", "failed", "expired")


@dataclass
class RetentionReport:
    """How many rows of each kind the job removed (or blanked, for open texts)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, number: int) -> None:
        if number:
            self.counts[kind] = self.counts.get(kind, 0) + number

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        if not self.counts:
            return ["nothing was old enough to remove"]
        return [f"{kind}: {number}" for kind, number in sorted(self.counts.items())]


def months_before(now: datetime, months: int, timezone: str) -> datetime:
    """The first instant (UTC) of the local calendar month `months` months before the month
    of `now`: what counts in an earlier month has been kept `months` months after its month
    ended. Calendar months, so never 31 days each, and leap years need no care."""
    month = now.astimezone(ZoneInfo(timezone)).date().replace(day=1)
    start, _ = month_bounds(shift_month(month, -months), timezone)
    return start


async def apply_retention(sessions: async_sessionmaker[AsyncSession], now: datetime,
                          content: Content) -> RetentionReport:
    """Delete what is past its term, in small transactions; returns the counts. Closed
    months not frozen yet go first, at most `MONTHS_PER_TRANSACTION` partnership-months
    per transaction (`bot.summary.batch.freeze_backlog`; `content` is what they are frozen
    with), then one transaction per partnership, then the platform bookkeeping. However
    many partnerships and months there are, no transaction holds SQLite's one write lock
    long enough to make a member's answer wait it out."""
    await freeze_backlog(sessions, content, now)
    report = RetentionReport()
    async with sessions() as session:
        ids = list(await session.scalars(select(Partnership.id).order_by(Partnership.id)))
    for pid in ids:
        async with sessions() as session, session.begin():
            partnership = await session.get(Partnership, pid)
            if partnership is not None:  # not deleted meanwhile
                await _retain(session, report, content, partnership, now)
    async with sessions() as session, session.begin():
        await _prune(session, report, now)
    _log(report)
    return report


async def _retain(session: AsyncSession, report: RetentionReport, content: Content,
                  partnership: Partnership, now: datetime) -> None:
    """One partnership: its closed months frozen, then what is past its terms."""
    found = await session.get(RetentionSettings, partnership.id)
    text_months = found.open_text_months if found else OPEN_TEXT_MONTHS
    await _frozen_months(session, report, content, partnership, now, text_months)
    await retain_partnership(
        session, report, partnership, now,
        answer_months=found.answer_months if found else ANSWER_MONTHS,
        text_months=text_months)


async def _prune(session: AsyncSession, report: RetentionReport, now: datetime) -> None:
    """Platform bookkeeping, for everyone by age."""
    report.add("processed_event", _count(await session.execute(delete(ProcessedEvent).where(
        ProcessedEvent.processed_at < now - timedelta(days=PROCESSED_EVENT_DAYS)))))
    report.add("outbox", _count(await session.execute(delete(OutboxMessage).where(
        OutboxMessage.status.in_(FINISHED_OUTBOX),
        OutboxMessage.created_at < now - timedelta(days=OUTBOX_DAYS)))))
    report.add("conversation", _count(await session.execute(delete(Conversation).where(
        Conversation.updated_at < now - timedelta(days=CONVERSATION_DAYS)))))
    report.add("setup_draft", _count(await session.execute(delete(SetupDraft).where(
        SetupDraft.updated_at < now - timedelta(days=SETUP_DAYS)))))
    report.add("slack_oauth_state", _count(await session.execute(
        delete(SlackOAuthState).where(SlackOAuthState.expires_at < now))))


def _log(report: RetentionReport) -> None:
    if report.counts:
        logger.info("retention removed %s", ", ".join(report.lines()))


async def retain_partnership(session: AsyncSession, report: RetentionReport,
                             partnership: Partnership, now: datetime, *, answer_months: int,
                             text_months: int) -> None:
    """One partnership's months past their terms, each month's rows all at once.

    This is where a partnership's retention starts: anything that must read a month's rows
    before they go belongs at the top of this function.
    """
    answers_before = months_before(now, answer_months, partnership.timezone)
    texts_before = months_before(now, text_months, partnership.timezone)

    def rounds(before: datetime) -> Select[Any]:
        """The partnership's rounds that close in a month before `before`."""
        return select(CheckInRound.id).where(CheckInRound.partnership_id == partnership.id,
                                             CheckInRound.closes_at < before)

    report.add("answer", _count(await session.execute(
        delete(Answer).where(Answer.round_id.in_(rounds(answers_before))))))
    report.add("open_text", _count(await session.execute(
        update(Answer).where(Answer.round_id.in_(rounds(texts_before)),
                             Answer.comment.is_not(None)).values(comment=None))))
    sessions = select(ReflectionSession.id).where(
        ReflectionSession.partnership_id == partnership.id,
        ReflectionSession.opened_at < answers_before)
    report.add("reflection_answer", _count(await session.execute(
        delete(ReflectionAnswer).where(ReflectionAnswer.session_id.in_(sessions)))))
    polls = select(PitfallPoll.id).where(PitfallPoll.partnership_id == partnership.id,
                                         PitfallPoll.started_at < answers_before)
    report.add("pitfall_vote", _count(await session.execute(
        delete(PitfallVote).where(PitfallVote.poll_id.in_(polls)))))
    report.add("nudge_round", _count(await session.execute(delete(NudgeRound).where(
        NudgeRound.partnership_id == partnership.id,
        NudgeRound.planned_at < answers_before))))
    report.add("figure_eight_check", _count(await session.execute(
        delete(FigureEightCheck).where(FigureEightCheck.partnership_id == partnership.id,
                                       FigureEightCheck.started_at < answers_before))))


async def _frozen_months(session: AsyncSession, report: RetentionReport, content: Content,
                         partnership: Partnership, now: datetime, text_months: int) -> None:
    """Before answers go, closed months are frozen, so their published results stay (they
    are kept as long as the partnership is); the open texts in them go with the texts'
    term, a whole month at once."""
    await freeze_closed_months(session, content, partnership, now)
    month = now.astimezone(ZoneInfo(partnership.timezone)).date().replace(day=1)
    texts_before = shift_month(month, -text_months)
    report.add("frozen_month_texts",
               await forget_open_texts(session, partnership.id, texts_before))


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
