"""The answers to "did you meet?": buttons `nm:<group id>:<m|p|n>` (met, planned, not
yet), or a typed 1-3 or label; the engine routes them to `on_answer`. The questions are
planned by `bot/nudges/followup_plan.py`.
"""

from __future__ import annotations

import logging

from bot import registry
from bot.flows.turn import Turn
from bot.messages import Reply
from bot.nudges import records
from bot.nudges.followup_plan import ANSWERS
from bot.store import repo

logger = logging.getLogger(__name__)


@registry.action("nm")  # nm:<nudge group id>:<m|p|n> (met, planned, not yet)
async def on_answer(turn: Turn, parts: list[str]) -> list[Reply]:
    """The engine's handler for `nm:<group id>:<m|p|n>`; malformed values raise ValueError."""
    group_id, code = int(parts[0]), parts[1]
    if code not in ANSWERS:
        raise ValueError(code)
    member_row = await records.group_membership(turn.session, group_id, turn.member.id)
    if member_row is None:
        logger.warning("member %s answered for group %s they are not in", turn.member.id,
                       group_id)
        return [turn.say("stale_button")]
    earlier = await records.answer_of(turn.session, group_id, turn.member.id)
    reminded = earlier is not None and earlier.reminder_sent_at is not None
    await records.save_answer(turn.session, group_id, turn.member.id, ANSWERS[code], turn.now)
    state = await repo.conversation(turn.session, turn.member.id)
    if state is not None and state.data.get("nudge_group") == group_id:
        await repo.clear_conversation(turn.session, turn.member.id)
    if code == "p":
        return [turn.say("nudge_thanks_planned_again" if reminded else "nudge_thanks_planned")]
    return [turn.say("nudge_thanks_met" if code == "m" else "nudge_thanks_not_yet")]
