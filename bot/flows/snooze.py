"""`Later` on a check-in: no time now, so achtje asks again in two hours, or at the start of
the next school day when that is later than the end of this one.

The scheduled check-in opens with an invitation whose button is `later:<round id>`; typing
`later` (or `straks`) does the same for the open round. It plans one outbox row for this
member alone, due at the next open moment of the partnership's school calendar
(holidays, closed days and school hours as the planner reads them), and never after the
round closes. Asking again is a short message with a button that continues the check-in
where it stopped; one per member and day, so pressing twice plans it once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import registry
from bot.flows.turn import Turn
from bot.messages import Invitation, Reply
from bot.outbox import Envelope, enqueue
from bot.schedule.holidays import loaded_holidays
from bot.schedule.rules import load_plan
from bot.store import repo
from bot.store.models import CheckInRound

logger = logging.getLogger(__name__)

KIND = "snooze"
LATER = timedelta(hours=2)


@registry.action("later")  # later:<round id>, the button on a scheduled check-in
async def act_later(turn: Turn, parts: list[str]) -> list[Reply]:
    return await snooze(turn, await turn.session.get(CheckInRound, int(parts[0])))


@registry.command("later", "straks", "snooze")
async def command(turn: Turn, _arg: str) -> list[Reply]:
    """`later`: the check-in that is open now, asked again later."""
    round_ = await repo.open_round_at(turn.session, turn.partnership.id, turn.now)
    if round_ is None:
        return [turn.say("snooze_no_round")]
    return await snooze(turn, round_)


async def snooze(turn: Turn, round_: CheckInRound | None) -> list[Reply]:
    if round_ is None or round_.partnership_id != turn.partnership.id:
        return [turn.say("stale_button")]
    if not round_.opens_at <= turn.now < round_.closes_at:
        return [turn.say("round_closed")]
    plan = await load_plan(turn.session, loaded_holidays(turn.content.folder),
                           turn.partnership, turn.now)
    calendar = plan.calendar
    when, _ = calendar.next_open(turn.now + LATER)
    if when is None or when >= round_.closes_at:
        return [turn.say("snooze_too_late")]
    member = turn.member
    day = calendar.local(when).date()
    again = Invitation(text=turn.t("snooze_again"), button=turn.t("snooze_continue"),
                       action="cmd:checkin")
    envelope = Envelope(KIND, turn.partnership.id, f"member:{member.id}", day, member.platform,
                        member.user_ref, True, (again,), when,
                        min(calendar.day_end_at(day), round_.closes_at), member.id)
    await repo.clear_conversation(turn.session, member.id)  # a typed "4" is no answer now
    if not await enqueue(turn.session, [envelope], turn.now):
        return [turn.say("snooze_already")]
    logger.info("check-in of round %s snoozed for member %s", round_.id, member.id)
    return [turn.say("snooze_set", when=_moment(turn, when))]


def _moment(turn: Turn, when: datetime) -> str:
    """"vandaag om 17:30" or "woensdag 25 november om 08:00", in the partnership's time."""
    local = when.astimezone(ZoneInfo(turn.partnership.timezone))
    if local.date() == turn.local_today():
        return turn.t("snooze_today", time=f"{local:%H:%M}")
    return turn.content.moment(local, turn.lang, year=False)
