"""Planning: turn every schedule that is due into outbox rows, and move the schedule on.

Both happen in one transaction per batch of due schedules (`scheduler/batch.py` loads what
a batch needs at once), so a crash leaves either nothing planned or the messages and the
new `next_run_at` together. On PostgreSQL the due schedule rows are locked with
`FOR UPDATE SKIP LOCKED`, so when several processes tick at once exactly one of them plans
each. Messages are rendered here, in each recipient's language, and stored as
neutral replies.

Misfire: a send found late (the process was down) still goes out when it is at most the
partnership's grace window late (default 6 hours) and it is school time now; otherwise it
is skipped and logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import rounds
from bot.content import Content
from bot.domain import LEADER
from bot.mail.plan import mail_envelopes
from bot.mail.store import mail_is_on
from bot.messages import Invitation, Reply, Text
from bot.months import shift_month
from bot.nudges.followup_plan import plan_followups
from bot.nudges.planner import PlannedMessage, plan_nudge_round
from bot.outbox import Envelope
from bot.schedule.holidays import HolidayCalendar
from bot.schedule.rules import PartnershipPlan
from bot.store.models import Answer, CheckInRound, Member, Partnership
from bot.store.schedule import Schedule
from bot.summary import SummaryMessages, load_summary_rules
from bot.summary.batch import freeze_all, freeze_backlog
from bot.summary.frozen import published_summary
from scheduler.batch import Batch

logger = logging.getLogger(__name__)
PLANNING_WIDTH = 4  # batches planned side by side on PostgreSQL
FIRST_BATCH = 4  # schedules in the first planning transaction; each next one twice as many
MAX_BATCH = 32  # up to this: a batch holds SQLite's one write lock while it plans

# A conversation touched this recently is left alone when a scheduled statement arrives;
# the member is in the middle of something and can still press the statement's buttons.
BUSY = timedelta(minutes=30)
MAX_CATCH_UP = 50
LATEST_AT_LEAST = timedelta(hours=1)


@dataclass(frozen=True)
class Due:
    """One due schedule being planned, with what the per-kind planners need."""

    session: AsyncSession
    content: Content
    plan: PartnershipPlan
    schedule: Schedule
    now: datetime
    batch: Batch
    # Platforms where a check-in is also announced in each bound channel or group, with a
    # button that opens the private chat (their description says `invites_in_channel`).
    invite_in_channel: Collection[str] = ()
    mail: bool = False  # this installation sends mail (read once per planning run)

    @property
    def partnership(self) -> Partnership:
        return self.plan.partnership

    @property
    def today(self) -> date:
        return self.plan.calendar.local(self.now).date()

    def members(self, role: str | None = None) -> list[Member]:
        """Members who may get a message today (as `repo.eligible_members`)."""
        return self.batch.eligible(self.partnership.id, self.today, role)

    def envelope(self, kind: str, recipient: str, platform: str, target: str, direct: bool,
                 replies: Sequence[Reply], member_id: int | None = None) -> Envelope:
        # Not sent late: by the end of the school day, or after the grace window (at least
        # an hour, so rate limits and retries have room), whichever comes first.
        late = max(self.plan.grace, LATEST_AT_LEAST)
        expires = min(self.now + late, self.plan.calendar.day_end_at(self.today))
        return Envelope(kind, self.partnership.id, recipient, self.today, platform, target,
                        direct, tuple(replies), self.now, expires, member_id)

    def to_member(self, kind: str, member: Member, replies: Sequence[Reply]) -> Envelope:
        return self.envelope(kind, f"member:{member.id}", member.platform, member.user_ref,
                             True, replies, member.id)


Planner = Callable[[Due], Awaitable[list[Envelope]]]


def batches(ids: Sequence[int]) -> list[list[int]]:
    """The due schedules in planning order, cut into transactions: a small first one, so
    the sender has something at once, then larger ones (fewer round trips and commits)."""
    cut, size, at = [], FIRST_BATCH, 0
    while at < len(ids):
        cut.append(list(ids[at:at + size]))
        at, size = at + size, min(size * 2, MAX_BATCH)
    return cut


async def plan_due(
    sessions: async_sessionmaker[AsyncSession], content: Content, holidays: HolidayCalendar,
    now: datetime, *, on_planned: Callable[[], object] | None = None,
    invite_in_channel: Collection[str] = (),
) -> int:
    """Plan every schedule that is due at `now`; returns how many messages were queued.

    The due schedules are planned a batch at a time, each batch in one transaction with
    what it needs loaded at once (`scheduler.batch`), and `on_planned` is called after each
    commit that queued something (the runner wakes the sender with it), so sending starts
    with the first batch instead of after the last. A batch that fails is planned again
    one schedule per transaction, so one broken schedule only keeps itself due."""
    async with sessions() as session:
        due = {schedule_id: partnership_id for schedule_id, partnership_id in
               await session.execute(
                   select(Schedule.id, Schedule.partnership_id)
                   .where(Schedule.enabled.is_(True), Schedule.next_run_at <= now)
                   .order_by(Schedule.id))}
    queued = 0
    mail = mail_is_on()
    # On PostgreSQL a few batches are planned side by side (each in its own transaction,
    # its rows locked with SKIP LOCKED), so database round trips overlap; SQLite has one
    # writer, so it plans one at a time.
    bind = sessions.kw.get("bind")
    dialect = getattr(getattr(bind, "dialect", None), "name", "")
    slots = asyncio.Semaphore(PLANNING_WIDTH if dialect == "postgresql" else 1)

    async def planned(ids: list[int]) -> int:
        # A backlog of older closed months first, in small transactions of their own: the
        # batch's one transaction then freezes at most the month that just closed.
        await freeze_backlog(sessions, content, now, {due[one] for one in ids},
                             older_only=True)
        async with sessions() as session, session.begin():
            return await _plan_batch(session, content, holidays, ids, now, invite_in_channel,
                                     mail)

    async def plan(ids: list[int]) -> None:
        nonlocal queued
        async with slots:
            try:
                added = await planned(ids)
            except Exception:
                if len(ids) == 1:
                    logger.exception("planning schedule %s failed; it stays due", ids[0])
                    return
                logger.warning("planning schedules %s-%s together failed; one by one now",
                               ids[0], ids[-1])
                for one in ids:
                    await plan([one])
                return
        queued += added
        if added and on_planned is not None:
            on_planned()

    await asyncio.gather(*(plan(ids) for ids in batches(list(due))))
    return queued


async def _plan_batch(
    session: AsyncSession, content: Content, holidays: HolidayCalendar, ids: Sequence[int],
    now: datetime, invite_in_channel: Collection[str] = (), mail: bool = False,
) -> int:
    schedules = list(await session.scalars(
        select(Schedule)
        .where(Schedule.id.in_(ids), Schedule.enabled.is_(True), Schedule.next_run_at <= now)
        .order_by(Schedule.id)
        .with_for_update(skip_locked=True)
    ))  # the others were planned by another process meanwhile
    if not schedules:
        return 0
    batch = await Batch.load(session, holidays, {s.partnership_id for s in schedules}, now)
    # Months that closed are frozen before anything is planned (and before a summary
    # reads): the batch knows which partnerships have one to freeze, and all of them are
    # frozen at once, from a few grouped queries (`bot.summary.batch`). Older months were
    # frozen before this transaction (`plan_due`), so these are at most one per partnership.
    await freeze_all(session, content,
                     [batch.plans[pid].partnership for pid in sorted(batch.to_freeze)], now)
    dues = [Due(session, content, batch.plans[s.partnership_id], s, now, batch,
                invite_in_channel, mail)
            for s in schedules]
    await _open_rounds([due for due in dues if due.schedule.kind == "checkin"
                        and _sends_now(due.plan, due.schedule, now)])
    uncovered = set()
    for due in dues:
        if not holidays.covers(due.today):
            uncovered.add(due.today)
        await _plan_one(batch, due)
        await asyncio.sleep(0)  # the sender's sends in flight get a turn between them
    for day in sorted(uncovered):
        logger.warning("no school holiday dates known for %s: add the new school year to "
                       "content/holidays.yaml", day)
    return await batch.write(session, now)


async def _plan_one(batch: Batch, due: Due) -> None:
    plan, schedule, now = due.plan, due.schedule, due.now
    for _ in range(MAX_CATCH_UP):
        due_at = schedule.next_run_at
        if due_at is None or due_at > now:
            break
        late = now - due_at
        if _sends_now(plan, schedule, now):
            envelopes = await PLANNERS[schedule.kind](due)
            batch.envelopes += envelopes
            logger.info("planned %s of partnership %s (due %s): %s messages", schedule.kind,
                        plan.partnership.id, due_at.isoformat(), len(envelopes))
        else:
            logger.warning("skipped %s of partnership %s due %s: found %s late, %s",
                           schedule.kind, plan.partnership.id, due_at.isoformat(), late,
                           "outside school hours" if late <= plan.grace
                           else "beyond the grace window")
        _advance(plan, schedule, now)


def _sends_now(plan: PartnershipPlan, schedule: Schedule, now: datetime) -> bool:
    """Whether the schedule's due send goes out now: at most the grace window late, and
    it is school time (else it is skipped)."""
    due_at = schedule.next_run_at
    return (due_at is not None and due_at <= now and now - due_at <= plan.grace
            and plan.calendar.is_open(now))


def _advance(plan: PartnershipPlan, schedule: Schedule, now: datetime) -> None:
    schedule.updated_at = now
    if schedule.kind == "reminder" or schedule.occurrence is None:
        schedule.next_run_at = None
        return
    slot = plan.next_slot(schedule.kind, after=schedule.occurrence)
    schedule.next_run_at = slot.send_at if slot else None
    schedule.occurrence = slot.nominal if slot else None



async def _offer_statement(due: Due, member: Member, round_: CheckInRound,
                           statement_id: str) -> Reply:
    """The statement's buttons, and (unless the member is busy) the conversation state
    that lets a typed 1-5 answer it in a text-only chat."""
    touched = due.batch.conversations.get(member.id)
    if touched is None or touched < due.now - BUSY:
        due.batch.set_conversation(member.id, {"round_id": round_.id,
                                               "statement_id": statement_id}, due.now)
    return rounds.statement_scale(due.content, member.language, round_, statement_id)


async def plan_checkin(due: Due) -> list[Envelope]:
    """Open the next round; each member gets its first statement privately (and, on some
    platforms, each bound channel an invitation); the reminder is scheduled."""
    content = due.content
    round_ = await _open_round(due)
    count, first = len(round_.statement_ids), round_.statement_ids[0]
    envelopes = []
    for member in due.members():
        intro = rounds.checkin_intro(content, member.language, round_)  # with its Later button
        envelopes.append(due.to_member("checkin", member, (
            intro, await _offer_statement(due, member, round_, first))))
    lang = due.partnership.language
    for binding in due.batch.bindings[due.partnership.id]:
        if binding.platform not in due.invite_in_channel:
            continue
        invitation = Invitation(text=content.text("sched_channel_invite", lang, count=count),
                                button=content.text("sched_channel_button", lang),
                                action="cmd:checkin")
        envelopes.append(due.envelope("checkin", f"channel:{binding.id}", binding.platform,
                                      binding.channel_ref, False, (invitation,)))
    await _schedule_reminder(due, round_)
    return envelopes + await _with_followups(due, [])


async def _open_rounds(dues: Sequence[Due]) -> None:
    """Open the rounds the due check-ins start now, all in one statement: a round's id goes
    into its buttons, so it must be known before the messages are made."""
    for due in dues:
        pid = due.partnership.id
        number = due.batch.last_round[pid] = due.batch.last_round.get(pid, 0) + 1
        due.batch.opened[due.schedule.id] = CheckInRound(
            partnership_id=pid, number=number, opens_at=due.now,
            closes_at=due.now + rounds.ROUND_DURATION,
            statement_ids=rounds.statements_for_round(due.content, number))
    if dues:
        dues[0].session.add_all([due.batch.opened[due.schedule.id] for due in dues])
        await dues[0].session.flush()


async def _open_round(due: Due) -> CheckInRound:
    """The round this check-in opens (`bot.rounds.open_round`, numbered from the batch's
    last round of the partnership): opened with the batch's others, or now (a catch-up)."""
    opened = due.batch.opened.pop(due.schedule.id, None)
    if opened is None:
        await _open_rounds([due])
        opened = due.batch.opened.pop(due.schedule.id)
    return opened


async def _schedule_reminder(due: Due, round_: CheckInRound) -> None:
    hours = due.schedule.reminder_hours
    reminder = due.plan.schedules.get("reminder")
    send_at = None
    if hours:
        send_at, _ = due.plan.calendar.next_open(round_.opens_at + timedelta(hours=hours))
        if send_at is not None and send_at >= round_.closes_at:
            logger.info("no reminder for round %s: it closes first", round_.id)
            send_at = None
    if reminder is None:
        if send_at is None:
            return
        reminder = Schedule(partnership_id=due.partnership.id, kind="reminder", enabled=True,
                            local_time="", updated_at=due.now)
        due.session.add(reminder)
        due.plan.schedules["reminder"] = reminder
    reminder.round_id = round_.id
    reminder.next_run_at = send_at
    reminder.occurrence = due.plan.calendar.local(send_at).date() if send_at else None
    reminder.updated_at = due.now


async def plan_reminder(due: Due) -> list[Envelope]:
    """Once per round, only to members who have not answered every statement yet."""
    round_id = due.schedule.round_id
    round_ = await due.session.get(CheckInRound, round_id) if round_id else None
    if round_ is None or due.now >= round_.closes_at:
        return []
    answered: dict[int, set[str]] = {}
    for member_id, statement_id in await due.session.execute(
        select(Answer.member_id, Answer.statement_id).where(Answer.round_id == round_.id)
    ):
        answered.setdefault(member_id, set()).add(statement_id)
    closes = round_.closes_at.astimezone(due.plan.calendar.zone)
    envelopes = []
    for member in due.members():
        open_ = [s for s in round_.statement_ids if s not in answered.get(member.id, set())]
        if not open_:
            continue
        until = f"{due.content.day(closes.date(), member.language, year=False)} {closes:%H:%M}"
        text = Text(text=due.content.text("sched_reminder", member.language, until=until))
        envelopes.append(due.to_member("reminder", member, (
            text, await _offer_statement(due, member, round_, open_[0]))))
    return envelopes


async def plan_nudge(due: Due) -> list[Envelope]:
    """A new round of cross-school pairs, each person told their partner and an idea."""
    planned = await plan_nudge_round(due.session, due.content, due.partnership, due.now)
    return await _with_followups(due, planned)


async def _with_followups(due: Due, planned: list[PlannedMessage]) -> list[Envelope]:
    """Add the "did you meet?" questions that fell due since the last nudge round; they
    ride on every scheduled slot, so they go out a week after the round they ask about."""
    if due.partnership.id in due.batch.followups:
        planned += await plan_followups(due.session, due.content, due.now,
                                        due.partnership.id)
    return [due.envelope(m.kind, m.recipient, m.platform, m.target, m.direct, m.replies,
                         m.member_id) for m in planned]


async def plan_summary(due: Due) -> list[Envelope]:
    """The previous month's condition summary with its informal-contact numbers: the full
    version to each project leader privately, in their language (admins use `achtje
    summary`); the short one to each bound channel, as one message with a thread; and a mail
    to each leader and board member with an address (`bot.mail.plan`). It is the
    month's frozen result; a partnership without figures for it yet gets nothing."""
    month = shift_month(due.schedule.occurrence or due.today, -1)
    summary = await published_summary(due.session, due.content, due.partnership, month,
                                      now=due.now)
    if summary is None:
        logger.info("no figures for %s of partnership %s yet: no summary sent",
                    f"{month:%Y-%m}", due.partnership.id)
        return []
    messages = SummaryMessages(summary, due.content, load_summary_rules(due.content))
    envelopes = [due.to_member("summary", leader, await messages.replies(leader.language))
                 for leader in due.members(LEADER)]
    short = await messages.replies(due.partnership.language, short=True)
    for binding in due.batch.bindings[due.partnership.id]:
        envelopes.append(due.envelope("summary_channel", f"channel:{binding.id}", binding.platform,
                                      binding.channel_ref, False, short))
    # And by e-mail to leaders and board members with an address (bot/mail/plan.py).
    if not due.mail:
        return envelopes
    return envelopes + await mail_envelopes(due.session, due.content, messages,
                                            due.partnership, due.now)


PLANNERS: dict[str, Planner] = {
    "checkin": plan_checkin,
    "reminder": plan_reminder,
    "nudge": plan_nudge,
    "summary": plan_summary,
}
