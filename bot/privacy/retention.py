"""The retention job: what is older than the partnership's terms is deleted or blanked.

Per partnership (defaults in bot.store.privacy): answers, votes, nudge rounds and
figure-eight checks older than `answer_months` are deleted; open texts (an answer's
comment) are blanked `open_text_months` after the summary of their month: the summary of
July goes out early August, so with 3 months July's texts are blanked on 1 November.
Platform bookkeeping is pruned for everyone: handled-event ids after 30 days, sent or
failed outbox messages after 90 days, conversation state untouched for 90 days, setup
wizards left for a week, expired Slack install states.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.months import shift_month
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
    """The first instant of the local month `months` before the month of `now`."""
    zone = ZoneInfo(timezone)
    first = shift_month(now.astimezone(zone).date(), -months)
    return datetime(first.year, first.month, 1, tzinfo=zone)


async def apply_retention(session: AsyncSession, now: datetime, content: Content
                          ) -> RetentionReport:
    """Delete what is past its term, in the caller's transaction; returns the counts.

    `content` is what the summaries of closed months are frozen with before any answer
    goes (bot.summary.frozen)."""
    report = RetentionReport()
    terms = {row.partnership_id: row for row in await session.scalars(select(RetentionSettings))}
    for partnership in await session.scalars(select(Partnership).order_by(Partnership.id)):
        found = terms.get(partnership.id)
        answer_months = found.answer_months if found else ANSWER_MONTHS
        text_months = found.open_text_months if found else OPEN_TEXT_MONTHS
        await _frozen_months(session, report, content, partnership, now, text_months)
        await _partnership(session, report, partnership, now, answer_months, text_months)
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
    if report.counts:
        logger.info("retention removed %s", ", ".join(report.lines()))
    return report


async def _partnership(session: AsyncSession, report: RetentionReport, partnership: Partnership,
                       now: datetime, answer_months: int, text_months: int) -> None:
    answers_before = now - _months(answer_months)
    texts_before = months_before(now, text_months, partnership.timezone)
    rounds = select(CheckInRound.id).where(CheckInRound.partnership_id == partnership.id)
    report.add("answer", _count(await session.execute(delete(Answer).where(
        Answer.round_id.in_(rounds), Answer.answered_at < answers_before))))
    report.add("open_text", _count(await session.execute(
        update(Answer).where(Answer.round_id.in_(rounds), Answer.comment.is_not(None),
                             Answer.answered_at < texts_before).values(comment=None))))
    sessions = select(ReflectionSession.id).where(
        ReflectionSession.partnership_id == partnership.id)
    report.add("reflection_answer", _count(await session.execute(delete(ReflectionAnswer).where(
        ReflectionAnswer.session_id.in_(sessions),
        ReflectionAnswer.answered_at < answers_before))))
    polls = select(PitfallPoll.id).where(PitfallPoll.partnership_id == partnership.id)
    report.add("pitfall_vote", _count(await session.execute(delete(PitfallVote).where(
        PitfallVote.poll_id.in_(polls), PitfallVote.voted_at < answers_before))))
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
    texts_before = months_before(now, text_months, partnership.timezone).date()
    report.add("frozen_month_texts",
               await forget_open_texts(session, partnership.id, texts_before))


def _months(months: int) -> timedelta:
    """A term in months, counted generously as 31 days each (never too early)."""
    return timedelta(days=31 * months)


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
