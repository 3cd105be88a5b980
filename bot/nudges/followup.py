"""A week after a round: "did you meet?", one reminder after "planned", and the answers.

The question is a choice with three buttons whose values are `nm:<group id>:<m|p|n>`
(met, planned, not yet); the engine routes them to `on_answer`. Like the round itself,
`plan_followups` only returns messages and marks what it planned, in the caller's
transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import registry
from bot.content import Content
from bot.flows.turn import Turn
from bot.messages import Choice, Option, Reply
from bot.nudges import records
from bot.nudges.planner import PlannedMessage, partner_names
from bot.store import repo
from bot.store.models import Member, Partnership
from bot.store.nudges import NudgeAnswer, NudgeGroup, NudgeGroupMember, NudgeRound, NudgeSettings

logger = logging.getLogger(__name__)

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


def _enabled(partnership_id: int | None) -> list[ColumnElement[bool]]:
    """Conditions: nudges not switched off (no settings row means on), this partnership."""
    conditions: list[ColumnElement[bool]] = [
        or_(NudgeSettings.enabled.is_(None), NudgeSettings.enabled)
    ]
    if partnership_id is not None:
        conditions.append(NudgeRound.partnership_id == partnership_id)
    return conditions


async def _followups(session: AsyncSession, content: Content, now: datetime,
                     partnership_id: int | None) -> list[PlannedMessage]:
    rows = (await session.execute(
        select(NudgeGroup, Partnership)
        .join(NudgeRound, NudgeRound.id == NudgeGroup.round_id)
        .join(Partnership, Partnership.id == NudgeRound.partnership_id)
        .outerjoin(NudgeSettings, NudgeSettings.partnership_id == Partnership.id)
        .where(NudgeGroup.followup_sent_at.is_(None),
               NudgeRound.planned_at <= now - FOLLOWUP_AFTER,
               NudgeRound.planned_at > now - GIVE_UP_AFTER, *_enabled(partnership_id))
        .order_by(NudgeGroup.id)
    )).all()
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
    rows = (await session.execute(
        select(NudgeAnswer, Partnership)
        .join(NudgeGroup, NudgeGroup.id == NudgeAnswer.group_id)
        .join(NudgeRound, NudgeRound.id == NudgeGroup.round_id)
        .join(Partnership, Partnership.id == NudgeRound.partnership_id)
        .outerjoin(NudgeSettings, NudgeSettings.partnership_id == Partnership.id)
        .where(NudgeAnswer.answer == "planned", NudgeAnswer.reminder_sent_at.is_(None),
               NudgeAnswer.answered_at <= now - REMINDER_AFTER,
               NudgeAnswer.answered_at > now - GIVE_UP_AFTER, *_enabled(partnership_id))
        .order_by(NudgeAnswer.group_id, NudgeAnswer.member_id)
    )).all()
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


@registry.action("nm")  # nm:<nudge group id>:<m|p|n> (met, planned, not yet)
async def on_answer(turn: Turn, parts: list[str]) -> list[Reply]:
    """The engine's handler for `nm:<group id>:<m|p|n>`; malformed values raise ValueError."""
    group_id, code = int(parts[0]), parts[1]
    if code not in ANSWERS:
        raise ValueError(code)
    member_row = await turn.session.get(NudgeGroupMember, (group_id, turn.member.id))
    if member_row is None:
        logger.warning("member %s answered for group %s they are not in", turn.member.id,
                       group_id)
        return [turn.say("stale_button")]
    earlier = await turn.session.get(NudgeAnswer, (group_id, turn.member.id))
    reminded = earlier is not None and earlier.reminder_sent_at is not None
    await records.save_answer(turn.session, group_id, turn.member.id, ANSWERS[code], turn.now)
    state = await repo.conversation(turn.session, turn.member.id)
    if state is not None and state.data.get("nudge_group") == group_id:
        await repo.clear_conversation(turn.session, turn.member.id)
    if code == "p":
        return [turn.say("nudge_thanks_planned_again" if reminded else "nudge_thanks_planned")]
    return [turn.say("nudge_thanks_met" if code == "m" else "nudge_thanks_not_yet")]
