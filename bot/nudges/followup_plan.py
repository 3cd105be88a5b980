"""A week after a round: the "did you meet?" questions and one reminder after "planned".

The question is a choice with three buttons whose values are `nm:<group id>:<m|p|n>`
(met, planned, not yet); `bot/nudges/followup.py` answers them. Like the round itself,
`plan_followups` only returns messages and marks what it planned, in the caller's
transaction. The scheduler calls it; it holds no dialogue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Content
from bot.messages import Choice, Option
from bot.nudges import records
from bot.nudges.planner import PlannedMessage, partner_names
from bot.store import repo
from bot.store.models import Member, Partnership

FOLLOWUP_AFTER = timedelta(days=7)
REMINDER_AFTER = timedelta(days=7)
# Older rounds or answers are not asked about any more (after downtime, or nudges off).
GIVE_UP_AFTER = timedelta(days=21)
# A conversation touched this recently is not taken over by a typed-answer state.
BUSY = timedelta(minutes=30)
ANSWERS = {"m": "met", "p": "planned", "n": "not_yet"}
_LABELS = {"m": "nudge_answer_met", "p": "nudge_answer_planned", "n": "nudge_answer_not_yet"}


async def plan_followups(
    session: AsyncSession, content: Content, now: datetime, partnership_id: int | None = None
) -> list[PlannedMessage]:
    """The follow-up questions and "planned" reminders due now (of one partnership, or all).

    Each group is asked once and each "planned" answer reminded once; members who paused,
    opted out or cannot be reached privately are skipped.
    """
    messages = await _followups(session, content, now, partnership_id)
    messages += await _reminders(session, content, now, partnership_id)
    return messages


async def _followups(session: AsyncSession, content: Content, now: datetime,
                     partnership_id: int | None) -> list[PlannedMessage]:
    rows = await records.groups_to_ask(session, now - FOLLOWUP_AFTER, now - GIVE_UP_AFTER,
                                       partnership_id)
    members = await records.group_members(session, (group.id for group, _ in rows))
    out = await records.opted_out(session, (m.id for ms in members.values() for m in ms))
    messages = []
    for group, partnership in rows:
        group.followup_sent_at = now
        for member in members[group.id]:
            if not _may_ask(member, partnership, out, now):
                continue
            others = [m for m in members[group.id] if m.id != member.id]
            prompt = content.text("nudge_followup", member.language,
                                  partners=partner_names(content, partnership, others,
                                                         member.language))
            messages.append(await _question(session, content, "nudge_followup", partnership,
                                            member, group.id, prompt, now))
    return messages


async def _reminders(session: AsyncSession, content: Content, now: datetime,
                     partnership_id: int | None) -> list[PlannedMessage]:
    rows = await records.planned_to_remind(session, now - REMINDER_AFTER, now - GIVE_UP_AFTER,
                                           partnership_id)
    members = await records.group_members(session, {answer.group_id for answer, _ in rows})
    out = await records.opted_out(session, (answer.member_id for answer, _ in rows))
    messages = []
    for answer, partnership in rows:
        answer.reminder_sent_at = now
        group = members[answer.group_id]
        member = next((m for m in group if m.id == answer.member_id), None)
        if member is None or not _may_ask(member, partnership, out, now):
            continue
        others = [m for m in group if m.id != member.id]
        prompt = content.text("nudge_reminder", member.language,
                              partners=partner_names(content, partnership, others,
                                                     member.language))
        messages.append(await _question(session, content, "nudge_reminder", partnership,
                                        member, answer.group_id, prompt, now))
    return messages


def _may_ask(member: Member, partnership: Partnership, out: set[int], now: datetime) -> bool:
    today = now.astimezone(ZoneInfo(partnership.timezone)).date()
    return (member.id not in out and member.unreachable_at is None
            and not records.is_paused(member, today))


async def _question(session: AsyncSession, content: Content, kind: str,
                    partnership: Partnership, member: Member, group_id: int, prompt: str,
                    now: datetime) -> PlannedMessage:
    """The three buttons; typing 1-3 or a label works too unless the member is busy."""
    options = tuple(Option(content.text(_LABELS[code], member.language), f"nm:{group_id}:{code}")
                    for code in ANSWERS)
    state = await repo.conversation(session, member.id)
    if state is None or state.updated_at < now - BUSY:
        await repo.set_conversation(session, member.id, "choice", {
            "options": [[o.label, o.value] for o in options], "nudge_group": group_id}, now)
    return PlannedMessage(kind=kind, partnership_id=partnership.id,
                          recipient=f"member:{member.id}", platform=member.platform,
                          target=member.user_ref, direct=True,
                          replies=(Choice(prompt=prompt, options=options),),
                          member_id=member.id)
