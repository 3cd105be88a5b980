"""`leden` for project leaders: who takes part, removing a member, and inviting the group.

Removing a member erases them from this partnership (`bot.privacy.data.erase_member`), the
same as when they erase themselves: someone who left has no reason to stay on file, and a
half-removed member would still be counted and paired. Only members can be removed here;
project leaders and operators are changed by an operator (`achtje leader remove`).
Inviting is an invitation in the group with a button to start a private chat: who is in
the group or channel joins with it, so adding someone there is how a leader invites them.

Action values: `lm:<member>` asks to confirm, `lm:<member>:yes|no` answers; the member must
be of the pressing leader's own partnership.
"""

from __future__ import annotations

import logging

from bot import registry
from bot.domain import MEMBER
from bot.flows.binding import START_ACTION
from bot.flows.instruments.common import first_word
from bot.flows.roles import is_leader, leaders_only
from bot.flows.state import Choosing
from bot.flows.turn import Turn
from bot.mail.store import is_mail_only
from bot.messages import Invitation, Option, Reply, Text
from bot.privacy.data import erase_member, split_text
from bot.store import repo
from bot.store.models import Member
from bot.summary.frozen import freeze_before_change

logger = logging.getLogger(__name__)

NAMES = ("leden", "members")
PREFIX = "lm"
INVITE_WORDS = {"uitnodigen", "uitnodiging", "nodig", "invite", "invitation"}
MAX_OPTIONS = 25  # buttons to remove someone; more are found by typing part of a name
CHUNK = 2800


@registry.command(*NAMES, leaders=True, help=True, order=3)
async def command(turn: Turn, arg: str) -> list[Reply]:
    """`leden` lists everyone with buttons to remove a member; `leden anna` only those with
    "anna" in their name; `leden uitnodigen` posts an invitation in the group.
    The engine lets only project leaders get here (`leaders=True`)."""
    if first_word(arg) in INVITE_WORDS:
        return invite(turn)
    everyone = await repo.members_by_name(turn.session, turn.partnership.id)
    found = [m for m in everyone if arg.casefold() in _name(m).casefold()]
    if not found:
        return [turn.say("members_none_found", query=arg)]
    rows = [turn.t("members_list", partnership=turn.partnership.name, count=len(found)),
            *(f"- {_name(m)} · {_school(turn, m)} · {turn.t(f'members_role_{m.role}')}"
              + (f" · {turn.t('members_mail_only')}" if is_mail_only(m) else "")
              for m in found)]
    replies: list[Reply] = [Text(text=piece) for piece in split_text("\n".join(rows), CHUNK)]
    removable = [m for m in found if _removable(turn, m)]
    if len(removable) > MAX_OPTIONS:
        replies.append(turn.say("members_too_many", most=MAX_OPTIONS))
    elif removable:
        replies.append(await turn.ask(turn.t("members_pick"), [
            Option(_name(m), f"{PREFIX}:{m.id}") for m in removable]))
    replies.append(turn.say("members_invite_hint"))
    return replies


def invite(turn: Turn) -> list[Reply]:
    if turn.incoming.direct:
        return [turn.say("members_invite_in_group")]
    return [Invitation(text=turn.t("members_invite", partnership=turn.partnership.name),
                       button=turn.t("bind_start_button"), action=START_ACTION, public=True)]


@registry.action(PREFIX)  # lm:<member id>[:yes|no] a leader removes a member
async def act(turn: Turn, parts: list[str]) -> list[Reply]:
    """`lm:<id>` asks to confirm; `lm:<id>:yes` removes, only right after that question."""
    if not is_leader(turn.member):
        return leaders_only(turn)
    target = await turn.session.get(Member, int(parts[0]))
    if target is None or target.partnership_id != turn.partnership.id:
        return [turn.say("stale_button")]
    name, how = _name(target), parts[1] if len(parts) > 1 else ""
    if how == "no":
        await repo.clear_conversation(turn.session, turn.member.id)
        return [turn.say("members_kept", name=name)]
    if not _removable(turn, target):
        key = "members_remove_self" if target.id == turn.member.id else "members_not_removable"
        return [turn.say(key, name=name)]
    if how == "":
        return [await turn.ask(
            turn.t("members_confirm", name=name, partnership=turn.partnership.name), [
                Option(turn.t("members_confirm_yes", name=name), f"{PREFIX}:{target.id}:yes"),
                Option(turn.t("members_confirm_no"), f"{PREFIX}:{target.id}:no")])]
    if how != "yes":
        raise ValueError(how)
    asked = Choosing.of(await repo.conversation(turn.session, turn.member.id))
    if asked is None or not asked.offers(f"{PREFIX}:{target.id}:yes"):  # old or hand-typed
        return [turn.say("members_stale")]
    done = turn.say("members_removed", name=name)
    await repo.clear_conversation(turn.session, turn.member.id)
    logger.info("member %s removed from partnership %s by member %s", target.id,
                turn.partnership.id, turn.member.id)
    # Closed months keep what they published: frozen before the member goes.
    await freeze_before_change(turn.session, turn.content, target.id, turn.now)
    await erase_member(turn.session, target.id)
    return [done]


def _removable(turn: Turn, member: Member) -> bool:
    return member.role == MEMBER and member.id != turn.member.id


def _name(member: Member) -> str:
    return (member.display_name or "").strip()[:80] or f"#{member.id}"


def _school(turn: Turn, member: Member) -> str:
    school = next((s for s in turn.partnership.schools if s.id == member.school_id), None)
    return school.name if school is not None else turn.t("members_no_school")
