"""`mail` in chat: whether the monthly summary comes by e-mail too, and stopping or
starting it (`mail uit`, `mail aan`). The address itself comes from the member list
(`achtje member import`, column `email`); nobody can type one in chat, so nobody can
send the summary to an address that is not theirs."""

from __future__ import annotations

from bot import registry
from bot.flows.turn import Turn
from bot.mail.store import reads_summaries, set_mail
from bot.messages import Reply

OFF = frozenset({"uit", "off", "stop"})
ON = frozenset({"aan", "on", "start"})


@registry.command("mail", "email", help=True, order=10, board=True)
async def command(turn: Turn, arg: str) -> list[Reply]:
    member, word = turn.member, arg.strip().lower()
    address = member.email
    if address is None:
        return [turn.say("mail_no_address")]
    if word in OFF:
        await set_mail(turn.session, member.id, False, turn.now)
        return [turn.say("mail_off_done")]
    if word in ON:
        await set_mail(turn.session, member.id, True, turn.now)
        return [turn.say("mail_on_done", address=address)]
    if word:
        return [turn.say("mail_unknown_word")]
    if not reads_summaries(member):
        return [turn.say("mail_status_not_for_you", address=address)]
    if member.mail_off_at is not None:
        return [turn.say("mail_status_off", address=address)]
    return [turn.say("mail_status_on", address=address)]
