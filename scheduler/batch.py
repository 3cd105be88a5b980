"""What the due schedules planned in one transaction need, loaded for all of them at once.

Planning used to ask the database the same dozen small questions for every partnership
(its plan, members, channels, last round, whether a month must be frozen, whether a
follow-up is due); at 2,000 partnerships those round trips, not the work, made planning
slower than the platforms' rate limits. A `Batch` asks each question once for the whole
set, with `IN (...)`, and collects the writes that do not need to happen at once (the
outbox rows, the members' conversation states) for a few statements at the end.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.months import shift_month
from bot.nudges.followup_plan import GIVE_UP_AFTER
from bot.outbox import Envelope, dump_replies
from bot.schedule.holidays import HolidayCalendar
from bot.schedule.rules import PartnershipPlan, load_plans
from bot.store.models import ChannelBinding, CheckInRound, Conversation, Member, Partnership
from bot.store.nudges import NudgeAnswer, NudgeGroup, NudgeRound
from bot.store.repo import insert_for
from bot.store.schedule import OutboxMessage
from bot.store.summary import SummaryMonth
from bot.summary.frozen import last_closed_month


@dataclass
class Batch:
    """Preloaded state of some partnerships, and the writes waiting for the end."""

    plans: dict[int, PartnershipPlan]
    members: dict[int, list[Member]]  # onboarded and reachable, by id
    bindings: dict[int, list[ChannelBinding]]
    last_round: dict[int, int]
    conversations: dict[int, datetime]  # member id -> when its state last changed
    to_freeze: set[int]  # partnerships with a closed month not stored yet
    followups: set[int]  # partnerships that may have a follow-up or its reminder due
    opened: dict[int, CheckInRound] = field(default_factory=dict)  # by check-in schedule
    envelopes: list[Envelope] = field(default_factory=list)
    states: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    async def load(cls, session: AsyncSession, holidays: HolidayCalendar,
                   partnership_ids: Collection[int], now: datetime) -> Batch:
        ids = sorted(partnership_ids)
        partnerships = list(await session.scalars(
            select(Partnership).where(Partnership.id.in_(ids)).order_by(Partnership.id)))
        members: dict[int, list[Member]] = {pid: [] for pid in ids}
        for member in await session.scalars(select(Member).where(
                Member.partnership_id.in_(ids), Member.onboarded_at.is_not(None),
                Member.unreachable_at.is_(None)).order_by(Member.id)):
            members[member.partnership_id].append(member)
        bindings: dict[int, list[ChannelBinding]] = {pid: [] for pid in ids}
        for binding in await session.scalars(select(ChannelBinding).where(
                ChannelBinding.partnership_id.in_(ids)).order_by(ChannelBinding.id)):
            bindings[binding.partnership_id].append(binding)
        member_ids = [m.id for group in members.values() for m in group]
        conversations = {member_id: at for member_id, at in await session.execute(
            select(Conversation.member_id, Conversation.updated_at)
            .where(Conversation.member_id.in_(member_ids)))} if member_ids else {}
        last_round = {pid: number for pid, number in await session.execute(
            select(CheckInRound.partnership_id, func.max(CheckInRound.number))
            .where(CheckInRound.partnership_id.in_(ids))
            .group_by(CheckInRound.partnership_id))}
        return cls(
            plans=await load_plans(session, holidays, partnerships, now), members=members,
            bindings=bindings, last_round=last_round, conversations=conversations,
            to_freeze=await _to_freeze(session, partnerships, now),
            followups=await _with_followups(session, ids, now))

    def eligible(self, partnership_id: int, today: date, role: str | None = None) -> list[Member]:
        """Members who may get a message today: onboarded, reachable, not paused (as
        `bot.store.repo.eligible_members`)."""
        return [m for m in self.members[partnership_id]
                if (m.paused_until is None or m.paused_until <= today)
                and (role is None or m.role == role)]

    def set_conversation(self, member_id: int, data: dict[str, Any], now: datetime) -> None:
        """The member's check-in state, written with the others at the end."""
        self.conversations[member_id] = now
        self.states[member_id] = data

    async def write(self, session: AsyncSession, now: datetime) -> int:
        """The waiting writes; returns how many outbox rows are new (an envelope whose key
        is already in the outbox is left alone)."""
        if self.states:
            upsert = insert_for(session, Conversation)
            await session.execute(upsert.on_conflict_do_update(
                index_elements=["member_id"],
                set_={"flow": upsert.excluded.flow, "step": upsert.excluded.step,
                      "data": upsert.excluded.data, "updated_at": upsert.excluded.updated_at}),
                [{"member_id": member_id, "flow": "checkin", "step": "", "data": data,
                  "updated_at": now} for member_id, data in self.states.items()])
            self.states.clear()
        added = await enqueue_many(session, self.envelopes, now)
        self.envelopes.clear()
        return added


async def enqueue_many(session: AsyncSession, envelopes: Sequence[Envelope],
                       now: datetime) -> int:
    """`scheduler.outbox.enqueue` as one statement: new rows only, counted."""
    if not envelopes:
        return 0
    statement = (insert_for(session, OutboxMessage).on_conflict_do_nothing()
                 .returning(OutboxMessage.id))
    rows = await session.execute(statement, [
        {"kind": e.kind, "partnership_id": e.partnership_id, "recipient": e.recipient,
         "local_date": e.local_date, "platform": e.platform, "target": e.target,
         "direct": e.direct, "payload": dump_replies(e.replies), "member_id": e.member_id,
         "due_at": e.due_at, "expires_at": e.expires_at, "status": "pending", "attempts": 0,
         "created_at": now} for e in envelopes])
    return len(rows.all())


async def _to_freeze(session: AsyncSession, partnerships: Sequence[Partnership],
                     now: datetime) -> set[int]:
    """The partnerships `freeze_closed_months` would store a month for: one whose first
    round closed before the end of the last closed month, and not every month since stored."""
    ids = [p.id for p in partnerships]
    first_closes = {pid: closes for pid, closes in await session.execute(
        select(CheckInRound.partnership_id, func.min(CheckInRound.closes_at))
        .where(CheckInRound.partnership_id.in_(ids))
        .group_by(CheckInRound.partnership_id))}
    candidates = {}
    for partnership in partnerships:
        closes = first_closes.get(partnership.id)
        if closes is None:
            continue
        first = closes.astimezone(ZoneInfo(partnership.timezone)).date().replace(day=1)
        last = last_closed_month(partnership, now)
        if first <= last:
            candidates[partnership.id] = (first, last)
    if not candidates:
        return set()
    stored: dict[int, set[date]] = {pid: set() for pid in candidates}
    for pid, month in await session.execute(
            select(SummaryMonth.partnership_id, SummaryMonth.month)
            .where(SummaryMonth.partnership_id.in_(list(candidates)))):
        stored[pid].add(month)
    missing = set()
    for pid, (month, last) in candidates.items():
        while month <= last:
            if month not in stored[pid]:
                missing.add(pid)
                break
            month = shift_month(month, 1)
    return missing


async def _with_followups(session: AsyncSession, ids: Sequence[int], now: datetime) -> set[int]:
    """Partnerships with a nudge round or a "planned" answer recent enough to be asked
    about (`bot.nudges.followup.plan_followups` looks no further back); the others have
    no follow-up due, so planning need not ask."""
    since = now - GIVE_UP_AFTER - timedelta(seconds=1)
    rounds = await session.scalars(select(NudgeRound.partnership_id).distinct().where(
        NudgeRound.partnership_id.in_(ids), NudgeRound.planned_at > since))
    answers = await session.scalars(
        select(NudgeRound.partnership_id).distinct()
        .join(NudgeGroup, NudgeGroup.round_id == NudgeRound.id)
        .join(NudgeAnswer, NudgeAnswer.group_id == NudgeGroup.id)
        .where(NudgeRound.partnership_id.in_(ids), NudgeAnswer.answer == "planned",
               NudgeAnswer.reminder_sent_at.is_(None), NudgeAnswer.answered_at > since))
    return set(rounds) | set(answers)
