"""`koffie uit` / `koffie aan` (`coffee off` / `coffee on`): leave or rejoin the nudges.

Opting out only stops the pairing; check-ins, reminders and summaries go on. A pause
(`pauze`) stops everything for a while instead.
"""

from __future__ import annotations

from bot import registry
from bot.flows.turn import Turn
from bot.messages import Option, Reply
from bot.nudges import records
from bot.store import repo

_OFF = {"uit", "off", "stop", "nee", "no"}
_ON = {"aan", "on", "start", "ja", "yes", "weer"}


@registry.command("koffie", "coffee", help=True, menu=True, order=6)  # koffie uit / aan
async def coffee(turn: Turn, arg: str) -> list[Reply]:
    """`koffie uit`, `koffie aan`, or plain `koffie`: where you stand, with one button."""
    word = arg.split()[0] if arg else ""
    if word in _OFF:
        return await set_opt_out(turn, True)
    if word in _ON:
        return await set_opt_out(turn, False)
    out = await records.is_opted_out(turn.session, turn.member.id)
    replies: list[Reply] = [turn.say("coffee_usage")] if word else []
    if out:
        option = Option(turn.t("coffee_turn_on"), "cmd:koffie aan")
        replies.append(await turn.ask(turn.t("coffee_status_off"), [option]))
    else:
        option = Option(turn.t("coffee_turn_off"), "cmd:koffie uit")
        replies.append(await turn.ask(turn.t("coffee_status_on"), [option]))
    return replies


async def set_opt_out(turn: Turn, out: bool) -> list[Reply]:
    state = await repo.conversation(turn.session, turn.member.id)
    if state is not None and any(str(value).startswith("cmd:koffie")
                                 for _label, value in state.data.get("options", [])):
        await repo.clear_conversation(turn.session, turn.member.id)
    await records.set_opted_out(turn.session, turn.member.id, out, turn.now)
    if out:
        return [turn.say("coffee_off")]
    replies: list[Reply] = [turn.say("coffee_on")]
    settings = await records.settings_for(turn.session, turn.partnership.id, turn.now)
    if not settings.enabled:
        replies.append(turn.say("coffee_partnership_off"))
    return replies
